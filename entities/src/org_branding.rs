//! The `org_brandings` table: how an organization's sign-in pages look (name, colour, logo).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::OrgId;

/// An organization's branding; absent fields fall back to Tessera's defaults.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "org_brandings")]
pub struct Model {
    /// The org; also the primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_id: OrgId,
    /// The name shown on sign-in pages instead of the organization's name.
    pub display_name: Option<String>,
    /// The accent colour, `#rrggbb`.
    pub color: Option<String>,
    /// The logo image (PNG, JPEG or WebP).
    #[sea_orm(column_type = "Blob")]
    pub logo: Option<Vec<u8>>,
    /// The logo's media type.
    pub logo_type: Option<String>,
    /// When the branding last changed (also versions the logo's URL).
    pub updated_at: DateTimeUtc,
}

/// Foreign keys of `org_brandings`.
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
