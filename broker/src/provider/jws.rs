//! Compact JWS (RFC 7515) signing for the tokens Tessera issues.
//!
//! Signing is written here on top of aws-lc rather than through `jsonwebtoken`, whose aws-lc
//! backend parses (and for RSA, fully re-checks) the private key on every signature; keys here
//! are parsed once when the key ring loads, which keeps token issuance near the raw signing
//! speed. Verification of tokens uses `jsonwebtoken` (see `keyring.rs`).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, RSA_PKCS1_SHA256,
};
use entities::signing_key::SigningAlg;
use serde::Serialize;

use crate::crypto::base64url;
use crate::error::{Error, Result};

/// A private key parsed once, ready to sign.
enum KeyPair {
    Rs256(RsaKeyPair),
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
}

/// The current key for one algorithm, with its `kid`.
pub(crate) struct Signer {
    kid: String,
    alg: SigningAlg,
    key: KeyPair,
    rng: SystemRandom,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// The JWS `alg` name of a signing algorithm.
pub fn alg_name(alg: SigningAlg) -> &'static str {
    match alg {
        SigningAlg::Rs256 => "RS256",
        SigningAlg::Es256 => "ES256",
        SigningAlg::EdDsa => "EdDSA",
    }
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'a str,
    kid: &'a str,
}

impl Signer {
    /// Parses a PKCS#8 private key for `alg`.
    pub(crate) fn from_pkcs8(kid: String, alg: SigningAlg, pkcs8: &[u8]) -> Result<Self> {
        let rejected = |e: aws_lc_rs::error::KeyRejected| {
            Error::internal(format!("signing key {kid} is not a valid {alg:?} key: {e}"))
        };
        let key = match alg {
            SigningAlg::Rs256 => KeyPair::Rs256(RsaKeyPair::from_pkcs8(pkcs8).map_err(rejected)?),
            SigningAlg::Es256 => KeyPair::Es256(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                    .map_err(rejected)?,
            ),
            SigningAlg::EdDsa => {
                KeyPair::EdDsa(Ed25519KeyPair::from_pkcs8(pkcs8).map_err(rejected)?)
            }
        };
        Ok(Self {
            kid,
            alg,
            key,
            rng: SystemRandom::new(),
        })
    }

    /// Signs `claims` as a compact JWS with header `{alg, typ, kid}`.
    pub(crate) fn sign(&self, typ: &str, claims: &impl Serialize) -> Result<String> {
        let header = Header {
            alg: alg_name(self.alg),
            typ,
            kid: &self.kid,
        };
        let header = serde_json::to_vec(&header).map_err(Error::internal)?;
        let payload = serde_json::to_vec(claims).map_err(Error::internal)?;
        let mut token = String::with_capacity(64 + payload.len() * 4 / 3 + 350);
        token.push_str(&base64url(&header));
        token.push('.');
        token.push_str(&base64url(&payload));
        let signature = self.signature(token.as_bytes())?;
        token.push('.');
        token.push_str(&base64url(&signature));
        Ok(token)
    }

    fn signature(&self, message: &[u8]) -> Result<Vec<u8>> {
        let failed = |_| Error::internal(format!("signing with key {} failed", self.kid));
        match &self.key {
            KeyPair::Rs256(key) => {
                let mut signature = vec![0; key.public_modulus_len()];
                key.sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut signature)
                    .map_err(failed)?;
                Ok(signature)
            }
            KeyPair::Es256(key) => Ok(key
                .sign(&self.rng, message)
                .map_err(failed)?
                .as_ref()
                .to_vec()),
            KeyPair::EdDsa(key) => Ok(key.sign(message).as_ref().to_vec()),
        }
    }
}
