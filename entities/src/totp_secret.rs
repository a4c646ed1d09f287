//! The `totp_secrets` table: a user's TOTP seed (at most one per user), encrypted.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::UserId;

/// A user's TOTP secret.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "totp_secrets")]
pub struct Model {
    /// The owner; also the primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: UserId,
    /// The seed, AES-256-GCM under the master key.
    #[sea_orm(column_type = "Blob")]
    pub secret_encrypted: Vec<u8>,
    /// When the user proved a first code; `None` while enrolment is pending.
    pub confirmed_at: Option<DateTimeUtc>,
    /// Last accepted time step, so a code cannot be replayed.
    pub last_used_step: Option<i64>,
    /// When enrolment started.
    pub created_at: DateTimeUtc,
}

/// Foreign keys of `totp_secrets`.
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
