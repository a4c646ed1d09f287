//! The `recovery_codes` table: single-use codes that stand in for a lost second factor.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::{RecoveryCodeId, UserId};

/// A recovery code, stored only as a hash.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "recovery_codes")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: RecoveryCodeId,
    /// The owner.
    pub user_id: UserId,
    /// SHA-256 of the code, unique.
    #[sea_orm(column_type = "Blob", unique)]
    pub code_hash: Vec<u8>,
    /// When the code was used; a used code is spent.
    pub used_at: Option<DateTimeUtc>,
    /// When the code was issued.
    pub created_at: DateTimeUtc,
}

/// Foreign keys of `recovery_codes`.
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
