//! The `password_credentials` table: a user's Argon2id password hash (at most one per user).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::UserId;

/// A user's password.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "password_credentials")]
pub struct Model {
    /// The owner; also the primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: UserId,
    /// Argon2id hash in PHC string format.
    #[sea_orm(column_type = "Text")]
    pub hash: String,
    /// When the password was first set.
    pub created_at: DateTimeUtc,
    /// When it was last changed.
    pub updated_at: DateTimeUtc,
}

/// Foreign keys of `password_credentials`.
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
