//! The `scim_groups` table: groups an org's IdP pushes through SCIM.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::{OrgId, ScimGroupId};

/// A SCIM group.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "scim_groups")]
pub struct Model {
    /// Primary key; also the SCIM `id`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ScimGroupId,
    /// The org whose directory holds the group.
    pub org_id: OrgId,
    /// SCIM `displayName`.
    pub display_name: String,
    /// `displayName` lower-cased, what `displayName` filters compare.
    pub display_name_norm: String,
    /// SCIM `externalId` set by the IdP, if any.
    pub external_id: Option<String>,
    /// Incremented on every change; the SCIM `meta.version` (ETag).
    pub version: i64,
    /// When the group was created.
    pub created_at: DateTimeUtc,
    /// When the group last changed.
    pub updated_at: DateTimeUtc,
}

/// Foreign keys of `scim_groups`.
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
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
