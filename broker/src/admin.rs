//! Who administers Tessera through the admin console: instance admins (every organization;
//! people, unlike instance API keys) and org admins (active members holding the
//! [`ORG_ADMIN_ROLE`] role). A signed-in browser session becomes an admin [`Actor`] here, so the
//! admin API can take a session where it takes an API key.

use entities::membership::{self, MembershipStatus};
use entities::{OrgId, UserId, instance_admin, organization};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::Broker;
use crate::actor::{Actor, ActorKind, Scope};
use crate::error::{Error, ErrorCode, Result};
use crate::org::{Organization, find_by_key};
use crate::session::Session;
use crate::user::User;

/// The membership role that makes someone an administrator of an organization in the console
/// (namespaced, so an app's own `admin` role never grants it by accident).
pub const ORG_ADMIN_ROLE: &str = "tessera:admin";

/// A signed-in person and what they may administer.
#[derive(Debug, Clone)]
pub struct AdminProfile {
    /// The person.
    pub user: User,
    /// Whether they administer the whole instance.
    pub instance_admin: bool,
    /// The organizations they administer (every organization for instance admins is not
    /// listed here; they list organizations through the API).
    pub organizations: Vec<Organization>,
}

impl AdminProfile {
    /// Whether the person may use the console at all.
    pub fn is_admin(&self) -> bool {
        self.instance_admin || !self.organizations.is_empty()
    }
}

fn holds_admin_role(m: &membership::Model) -> bool {
    m.status == MembershipStatus::Active
        && m.roles
            .as_array()
            .is_some_and(|roles| roles.iter().any(|r| r == ORG_ADMIN_ROLE))
}

fn no_admin_role() -> Error {
    Error::new(
        ErrorCode::AdminRoleRequired,
        format!(
            "this account administers no organization: an org admin holds the role \
             '{ORG_ADMIN_ROLE}' in the organization"
        ),
    )
}

impl Broker {
    /// Whether `user` is an instance administrator.
    pub async fn is_instance_admin(&self, user: UserId) -> Result<bool> {
        Ok(instance_admin::Entity::find_by_id(user)
            .one(self.db())
            .await?
            .is_some())
    }

    /// Whether any instance administrator exists yet.
    pub(crate) async fn has_instance_admin(&self) -> Result<bool> {
        Ok(instance_admin::Entity::find()
            .one(self.db())
            .await?
            .is_some())
    }

    /// The organizations `user` administers (active membership with [`ORG_ADMIN_ROLE`]), by
    /// name.
    pub async fn administered_organizations(&self, user: UserId) -> Result<Vec<Organization>> {
        let rows = membership::Entity::find()
            .filter(membership::Column::UserId.eq(user))
            .filter(membership::Column::Status.eq(MembershipStatus::Active))
            .find_also_related(organization::Entity)
            .order_by_asc(membership::Column::Id)
            .all(self.db())
            .await?;
        let mut orgs: Vec<Organization> = rows
            .into_iter()
            .filter(|(m, _)| holds_admin_role(m))
            .filter_map(|(_, org)| org)
            .collect();
        orgs.sort_by_key(|o| o.name.to_lowercase());
        Ok(orgs)
    }

    /// What `user` may administer.
    pub async fn admin_profile(&self, user: User) -> Result<AdminProfile> {
        let instance_admin = self.is_instance_admin(user.id).await?;
        let organizations = self.administered_organizations(user.id).await?;
        Ok(AdminProfile {
            user,
            instance_admin,
            organizations,
        })
    }

    /// The admin actor a browser session stands for. Instance admins act with instance
    /// authority. Org admins act in `org` (an id or slug from the path or the
    /// `X-Tessera-Organization` header), which must be one they administer (else it is "not
    /// found", as for an org-scoped key); without `org`, in the one organization they
    /// administer.
    pub async fn session_admin(
        &self,
        session: &Session,
        org: Option<&str>,
        ip: Option<String>,
        request_id: Option<String>,
    ) -> Result<Actor> {
        let user = session.user_id;
        let actor = |scope| Actor {
            kind: ActorKind::User(user),
            scope,
            ip: ip.clone(),
            request_id: request_id.clone(),
        };
        if self.is_instance_admin(user).await? {
            return Ok(actor(Scope::Instance));
        }
        let Some(key) = org else {
            let orgs = self.administered_organizations(user).await?;
            return match orgs.as_slice() {
                [only] => Ok(actor(Scope::Org(only.id))),
                [] => Err(no_admin_role()),
                _ => Err(Error::new(
                    ErrorCode::OrganizationRequired,
                    "this account administers several organizations: name one in the \
                     X-Tessera-Organization header",
                )),
            };
        };
        let hidden = || {
            Error::new(
                ErrorCode::OrganizationNotFound,
                format!("no organization '{key}'"),
            )
        };
        let org = find_by_key(self.db(), key).await?.ok_or_else(hidden)?;
        if self.administers(user, org.id).await? {
            Ok(actor(Scope::Org(org.id)))
        } else if self.administered_organizations(user).await?.is_empty() {
            Err(no_admin_role())
        } else {
            Err(hidden())
        }
    }

    /// Whether `user` is an active member of `org` holding [`ORG_ADMIN_ROLE`].
    async fn administers(&self, user: UserId, org: OrgId) -> Result<bool> {
        Ok(membership::Entity::find()
            .filter(membership::Column::OrgId.eq(org))
            .filter(membership::Column::UserId.eq(user))
            .one(self.db())
            .await?
            .is_some_and(|m| holds_admin_role(&m)))
    }
}
