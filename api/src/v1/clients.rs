//! `/api/v1/clients`: apps that get tokens from Tessera (OIDC clients).

use actix_web::{HttpResponse, delete, get, post, put, web};
use broker::entities::client::ClientType;
use broker::entities::signing_key::SigningAlg;
use broker::provider::client::{Client, CreatedClient, NewClient, list_of};
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Created, List, ListQuery};
use crate::error::{ApiError, ErrorBody};
use crate::extract::AdminCaller;
use crate::json::Json;
use crate::query::Query;
use crate::server::AppState;

/// Whether an app can keep a secret.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AppType {
    /// A server-side app: has a secret.
    Confidential,
    /// A browser or native app: no secret, PKCE always.
    Public,
}

/// The algorithm that signs an app's tokens.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (the default; every OIDC library supports it).
    RS256,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// Ed25519.
    EdDSA,
}

impl From<AppType> for ClientType {
    fn from(t: AppType) -> Self {
        match t {
            AppType::Confidential => Self::Confidential,
            AppType::Public => Self::Public,
        }
    }
}

impl From<ClientType> for AppType {
    fn from(t: ClientType) -> Self {
        match t {
            ClientType::Confidential => Self::Confidential,
            ClientType::Public => Self::Public,
        }
    }
}

impl From<SigningAlgorithm> for SigningAlg {
    fn from(a: SigningAlgorithm) -> Self {
        match a {
            SigningAlgorithm::RS256 => Self::Rs256,
            SigningAlgorithm::ES256 => Self::Es256,
            SigningAlgorithm::EdDSA => Self::EdDsa,
        }
    }
}

impl From<SigningAlg> for SigningAlgorithm {
    fn from(a: SigningAlg) -> Self {
        match a {
            SigningAlg::Rs256 => Self::RS256,
            SigningAlg::Es256 => Self::ES256,
            SigningAlg::EdDsa => Self::EdDSA,
        }
    }
}

/// Register (or replace the settings of) an app.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientSettings {
    /// Display name.
    #[schema(example = "Acme dashboard")]
    pub name: String,
    /// `confidential` or `public`.
    pub r#type: AppType,
    /// Where authorization codes may be sent: exact https URLs, loopback http, or private-use
    /// schemes (`com.example.app:/cb`). Native apps' `http://127.0.0.1/…` match any port.
    #[serde(default)]
    #[schema(example = json!(["https://app.example.com/callback"]))]
    pub redirect_uris: Vec<String>,
    /// Where users may return after signing out.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// `authorization_code`, `refresh_token`, `client_credentials`,
    /// `urn:ietf:params:oauth:grant-type:device_code`; default the first two.
    #[schema(example = json!(["authorization_code", "refresh_token"]))]
    pub grant_types: Option<Vec<String>>,
    /// API scopes the app may request, besides openid, profile, email, offline_access.
    pub scopes: Option<Vec<String>>,
    /// Only users of this organization (id or slug) may use the app.
    pub organization: Option<String>,
    /// `client_secret_basic` (default for confidential apps), `client_secret_post`, `none`.
    pub token_endpoint_auth_method: Option<String>,
    /// The algorithm that signs the app's tokens (default RS256).
    pub signing_alg: Option<SigningAlgorithm>,
    /// Require PKCE (always for public apps; default true).
    pub require_pkce: Option<bool>,
    /// Extra token claims: `{"tier": {"value": "gold"}, "dept": {"from": "user.family_name"}}`.
    pub custom_claims: Option<serde_json::Value>,
    /// Back-channel logout notices go here.
    pub backchannel_logout_uri: Option<String>,
}

