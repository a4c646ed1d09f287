//! `/api/v1/organizations/{org}/connections`: an org's upstream IdPs (create from an issuer,
//! list, read, activate, deactivate, delete, dry-run test logins), and `/api/v1/connections`:
//! the instance's social sign-in connections (instance admins).

use actix_web::{HttpResponse, delete, get, patch, post, web};
use broker::entities::{ConnectionKind, ConnectionStatus};
use broker::federation::connections::{ConnectionChanges, NewOidcConnection, connection_id};
use broker::federation::oidc::settings::ClaimNames;
use broker::federation::test_login::TestLogin;
use broker::federation::{Connection, ConnectionOwner, Preset};
use broker::{Error, ErrorCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Created, List, ListQuery};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AdminCaller, OrgSetup};
use crate::json::Json;
use crate::query::Query;
use crate::server::AppState;

/// Claim names for the profile and groups.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimNamesBody {
    /// Email claim (default `email`).
    pub email: Option<String>,
    /// Display name claim (default `name`).
    pub name: Option<String>,
    /// Given name claim (default `given_name`).
    pub given_name: Option<String>,
    /// Family name claim (default `family_name`).
    pub family_name: Option<String>,
    /// Groups claim (default `groups`).
    pub groups: Option<String>,
}

impl From<ClaimNamesBody> for ClaimNames {
    fn from(b: ClaimNamesBody) -> Self {
        let d = ClaimNames::default();
        Self {
            email: b.email.unwrap_or(d.email),
            name: b.name.unwrap_or(d.name),
            given_name: b.given_name.unwrap_or(d.given_name),
            family_name: b.family_name.unwrap_or(d.family_name),
            groups: b.groups.unwrap_or(d.groups),
        }
    }
}

/// The protocol of a new connection.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KindBody {
    /// OpenID Connect.
    Oidc,
    /// SAML 2.0.
    Saml,
}

/// A preset for a well-known IdP.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresetBody {
    /// Microsoft Entra ID.
    Entra,
    /// Okta.
    Okta,
    /// Google Workspace.
    Google,
}

impl From<PresetBody> for Preset {
    fn from(p: PresetBody) -> Self {
        match p {
            PresetBody::Entra => Preset::Entra,
            PresetBody::Okta => Preset::Okta,
            PresetBody::Google => Preset::Google,
        }
    }
}

/// A connection to create. For OIDC: the issuer (or its `.well-known` URL), the client id and
/// secret Tessera got when registering at the IdP, and optionally a preset.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConnection {
    /// `oidc` (SAML: see the SAML connection issue).
    pub kind: KindBody,
    /// The id from `GET …/connection-endpoints`, when the redirect URI it came with was
    /// registered at the IdP first; a new id when absent.
    pub id: Option<Uuid>,
    /// Display name.
    #[schema(example = "Acme Entra ID")]
    pub name: String,
    /// The IdP's issuer, or its `/.well-known/openid-configuration` URL.
    #[schema(
        example = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"
    )]
    pub issuer: Option<String>,
    /// Tessera's client id at the IdP.
    pub client_id: Option<String>,
    /// Tessera's client secret at the IdP (stored encrypted, never returned).
    pub client_secret: Option<String>,
    /// `entra`, `okta` or `google`.
    pub preset: Option<PresetBody>,
    /// Entra ID: the directory (tenant) id; required with the `organizations`/`common` issuers.
    pub tenant_id: Option<String>,
    /// Scopes to request (default `openid email profile`; Okta adds `groups`).
    pub scopes: Option<Vec<String>>,
    /// Read the userinfo endpoint at each sign-in.
    pub use_userinfo: Option<bool>,
    /// Claim names.
    pub claims: Option<ClaimNamesBody>,
    /// Allowed clock difference in seconds (default 120, at most 600).
    pub clock_skew_seconds: Option<u32>,
}

