//! The `api_keys` table: hashed API keys for scripts, owned by the instance, an org or a user.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::{ApiKeyId, OrgId, UserId};

/// Who an API key acts for; decides which of `org_id` / `user_id` is set.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyOwner {
    /// The whole instance (neither id set).
    #[sea_orm(string_value = "instance")]
    Instance,
    /// One org (`org_id` set).
    #[sea_orm(string_value = "org")]
    Org,
    /// One user (`user_id` set).
    #[sea_orm(string_value = "user")]
    User,
}

/// An API key, stored only as a hash.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ApiKeyId,
    /// Display name.
    pub name: String,
    /// The key's first characters, shown so users can tell keys apart.
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub prefix: String,
    /// SHA-256 of the key, unique.
    #[sea_orm(column_type = "Blob", unique)]
    pub key_hash: Vec<u8>,
    /// Who the key acts for.
    pub owner_kind: ApiKeyOwner,
    /// The owning org, for org keys.
    pub org_id: Option<OrgId>,
    /// The owning user, for user keys.
    pub user_id: Option<UserId>,
    /// Granted scopes (JSON array of strings).
    #[sea_orm(column_type = "JsonBinary")]
    pub scopes: Json,
    /// When the key stops working, if ever.
    pub expires_at: Option<DateTimeUtc>,
    /// When the key was last used.
    pub last_used_at: Option<DateTimeUtc>,
    /// When the key was created.
    pub created_at: DateTimeUtc,
    /// When the key was revoked.
    pub revoked_at: Option<DateTimeUtc>,
}

/// Foreign keys of `api_keys`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The owning org, if any (`ON DELETE CASCADE`).
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrgId",
        to = "super::organization::Column::Id",
        on_delete = "Cascade"
    )]
    Organization,
    /// The owning user, if any (`ON DELETE CASCADE`).
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
