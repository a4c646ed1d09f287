//! Token-signing keys in the database: generated on first start (RS256 always, plus ES256 and
//! EdDSA), stored encrypted under the master key, identified by RFC 7638 thumbprints, and
//! rotated next → current → retired so a key is published before it signs and stays published
//! until every token it signed has expired.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use chrono::{DateTime, Utc};
use entities::SigningKeyId;
use entities::signing_key::{self, KeyState, SigningAlg};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde_json::{Value, json};

use crate::Broker;
use crate::actor::Actor;
use crate::audit::{self, AuditAction, Entry, Target};
use crate::crypto::{base64url, sha256};
use crate::error::{Error, ErrorCode, Result, unique_or};

/// A signing key as stored (private part encrypted).
pub type SigningKey = signing_key::Model;

/// The algorithms Tessera signs with; RS256 is always available, as OIDC requires.
pub const ALGORITHMS: [SigningAlg; 3] = [SigningAlg::Rs256, SigningAlg::Es256, SigningAlg::EdDsa];

/// A freshly generated key pair.
struct Generated {
    pkcs8: Vec<u8>,
    jwk: Value,
}

fn keygen_failed(alg: SigningAlg) -> Error {
    Error::internal(format!("could not generate a {alg:?} key"))
}

fn generate(alg: SigningAlg) -> Result<Generated> {
    match alg {
        SigningAlg::Rs256 => {
            let pair = aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048)
                .map_err(|_| keygen_failed(alg))?;
            let public = pair.public_key();
            let jwk = json!({
                "kty": "RSA",
                "n": base64url(public.modulus().big_endian_without_leading_zero()),
                "e": base64url(public.exponent().big_endian_without_leading_zero()),
            });
            let der = pair.as_der().map_err(|_| keygen_failed(alg))?;
            Ok(Generated {
                pkcs8: der.as_ref().to_vec(),
                jwk,
            })
        }
        SigningAlg::Es256 => {
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .map_err(|_| keygen_failed(alg))?;
            // Uncompressed point: 0x04 || x (32 bytes) || y (32 bytes).
            let point = pair.public_key().as_ref();
            let (x, y) = point
                .get(1..)
                .filter(|xy| xy.len() == 64)
                .map(|xy| xy.split_at(32))
                .ok_or_else(|| keygen_failed(alg))?;
            let jwk = json!({ "kty": "EC", "crv": "P-256", "x": base64url(x), "y": base64url(y) });
            let der = pair.to_pkcs8v1().map_err(|_| keygen_failed(alg))?;
            Ok(Generated {
                pkcs8: der.as_ref().to_vec(),
                jwk,
            })
        }
        SigningAlg::EdDsa => {
            let pair = Ed25519KeyPair::generate().map_err(|_| keygen_failed(alg))?;
            let jwk = json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": base64url(pair.public_key().as_ref()),
            });
            let der = pair.to_pkcs8().map_err(|_| keygen_failed(alg))?;
            Ok(Generated {
                pkcs8: der.as_ref().to_vec(),
                jwk,
            })
        }
    }
}

/// The RFC 7638 thumbprint of a public JWK: SHA-256 over its required members, in
/// lexicographic order, without whitespace; base64url.
pub fn thumbprint(jwk: &Value) -> Option<String> {
    let required: &[&str] = match jwk.get("kty")?.as_str()? {
        "RSA" => &["e", "kty", "n"],
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        _ => return None,
    };
    // serde_json's map is ordered by key, so this serializes members in lexicographic order.
    let mut canonical = serde_json::Map::new();
    for member in required {
        canonical.insert((*member).to_owned(), jwk.get(*member)?.clone());
    }
    let bytes = serde_json::to_vec(&Value::Object(canonical)).ok()?;
    Some(base64url(&sha256(&bytes)))
}

fn encryption_context(kid: &str) -> String {
    format!("signing_key:{kid}")
}

/// What one rotation did for one algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The algorithm rotated.
    pub alg: SigningAlg,
    /// The key that was current and is now retired (still published until `retired_until`).
    pub retired: String,
    /// The key that now signs.
    pub current: String,
    /// The freshly published key that will sign after the next rotation.
    pub next: String,
    /// When the retired key leaves the JWKS.
    pub retired_until: DateTime<Utc>,
}

