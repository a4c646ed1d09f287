//! `/api/v1/organizations/{org}/scim-tokens`: bearer tokens the org's IdP uses on its SCIM
//! endpoint, and the endpoint's base URL.

use actix_web::{delete, get, post, web};
use broker::directory::ScimToken;
use broker::entities::ScimTokenId;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Created, List, ListQuery};
use crate::error::{ApiError, ErrorBody};
use crate::extract::OrgAdmin;
use crate::json::Json;
use crate::query::Query;
use crate::server::AppState;

/// A SCIM token (the token itself is shown only once, at creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct ScimTokenView {
    /// Stable id.
    pub id: Uuid,
    /// Label.
    pub name: String,
    /// The first characters of the token, to tell tokens apart.
    #[schema(example = "tss_Q2x9bf")]
    pub prefix: String,
    /// When the token stops working.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// When the token was last used (to the minute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<ScimToken> for ScimTokenView {
    fn from(t: ScimToken) -> Self {
        Self {
            id: t.id.as_uuid(),
            name: t.name,
            prefix: t.prefix,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
            created_at: t.created_at,
        }
    }
}

/// A token just created, with the token itself and the base URL to give the IdP.
#[derive(Serialize, ToSchema)]
pub struct CreatedScimTokenView {
    /// The token record.
    #[serde(flatten)]
    pub scim_token: ScimTokenView,
    /// The bearer token; paste it into the IdP's provisioning settings. Never shown again.
    #[schema(example = "tss_Q2x9bf…")]
    pub token: String,
    /// The SCIM base URL of the org's directory (the IdP's "tenant URL").
    #[schema(example = "https://sso.example.com/scim/v2/0193c8c2-6a1e-7c43-9a57-1f3e3b2f4a10")]
    pub base_url: String,
}

/// The token never appears in debug output.
impl std::fmt::Debug for CreatedScimTokenView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedScimTokenView")
            .field("scim_token", &self.scim_token)
            .field("token", &"[redacted]")
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// Create a SCIM token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateScimToken {
    /// Label, 1-128 characters (the IdP it is for).
    #[schema(example = "entra-provisioning")]
    pub name: String,
    /// When the token stops working (RFC 3339); never when absent.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Creates a SCIM token for the organization's directory.
#[utoipa::path(
    tag = "scim-tokens",
    params(("org" = String, Path, description = "Organization id or slug")),
    request_body = CreateScimToken,
    responses(
        (status = 201, body = CreatedScimTokenView),
        (status = 400, body = ErrorBody, description = "invalid_name, invalid_expiry"),
        (status = 404, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[post("/organizations/{org}/scim-tokens")]
pub async fn create_scim_token(
    state: web::Data<AppState>,
    access: OrgAdmin,
    body: Json<CreateScimToken>,
) -> Result<Created<CreatedScimTokenView>, ApiError> {
    let Json(body) = body;
    let created = state
        .broker
        .create_scim_token(&access, &body.name, body.expires_at)
        .await?;
    Ok(Created(CreatedScimTokenView {
        token: created.secret.expose_secret().to_owned(),
        base_url: created.base_url,
        scim_token: created.token.into(),
    }))
}

/// Lists the organization's SCIM tokens, including revoked ones.
#[utoipa::path(
    tag = "scim-tokens",
    params(("org" = String, Path, description = "Organization id or slug"), ListQuery),
    responses((status = 200, body = List<ScimTokenView>), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[get("/organizations/{org}/scim-tokens")]
pub async fn list_scim_tokens(
    state: web::Data<AppState>,
    access: OrgAdmin,
    query: Query<ListQuery>,
) -> Result<web::Json<List<ScimTokenView>>, ApiError> {
    let page = state
        .broker
        .list_scim_tokens(&access, &query.page()?)
        .await?;
    Ok(web::Json(List::from_page(page, Into::into)))
}

/// Revokes a SCIM token; the IdP's next request with it is refused.
#[utoipa::path(
    tag = "scim-tokens",
    params(
        ("org" = String, Path, description = "Organization id or slug"),
        ("token_id" = Uuid, Path, description = "The token's id"),
    ),
    responses((status = 200, body = ScimTokenView), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[delete("/organizations/{org}/scim-tokens/{token_id}")]
pub async fn revoke_scim_token(
    state: web::Data<AppState>,
    access: OrgAdmin,
    path: web::Path<(String, Uuid)>,
) -> Result<web::Json<ScimTokenView>, ApiError> {
    let token = state
        .broker
        .revoke_scim_token(&access, ScimTokenId(path.1))
        .await?;
    Ok(web::Json(token.into()))
}
