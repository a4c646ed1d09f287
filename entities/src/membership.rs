//! The `memberships` table: a user's membership, with roles, in one organization.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::{MembershipId, OrgId, UserId};

/// Whether a membership currently grants access to the org.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum MembershipStatus {
    /// Grants access.
    #[sea_orm(string_value = "active")]
    Active,
    /// Kept but grants nothing (e.g. deactivated through SCIM).
    #[sea_orm(string_value = "suspended")]
    Suspended,
}

/// Who created a membership.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum MembershipSource {
    /// An org admin added the user.
    #[sea_orm(string_value = "admin")]
    Admin,
    /// Created just in time at the user's first federated sign-in.
    #[sea_orm(string_value = "jit")]
    Jit,
    /// Pushed by the org's IdP through SCIM.
    #[sea_orm(string_value = "scim")]
    Scim,
}

/// A user's membership in an org; unique per (org, user).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "memberships")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: MembershipId,
    /// The org.
    pub org_id: OrgId,
    /// The member.
    pub user_id: UserId,
    /// Role names granted in this org (JSON array of strings).
    #[sea_orm(column_type = "JsonBinary")]
    pub roles: Json,
    /// Whether the membership grants access.
    pub status: MembershipStatus,
    /// Who created the membership.
    pub source: MembershipSource,
    /// When the membership was created.
    pub created_at: DateTimeUtc,
    /// When the row last changed.
    pub updated_at: DateTimeUtc,
}

/// Foreign keys of `memberships`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The org (`ON DELETE CASCADE`).
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrgId",
        to = "super::organization::Column::Id",
        on_delete = "Cascade"
    )]
    Organization,
    /// The member (`ON DELETE CASCADE`).
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