fn mismatch(kid: &str) -> Error {
    Error::new(
        ErrorCode::MasterKeyMismatch,
        format!(
            "signing key {kid} does not decrypt: the master key (TESSERA_MASTER_KEY or \
             master.key in the data directory) is not the one this database was set up with"
        ),
    )
}

impl Broker {
    /// Start-up: checks that the stored keys decrypt under the configured master key, and makes
    /// sure every algorithm has a current key and a published next key. Returns the keys it
    /// created. Safe when replicas start together: one current key per algorithm is enforced by
    /// the database, and the loser of that race keeps the winner's key.
    pub async fn ensure_signing_keys(&self) -> Result<Vec<SigningKey>> {
        let existing = signing_key::Entity::find()
            .filter(signing_key::Column::State.ne(KeyState::Retired))
            .all(self.db())
            .await?;
        for key in &existing {
            self.decrypt_private_key(key)?;
        }
        let mut created = Vec::new();
        for alg in ALGORITHMS {
            let has = |state| existing.iter().any(|k| k.alg == alg && k.state == state);
            if !has(KeyState::Current) {
                match self.create_signing_key(alg, KeyState::Current).await {
                    Ok(key) => created.push(key),
                    Err(_) if self.key_in_state(alg, KeyState::Current).await?.is_some() => {}
                    Err(e) => return Err(e),
                }
            }
            if !has(KeyState::Next) {
                match self.create_signing_key(alg, KeyState::Next).await {
                    Ok(key) => created.push(key),
                    Err(_) if self.key_in_state(alg, KeyState::Next).await?.is_some() => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(created)
    }

    /// The stored private key of `key`, decrypted.
    pub(crate) fn decrypt_private_key(&self, key: &SigningKey) -> Result<Vec<u8>> {
        self.master_key()
            .decrypt(&encryption_context(&key.kid), &key.private_key_encrypted)
            .map_err(|_| mismatch(&key.kid))
    }

    /// The oldest key of `alg` in `state`.
    async fn key_in_state(&self, alg: SigningAlg, state: KeyState) -> Result<Option<SigningKey>> {
        Ok(signing_key::Entity::find()
            .filter(signing_key::Column::Alg.eq(alg))
            .filter(signing_key::Column::State.eq(state))
            .order_by_asc(signing_key::Column::CreatedAt)
            .one(self.db())
            .await?)
    }

    /// Rotates the keys of `algs`: each algorithm's next key (published since the previous
    /// rotation, so every relying party has had time to fetch it) starts signing, the current
    /// key retires but stays published until every token it signed has expired, and a fresh
    /// next key is published. An algorithm another replica is rotating at the same moment is
    /// skipped.
    pub async fn rotate_signing_keys(&self, algs: &[SigningAlg]) -> Result<Vec<Rotation>> {
        let mut done = Vec::new();
        for &alg in algs {
            if let Some(rotation) = self.rotate_one(alg).await? {
                tracing::info!(alg = %alg.to_value(), retired = %rotation.retired,
                    current = %rotation.current, "rotated signing key");
                done.push(rotation);
            }
        }
        self.invalidate_keys();
        Ok(done)
    }

    async fn rotate_one(&self, alg: SigningAlg) -> Result<Option<Rotation>> {
        let (Some(current), Some(next)) = (
            self.key_in_state(alg, KeyState::Current).await?,
            self.key_in_state(alg, KeyState::Next).await?,
        ) else {
            return Ok(None);
        };
        let now = self.now();
        let retired_until = now + self.provider().longest_token_lifetime();
        let txn = self.begin_write().await?;
        // Retire first (one current key per algorithm is a unique index), and only if it is still
        // current: a replica that lost the race changes nothing.
        let retired = signing_key::Entity::update_many()
            .col_expr(signing_key::Column::State, Expr::value(KeyState::Retired))
            .col_expr(signing_key::Column::RetiredAt, Expr::value(now))
            .col_expr(signing_key::Column::ExpiresAt, Expr::value(retired_until))
            .filter(signing_key::Column::Id.eq(current.id))
            .filter(signing_key::Column::State.eq(KeyState::Current))
            .exec(&txn)
            .await?;
        if retired.rows_affected != 1 {
            return Ok(None);
        }
        signing_key::Entity::update_many()
            .col_expr(signing_key::Column::State, Expr::value(KeyState::Current))
            .col_expr(signing_key::Column::ActivatedAt, Expr::value(now))
            .filter(signing_key::Column::Id.eq(next.id))
            .filter(signing_key::Column::State.eq(KeyState::Next))
            .exec(&txn)
            .await
            .map_err(|e| unique_or(e, || Error::unavailable("signing keys are being rotated")))?;
        audit::record(
            &txn,
            now,
            Entry {
                actor: &Actor::system(),
                org: None,
                action: AuditAction::SigningKeyRotated,
                target: Target::new("signing_key", &next.kid),
                data: json!({ "alg": alg, "retired": current.kid, "retired_until": retired_until }),
            },
        )
        .await?;
        txn.commit().await?;
        let fresh = match self.create_signing_key(alg, KeyState::Next).await {
            Ok(key) => key,
            Err(e) => match self.key_in_state(alg, KeyState::Next).await? {
                Some(other) => other,
                None => return Err(e),
            },
        };
        Ok(Some(Rotation {
            alg,
            retired: current.kid,
            current: next.kid,
            next: fresh.kid,
            retired_until,
        }))
    }

    /// Rotates every algorithm whose current key has signed for longer than `interval`, and
    /// deletes retired keys whose publication window has ended. Run on a schedule by every
    /// replica; concurrent runs rotate once.
    pub async fn rotate_due_signing_keys(
        &self,
        interval: chrono::Duration,
    ) -> Result<Vec<Rotation>> {
        let now = self.now();
        let due: Vec<SigningAlg> = signing_key::Entity::find()
            .filter(signing_key::Column::State.eq(KeyState::Current))
            .all(self.db())
            .await?
            .into_iter()
            .filter(|k| k.activated_at.unwrap_or(k.created_at) + interval <= now)
            .map(|k| k.alg)
            .collect();
        signing_key::Entity::delete_many()
            .filter(signing_key::Column::State.eq(KeyState::Retired))
            .filter(signing_key::Column::ExpiresAt.lte(now))
            .exec(self.db())
            .await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        self.rotate_signing_keys(&due).await
    }

    /// Generates and stores a new key for `alg` in `state`.
    pub async fn create_signing_key(&self, alg: SigningAlg, state: KeyState) -> Result<SigningKey> {
        // Key generation is CPU-bound (RSA takes tens of milliseconds): keep it off the executor.
        let generated = tokio::task::spawn_blocking(move || generate(alg))
            .await
            .map_err(Error::internal)??;
        let kid = thumbprint(&generated.jwk).ok_or_else(|| keygen_failed(alg))?;
        let mut jwk = generated.jwk;
        if let Value::Object(members) = &mut jwk {
            members.insert("kid".into(), json!(kid));
            members.insert("use".into(), json!("sig"));
            members.insert("alg".into(), json!(alg));
        }
        let sealed = self
            .master_key()
            .encrypt(&encryption_context(&kid), &generated.pkcs8)
            .map_err(Error::internal)?;
        let now = self.now();
        let txn = self.begin_write().await?;
        let key = signing_key::ActiveModel {
            id: Set(SigningKeyId::new()),
            kid: Set(kid),
            alg: Set(alg),
            state: Set(state),
            private_key_encrypted: Set(sealed),
            public_jwk: Set(jwk),
            created_at: Set(now),
            activated_at: Set((state == KeyState::Current).then_some(now)),
            retired_at: Set(None),
            expires_at: Set(None),
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            now,
            Entry {
                actor: &Actor::system(),
                org: None,
                action: AuditAction::SigningKeyCreated,
                target: Target::new("signing_key", &key.kid),
                data: json!({ "alg": alg, "state": state }),
            },
        )
        .await?;
        txn.commit().await?;
        tracing::info!(kid = %key.kid, alg = %alg.to_value(), state = %state.to_value(), "generated signing key");
        self.invalidate_keys();
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        // The example key from RFC 7638 section 3.1.
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(
            thumbprint(&jwk).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn every_algorithm_generates_a_public_jwk() {
        for alg in ALGORITHMS {
            let generated = generate(alg).unwrap();
            assert!(!generated.pkcs8.is_empty());
            assert!(thumbprint(&generated.jwk).is_some(), "{alg:?}");
            assert!(generated.jwk.get("d").is_none(), "private part leaked");
        }
    }
}