/// An upstream IdP connection. Secrets are never returned.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionView {
    /// Stable id.
    pub id: Uuid,
    /// The owning organization; absent for instance-level (social) connections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Uuid>,
    /// `oidc` or `saml`.
    #[schema(example = "oidc")]
    pub kind: String,
    /// Display name.
    pub name: String,
    /// `entra`, `okta`, `google`, or absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// `draft` (test logins only), `active` or `disabled`.
    #[schema(example = "draft")]
    pub status: String,
    /// OIDC: the redirect URI to register at the IdP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// OIDC: the issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// OIDC: Tessera's client id at the IdP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// OIDC: scopes requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// OIDC: whether userinfo is read at each sign-in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_userinfo: Option<bool>,
    /// Entra ID: the tenant every sign-in must come from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// OIDC: claim names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<ClaimNamesBody>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

fn status_name(status: ConnectionStatus) -> &'static str {
    match status {
        ConnectionStatus::Draft => "draft",
        ConnectionStatus::Active => "active",
        ConnectionStatus::Disabled => "disabled",
    }
}

fn view(state: &AppState, c: Connection) -> ConnectionView {
    let oidc = (c.kind == ConnectionKind::Oidc)
        .then(|| broker::Broker::oidc_settings(&c).ok())
        .flatten();
    ConnectionView {
        id: c.id.as_uuid(),
        organization_id: c.org_id.map(|o| o.as_uuid()),
        kind: match c.kind {
            ConnectionKind::Oidc => "oidc".into(),
            ConnectionKind::Saml => "saml".into(),
        },
        name: c.name,
        preset: c.preset,
        status: status_name(c.status).into(),
        redirect_uri: oidc.as_ref().map(|_| state.broker.oidc_redirect_uri(c.id)),
        issuer: oidc.as_ref().map(|s| s.issuer.clone()),
        client_id: oidc.as_ref().map(|s| s.client_id.clone()),
        scopes: oidc.as_ref().map(|s| s.scopes.clone()),
        use_userinfo: oidc.as_ref().map(|s| s.use_userinfo),
        tenant_id: oidc.as_ref().and_then(|s| s.tenant_id.clone()),
        claims: oidc.as_ref().map(|s| ClaimNamesBody {
            email: Some(s.claims.email.clone()),
            name: Some(s.claims.name.clone()),
            given_name: Some(s.claims.given_name.clone()),
            family_name: Some(s.claims.family_name.clone()),
            groups: Some(s.claims.groups.clone()),
        }),
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

fn required(field: &str, value: Option<String>) -> Result<String, ApiError> {
    value.ok_or_else(|| {
        ApiError(Error::invalid(
            ErrorCode::MissingField,
            field,
            format!("{field} is required for an OIDC connection"),
        ))
    })
}

fn new_oidc(body: CreateConnection) -> Result<NewOidcConnection, ApiError> {
    if let KindBody::Saml = body.kind {
        return Err(ApiError(Error::invalid(
            ErrorCode::InvalidConnection,
            "kind",
            "SAML connections are not available yet; use kind \"oidc\"",
        )));
    }
    Ok(NewOidcConnection {
        id: body.id.map(Into::into),
        name: body.name,
        issuer: required("issuer", body.issuer)?,
        client_id: required("client_id", body.client_id)?,
        client_secret: required("client_secret", body.client_secret)?.into(),
        preset: body.preset.map(Into::into),
        tenant_id: body.tenant_id,
        scopes: body.scopes,
        use_userinfo: body.use_userinfo,
        claims: body.claims.map(Into::into),
        clock_skew_seconds: body.clock_skew_seconds,
    })
}

/// A dry-run test login.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestLoginView {
    /// Its id.
    pub id: String,
    /// Open this in a browser to run it (the person signing in at the IdP need not be an admin).
    pub url: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// When it was started.
    pub created_at: DateTime<Utc>,
    /// When it finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// The claims received from the IdP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<Value>,
    /// The profile mapped from them (subject, email, email_verified, names).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<Value>,
    /// The roles the org's rules grant (absent: the org has no rules).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// What a real sign-in would do: `sign_in`, `link_by_email` or `create`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_action: Option<Value>,
    /// The failed check: `{code, message}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

fn test_view(state: &AppState, t: TestLogin) -> TestLoginView {
    TestLoginView {
        url: state.broker.test_login_url(&t),
        status: serde_json::to_value(t.status)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
        created_at: t.created_at,
        finished_at: t.finished_at,
        claims: t.claims,
        profile: t.profile.and_then(|p| {
            serde_json::to_value(p).ok().map(|mut v| {
                if let Some(o) = v.as_object_mut() {
                    o.remove("claims");
                }
                v
            })
        }),
        roles: t.roles,
        account_action: t.account_action.and_then(|a| serde_json::to_value(a).ok()),
        error: t.error.and_then(|e| serde_json::to_value(e).ok()),
        id: t.id,
    }
}

/// Creates a connection in `draft`. For OIDC, Tessera fetches and checks the IdP's discovery
/// document and JWKS now and answers with the redirect URI to register at the IdP.
#[utoipa::path(
    tag = "connections",
    params(("org" = String, Path, description = "Organization id or slug")),
    request_body = CreateConnection,
    responses(
        (status = 201, body = ConnectionView),
        (status = 400, body = ErrorBody, description = "missing_field, invalid_name, invalid_upstream_url, invalid_tenant_id, invalid_connection"),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "oidc_discovery_failed, oidc_discovery_invalid, oidc_issuer_mismatch, oidc_jwks_unusable"),
    ),
    security(("api_key" = []))
)]
#[post("/organizations/{org}/connections")]
pub async fn create_connection(
    state: web::Data<AppState>,
    access: OrgSetup,
    body: Json<CreateConnection>,
) -> Result<Created<ConnectionView>, ApiError> {
    let new = new_oidc(body.0)?;
    let created = state
        .broker
        .create_oidc_connection(ConnectionOwner::Org(&access), new)
        .await?;
    Ok(Created(view(&state, created)))
}