impl From<ClientSettings> for NewClient {
    fn from(s: ClientSettings) -> Self {
        Self {
            name: s.name,
            client_type: Some(s.r#type.into()),
            redirect_uris: s.redirect_uris,
            post_logout_redirect_uris: s.post_logout_redirect_uris,
            grant_types: s.grant_types,
            scopes: s.scopes,
            organization: s.organization,
            token_endpoint_auth_method: s.token_endpoint_auth_method,
            signing_alg: s.signing_alg.map(Into::into),
            require_pkce: s.require_pkce,
            custom_claims: s.custom_claims,
            backchannel_logout_uri: s.backchannel_logout_uri,
        }
    }
}

/// An app.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientView {
    /// The public client identifier.
    pub client_id: Uuid,
    /// Display name.
    pub name: String,
    /// `confidential` or `public`.
    pub r#type: AppType,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Registered post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Allowed grants.
    pub grant_types: Vec<String>,
    /// Registered API scopes.
    pub scopes: Vec<String>,
    /// The organization the app is restricted to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Uuid>,
    /// How the app authenticates at the token endpoint.
    pub token_endpoint_auth_method: String,
    /// The algorithm that signs its tokens.
    pub signing_alg: SigningAlgorithm,
    /// Whether PKCE is required.
    pub require_pkce: bool,
    /// Extra token claims.
    pub custom_claims: serde_json::Value,
    /// Back-channel logout URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<Client> for ClientView {
    fn from(c: Client) -> Self {
        Self {
            client_id: c.id.as_uuid(),
            name: c.name,
            r#type: c.client_type.into(),
            redirect_uris: list_of(&c.redirect_uris),
            post_logout_redirect_uris: list_of(&c.post_logout_redirect_uris),
            grant_types: list_of(&c.grant_types),
            scopes: list_of(&c.scopes),
            organization_id: c.org_id.map(|o| o.as_uuid()),
            token_endpoint_auth_method: c.token_endpoint_auth_method,
            signing_alg: c
                .id_token_signed_response_alg
                .unwrap_or(SigningAlg::Rs256)
                .into(),
            require_pkce: c.require_pkce,
            custom_claims: c.custom_claims,
            backchannel_logout_uri: c.backchannel_logout_uri,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// An app with its secret, shown only at registration and rotation. Store it now.
#[derive(Serialize, ToSchema)]
pub struct CreatedClientView {
    /// The app.
    #[serde(flatten)]
    pub client: ClientView,
    /// The secret (confidential apps).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "tcs_…")]
    pub client_secret: Option<String>,
}

/// The secret never appears in debug output.
impl std::fmt::Debug for CreatedClientView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedClientView")
            .field("client", &self.client)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl From<CreatedClient> for CreatedClientView {
    fn from(created: CreatedClient) -> Self {
        Self {
            client_secret: created.secret.map(|s| s.expose_secret().to_owned()),
            client: created.client.into(),
        }
    }
}

/// Registers an app; a confidential app's secret is in the response, once.
#[utoipa::path(
    tag = "clients",
    request_body = ClientSettings,
    responses(
        (status = 201, body = CreatedClientView),
        (status = 400, body = ErrorBody, description = "invalid_redirect_uri, invalid_grant_type, …"),
        (status = 404, body = ErrorBody, description = "organization_not_found: `organization` names no organization the caller can see"),
    ),
    security(("api_key" = []))
)]
#[post("/clients")]
pub async fn create_client(
    state: web::Data<AppState>,
    caller: AdminCaller,
    body: Json<ClientSettings>,
) -> Result<Created<CreatedClientView>, ApiError> {
    let created = state.broker.create_client(&caller.0, body.0.into()).await?;
    Ok(Created(created.into()))
}

/// Lists the apps the caller can see.
#[utoipa::path(
    tag = "clients",
    params(ListQuery),
    responses((status = 200, body = List<ClientView>), (status = 400, body = ErrorBody)),
    security(("api_key" = []))
)]
#[get("/clients")]
pub async fn list_clients(
    state: web::Data<AppState>,
    caller: AdminCaller,
    query: Query<ListQuery>,
) -> Result<web::Json<List<ClientView>>, ApiError> {
    let page = state.broker.list_clients(&caller.0, &query.page()?).await?;
    Ok(web::Json(List::from_page(page, Into::into)))
}

/// Reads one app.
#[utoipa::path(
    tag = "clients",
    params(("client_id" = String, Path, description = "The app's client_id")),
    responses((status = 200, body = ClientView), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[get("/clients/{client_id}")]
pub async fn get_client(
    state: web::Data<AppState>,
    caller: AdminCaller,
    path: web::Path<String>,
) -> Result<web::Json<ClientView>, ApiError> {
    let client = state.broker.get_client(&caller.0, &path).await?;
    Ok(web::Json(client.into()))
}

/// Replaces an app's settings (its client_id, type and secret stay).
#[utoipa::path(
    tag = "clients",
    params(("client_id" = String, Path, description = "The app's client_id")),
    request_body = ClientSettings,
    responses(
        (status = 200, body = ClientView),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[put("/clients/{client_id}")]
pub async fn update_client(
    state: web::Data<AppState>,
    caller: AdminCaller,
    path: web::Path<String>,
    body: Json<ClientSettings>,
) -> Result<web::Json<ClientView>, ApiError> {
    let client = state
        .broker
        .update_client(&caller.0, &path, body.0.into())
        .await?;
    Ok(web::Json(client.into()))
}

/// Gives a confidential app a new secret. The new one works at once on every replica; the old
/// one stops at once on this replica and within 5 seconds on the others.
#[utoipa::path(
    tag = "clients",
    params(("client_id" = String, Path, description = "The app's client_id")),
    responses(
        (status = 200, body = CreatedClientView),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "public_client_has_no_secret"),
    ),
    security(("api_key" = []))
)]
#[post("/clients/{client_id}/secret")]
pub async fn rotate_client_secret(
    state: web::Data<AppState>,
    caller: AdminCaller,
    path: web::Path<String>,
) -> Result<web::Json<CreatedClientView>, ApiError> {
    let rotated = state.broker.rotate_client_secret(&caller.0, &path).await?;
    Ok(web::Json(rotated.into()))
}

/// Deletes an app and its refresh tokens.
#[utoipa::path(
    tag = "clients",
    params(("client_id" = String, Path, description = "The app's client_id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[delete("/clients/{client_id}")]
pub async fn delete_client(
    state: web::Data<AppState>,
    caller: AdminCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.broker.delete_client(&caller.0, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}
