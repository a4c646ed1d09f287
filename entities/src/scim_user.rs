//! The `scim_users` table: User resources an org's IdP pushes through SCIM, each tied to a
//! Tessera user.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::{OrgId, ScimUserId, UserId};

/// A SCIM User resource.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "scim_users")]
pub struct Model {
    /// Primary key; also the SCIM `id`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ScimUserId,
    /// The org whose directory holds the resource.
    pub org_id: OrgId,
    /// The Tessera user the resource provisions; unique per org.
    pub user_id: UserId,
    /// SCIM `userName` as sent.
    pub user_name: String,
    /// `userName` lower-cased: unique per org, and what `userName` filters compare.
    pub user_name_norm: String,
    /// SCIM `externalId`.
    pub external_id: Option<String>,
    /// SCIM `active` (absent means true).
    pub active: bool,
    /// The canonical SCIM document, without `id`, `meta` and `groups`.
    #[sea_orm(column_type = "JsonBinary")]
    pub doc: Json,
    /// Incremented on every change; the SCIM `meta.version`.
    pub version: i64,
    /// When the resource was created.
    pub created_at: DateTimeUtc,
    /// When the resource last changed.
    pub updated_at: DateTimeUtc,
}

/// Foreign keys of `scim_users`.
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
    /// The user (`ON DELETE CASCADE`).
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl ActiveModelBehavior for ActiveModel {}
