//! Memberships: which users belong to an organization, and with which roles.

use std::collections::HashMap;

use entities::membership::{self, MembershipSource, MembershipStatus};
use entities::{MembershipId, UserId, organization, user};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait,
    Order, QueryFilter,
};
use serde_json::json;

use crate::Broker;
use crate::audit::{AuditAction, Target};
use crate::domain::org_owns_email;
use crate::error::{Error, ErrorCode, Result, gone_or, unique_or};
use crate::org::OrgAccess;
use crate::page::{self, Page, PageRequest};
use crate::user::{self as users, User};
use crate::validate;

/// A membership with the user it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The membership row.
    pub membership: membership::Model,
    /// The member.
    pub user: User,
}

impl Member {
    /// The member's roles in this organization.
    pub fn roles(&self) -> Vec<String> {
        roles_of(&self.membership)
    }

    /// `active` or `suspended`, as stored.
    pub fn status_name(&self) -> String {
        self.membership.status.to_value()
    }

    /// How the membership came about (`admin`, `jit`, `scim`), as stored.
    pub fn source_name(&self) -> String {
        self.membership.source.to_value()
    }
}

/// Who to add: an existing user by id, or anyone by email (created if unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberRef {
    /// An existing user.
    UserId(UserId),
    /// A user found, or created, by email address.
    Email(String),
}

impl MemberRef {
    /// Accepts exactly one of the two ways to name a user.
    pub fn from_parts(user_id: Option<UserId>, email: Option<String>) -> Result<Self> {
        match (user_id, email) {
            (Some(id), None) => Ok(Self::UserId(id)),
            (None, Some(email)) => Ok(Self::Email(email)),
            _ => Err(Error::invalid(
                ErrorCode::AmbiguousMember,
                "user_id",
                "give exactly one of user_id and email",
            )),
        }
    }
}

fn roles_of(m: &membership::Model) -> Vec<String> {
    serde_json::from_value(m.roles.clone()).unwrap_or_default()
}

fn not_found(user: UserId) -> Error {
    Error::new(
        ErrorCode::MembershipNotFound,
        format!("user '{user}' is not a member of this organization"),
    )
}

async fn find_membership(
    db: &impl ConnectionTrait,
    access: &OrgAccess,
    user: UserId,
) -> Result<Option<membership::Model>> {
    Ok(membership::Entity::find()
        .filter(membership::Column::OrgId.eq(access.org_id()))
        .filter(membership::Column::UserId.eq(user))
        .one(db)
        .await?)
}

async fn get_membership(
    db: &impl ConnectionTrait,
    access: &OrgAccess,
    user: UserId,
) -> Result<membership::Model> {
    find_membership(db, access, user)
        .await?
        .ok_or_else(|| not_found(user))
}

/// Finds the user an org admin names. Users are global, so an organization-scoped caller
/// only sees users whose email lies in one of its verified domains; anyone else is "not found",
/// exactly like a user that does not exist, so ids from other organizations reveal nothing.
async fn member_candidate(
    db: &impl ConnectionTrait,
    now: chrono::DateTime<chrono::Utc>,
    access: &OrgAccess,
    who: MemberRef,
) -> Result<User> {
    let instance = access.actor().is_instance_admin();
    match who {
        MemberRef::UserId(id) => {
            let hidden = || users::not_found(id).with_field("user_id");
            let user = users::find(db, id).await?.ok_or_else(hidden)?;
            let visible = instance
                || match &user.email {
                    Some(email) => org_owns_email(db, access.org_id(), email).await?,
                    None => false,
                };
            if visible { Ok(user) } else { Err(hidden()) }
        }
        MemberRef::Email(raw) => {
            let email = validate::email("email", &raw)?;
            if !instance && !org_owns_email(db, access.org_id(), &email).await? {
                return Err(Error::invalid(
                    ErrorCode::EmailDomainNotVerified,
                    "email",
                    "an organization-scoped key can add members only with an email address in \
                     one of the organization's verified domains",
                ));
            }
            Ok(
                users::find_or_create_by_email(db, now, access.actor(), &email)
                    .await?
                    .0,
            )
        }
    }
}

impl Broker {
    /// Lists the organization's members, oldest membership first.
    pub async fn list_memberships(
        &self,
        access: &OrgAccess,
        request: &PageRequest,
    ) -> Result<Page<Member>> {
        let select =
            membership::Entity::find().filter(membership::Column::OrgId.eq(access.org_id()));
        let page = page::fetch(
            self.db(),
            select,
            membership::Column::Id,
            Order::Asc,
            request,
            |m| m.id.as_uuid(),
        )
        .await?;
        let ids: Vec<UserId> = page.items.iter().map(|m| m.user_id).collect();
        let mut by_id: HashMap<UserId, User> = user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .all(self.db())
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let mut members = Vec::with_capacity(page.items.len());
        for m in page.items {
            let user = by_id
                .remove(&m.user_id)
                .ok_or_else(|| Error::internal(format!("membership {} has no user", m.id)))?;
            members.push(Member {
                membership: m,
                user,
            });
        }
        Ok(Page {
            items: members,
            next_cursor: page.next_cursor,
        })
    }