/// Lists the organization's connections, oldest first.
#[utoipa::path(
    tag = "connections",
    params(("org" = String, Path, description = "Organization id or slug"), ListQuery),
    responses((status = 200, body = List<ConnectionView>), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[get("/organizations/{org}/connections")]
pub async fn list_connections(
    state: web::Data<AppState>,
    access: OrgSetup,
    query: Query<ListQuery>,
) -> Result<web::Json<List<ConnectionView>>, ApiError> {
    let page = state
        .broker
        .list_connections(ConnectionOwner::Org(&access), &query.page()?)
        .await?;
    Ok(web::Json(List::from_page(page, |c| view(&state, c))))
}

/// Changes to a connection; absent fields stay as they are. The issuer cannot change: a
/// different IdP is a new connection.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateConnection {
    /// New display name.
    pub name: Option<String>,
    /// A new client secret (after rotating it at the IdP); never returned.
    pub client_secret: Option<String>,
    /// Scopes to request.
    pub scopes: Option<Vec<String>>,
    /// Read the userinfo endpoint at each sign-in.
    pub use_userinfo: Option<bool>,
    /// Claim names.
    pub claims: Option<ClaimNamesBody>,
    /// Allowed clock difference in seconds (at most 600).
    pub clock_skew_seconds: Option<u32>,
}

