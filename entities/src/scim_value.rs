//! The `scim_values` table: every scalar value of a SCIM User, one row each, indexed so that
//! filters on any attribute run as index lookups.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::OrgId;

/// One value of a SCIM User attribute.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "scim_values")]
pub struct Model {
    /// The `scim_users` row.
    #[sea_orm(primary_key, auto_increment = false)]
    pub resource_id: Uuid,
    /// The lower-case attribute path (`emails.value`, `urn:…:user:department`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub path: String,
    /// The value's position within a multi-valued attribute (0 otherwise): sub-attributes of
    /// one item share it, so `emails[type eq "work" and value co "@x"]` matches one item.
    #[sea_orm(primary_key, auto_increment = false)]
    pub item: i32,
    /// The org, first column of the lookup index.
    pub org_id: OrgId,
    /// The value as compared: lower-cased unless the attribute is case-exact; booleans as
    /// `true`/`false`; date-times in UTC with fixed width.
    pub norm: String,
    /// Numbers, for numeric comparison.
    pub num: Option<f64>,
}

/// Foreign keys of `scim_values`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
