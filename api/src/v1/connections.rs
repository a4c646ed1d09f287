//! `/api/v1/organizations/{org}/connections`: an org's upstream IdPs (create from an issuer,
//! list, read, activate, deactivate, delete, dry-run test logins), and `/api/v1/connections`:
//! the instance's social sign-in connections (instance admins).

use actix_web::{HttpResponse, delete, get, patch, post, web};
use broker::entities::{ConnectionKind, ConnectionStatus};
use broker::federation::connections::{ConnectionChanges, NewOidcConnection, connection_id};
use broker::federation::oidc::settings::ClaimNames;
use broker::federation::saml::{AttributeNames, NewSamlConnection, SamlChanges};
use broker::federation::test_login::TestLogin;
use broker::federation::{Connection, ConnectionOwner, Preset};
use broker::{Error, ErrorCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::saml::{self, AttributeNamesBody, SamlOptionFields, SamlView, WarningView};
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
/// secret Tessera got when registering at the IdP, and optionally a preset. For SAML: the
/// IdP's metadata (`metadata_xml`, or `metadata_url` to fetch and refetch it), optionally a
/// preset for its attribute names, and settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConnection {
    /// `oidc` or `saml`.
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
    /// SAML: the IdP's metadata document (XML).
    pub metadata_xml: Option<String>,
    /// SAML: where to fetch the IdP's metadata (https; refetched on a schedule).
    pub metadata_url: Option<String>,
    /// SAML: the NameID format to ask for (default: the IdP decides).
    #[schema(example = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")]
    pub name_id_format: Option<String>,
    /// SAML: sign AuthnRequests (default: when the IdP's metadata asks for it).
    pub sign_requests: Option<bool>,
    /// SAML: assertions must be signed themselves, not only the response (default true).
    pub require_signed_assertions: Option<bool>,
    /// SAML: accept only encrypted assertions (default false).
    pub require_encrypted_assertions: Option<bool>,
    /// SAML: accept IdP-initiated sign-in (default false).
    pub allow_idp_initiated: Option<bool>,
    /// SAML: the IdP's email addresses count as verified (default true).
    pub trust_email: Option<bool>,
    /// SAML: attribute names for the profile and groups.
    pub attributes: Option<AttributeNamesBody>,
    /// SAML: hours between metadata refetches (default 24).
    pub metadata_refresh_hours: Option<u32>,
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
    /// SAML: Tessera's entity ID for this connection (the IdP's "Identifier" / "Audience").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sp_entity_id: Option<String>,
    /// SAML: the Assertion Consumer Service URL (the IdP's "Reply URL" / "Single sign-on URL").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acs_url: Option<String>,
    /// SAML: Tessera's SP metadata for this connection, to upload at the IdP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sp_metadata_url: Option<String>,
    /// SAML: the IdP and the settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saml: Option<SamlView>,
    /// What an admin should act on (expiring IdP certificates, failed metadata refreshes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<WarningView>,
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
    let (sp_entity_id, acs_url, sp_metadata_url, saml, warnings) = match saml::parts(state, &c) {
        Some(p) => (
            Some(p.sp_entity_id),
            Some(p.acs_url),
            Some(p.sp_metadata_url),
            Some(p.saml),
            p.warnings,
        ),
        None => (None, None, None, None, Vec::new()),
    };
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
        sp_entity_id,
        acs_url,
        sp_metadata_url,
        saml,
        warnings,
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

/// A connection to create, by protocol.
enum NewConnection {
    Oidc(NewOidcConnection),
    Saml(NewSamlConnection),
}

/// The first field of the other protocol that was sent, if any.
fn foreign_field(body: &CreateConnection) -> Option<&'static str> {
    let (oidc, saml) = (
        [
            ("issuer", body.issuer.is_some()),
            ("client_id", body.client_id.is_some()),
            ("client_secret", body.client_secret.is_some()),
            ("tenant_id", body.tenant_id.is_some()),
            ("scopes", body.scopes.is_some()),
            ("use_userinfo", body.use_userinfo.is_some()),
            ("claims", body.claims.is_some()),
        ],
        [
            ("metadata_xml", body.metadata_xml.is_some()),
            ("metadata_url", body.metadata_url.is_some()),
            ("name_id_format", body.name_id_format.is_some()),
            ("sign_requests", body.sign_requests.is_some()),
            (
                "require_signed_assertions",
                body.require_signed_assertions.is_some(),
            ),
            (
                "require_encrypted_assertions",
                body.require_encrypted_assertions.is_some(),
            ),
            ("allow_idp_initiated", body.allow_idp_initiated.is_some()),
            ("trust_email", body.trust_email.is_some()),
            ("attributes", body.attributes.is_some()),
            (
                "metadata_refresh_hours",
                body.metadata_refresh_hours.is_some(),
            ),
        ],
    );
    let other: &[(&'static str, bool)] = match body.kind {
        KindBody::Oidc => &saml,
        KindBody::Saml => &oidc,
    };
    other.iter().find_map(|(f, set)| set.then_some(*f))
}

fn new_connection(body: CreateConnection) -> Result<NewConnection, ApiError> {
    if let Some(field) = foreign_field(&body) {
        return Err(ApiError(Error::invalid(
            ErrorCode::InvalidConnection,
            field,
            format!("{field} does not apply to this kind of connection"),
        )));
    }
    if let KindBody::Saml = body.kind {
        let preset = body.preset.map(Into::into);
        let fields = SamlOptionFields {
            name_id_format: body.name_id_format,
            sign_requests: body.sign_requests,
            require_signed_assertions: body.require_signed_assertions,
            require_encrypted_assertions: body.require_encrypted_assertions,
            allow_idp_initiated: body.allow_idp_initiated,
            clock_skew_seconds: body.clock_skew_seconds,
            trust_email: body.trust_email,
            attributes: body.attributes,
            metadata_refresh_hours: body.metadata_refresh_hours,
        };
        return Ok(NewConnection::Saml(NewSamlConnection {
            id: body.id.map(Into::into),
            name: body.name,
            metadata_xml: body.metadata_xml,
            metadata_url: body.metadata_url,
            preset,
            options: fields.options(AttributeNames::for_preset(preset)),
        }));
    }
    Ok(NewConnection::Oidc(NewOidcConnection {
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
    }))
}

async fn create(
    state: &AppState,
    owner: ConnectionOwner<'_>,
    body: CreateConnection,
) -> Result<Connection, ApiError> {
    Ok(match new_connection(body)? {
        NewConnection::Oidc(new) => state.broker.create_oidc_connection(owner, new).await?,
        NewConnection::Saml(new) => state.broker.create_saml_connection(owner, new).await?,
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
    /// SAML: the signed (and decrypted) XML the IdP sent, as verified and read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assertion_xml: Option<String>,
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
        assertion_xml: t.assertion_xml,
        id: t.id,
    }
}

/// Creates a connection in `draft`. For OIDC, Tessera fetches and checks the IdP's discovery
/// document and JWKS now and answers with the redirect URI to register at the IdP. For SAML,
/// Tessera reads the IdP's metadata (pasted, or fetched from `metadata_url`), generates the
/// connection's SP keys, and answers with the SP entity ID, ACS URL and SP metadata URL.
#[utoipa::path(
    tag = "connections",
    params(("org" = String, Path, description = "Organization id or slug")),
    request_body = CreateConnection,
    responses(
        (status = 201, body = ConnectionView),
        (status = 400, body = ErrorBody, description = "missing_field, invalid_name, invalid_upstream_url, invalid_tenant_id, invalid_connection, saml_metadata_invalid, saml_metadata_unsigned"),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "oidc_discovery_failed, oidc_discovery_invalid, oidc_issuer_mismatch, oidc_jwks_unusable, saml_metadata_fetch_failed"),
    ),
    security(("api_key" = []))
)]
#[post("/organizations/{org}/connections")]
pub async fn create_connection(
    state: web::Data<AppState>,
    access: OrgSetup,
    body: Json<CreateConnection>,
) -> Result<Created<ConnectionView>, ApiError> {
    let created = create(&state, ConnectionOwner::Org(&access), body.0).await?;
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
    /// SAML: new IdP metadata (after a certificate rotation, say).
    pub metadata_xml: Option<String>,
    /// SAML: a new metadata URL (fetched now).
    pub metadata_url: Option<String>,
    /// SAML: the NameID format to ask for (`""`: let the IdP decide).
    pub name_id_format: Option<String>,
    /// SAML: sign AuthnRequests.
    pub sign_requests: Option<bool>,
    /// SAML: assertions must be signed themselves.
    pub require_signed_assertions: Option<bool>,
    /// SAML: accept only encrypted assertions.
    pub require_encrypted_assertions: Option<bool>,
    /// SAML: accept IdP-initiated sign-in.
    pub allow_idp_initiated: Option<bool>,
    /// SAML: the IdP's email addresses count as verified.
    pub trust_email: Option<bool>,
    /// SAML: attribute names (absent fields keep their current names).
    pub attributes: Option<AttributeNamesBody>,
    /// SAML: hours between metadata refetches.
    pub metadata_refresh_hours: Option<u32>,
}