/// Changes a connection's name, secret or claim settings.
#[utoipa::path(
    tag = "connections",
    params(
        ("org" = String, Path, description = "Organization id or slug"),
        ("id" = Uuid, Path, description = "Connection id"),
    ),
    request_body = UpdateConnection,
    responses(
        (status = 200, body = ConnectionView),
        (status = 400, body = ErrorBody, description = "invalid_name, invalid_connection"),
        (status = 404, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[patch("/organizations/{org}/connections/{id}")]
pub async fn update_connection(
    state: web::Data<AppState>,
    access: OrgSetup,
    path: web::Path<(String, String)>,
    body: Json<UpdateConnection>,
) -> Result<web::Json<ConnectionView>, ApiError> {
    let id = connection_id(&path.1)?;
    let body = body.0;
    let changes = ConnectionChanges {
        name: body.name,
        client_secret: body.client_secret.map(Into::into),
        scopes: body.scopes,
        use_userinfo: body.use_userinfo,
        claims: body.claims.map(Into::into),
        clock_skew_seconds: body.clock_skew_seconds,
    };
    let updated = state
        .broker
        .update_connection(ConnectionOwner::Org(&access), id, changes)
        .await?;
    Ok(web::Json(view(&state, updated)))
}

/// Reads one connection.
#[utoipa::path(
    tag = "connections",
    params(
        ("org" = String, Path, description = "Organization id or slug"),
        ("id" = Uuid, Path, description = "Connection id"),
    ),
    responses((status = 200, body = ConnectionView), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[get("/organizations/{org}/connections/{id}")]
pub async fn get_connection(
    state: web::Data<AppState>,
    access: OrgSetup,
    path: web::Path<(String, String)>,
) -> Result<web::Json<ConnectionView>, ApiError> {
    let id = connection_id(&path.1)?;
    let found = state
        .broker
        .get_connection(ConnectionOwner::Org(&access), id)
        .await?;
    Ok(web::Json(view(&state, found)))
}

async fn set_status(
    state: &AppState,
    owner: ConnectionOwner<'_>,
    raw: &str,
    status: ConnectionStatus,
) -> Result<web::Json<ConnectionView>, ApiError> {
    let id = connection_id(raw)?;
    let updated = state
        .broker
        .set_connection_status(owner, id, status)
        .await?;
    Ok(web::Json(view(state, updated)))
}

/// Activates a connection: its org's verified domains now sign in through it.
#[utoipa::path(
    tag = "connections",
    params(
        ("org" = String, Path, description = "Organization id or slug"),
        ("id" = Uuid, Path, description = "Connection id"),
    ),
    responses((status = 200, body = ConnectionView), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[post("/organizations/{org}/connections/{id}/activate")]
pub async fn activate_connection(
    state: web::Data<AppState>,
    access: OrgSetup,
    path: web::Path<(String, String)>,
) -> Result<web::Json<ConnectionView>, ApiError> {
    set_status(
        &state,
        ConnectionOwner::Org(&access),
        &path.1,
        ConnectionStatus::Active,
    )
    .await
}

/// Deactivates a connection (identities are kept; sign-in through it stops).
#[utoipa::path(
    tag = "connections",
    params(
        ("org" = String, Path, description = "Organization id or slug"),
        ("id" = Uuid, Path, description = "Connection id"),
    ),
    responses((status = 200, body = ConnectionView), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[post("/organizations/{org}/connections/{id}/deactivate")]
pub async fn deactivate_connection(
    state: web::Data<AppState>,
    access: OrgSetup,
    path: web::Path<(String, String)>,
) -> Result<web::Json<ConnectionView>, ApiError> {
    set_status(
        &state,
        ConnectionOwner::Org(&access),
        &path.1,
        ConnectionStatus::Disabled,
    )
    .await
}

/// Deletes a connection and the identities linked through it (the users remain).
#[utoipa::path(
    tag = "connections",
    params(
        ("org" = String, Path, description = "Organization id or slug"),
        ("id" = Uuid, Path, description = "Connection id"),
    ),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[delete("/organizations/{org}/connections/{id}")]
pub async fn delete_connection(
    state: web::Data<AppState>,
    access: OrgSetup,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = connection_id(&path.1)?;
    state
        .broker
        .delete_connection(ConnectionOwner::Org(&access), id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Starts a dry-run test login (works on drafts): open `url` in a browser, sign in at the IdP,
/// then read the result here. Nothing is created.
#[utoipa::path(
    tag = "connections",
    params(
        ("org" = String, Path, description = "Organization id or slug"),
        ("id" = Uuid, Path, description = "Connection id"),
    ),
    responses((status = 201, body = TestLoginView), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[post("/organizations/{org}/connections/{id}/test-logins")]
pub async fn create_test_login(
    state: web::Data<AppState>,
    access: OrgSetup,
    path: web::Path<(String, String)>,
) -> Result<Created<TestLoginView>, ApiError> {
    let id = connection_id(&path.1)?;
    let test = state
        .broker
        .create_test_login(ConnectionOwner::Org(&access), id)
        .await?;
    Ok(Created(test_view(&state, test)))
}

/// Reads a test login: pending, or the claims, mapped profile and roles, or the failed check.
#[utoipa::path(
    tag = "connections",
    params(
        ("org" = String, Path, description = "Organization id or slug"),
        ("id" = Uuid, Path, description = "Connection id"),
        ("test" = String, Path, description = "Test login id"),
    ),
    responses((status = 200, body = TestLoginView), (status = 404, body = ErrorBody, description = "connection_not_found, test_login_not_found")),
    security(("api_key" = []))
)]
#[get("/organizations/{org}/connections/{id}/test-logins/{test}")]
pub async fn get_test_login(
    state: web::Data<AppState>,
    access: OrgSetup,
    path: web::Path<(String, String, String)>,
) -> Result<web::Json<TestLoginView>, ApiError> {
    let id = connection_id(&path.1)?;
    let test = state
        .broker
        .get_test_login(ConnectionOwner::Org(&access), id, &path.2)
        .await?;
    Ok(web::Json(test_view(&state, test)))
}

/// Creates an instance-level (social sign-in) connection, shown as "Continue with {name}" on
/// the sign-in page once active. Instance admins only.
#[utoipa::path(
    tag = "connections",
    request_body = CreateConnection,
    responses(
        (status = 201, body = ConnectionView),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "instance_admin_required"),
        (status = 422, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[post("/connections")]
pub async fn create_social_connection(
    state: web::Data<AppState>,
    caller: AdminCaller,
    body: Json<CreateConnection>,
) -> Result<Created<ConnectionView>, ApiError> {
    let new = new_oidc(body.0)?;
    let created = state
        .broker
        .create_oidc_connection(ConnectionOwner::Instance(&caller.0), new)
        .await?;
    Ok(Created(view(&state, created)))
}

/// Lists the instance's social sign-in connections. Instance admins only.
#[utoipa::path(
    tag = "connections",
    params(ListQuery),
    responses((status = 200, body = List<ConnectionView>), (status = 403, body = ErrorBody)),
    security(("api_key" = []))
)]
#[get("/connections")]
pub async fn list_social_connections(
    state: web::Data<AppState>,
    caller: AdminCaller,
    query: Query<ListQuery>,
) -> Result<web::Json<List<ConnectionView>>, ApiError> {
    let page = state
        .broker
        .list_connections(ConnectionOwner::Instance(&caller.0), &query.page()?)
        .await?;
    Ok(web::Json(List::from_page(page, |c| view(&state, c))))
}

/// Activates a social sign-in connection. Instance admins only.
#[utoipa::path(
    tag = "connections",
    params(("id" = Uuid, Path, description = "Connection id")),
    responses((status = 200, body = ConnectionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[post("/connections/{id}/activate")]
pub async fn activate_social_connection(
    state: web::Data<AppState>,
    caller: AdminCaller,
    path: web::Path<String>,
) -> Result<web::Json<ConnectionView>, ApiError> {
    set_status(
        &state,
        ConnectionOwner::Instance(&caller.0),
        &path,
        ConnectionStatus::Active,
    )
    .await
}

/// Deletes a social sign-in connection. Instance admins only.
#[utoipa::path(
    tag = "connections",
    params(("id" = Uuid, Path, description = "Connection id")),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[delete("/connections/{id}")]
pub async fn delete_social_connection(
    state: web::Data<AppState>,
    caller: AdminCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = connection_id(&path)?;
    state
        .broker
        .delete_connection(ConnectionOwner::Instance(&caller.0), id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
