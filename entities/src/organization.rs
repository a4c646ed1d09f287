//! The `organizations` table: tenants, which own everything org-scoped.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::OrgId;

/// An organization (tenant). Deleting it cascades to every row that carries its `org_id`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: OrgId,
    /// URL-safe handle, unique across the instance; accepted wherever an org id is.
    #[sea_orm(unique)]
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Whether emails at the org's verified domains must sign in through its SSO connection.
    pub require_sso: bool,
    /// When the org was created.
    pub created_at: DateTimeUtc,
    /// When the row last changed.
    pub updated_at: DateTimeUtc,
}

/// No relations are navigated from an organization; query children by their `org_id`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
