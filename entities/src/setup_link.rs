//! The `setup_links` table: time-limited links an org admin hands to their IT team.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::{OrgId, SetupLinkId, UserId};

/// A setup link, stored only as a hash of its token.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "setup_links")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SetupLinkId,
    /// The org being set up.
    pub org_id: OrgId,
    /// SHA-256 of the link's token, unique.
    #[sea_orm(column_type = "Blob", unique)]
    pub token_hash: Vec<u8>,
    /// The admin who created the link, if it was a user. Not a foreign key.
    pub created_by: Option<UserId>,
    /// Who the link is for, as the admin described them ("Jane, Acme IT").
    pub label: Option<String>,
    /// When the link stops working.
    pub expires_at: DateTimeUtc,
    /// When the link was used.
    pub used_at: Option<DateTimeUtc>,
    /// When the link was revoked.
    pub revoked_at: Option<DateTimeUtc>,
    /// When the link was created.
    pub created_at: DateTimeUtc,
}

/// Foreign keys of `setup_links`.
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
