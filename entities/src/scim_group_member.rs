//! The `scim_group_members` table: which users belong to which SCIM groups.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::{OrgId, ScimGroupId, UserId};

/// A user's membership in a SCIM group; the primary key is (group_id, user_id).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "scim_group_members")]
pub struct Model {
    /// The group.
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_id: ScimGroupId,
    /// The member.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: UserId,
    /// The group's org, so org-scoped queries need no join.
    pub org_id: OrgId,
    /// When the user was added.
    pub created_at: DateTimeUtc,
}

/// Foreign keys of `scim_group_members`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The group (`ON DELETE CASCADE`).
    #[sea_orm(
        belongs_to = "super::scim_group::Entity",
        from = "Column::GroupId",
        to = "super::scim_group::Column::Id",
        on_delete = "Cascade"
    )]
    ScimGroup,
    /// The member (`ON DELETE CASCADE`).
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
    /// The org (`ON DELETE CASCADE`).
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrgId",
        to = "super::organization::Column::Id",
        on_delete = "Cascade"
    )]
    Organization,
}

impl Related<super::scim_group::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ScimGroup.def()
    }
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
