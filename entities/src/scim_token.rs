//! The `scim_tokens` table: hashed bearer tokens an org's IdP uses on its SCIM endpoint.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::{OrgId, ScimTokenId};

/// A SCIM bearer token, stored only as a hash.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "scim_tokens")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ScimTokenId,
    /// The org whose directory the token writes.
    pub org_id: OrgId,
    /// Display name.
    pub name: String,
    /// The token's first characters, shown so admins can tell tokens apart.
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub prefix: String,
    /// SHA-256 of the token, unique.
    #[sea_orm(column_type = "Blob", unique)]
    pub token_hash: Vec<u8>,
    /// When the token stops working, if ever.
    pub expires_at: Option<DateTimeUtc>,
    /// When the token was last used.
    pub last_used_at: Option<DateTimeUtc>,
    /// When the token was created.
    pub created_at: DateTimeUtc,
    /// When the token was revoked.
    pub revoked_at: Option<DateTimeUtc>,
}

/// Foreign keys of `scim_tokens`.
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
