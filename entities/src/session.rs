//! The `sessions` table: browser sessions at Tessera, identified by a hashed cookie token.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::{OrgId, SessionId, UserId};

/// A signed-in browser session.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SessionId,
    /// The signed-in user.
    pub user_id: UserId,
    /// The org the user signed in to, if any.
    pub org_id: Option<OrgId>,
    /// SHA-256 of the session cookie's token, unique.
    #[sea_orm(column_type = "Blob", unique)]
    pub token_hash: Vec<u8>,
    /// Authentication methods used (JSON array of RFC 8176 values).
    #[sea_orm(column_type = "JsonBinary")]
    pub amr: Json,
    /// Authentication context class, if any.
    pub acr: Option<String>,
    /// When the user actually authenticated (OIDC `auth_time`).
    pub auth_time: DateTimeUtc,
    /// When the session was created.
    pub created_at: DateTimeUtc,
    /// When the session was last used.
    pub last_seen_at: DateTimeUtc,
    /// Expiry if left idle; moves forward with use.
    pub idle_expires_at: DateTimeUtc,
    /// Absolute expiry.
    pub expires_at: DateTimeUtc,
    /// The browser's User-Agent at creation.
    #[sea_orm(column_type = "Text")]
    pub user_agent: Option<String>,
    /// The client IP address at creation.
    pub ip: Option<String>,
    /// When the session was ended (sign-out, admin action, SCIM deactivation).
    pub revoked_at: Option<DateTimeUtc>,
}

/// Foreign keys of `sessions`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The user (`ON DELETE CASCADE`).
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
    /// The org, if any (`ON DELETE CASCADE`).
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrgId",
        to = "super::organization::Column::Id",
        on_delete = "Cascade"
    )]
    Organization,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
