//! `/api/v1/me`: who the caller is and what they administer (the console starts here).

use actix_web::{get, web};
use broker::org::Organization;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ErrorBody;
use crate::extract::Caller;

/// An organization the caller administers.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationRef {
    /// Stable id.
    pub id: Uuid,
    /// Slug.
    pub slug: String,
    /// Display name.
    pub name: String,
}

impl From<Organization> for OrganizationRef {
    fn from(o: Organization) -> Self {
        Self {
            id: o.id.as_uuid(),
            slug: o.slug,
            name: o.name,
        }
    }
}

/// The signed-in person.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeUser {
    /// User id.
    pub id: Uuid,
    /// Email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    /// `user` (a console session), `api_key` or `setup_link`.
    #[schema(example = "user")]
    pub kind: &'static str,
    /// The person, for console sessions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<MeUser>,
    /// Whether the caller has authority over every organization.
    pub instance_admin: bool,
    /// The organizations the caller administers (instance admins: list them with
    /// `GET /api/v1/organizations`).
    pub organizations: Vec<OrganizationRef>,
}

impl From<Caller> for MeView {
    fn from(caller: Caller) -> Self {
        match caller {
            Caller::ApiKey(actor, org) => MeView {
                kind: "api_key",
                user: None,
                instance_admin: actor.is_instance_admin(),
                organizations: org.into_iter().map(Into::into).collect(),
            },
            Caller::User(profile) => MeView {
                kind: "user",
                user: Some(MeUser {
                    id: profile.user.id.as_uuid(),
                    email: profile.user.email,
                    name: profile.user.name,
                }),
                instance_admin: profile.instance_admin,
                organizations: profile.organizations.into_iter().map(Into::into).collect(),
            },
            Caller::SetupLink(org) => MeView {
                kind: "setup_link",
                user: None,
                instance_admin: false,
                organizations: vec![org.into()],
            },
        }
    }
}

/// Tells who the caller is and which organizations they administer.
#[utoipa::path(
    tag = "console",
    responses(
        (status = 200, body = MeView),
        (status = 401, body = ErrorBody, description = "missing_credentials, invalid_credentials, setup_link_invalid"),
        (status = 403, body = ErrorBody, description = "admin_role_required"),
    ),
    security(("api_key" = []))
)]
#[get("/me")]
pub async fn get_me(caller: Caller) -> web::Json<MeView> {
    web::Json(caller.into())
}
