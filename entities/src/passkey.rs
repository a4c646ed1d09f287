//! The `passkeys` table: users' WebAuthn credentials.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::{PasskeyId, UserId};

/// A WebAuthn credential registered by a user.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "passkeys")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: PasskeyId,
    /// The owner.
    pub user_id: UserId,
    /// The authenticator's credential id (raw bytes), unique.
    #[sea_orm(column_type = "Blob", unique)]
    pub credential_id: Vec<u8>,
    /// Name the user gave it.
    pub name: String,
    /// The webauthn-rs `Passkey` state, serialized.
    #[sea_orm(column_type = "JsonBinary")]
    pub passkey: Json,
    /// Authenticator model (AAGUID), when known.
    pub aaguid: Option<Uuid>,
    /// Whether the credential may be synced (backup eligible flag).
    pub backup_eligible: bool,
    /// Whether the credential is currently backed up (backup state flag).
    pub backup_state: bool,
    /// Last signature counter seen.
    pub sign_count: i64,
    /// When the passkey was registered.
    pub created_at: DateTimeUtc,
    /// When it was last used to sign in.
    pub last_used_at: Option<DateTimeUtc>,
}

/// Foreign keys of `passkeys`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The owner (`ON DELETE CASCADE`).
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