/// Changes a connection: OIDC secret or claim settings; SAML metadata or settings.
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
    let owner = ConnectionOwner::Org(&access);
    let body = body.0;
    let current = state.broker.get_connection(owner, id).await?;
    let base = broker::Broker::saml_settings(&current)
        .map(|s| s.attributes)
        .unwrap_or_default();
    let fields = SamlOptionFields {
        name_id_format: body.name_id_format,
        sign_requests: body.sign_requests,
        require_signed_assertions: body.require_signed_assertions,
        require_encrypted_assertions: body.require_encrypted_assertions,
        allow_idp_initiated: body.allow_idp_initiated,
        clock_skew_seconds: None,
        trust_email: body.trust_email,
        attributes: body.attributes,
        metadata_refresh_hours: body.metadata_refresh_hours,
    };
    let changes = ConnectionChanges {
        name: body.name,
        client_secret: body.client_secret.map(Into::into),
        scopes: body.scopes,
        use_userinfo: body.use_userinfo,
        claims: body.claims.map(Into::into),
        clock_skew_seconds: body.clock_skew_seconds,
        saml: SamlChanges {
            metadata_xml: body.metadata_xml,
            metadata_url: body.metadata_url,
            options: fields.options(base),
        },
    };
    let updated = state.broker.update_connection(owner, id, changes).await?;
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
    responses(
        (status = 200, body = ConnectionView),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "saml_metadata_missing: a SAML connection needs its IdP's metadata first"),
    ),
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

