//! The key ring: each replica's in-memory copy of the published keys (for the JWKS and for
//! verifying tokens) and the current private keys (for signing), reloaded from the database
//! every [`RELOAD_AFTER`] so a rotation on one replica reaches the others without a restart.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use entities::signing_key::{self, KeyState, SigningAlg};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::jws::Signer;
use crate::Broker;
use crate::error::{Error, ErrorCode, Result};

/// How stale a replica's copy may get. Next keys are published a whole rotation interval
/// before they sign, and retired keys stay published past their tokens' lifetime, so a replica
/// that has not reloaded yet still signs and verifies with keys everyone knows.
const RELOAD_AFTER: chrono::Duration = chrono::Duration::seconds(30);

/// The keys loaded at one moment.
#[derive(Debug)]
pub struct LoadedKeys {
    loaded_at: DateTime<Utc>,
    signers: HashMap<SigningAlg, Signer>,
    verifiers: HashMap<String, (Algorithm, DecodingKey)>,
    jwks: String,
}

impl LoadedKeys {
    /// The JWK Set document, serialized once per load: every published key (next, current, and
    /// retired ones whose tokens may still be live).
    pub fn jwks_json(&self) -> &str {
        &self.jwks
    }
}

/// The cache slot inside the broker.
#[derive(Debug, Default)]
pub(crate) struct KeyRing {
    loaded: RwLock<Option<Arc<LoadedKeys>>>,
}

fn algorithm(alg: SigningAlg) -> Algorithm {
    match alg {
        SigningAlg::Rs256 => Algorithm::RS256,
        SigningAlg::Es256 => Algorithm::ES256,
        SigningAlg::EdDsa => Algorithm::EdDSA,
    }
}

/// Tokens of one kind never pass for another (an ID token or a logout token at userinfo, a
/// logout token as an `id_token_hint`): the JOSE `typ` must be the expected one.
fn check_typ(found: Option<&str>, expected: &str) -> Result<()> {
    if found.is_some_and(|t| t.eq_ignore_ascii_case(expected)) {
        Ok(())
    } else {
        Err(invalid_token(format!("typ {found:?} is not {expected}")))
    }
}

/// Why a presented token was refused (for the caller's logs; never shown to clients).
fn invalid_token(reason: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::InvalidToken, "the token is invalid or expired")
        .with_cause(reason.to_string())
}

impl Broker {
    /// The current key ring, reloading it when it is older than [`RELOAD_AFTER`].
    pub async fn keys(&self) -> Result<Arc<LoadedKeys>> {
        let now = self.now();
        if let Some(loaded) = self.key_ring().current()
            && now - loaded.loaded_at < RELOAD_AFTER
        {
            return Ok(loaded);
        }
        let loaded = Arc::new(self.load_keys(now).await?);
        self.key_ring().store(loaded.clone());
        Ok(loaded)
    }

    /// Drops this replica's copy so the next use reloads (after this replica changed keys).
    pub(crate) fn invalidate_keys(&self) {
        if let Ok(mut slot) = self.key_ring().loaded.write() {
            *slot = None;
        }
    }

    async fn load_keys(&self, now: DateTime<Utc>) -> Result<LoadedKeys> {
        let published = signing_key::Entity::find()
            .filter(
                Condition::any()
                    .add(signing_key::Column::State.ne(KeyState::Retired))
                    .add(signing_key::Column::ExpiresAt.gt(now)),
            )
            .all(self.db())
            .await?;
        let mut signers = HashMap::new();
        let mut verifiers = HashMap::new();
        let mut jwks = Vec::with_capacity(published.len());
        for key in published {
            let jwk: Jwk =
                serde_json::from_value(key.public_jwk.clone()).map_err(Error::internal)?;
            let decoding = DecodingKey::from_jwk(&jwk).map_err(Error::internal)?;
            verifiers.insert(key.kid.clone(), (algorithm(key.alg), decoding));
            if key.state == KeyState::Current {
                let pkcs8 = self.decrypt_private_key(&key)?;
                signers.insert(
                    key.alg,
                    Signer::from_pkcs8(key.kid.clone(), key.alg, &pkcs8)?,
                );
            }
            jwks.push(key.public_jwk);
        }
        Ok(LoadedKeys {
            loaded_at: now,
            signers,
            verifiers,
            jwks: json!({ "keys": jwks }).to_string(),
        })
    }

    /// Signs `claims` with the current key for `alg`, as a JWS with header `typ`.
    pub(crate) async fn sign_jwt(
        &self,
        alg: SigningAlg,
        typ: &str,
        claims: &impl serde::Serialize,
    ) -> Result<String> {
        let keys = self.keys().await?;
        let signer = keys
            .signers
            .get(&alg)
            .ok_or_else(|| Error::internal(format!("no current {alg:?} signing key")))?;
        signer.sign(typ, claims)
    }

    /// Verifies a token Tessera issued: a published `kid`, the algorithm that key is for (never
    /// `none`, never another), the signature, `iss`, and `exp`/`nbf` with a minute of leeway.
    /// Audience is the caller's business (pass `audience` to check it).
    pub(crate) async fn verify_jwt<T: DeserializeOwned>(
        &self,
        token: &str,
        typ: &str,
        audience: Option<&[&str]>,
    ) -> Result<T> {
        let header = jsonwebtoken::decode_header(token).map_err(invalid_token)?;
        check_typ(header.typ.as_deref(), typ)?;
        let kid = header.kid.ok_or_else(|| invalid_token("no kid"))?;
        let keys = self.keys().await?;
        let (alg, key) = keys
            .verifiers
            .get(&kid)
            .ok_or_else(|| invalid_token(format!("unknown kid {kid}")))?;
        if header.alg != *alg {
            return Err(invalid_token(format!(
                "{:?} is not {kid}'s algorithm",
                header.alg
            )));
        }
        let mut validation = Validation::new(*alg);
        validation.set_issuer(&[&self.provider().issuer]);
        validation.leeway = 60;
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        match audience {
            Some(audience) => validation.set_audience(audience),
            None => validation.validate_aud = false,
        }
        jsonwebtoken::decode::<T>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(invalid_token)
    }
}

impl Broker {
    /// Like [`Broker::verify_jwt`] but accepting expired tokens: for hints such as
    /// `id_token_hint`, which identify a past sign-in rather than grant anything.
    pub(crate) async fn verify_jwt_allow_expired<T: DeserializeOwned>(
        &self,
        token: &str,
        typ: &str,
    ) -> Result<T> {
        let header = jsonwebtoken::decode_header(token).map_err(invalid_token)?;
        check_typ(header.typ.as_deref(), typ)?;
        let kid = header.kid.ok_or_else(|| invalid_token("no kid"))?;
        let keys = self.keys().await?;
        let (alg, key) = keys
            .verifiers
            .get(&kid)
            .ok_or_else(|| invalid_token(format!("unknown kid {kid}")))?;
        if header.alg != *alg {
            return Err(invalid_token("algorithm mismatch"));
        }
        let mut validation = Validation::new(*alg);
        validation.set_issuer(&[&self.provider().issuer]);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["iss", "sub", "aud"]);
        jsonwebtoken::decode::<T>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(invalid_token)
    }
}

impl KeyRing {
    fn current(&self) -> Option<Arc<LoadedKeys>> {
        self.loaded.read().ok().and_then(|slot| slot.clone())
    }

    fn store(&self, keys: Arc<LoadedKeys>) {
        if let Ok(mut slot) = self.loaded.write() {
            *slot = Some(keys);
        }
    }
}
