//! The `clients` table: apps (OIDC relying parties and OAuth clients); the row id is `client_id`.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::{ClientId, OrgId};
use crate::signing_key::SigningAlg;

/// Whether an app can keep a secret (RFC 6749 §2.1).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum ClientType {
    /// Browser, native or desktop app: no secret, PKCE required.
    #[sea_orm(string_value = "public")]
    Public,
    /// Server-side app or service holding a client secret.
    #[sea_orm(string_value = "confidential")]
    Confidential,
}

/// An app registered with Tessera.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    /// Primary key; its string form is the public `client_id`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ClientId,
    /// The only org whose users may use the app; `None` for any org.
    pub org_id: Option<OrgId>,
    /// Display name.
    pub name: String,
    /// Public or confidential.
    pub client_type: ClientType,
    /// SHA-256 of the client secret; `None` for public clients.
    #[sea_orm(column_type = "Blob")]
    pub secret_hash: Option<Vec<u8>>,
    /// Registered redirect URIs (JSON array of strings).
    #[sea_orm(column_type = "JsonBinary")]
    pub redirect_uris: Json,
    /// Registered post-logout redirect URIs (JSON array of strings).
    #[sea_orm(column_type = "JsonBinary")]
    pub post_logout_redirect_uris: Json,
    /// Allowed grant types (JSON array of strings).
    #[sea_orm(column_type = "JsonBinary")]
    pub grant_types: Json,
    /// Allowed scopes (JSON array of strings).
    #[sea_orm(column_type = "JsonBinary")]
    pub scopes: Json,
    /// Token endpoint authentication method (`client_secret_basic`, `none`, …).
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub token_endpoint_auth_method: String,
    /// ID token signing algorithm the app asked for; `None` for the default (RS256).
    pub id_token_signed_response_alg: Option<SigningAlg>,
    /// Extra claims to add to the app's tokens, opaque JSON.
    #[sea_orm(column_type = "JsonBinary")]
    pub custom_claims: Json,
    /// Whether authorization requests must carry a PKCE challenge (always for public apps).
    pub require_pkce: bool,
    /// Registered by an admin (no consent screen) rather than dynamically (users consent).
    pub first_party: bool,
    /// OIDC back-channel logout URI, if any.
    #[sea_orm(column_type = "Text")]
    pub backchannel_logout_uri: Option<String>,
    /// When the app was registered.
    pub created_at: DateTimeUtc,
    /// When the row last changed.
    pub updated_at: DateTimeUtc,
}

/// Foreign keys of `clients`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The restricting org, if any (`ON DELETE CASCADE`: apps restricted to an org go with it).
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
