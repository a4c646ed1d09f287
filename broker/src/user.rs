//! Users: global accounts (a person may belong to several organizations), looked up by id or
//! email and created on first reference.

use entities::UserId;
use entities::user::{self, UserStatus};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TryInsertResult,
};
use serde_json::json;

use crate::actor::Actor;
use crate::audit::{self, AuditAction, Entry, Target};
use crate::error::{Error, ErrorCode, Result};

/// A user as stored.
pub type User = user::Model;

pub(crate) fn not_found(id: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::UserNotFound, format!("no user '{id}'"))
}

/// Finds a user by id.
pub(crate) async fn find(db: &impl ConnectionTrait, id: UserId) -> Result<Option<User>> {
    Ok(user::Entity::find_by_id(id).one(db).await?)
}

/// Finds the user with `email` (already normalized), or creates one with an unverified email.
/// Returns the user and whether this call created it. Concurrent calls for a new address
/// create exactly one account: the insert yields to the unique index instead of failing.
pub(crate) async fn find_or_create_by_email(
    db: &impl ConnectionTrait,
    now: chrono::DateTime<chrono::Utc>,
    actor: &Actor,
    email: &str,
) -> Result<(User, bool)> {
    if let Some(user) = find_by_email(db, email).await? {
        return Ok((user, false));
    }
    let id = UserId::new();
    let inserted = user::Entity::insert(user::ActiveModel {
        id: Set(id),
        email: Set(Some(email.to_owned())),
        email_verified: Set(false),
        name: Set(None),
        given_name: Set(None),
        family_name: Set(None),
        status: Set(UserStatus::Active),
        created_at: Set(now),
        updated_at: Set(now),
        last_login_at: Set(None),
    })
    .on_conflict_do_nothing_on([user::Column::Email])
    .exec_without_returning(db)
    .await?;
    let created = matches!(inserted, TryInsertResult::Inserted(1));
    let user = find_by_email(db, email)
        .await?
        .ok_or_else(|| Error::internal(format!("user {email} vanished after insert")))?;
    if created {
        audit::record(
            db,
            now,
            Entry {
                actor,
                org: None,
                action: AuditAction::UserCreated,
                target: Target::new("user", user.id),
                data: json!({ "email": email }),
            },
        )
        .await?;
    }
    Ok((user, created))
}

/// An upstream identity as the account page shows it.
#[derive(Debug, Clone)]
pub struct LinkedIdentity {
    /// The connection's display name.
    pub connection: String,
    /// The IdP's subject.
    pub subject: String,
    /// When it was last used.
    pub last_login_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl crate::Broker {
    /// The user with `id`.
    pub async fn user(&self, id: UserId) -> Result<User> {
        find(self.db(), id).await?.ok_or_else(|| not_found(id))
    }

    /// The user's linked upstream identities.
    pub async fn identities_of(&self, id: UserId) -> Result<Vec<LinkedIdentity>> {
        use entities::{connection, identity};
        let rows = identity::Entity::find()
            .filter(identity::Column::UserId.eq(id))
            .find_also_related(connection::Entity)
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .map(|(identity, connection)| LinkedIdentity {
                connection: connection.map(|c| c.name).unwrap_or_default(),
                subject: identity.subject,
                last_login_at: identity.last_login_at,
            })
            .collect())
    }

    /// The user with `email`, created (with an unverified email) when there is none yet.
    pub async fn find_or_create_user(&self, actor: &Actor, email: &str) -> Result<User> {
        let email = crate::validate::email("email", email)?;
        let txn = self.begin_write().await?;
        let (user, _) = find_or_create_by_email(&txn, self.now(), actor, &email).await?;
        txn.commit().await?;
        Ok(user)
    }
}

/// Finds a user by (normalized) email.
pub(crate) async fn find_by_email(db: &impl ConnectionTrait, email: &str) -> Result<Option<User>> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await?)
}
