//! Who administers Tessera through the admin console: instance admins (every organization;
//! people, unlike instance API keys) and org admins (active members holding the
//! [`ORG_ADMIN_ROLE`] role). A signed-in browser session becomes an admin [`Actor`] here, so the
//! admin API can take a session where it takes an API key. Instance admins add and remove
//! each other here (the first one comes from [`crate::first_admin`]).

use entities::membership::{self, MembershipStatus};
use entities::{OrgId, UserId, instance_admin, organization};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::Broker;
use crate::actor::{Actor, ActorKind, Scope};
use crate::audit::{self, AuditAction, Entry, Target};
use crate::error::{Error, ErrorCode, Result};
use crate::org::{Organization, find_by_key, require_instance_admin};
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

/// An instance administrator, as listed.
#[derive(Debug, Clone)]
pub struct InstanceAdmin {
    /// The person.
    pub user: User,
    /// Since when.
    pub since: chrono::DateTime<chrono::Utc>,
}

impl Broker {
    /// The instance administrators, longest-serving first (instance admins only).
    pub async fn list_instance_admins(&self, actor: &Actor) -> Result<Vec<InstanceAdmin>> {
        require_instance_admin(actor)?;
        let rows = instance_admin::Entity::find()
            .find_also_related(entities::user::Entity)
            .order_by_asc(instance_admin::Column::CreatedAt)
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(row, user)| {
                user.map(|user| InstanceAdmin {
                    user,
                    since: row.created_at,
                })
            })
            .collect())
    }

    /// Makes the person with `email` an instance administrator (their account is created,
    /// unverified, if there is none yet: they sign in by email link or passkey as usual).
    pub async fn add_instance_admin(&self, actor: &Actor, email: &str) -> Result<InstanceAdmin> {
        require_instance_admin(actor)?;
        let email = crate::validate::email("email", email)?;
        let now = self.now();
        let txn = self.begin_write().await?;
        let (user, _) = crate::user::find_or_create_by_email(&txn, now, actor, &email).await?;
        if let Some(existing) = instance_admin::Entity::find_by_id(user.id)
            .one(&txn)
            .await?
        {
            return Ok(InstanceAdmin {
                user,
                since: existing.created_at,
            });
        }
        instance_admin::Entity::insert(instance_admin::ActiveModel {
            user_id: Set(user.id),
            created_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await?;
        audit::record(
            &txn,
            now,
            Entry {
                actor,
                org: None,
                action: AuditAction::InstanceAdminAdded,
                target: Target::new("user", user.id),
                data: json!({ "how": "api", "email": email }),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(InstanceAdmin { user, since: now })
    }

    /// Takes instance authority away from `user`; the last instance admin stays.
    pub async fn remove_instance_admin(&self, actor: &Actor, user: UserId) -> Result<()> {
        require_instance_admin(actor)?;
        let now = self.now();
        let txn = self.begin_write().await?;
        let admins = instance_admin::Entity::find().all(&txn).await?;
        if !admins.iter().any(|a| a.user_id == user) {
            return Err(Error::new(
                ErrorCode::InstanceAdminNotFound,
                format!("user '{user}' is not an instance administrator"),
            ));
        }
        if admins.len() == 1 {
            return Err(Error::new(
                ErrorCode::LastInstanceAdmin,
                "the last instance administrator cannot be removed; add another one first",
            ));
        }
        instance_admin::Entity::delete_by_id(user)
            .exec(&txn)
            .await?;
        audit::record(
            &txn,
            now,
            Entry {
                actor,
                org: None,
                action: AuditAction::InstanceAdminRemoved,
                target: Target::new("user", user),
                data: json!({}),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}