    /// One member of the organization.
    pub async fn get_membership(&self, access: &OrgAccess, user: UserId) -> Result<Member> {
        let membership = get_membership(self.db(), access, user).await?;
        let user = users::find(self.db(), user)
            .await?
            .ok_or_else(|| not_found(user))?;
        Ok(Member { membership, user })
    }

    /// Adds a user to the organization with `roles`. A user named by email is created when
    /// unknown (with an unverified email).
    pub async fn add_membership(
        &self,
        access: &OrgAccess,
        who: MemberRef,
        roles: &[String],
    ) -> Result<Member> {
        let roles = validate::roles("roles", roles)?;
        let now = self.now();
        let txn = self.begin_write().await?;
        let user = member_candidate(&txn, now, access, who).await?;
        let exists = || {
            Error::invalid(
                ErrorCode::MembershipExists,
                "user_id",
                format!("user '{}' is already a member", user.id),
            )
        };
        if find_membership(&txn, access, user.id).await?.is_some() {
            return Err(exists());
        }
        let membership = membership::ActiveModel {
            id: Set(MembershipId::new()),
            org_id: Set(access.org_id()),
            user_id: Set(user.id),
            roles: Set(json!(roles)),
            status: Set(MembershipStatus::Active),
            source: Set(MembershipSource::Admin),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(|e| unique_or(e, exists))?;
        access
            .audit(
                &txn,
                now,
                AuditAction::MembershipAdded,
                Target::new("user", user.id),
                json!({ "roles": roles }),
            )
            .await?;
        txn.commit().await?;
        Ok(Member { membership, user })
    }

    /// Replaces a member's roles.
    pub async fn set_membership_roles(
        &self,
        access: &OrgAccess,
        user: UserId,
        roles: &[String],
    ) -> Result<Member> {
        let roles = validate::roles("roles", roles)?;
        let now = self.now();
        let txn = self.begin_write().await?;
        let current = get_membership(&txn, access, user).await?;
        let before = roles_of(&current);
        let mut model: membership::ActiveModel = current.into();
        model.roles = Set(json!(roles));
        model.updated_at = Set(now);
        let membership = model
            .update(&txn)
            .await
            .map_err(|e| gone_or(e, || not_found(user)))?;
        access
            .audit(
                &txn,
                now,
                AuditAction::MembershipUpdated,
                Target::new("user", user),
                json!({ "before": before, "after": roles }),
            )
            .await?;
        let member_user = users::find(&txn, user)
            .await?
            .ok_or_else(|| not_found(user))?;
        txn.commit().await?;
        Ok(Member {
            membership,
            user: member_user,
        })
    }

    /// Removes a user from the organization (the user account itself remains).
    pub async fn remove_membership(&self, access: &OrgAccess, user: UserId) -> Result<()> {
        let now = self.now();
        let txn = self.begin_write().await?;
        let current = get_membership(&txn, access, user).await?;
        let deleted = membership::Entity::delete_by_id(current.id)
            .exec(&txn)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(not_found(user));
        }
        access
            .audit(
                &txn,
                now,
                AuditAction::MembershipRemoved,
                Target::new("user", user),
                json!({ "roles": roles_of(&current) }),
            )
            .await?;
        txn.commit().await?;
        Ok(())
    }
}

impl Broker {
    /// The user's roles in `org` when they are an active member of it.
    pub(crate) async fn active_roles(
        &self,
        org: entities::OrgId,
        user: UserId,
    ) -> Result<Option<Vec<String>>> {
        Ok(membership::Entity::find()
            .filter(membership::Column::OrgId.eq(org))
            .filter(membership::Column::UserId.eq(user))
            .filter(membership::Column::Status.eq(MembershipStatus::Active))
            .one(self.db())
            .await?
            .map(|m| roles_of(&m)))
    }

    /// The user, the organization and the user's roles in it, in one statement, when the user
    /// is active and an active member of `org`. Tokens are minted from this on every code
    /// redemption and refresh: one round trip instead of three.
    pub(crate) async fn active_member(
        &self,
        org: entities::OrgId,
        user: UserId,
    ) -> Result<Option<(User, organization::Model, Vec<String>)>> {
        let found = membership::Entity::find()
            .filter(membership::Column::OrgId.eq(org))
            .filter(membership::Column::UserId.eq(user))
            .filter(membership::Column::Status.eq(MembershipStatus::Active))
            .find_also_related(user::Entity)
            .find_also_related(organization::Entity)
            .filter(user::Column::Status.eq(user::UserStatus::Active))
            .one(self.db())
            .await?;
        Ok(match found {
            Some((membership, Some(user), Some(org))) => Some((user, org, roles_of(&membership))),
            _ => None,
        })
    }
}
