//! `/api/v1/organizations/{org}/api-keys`: keys for one organization or one of its members,
//! with scopes: `admin` for Tessera's admin API, anything else for the org's apps, whose
//! backends check keys at `/oauth2/api_keys/verify`. (Instance-admin keys are created at the
//! command line: `tessera admin create-key`.)

use actix_web::{delete, get, post, web};
use broker::api_key::{ApiKey, NewApiKey, scopes_of};
use broker::entities::ApiKeyId;
use broker::entities::UserId;
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

/// An API key (the key itself is shown only once, at creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    /// Stable id.
    pub id: Uuid,
    /// Label.
    pub name: String,
    /// The first characters of the key, to tell keys apart.
    #[schema(example = "tsk_Xk3v9a")]
    pub prefix: String,
    /// The organization the key is limited to.
    pub organization_id: Option<Uuid>,
    /// The member the key acts for, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    /// What the key may do.
    #[schema(example = json!(["admin"]))]
    pub scopes: Vec<String>,
    /// When the key stops working.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// When the key was last used (to the minute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<ApiKey> for ApiKeyView {
    fn from(k: ApiKey) -> Self {
        let scopes = scopes_of(&k);
        Self {
            id: k.id.as_uuid(),
            name: k.name,
            prefix: k.prefix,
            organization_id: k.org_id.map(|o| o.as_uuid()),
            user_id: k.user_id.map(|u| u.as_uuid()),
            scopes,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
            created_at: k.created_at,
        }
    }
}

/// A key just created, with the key itself. Store it now: it is never shown again.
#[derive(Serialize, ToSchema)]
pub struct CreatedApiKeyView {
    /// The key record.
    #[serde(flatten)]
    pub api_key: ApiKeyView,
    /// The key; send it as `Authorization: Bearer <key>`.
    #[schema(example = "tsk_Xk3v9a…")]
    pub key: String,
}

/// The key never appears in debug output.
impl std::fmt::Debug for CreatedApiKeyView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedApiKeyView")
            .field("api_key", &self.api_key)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// Create a key for this organization.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// Label, 1-128 characters.
    #[schema(example = "terraform")]
    pub name: String,
    /// When the key stops working (RFC 3339); never when absent.
    pub expires_at: Option<DateTime<Utc>>,
    /// What the key may do: `admin` (Tessera's admin API, the default) or scopes your apps
    /// check, such as `invoices:read`.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// A member the key acts for (then it cannot carry `admin`).
    pub user_id: Option<Uuid>,
}

/// Creates an API key limited to this organization.
#[utoipa::path(
    tag = "api-keys",
    params(("org" = String, Path, description = "Organization id or slug")),
    request_body = CreateApiKey,
    responses(
        (status = 201, body = CreatedApiKeyView),
        (status = 400, body = ErrorBody, description = "invalid_name, invalid_expiry, invalid_scope_name"),
        (status = 404, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[post("/organizations/{org}/api-keys")]
pub async fn create_api_key(
    state: web::Data<AppState>,
    access: OrgAdmin,
    body: Json<CreateApiKey>,
) -> Result<Created<CreatedApiKeyView>, ApiError> {
    let Json(body) = body;
    let new = NewApiKey {
        name: body.name,
        expires_at: body.expires_at,
        scopes: body.scopes,
        user: body.user_id.map(UserId),
    };
    let created = state.broker.create_org_api_key(&access, new).await?;
    Ok(Created(CreatedApiKeyView {
        key: created.secret.expose_secret().to_owned(),
        api_key: created.api_key.into(),
    }))
}

/// Lists the organization's API keys, including revoked ones.
#[utoipa::path(
    tag = "api-keys",
    params(("org" = String, Path, description = "Organization id or slug"), ListQuery),
    responses((status = 200, body = List<ApiKeyView>), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[get("/organizations/{org}/api-keys")]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    access: OrgAdmin,
    query: Query<ListQuery>,
) -> Result<web::Json<List<ApiKeyView>>, ApiError> {
    let page = state
        .broker
        .list_org_api_keys(&access, &query.page()?)
        .await?;
    Ok(web::Json(List::from_page(page, Into::into)))
}

/// Revokes an API key; it stops working immediately.
#[utoipa::path(
    tag = "api-keys",
    params(
        ("org" = String, Path, description = "Organization id or slug"),
        ("key_id" = Uuid, Path, description = "The key's id"),
    ),
    responses((status = 200, body = ApiKeyView), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[delete("/organizations/{org}/api-keys/{key_id}")]
pub async fn revoke_api_key(
    state: web::Data<AppState>,
    access: OrgAdmin,
    path: web::Path<(String, Uuid)>,
) -> Result<web::Json<ApiKeyView>, ApiError> {
    let key = state
        .broker
        .revoke_org_api_key(&access, ApiKeyId(path.1))
        .await?;
    Ok(web::Json(key.into()))
}
