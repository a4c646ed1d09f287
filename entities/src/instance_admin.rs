//! The `instance_admins` table: people with authority over every organization, through the
//! admin console (API keys carry their own scope).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::UserId;

/// A user who is an instance administrator.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "instance_admins")]
pub struct Model {
    /// The user; also the primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: UserId,
    /// When the user became an instance administrator.
    pub created_at: DateTimeUtc,
}

/// Foreign keys of `instance_admins`.
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
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
