//! The `connections` table: upstream IdPs (OIDC or SAML) an org, or the instance, signs in with.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::{ConnectionId, OrgId};

/// The protocol spoken to the upstream IdP.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum ConnectionKind {
    /// Tessera is an OpenID Connect relying party.
    #[sea_orm(string_value = "oidc")]
    Oidc,
    /// Tessera is a SAML 2.0 service provider.
    #[sea_orm(string_value = "saml")]
    Saml,
}

/// Where a connection is in its setup life cycle.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    /// Being set up; usable only for test logins.
    #[sea_orm(string_value = "draft")]
    Draft,
    /// Used for sign-in.
    #[sea_orm(string_value = "active")]
    Active,
    /// Switched off; kept for its identities.
    #[sea_orm(string_value = "disabled")]
    Disabled,
}

/// An upstream IdP connection.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "connections")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ConnectionId,
    /// Owning org; `None` for an instance-level social sign-in connection.
    pub org_id: Option<OrgId>,
    /// OIDC or SAML.
    pub kind: ConnectionKind,
    /// Display name.
    pub name: String,
    /// IdP preset the connection was created from (`entra`, `okta`, `google`), if any.
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub preset: Option<String>,
    /// Setup life cycle state.
    pub status: ConnectionStatus,
    /// Non-secret protocol settings (issuer, metadata, claim names…), opaque JSON.
    #[sea_orm(column_type = "JsonBinary")]
    pub config: Json,
    /// Secrets (e.g. the upstream client secret), AES-256-GCM under the master key.
    #[sea_orm(column_type = "Blob")]
    pub secrets_encrypted: Option<Vec<u8>>,
    /// When the connection was created.
    pub created_at: DateTimeUtc,
    /// When the row last changed.
    pub updated_at: DateTimeUtc,
}

/// Foreign keys of `connections`.
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
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
