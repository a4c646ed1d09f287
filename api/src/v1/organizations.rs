//! `/api/v1/organizations`: create, list, read, update and delete organizations.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use broker::org::{NewOrganization, Organization, OrganizationChanges};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Created, List, ListQuery};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AdminCaller, OrgAdmin, OrgSetup};
use crate::json::Json;
use crate::query::Query;
use crate::server::AppState;

/// An organization (tenant).
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationView {
    /// Stable id.
    pub id: Uuid,
    /// URL-safe handle, usable wherever the API takes `{org}`.
    #[schema(example = "acme")]
    pub slug: String,
    /// Display name.
    #[schema(example = "Acme Inc.")]
    pub name: String,
    /// Whether emails at the org's verified domains must sign in through its active SSO
    /// connection (local sign-in refused with `sso_required`).
    pub require_sso: bool,
    /// The base URL of the organization's SCIM 2.0 directory (the IdP's "tenant URL").
    pub scim_base_url: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl OrganizationView {
    fn new(state: &AppState, o: Organization) -> Self {
        Self {
            scim_base_url: state.broker.scim_base_url(o.id),
            id: o.id.as_uuid(),
            slug: o.slug,
            name: o.name,
            require_sso: o.require_sso,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

/// Create an organization.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganization {
    /// Display name, 1-128 characters.
    #[schema(example = "Acme Inc.")]
    pub name: String,
    /// 1-63 lower-case letters, digits and inner hyphens; unique; not shaped like an id.
    #[schema(example = "acme", pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
    pub slug: String,
}

/// Change an organization; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganization {
    /// New display name.
    pub name: Option<String>,
    /// New slug (same rules as on creation).
    #[schema(pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
    pub slug: Option<String>,
    /// Require the org's SSO connection for its verified domains.
    pub require_sso: Option<bool>,
}

/// Creates an organization (instance admins only).
#[utoipa::path(
    tag = "organizations",
    request_body = CreateOrganization,
    responses(
        (status = 201, body = OrganizationView),
        (status = 400, body = ErrorBody, description = "invalid_slug, invalid_name, unknown_field, …"),
        (status = 403, body = ErrorBody, description = "instance_admin_required"),
        (status = 409, body = ErrorBody, description = "slug_taken"),
    ),
    security(("api_key" = []))
)]
#[post("/organizations")]
pub async fn create_organization(
    state: web::Data<AppState>,
    caller: AdminCaller,
    body: Json<CreateOrganization>,
) -> Result<Created<OrganizationView>, ApiError> {
    let Json(body) = body;
    let new = NewOrganization {
        name: body.name,
        slug: body.slug,
    };
    let org = state.broker.create_organization(&caller.0, new).await?;
    Ok(Created(OrganizationView::new(&state, org)))
}

/// Lists the organizations the caller can see, oldest first.
#[utoipa::path(
    tag = "organizations",
    params(ListQuery),
    responses((status = 200, body = List<OrganizationView>), (status = 400, body = ErrorBody)),
    security(("api_key" = []))
)]
#[get("/organizations")]
pub async fn list_organizations(
    state: web::Data<AppState>,
    caller: AdminCaller,
    query: Query<ListQuery>,
) -> Result<web::Json<List<OrganizationView>>, ApiError> {
    let page = state
        .broker
        .list_organizations(&caller.0, &query.page()?)
        .await?;
    Ok(web::Json(List::from_page(page, |o| {
        OrganizationView::new(&state, o)
    })))
}

/// Reads one organization by id or slug.
#[utoipa::path(
    tag = "organizations",
    params(("org" = String, Path, description = "Organization id or slug")),
    responses((status = 200, body = OrganizationView), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[get("/organizations/{org}")]
pub async fn get_organization(
    state: web::Data<AppState>,
    access: OrgSetup,
) -> web::Json<OrganizationView> {
    web::Json(OrganizationView::new(&state, access.org().clone()))
}

/// Renames an organization or changes its slug.
#[utoipa::path(
    tag = "organizations",
    params(("org" = String, Path, description = "Organization id or slug")),
    request_body = UpdateOrganization,
    responses(
        (status = 200, body = OrganizationView),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "slug_taken"),
    ),
    security(("api_key" = []))
)]
#[patch("/organizations/{org}")]
pub async fn update_organization(
    state: web::Data<AppState>,
    access: OrgAdmin,
    body: Json<UpdateOrganization>,
) -> Result<web::Json<OrganizationView>, ApiError> {
    let Json(body) = body;
    let changes = OrganizationChanges {
        name: body.name,
        slug: body.slug,
        require_sso: body.require_sso,
    };
    let org = state.broker.update_organization(&access, changes).await?;
    Ok(web::Json(OrganizationView::new(&state, org)))
}

/// Deletes an organization and everything it owns (instance admins only).
#[utoipa::path(
    tag = "organizations",
    params(("org" = String, Path, description = "Organization id or slug")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, body = ErrorBody, description = "instance_admin_required"),
        (status = 404, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[delete("/organizations/{org}")]
pub async fn delete_organization(
    state: web::Data<AppState>,
    access: OrgAdmin,
) -> Result<HttpResponse, ApiError> {
    state.broker.delete_organization(&access).await?;
    Ok(HttpResponse::NoContent().finish())
}
