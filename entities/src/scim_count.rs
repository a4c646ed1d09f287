//! The `scim_counts` table: how many Users and Groups each org's directory holds, kept in the
//! same transaction as every insert and delete so unfiltered lists need no `COUNT(*)`.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::OrgId;

/// Resource counts of one directory.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "scim_counts")]
pub struct Model {
    /// The org.
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_id: OrgId,
    /// Users.
    pub users: i64,
    /// Groups.
    pub groups: i64,
}

/// Foreign keys of `scim_counts`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
