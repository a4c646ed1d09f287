//! `/api/v1/instance-admins`: the people with authority over every organization (instance
//! admins only; the first one comes from the first-start link).

use actix_web::{HttpResponse, delete, get, post, web};
use broker::admin::InstanceAdmin;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::Created;
use crate::error::{ApiError, ErrorBody};
use crate::extract::AdminCaller;
use crate::json::Json;
use crate::server::AppState;

/// An instance administrator.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceAdminView {
    /// The user's id.
    pub user_id: Uuid,
    /// Email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Since when.
    pub since: DateTime<Utc>,
}

impl From<InstanceAdmin> for InstanceAdminView {
    fn from(a: InstanceAdmin) -> Self {
        Self {
            user_id: a.user.id.as_uuid(),
            email: a.user.email,
            name: a.user.name,
            since: a.since,
        }
    }
}

/// The instance administrators.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceAdminList {
    /// Longest-serving first.
    pub data: Vec<InstanceAdminView>,
}

/// Add an instance administrator.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddInstanceAdmin {
    /// Their email; an account is created if there is none (they sign in as usual).
    #[schema(example = "ops@example.com")]
    pub email: String,
}

/// Lists the instance administrators.
#[utoipa::path(
    tag = "instance-admins",
    responses((status = 200, body = InstanceAdminList), (status = 403, body = ErrorBody, description = "instance_admin_required")),
    security(("api_key" = []))
)]
#[get("/instance-admins")]
pub async fn list_instance_admins(
    state: web::Data<AppState>,
    caller: AdminCaller,
) -> Result<web::Json<InstanceAdminList>, ApiError> {
    let admins = state.broker.list_instance_admins(&caller.0).await?;
    Ok(web::Json(InstanceAdminList {
        data: admins.into_iter().map(Into::into).collect(),
    }))
}

/// Makes someone an instance administrator.
#[utoipa::path(
    tag = "instance-admins",
    request_body = AddInstanceAdmin,
    responses(
        (status = 201, body = InstanceAdminView),
        (status = 400, body = ErrorBody, description = "invalid_email"),
        (status = 403, body = ErrorBody, description = "instance_admin_required"),
    ),
    security(("api_key" = []))
)]
#[post("/instance-admins")]
pub async fn add_instance_admin(
    state: web::Data<AppState>,
    caller: AdminCaller,
    body: Json<AddInstanceAdmin>,
) -> Result<Created<InstanceAdminView>, ApiError> {
    let admin = state
        .broker
        .add_instance_admin(&caller.0, &body.0.email)
        .await?;
    Ok(Created(admin.into()))
}

/// Takes instance authority away from a user (never the last instance administrator).
#[utoipa::path(
    tag = "instance-admins",
    params(("user_id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, body = ErrorBody, description = "instance_admin_required"),
        (status = 404, body = ErrorBody, description = "instance_admin_not_found"),
        (status = 409, body = ErrorBody, description = "last_instance_admin"),
    ),
    security(("api_key" = []))
)]
#[delete("/instance-admins/{user_id}")]
pub async fn remove_instance_admin(
    state: web::Data<AppState>,
    caller: AdminCaller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    state
        .broker
        .remove_instance_admin(&caller.0, path.into_inner().into())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
