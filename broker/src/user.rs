//! Users: global accounts (a person may belong to several organizations), looked up by id or
//! email and created on first reference.

use entities::UserId;
use entities::user::{self, UserStatus};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use serde_json::json;

use crate::actor::Actor;
use crate::audit::{self, AuditAction, Entry, Target};
use crate::error::{Error, ErrorCode, Result, is_unique_violation};

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
/// Returns the user and whether it was created.
pub(crate) async fn find_or_create_by_email(
    db: &impl ConnectionTrait,
    now: chrono::DateTime<chrono::Utc>,
    actor: &Actor,
    email: &str,
) -> Result<(User, bool)> {
    let existing = user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await?;
    if let Some(user) = existing {
        return Ok((user, false));
    }
    let created = user::ActiveModel {
        id: Set(UserId::new()),
        email: Set(Some(email.to_owned())),
        email_verified: Set(false),
        name: Set(None),
        given_name: Set(None),
        family_name: Set(None),
        status: Set(UserStatus::Active),
        created_at: Set(now),
        updated_at: Set(now),
        last_login_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            // Another request created the same user a moment ago; the caller may retry.
            Error::unavailable(e)
        } else {
            e.into()
        }
    })?;
    audit::record(
        db,
        now,
        Entry {
            actor,
            org: None,
            action: AuditAction::UserCreated,
            target: Target::new("user", created.id),
            data: json!({ "email": email }),
        },
    )
    .await?;
    Ok((created, true))
}
