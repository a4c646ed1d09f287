//! Token-signing keys: generated on first start (RS256 always, plus ES256 and EdDSA), stored
//! encrypted under the master key, published as JWKs with RFC 7638 thumbprints as `kid`.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use entities::SigningKeyId;
use entities::signing_key::{self, KeyState, SigningAlg};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter,
};
use serde_json::{Value, json};

use crate::Broker;
use crate::actor::Actor;
use crate::audit::{self, AuditAction, Entry, Target};
use crate::crypto::{base64url, sha256};
use crate::error::{Error, ErrorCode, Result};

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

impl Broker {
    /// Makes sure a current key exists for every algorithm, generating what is missing, and
    /// checks that existing keys decrypt under the configured master key. Returns the keys it
    /// created.
    pub async fn ensure_signing_keys(&self) -> Result<Vec<SigningKey>> {
        let existing = signing_key::Entity::find()
            .filter(signing_key::Column::State.ne(KeyState::Retired))
            .all(self.db())
            .await?;
        for key in &existing {
            self.master_key()
                .decrypt(&encryption_context(&key.kid), &key.private_key_encrypted)
                .map_err(|_| {
                    Error::new(
                        ErrorCode::MasterKeyMismatch,
                        format!(
                            "signing key {} does not decrypt: the master key \
                             (TESSERA_MASTER_KEY or master.key in the data directory) is not \
                             the one this database was set up with",
                            key.kid
                        ),
                    )
                })?;
        }
        let mut created = Vec::new();
        for alg in ALGORITHMS {
            let has_current = existing
                .iter()
                .any(|k| k.alg == alg && k.state == KeyState::Current);
            if has_current {
                continue;
            }
            match self.create_signing_key(alg, KeyState::Current).await {
                Ok(key) => created.push(key),
                // Another replica won the race (one current key per algorithm is enforced by a
                // unique index); its key serves as well as ours would have.
                Err(_) if self.has_current_key(alg).await? => {}
                Err(e) => return Err(e),
            }
        }
        Ok(created)
    }

    async fn has_current_key(&self, alg: SigningAlg) -> Result<bool> {
        Ok(signing_key::Entity::find()
            .filter(signing_key::Column::Alg.eq(alg))
            .filter(signing_key::Column::State.eq(KeyState::Current))
            .one(self.db())
            .await?
            .is_some())
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
