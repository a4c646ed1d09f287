//! The `role_mappings` table: an org's claim → role rules, one row per org, replaced whole.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::OrgId;

/// An org's role-mapping rules.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "role_mappings")]
pub struct Model {
    /// The org; also the primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_id: OrgId,
    /// Ordered rules `[{claim, op, value, role}]`, opaque JSON.
    #[sea_orm(column_type = "JsonBinary")]
    pub rules: Json,
    /// Role granted when no rule matches (unless `deny_unmatched`).
    pub default_role: Option<String>,
    /// Refuse sign-in when no rule matches.
    pub deny_unmatched: bool,
    /// When the rules were last replaced.
    pub updated_at: DateTimeUtc,
}

/// Foreign keys of `role_mappings`.
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
