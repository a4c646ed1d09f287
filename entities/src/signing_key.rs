//! The `signing_keys` table: Tessera's token-signing keys and their rotation state.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::SigningKeyId;

/// A JWS signing algorithm (stored and serialized under its JOSE name).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256; always published.
    #[sea_orm(string_value = "RS256")]
    #[serde(rename = "RS256")]
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    #[sea_orm(string_value = "ES256")]
    #[serde(rename = "ES256")]
    Es256,
    /// Ed25519.
    #[sea_orm(string_value = "EdDSA")]
    #[serde(rename = "EdDSA")]
    EdDsa,
}

/// Where a key is in its rotation.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Published in the JWKS ahead of use, so caches pick it up before it signs.
    #[sea_orm(string_value = "next")]
    Next,
    /// Signs new tokens (one per algorithm).
    #[sea_orm(string_value = "current")]
    Current,
    /// No longer signs; published until tokens it signed have expired.
    #[sea_orm(string_value = "retired")]
    Retired,
}

/// A token-signing key pair.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SigningKeyId,
    /// JWK key id (`kid`), unique.
    #[sea_orm(unique)]
    pub kid: String,
    /// Signing algorithm.
    pub alg: SigningAlg,
    /// Rotation state.
    pub state: KeyState,
    /// The private key, AES-256-GCM under the master key.
    #[sea_orm(column_type = "Blob")]
    pub private_key_encrypted: Vec<u8>,
    /// The public key as a JWK, as published in the JWKS.
    #[sea_orm(column_type = "JsonBinary")]
    pub public_jwk: Json,
    /// When the key was generated.
    pub created_at: DateTimeUtc,
    /// When the key became current.
    pub activated_at: Option<DateTimeUtc>,
    /// When the key was retired.
    pub retired_at: Option<DateTimeUtc>,
    /// When the key leaves the JWKS.
    pub expires_at: Option<DateTimeUtc>,
}

/// `signing_keys` has no foreign keys.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