/// Refetches a SAML connection's metadata from its URL now (Tessera also does it every
/// `metadata_refresh_hours`): new certificates and endpoints apply at once.
#[utoipa::path(
    tag = "connections",
    params(
        ("org" = String, Path, description = "Organization id or slug"),
        ("id" = Uuid, Path, description = "Connection id"),
    ),
    responses(
        (status = 200, body = ConnectionView),
        (status = 400, body = ErrorBody, description = "invalid_connection (not SAML, or pasted metadata), saml_metadata_invalid, saml_metadata_unsigned"),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "saml_metadata_fetch_failed"),
    ),
    security(("api_key" = []))
)]
#[post("/organizations/{org}/connections/{id}/refresh-metadata")]
pub async fn refresh_connection_metadata(
    state: web::Data<AppState>,
    access: OrgSetup,
    path: web::Path<(String, String)>,
) -> Result<web::Json<ConnectionView>, ApiError> {
    let id = connection_id(&path.1)?;
    let updated = state
        .broker
        .refresh_saml_metadata(ConnectionOwner::Org(&access), id)
        .await?;
    Ok(web::Json(view(&state, updated)))
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
    let created = create(&state, ConnectionOwner::Instance(&caller.0), body.0).await?;
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
    responses(
        (status = 200, body = ConnectionView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "saml_metadata_missing: a SAML connection needs its IdP's metadata first"),
    ),
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
