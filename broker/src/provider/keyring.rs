//! The key ring: each replica's in-memory copy of the published keys (for the JWKS and for
//! verifying tokens) and the current private keys (for signing). Every [`KEY_REFRESH`] one
//! request per replica reads the key rows again (a few rows, no decryption unless they
//! changed), so a rotation on any replica or from the CLI reaches every replica without a
//! restart, within that bound.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
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

/// How stale a replica's copy may get: a key rotated anywhere signs on every replica, and a
/// key published anywhere is in every replica's JWKS, at most this long after the change (a
/// replica with no traffic catches up on its next request). Next keys are published a whole
/// rotation interval before they sign, and retired keys stay published past their tokens'
/// lifetime, so a replica that has not refreshed yet still signs and verifies with keys
/// everyone knows.
pub const KEY_REFRESH: chrono::Duration = chrono::Duration::seconds(2);

/// How long a refresh may hold up the request that makes it while a loaded copy exists.
const REFRESH_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Which keys a load saw, in which state: when the rows still say the same, nothing is
/// decrypted or parsed again.
type Fingerprint = Vec<(String, KeyState)>;

/// The keys loaded at one moment.
#[derive(Debug)]
pub struct LoadedKeys {
    /// When the rows were last found unchanged (milliseconds since the epoch).
    checked_at: AtomicI64,
    fingerprint: Fingerprint,
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

    fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        now.timestamp_millis() - self.checked_at.load(Ordering::Relaxed)
            < KEY_REFRESH.num_milliseconds()
    }
}

/// The cache slot inside the broker.
#[derive(Debug, Default)]
pub(crate) struct KeyRing {
    loaded: RwLock<Option<Arc<LoadedKeys>>>,
    /// Held by the one request that refreshes; the others keep using the copy they have.
    refreshing: tokio::sync::Mutex<()>,
}

fn algorithm(alg: SigningAlg) -> Algorithm {
    match alg {
        SigningAlg::Rs256 => Algorithm::RS256,
        SigningAlg::Es256 => Algorithm::ES256,
        SigningAlg::EdDsa => Algorithm::EdDSA,
    }
}

fn fingerprint_of(rows: &[signing_key::Model]) -> Fingerprint {
    let mut fingerprint: Fingerprint = rows.iter().map(|k| (k.kid.clone(), k.state)).collect();
    fingerprint.sort_by(|a, b| a.0.cmp(&b.0));
    fingerprint
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
    /// This replica's key ring, refreshed when older than [`KEY_REFRESH`]. While the database
    /// cannot be read, the copy already loaded keeps serving (its keys stay valid for longer
    /// than any outage a load balancer would wait out).
    pub async fn keys(&self) -> Result<Arc<LoadedKeys>> {
        let now = self.now();
        let current = self.key_ring().current();
        if let Some(loaded) = &current
            && loaded.is_fresh(now)
        {
            return Ok(loaded.clone());
        }
        let _refreshing = match (&current, self.key_ring().refreshing.try_lock()) {
            (_, Ok(guard)) => guard,
            (Some(loaded), Err(_)) => return Ok(loaded.clone()),
            (None, Err(_)) => self.key_ring().refreshing.lock().await,
        };
        let current = self.key_ring().current();
        if let Some(loaded) = &current
            && loaded.is_fresh(now)
        {
            return Ok(loaded.clone());
        }
        let Some(stale) = current.clone() else {
            return self.refresh_keys(now, None).await;
        };
        // With a copy in hand, a database that does not answer soon costs this request no
        // more than REFRESH_WAIT.
        let refreshed = tokio::time::timeout(REFRESH_WAIT, self.refresh_keys(now, current)).await;
        match refreshed {
            Ok(Ok(loaded)) => Ok(loaded),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot refresh signing keys; using the loaded copy");
                Ok(stale)
            }
            Err(_) => {
                tracing::warn!(
                    "signing keys not refreshed within {REFRESH_WAIT:?}; using the loaded copy"
                );
                Ok(stale)
            }
        }
    }

    /// Drops this replica's copy so the next use reloads (after this replica changed keys).
    pub(crate) fn invalidate_keys(&self) {
        if let Ok(mut slot) = self.key_ring().loaded.write() {
            *slot = None;
        }
    }

    /// Reads the key rows; keeps `current` when they are unchanged, else decrypts and parses
    /// them into a new copy.
    async fn refresh_keys(
        &self,
        now: DateTime<Utc>,
        current: Option<Arc<LoadedKeys>>,
    ) -> Result<Arc<LoadedKeys>> {
        let published = signing_key::Entity::find()
            .filter(
                Condition::any()
                    .add(signing_key::Column::State.ne(KeyState::Retired))
                    .add(signing_key::Column::ExpiresAt.gt(now)),
            )
            .all(self.db())
            .await?;
        let fingerprint = fingerprint_of(&published);
        if let Some(current) = current
            && current.fingerprint == fingerprint
        {
            current
                .checked_at
                .store(now.timestamp_millis(), Ordering::Relaxed);
            return Ok(current);
        }
        let loaded = Arc::new(self.load_keys(now, fingerprint, published)?);
        self.key_ring().store(loaded.clone());
        Ok(loaded)
    }

    fn load_keys(
        &self,
        now: DateTime<Utc>,
        fingerprint: Fingerprint,
        published: Vec<signing_key::Model>,
    ) -> Result<LoadedKeys> {
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
            checked_at: AtomicI64::new(now.timestamp_millis()),
            fingerprint,
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
