//! `/api/v1/organizations/{org}/memberships`: who belongs to an organization, with which roles.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use broker::entities::UserId;
use broker::membership::{Member, MemberRef};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Created, List, ListQuery};
use crate::error::{ApiError, ErrorBody};
use crate::extract::OrgAdmin;
use crate::json::Json;
use crate::query::Query;
use crate::server::AppState;

/// A user's membership in an organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipView {
    /// The membership's id.
    pub id: Uuid,
    /// The member's user id (addresses the membership in paths).
    pub user_id: Uuid,
    /// The member's email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The member's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Roles in this organization; they appear in tokens as `roles`.
    #[schema(example = json!(["admin"]))]
    pub roles: Vec<String>,
    /// `admin` (added through the API), `jit` (first sign-in) or `scim` (provisioned).
    pub source: String,
    /// `active`, or `suspended` (the org's directory deactivated the user: no sign-in).
    #[schema(example = "active")]
    pub status: String,
    /// When the user joined.
    pub created_at: DateTime<Utc>,
    /// When the membership last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<Member> for MembershipView {
    fn from(m: Member) -> Self {
        Self {
            roles: m.roles(),
            source: m.source_name(),
            status: m.status_name(),
            id: m.membership.id.as_uuid(),
            user_id: m.user.id.as_uuid(),
            email: m.user.email,
            name: m.user.name,
            created_at: m.membership.created_at,
            updated_at: m.membership.updated_at,
        }
    }
}

/// Add a member: an existing user by `user_id`, or anyone by `email` (an account is created
/// for an unknown address).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMembership {
    /// An existing user's id.
    pub user_id: Option<Uuid>,
    /// An email address.
    #[schema(example = "ada@acme.com")]
    pub email: Option<String>,
    /// Roles to grant.
    #[serde(default)]
    #[schema(example = json!(["member"]))]
    pub roles: Vec<String>,
}

/// Replace a member's roles.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMembership {
    /// The complete new set of roles.
    #[schema(example = json!(["admin", "billing"]))]
    pub roles: Vec<String>,
}

/// Adds a member to the organization.
#[utoipa::path(
    tag = "memberships",
    params(("org" = String, Path, description = "Organization id or slug")),
    request_body = AddMembership,
    responses(
        (status = 201, body = MembershipView),
        (status = 400, body = ErrorBody, description = "ambiguous_member, invalid_email, invalid_role"),
        (status = 404, body = ErrorBody, description = "organization_not_found, user_not_found"),
        (status = 409, body = ErrorBody, description = "membership_exists"),
    ),
    security(("api_key" = []))
)]
#[post("/organizations/{org}/memberships")]
pub async fn add_membership(
    state: web::Data<AppState>,
    access: OrgAdmin,
    body: Json<AddMembership>,
) -> Result<Created<MembershipView>, ApiError> {
    let Json(body) = body;
    let who = MemberRef::from_parts(body.user_id.map(UserId), body.email)?;
    let member = state
        .broker
        .add_membership(&access, who, &body.roles)
        .await?;
    Ok(Created(member.into()))
}

/// Lists the organization's members, oldest first.
#[utoipa::path(
    tag = "memberships",
    params(("org" = String, Path, description = "Organization id or slug"), ListQuery),
    responses((status = 200, body = List<MembershipView>), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[get("/organizations/{org}/memberships")]
pub async fn list_memberships(
    state: web::Data<AppState>,
    access: OrgAdmin,
    query: Query<ListQuery>,
) -> Result<web::Json<List<MembershipView>>, ApiError> {
    let page = state
        .broker
        .list_memberships(&access, &query.page()?)
        .await?;
    Ok(web::Json(List::from_page(page, Into::into)))
}

/// Reads one member.
#[utoipa::path(
    tag = "memberships",
    params(
        ("org" = String, Path, description = "Organization id or slug"),
        ("user_id" = Uuid, Path, description = "The member's user id"),
    ),
    responses((status = 200, body = MembershipView), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[get("/organizations/{org}/memberships/{user_id}")]
pub async fn get_membership(
    state: web::Data<AppState>,
    access: OrgAdmin,
    path: web::Path<(String, Uuid)>,
) -> Result<web::Json<MembershipView>, ApiError> {
    let member = state.broker.get_membership(&access, UserId(path.1)).await?;
    Ok(web::Json(member.into()))
}

/// Replaces a member's roles.
#[utoipa::path(
    tag = "memberships",
    params(
        ("org" = String, Path, description = "Organization id or slug"),
        ("user_id" = Uuid, Path, description = "The member's user id"),
    ),
    request_body = UpdateMembership,
    responses(
        (status = 200, body = MembershipView),
        (status = 400, body = ErrorBody, description = "invalid_role"),
        (status = 404, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[patch("/organizations/{org}/memberships/{user_id}")]
pub async fn update_membership(
    state: web::Data<AppState>,
    access: OrgAdmin,
    path: web::Path<(String, Uuid)>,
    body: Json<UpdateMembership>,
) -> Result<web::Json<MembershipView>, ApiError> {
    let member = state
        .broker
        .set_membership_roles(&access, UserId(path.1), &body.0.roles)
        .await?;
    Ok(web::Json(member.into()))
}

/// Removes a member from the organization (the user account remains).
#[utoipa::path(
    tag = "memberships",
    params(
        ("org" = String, Path, description = "Organization id or slug"),
        ("user_id" = Uuid, Path, description = "The member's user id"),
    ),
    responses((status = 204, description = "Removed"), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[delete("/organizations/{org}/memberships/{user_id}")]
pub async fn remove_membership(
    state: web::Data<AppState>,
    access: OrgAdmin,
    path: web::Path<(String, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    state
        .broker
        .remove_membership(&access, UserId(path.1))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
