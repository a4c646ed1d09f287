//! `/api/v1/organizations/{org}/setup-links`: time-limited links that let the customer's IT
//! person run the SSO wizard for one organization without a Tessera account.

use actix_web::{delete, get, post, web};
use broker::entities::SetupLinkId;
use broker::setup_link::{NewSetupLink, SetupLink, is_live};
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Created, List, ListQuery};
use crate::error::{ApiError, ErrorBody};
use crate::extract::OrgAdmin;
use crate::json::OptionalJson;
use crate::query::Query;
use crate::server::AppState;

/// A setup link (its URL is shown only once, at creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct SetupLinkView {
    /// Stable id.
    pub id: Uuid,
    /// Who it is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `active`, `expired` or `revoked`.
    #[schema(example = "active")]
    pub status: &'static str,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was first opened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// The admin who created it, when a person did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Uuid>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

fn view(state: &AppState, link: SetupLink) -> SetupLinkView {
    let status = if link.revoked_at.is_some() {
        "revoked"
    } else if is_live(&link, state.broker.now()) {
        "active"
    } else {
        "expired"
    };
    SetupLinkView {
        id: link.id.as_uuid(),
        label: link.label,
        status,
        expires_at: link.expires_at,
        used_at: link.used_at,
        revoked_at: link.revoked_at,
        created_by: link.created_by.map(|u| u.as_uuid()),
        created_at: link.created_at,
    }
}

/// A link just created, with its URL.
#[derive(Serialize, ToSchema)]
pub struct CreatedSetupLinkView {
    /// The link's record.
    #[serde(flatten)]
    pub setup_link: SetupLinkView,
    /// Hand this to the person setting up SSO; never shown again.
    #[schema(example = "https://sso.example.com/setup/tsl_Q2x9bf…")]
    pub url: String,
}

/// The URL never appears in debug output.
impl std::fmt::Debug for CreatedSetupLinkView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedSetupLinkView")
            .field("setup_link", &self.setup_link)
            .field("url", &"[redacted]")
            .finish()
    }
}

/// Create a setup link; the body may be omitted.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSetupLink {
    /// Who it is for, 1-128 characters ("Jane, Acme IT").
    pub label: Option<String>,
    /// When it stops working (RFC 3339), at most 30 days away; 72 hours when absent.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Creates a setup link for the organization (not with a setup link).
#[utoipa::path(
    tag = "setup-links",
    params(("org" = String, Path, description = "Organization id or slug")),
    request_body(content = CreateSetupLink, description = "Optional"),
    responses(
        (status = 201, body = CreatedSetupLinkView),
        (status = 400, body = ErrorBody, description = "invalid_name, invalid_expiry"),
        (status = 404, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[post("/organizations/{org}/setup-links")]
pub async fn create_setup_link(
    state: web::Data<AppState>,
    access: OrgAdmin,
    body: OptionalJson<CreateSetupLink>,
) -> Result<Created<CreatedSetupLinkView>, ApiError> {
    let body = body.0;
    let new = NewSetupLink {
        label: body.label,
        expires_at: body.expires_at,
    };
    let created = state.broker.create_setup_link(&access, new).await?;
    Ok(Created(CreatedSetupLinkView {
        url: created.url.expose_secret().to_owned(),
        setup_link: view(&state, created.link),
    }))
}

/// Lists the organization's setup links, newest first.
#[utoipa::path(
    tag = "setup-links",
    params(("org" = String, Path, description = "Organization id or slug"), ListQuery),
    responses((status = 200, body = List<SetupLinkView>), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[get("/organizations/{org}/setup-links")]
pub async fn list_setup_links(
    state: web::Data<AppState>,
    access: OrgAdmin,
    query: Query<ListQuery>,
) -> Result<web::Json<List<SetupLinkView>>, ApiError> {
    let page = state
        .broker
        .list_setup_links(&access, &query.page()?)
        .await?;
    Ok(web::Json(List::from_page(page, |l| view(&state, l))))
}

/// Revokes a setup link; it stops working at once.
#[utoipa::path(
    tag = "setup-links",
    params(
        ("org" = String, Path, description = "Organization id or slug"),
        ("link_id" = Uuid, Path, description = "Setup link id"),
    ),
    responses((status = 200, body = SetupLinkView), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[delete("/organizations/{org}/setup-links/{link_id}")]
pub async fn revoke_setup_link(
    state: web::Data<AppState>,
    access: OrgAdmin,
    path: web::Path<(String, String)>,
) -> Result<web::Json<SetupLinkView>, ApiError> {
    let id: SetupLinkId = path.1.parse().map_err(|_| {
        ApiError::new(
            broker::ErrorCode::SetupLinkNotFound,
            format!("no setup link '{}'", path.1),
        )
    })?;
    let link = state.broker.revoke_setup_link(&access, id).await?;
    Ok(web::Json(view(&state, link)))
}
