//! Secrets at rest and random tokens: the master key (AES-256-GCM), token generation and
//! hashing of credentials we only ever verify.

use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

/// Format version prefixed to every ciphertext, so the scheme can change later.
const CIPHERTEXT_V1: u8 = 1;
/// Length of the master key in bytes.
pub const MASTER_KEY_LEN: usize = 32;

/// Why a master key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    /// The configured value is not base64 of exactly 32 bytes.
    #[error("must be 32 random bytes, base64-encoded (as `openssl rand -base64 32` prints); {0}")]
    Malformed(String),
    /// The key file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The key file.
        path: String,
        /// What the filesystem said.
        source: std::io::Error,
    },
}

/// A ciphertext that does not decrypt under this key (wrong key, or tampered data).
#[derive(Debug, thiserror::Error)]
#[error("cannot decrypt: wrong master key or corrupted data")]
pub struct DecryptError;

/// Sealing failed; AES-GCM only refuses inputs beyond its length limit (about 64 GiB).
#[derive(Debug, thiserror::Error)]
#[error("cannot encrypt: input too long for AES-256-GCM")]
pub struct EncryptError;

/// The key that encrypts secrets at rest. Its `Debug` never prints the key.
pub struct MasterKey {
    key: LessSafeKey,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    /// Parses the base64 form operators configure (`TESSERA_MASTER_KEY`).
    pub fn from_base64(encoded: &str) -> Result<Self, MasterKeyError> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|e| MasterKeyError::Malformed(format!("not base64: {e}")))?;
        Self::from_bytes(&bytes)
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, MasterKeyError> {
        if bytes.len() != MASTER_KEY_LEN {
            return Err(MasterKeyError::Malformed(format!(
                "decodes to {} bytes",
                bytes.len()
            )));
        }
        let key = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| MasterKeyError::Malformed("rejected by AES-256-GCM".into()))?;
        Ok(Self {
            key: LessSafeKey::new(key),
        })
    }

    /// Reads the key from `path`, or creates it there (mode 0600) on first start.
    /// Returns the key and whether it was just created.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool), MasterKeyError> {
        let io = |source| MasterKeyError::Io {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(encoded) => Ok((Self::from_base64(&encoded)?, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let encoded = STANDARD.encode(random_bytes::<MASTER_KEY_LEN>());
                write_private_file(path, encoded.as_bytes()).map_err(io)?;
                Ok((Self::from_base64(&encoded)?, true))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Encrypts `plaintext`, binding it to `context` (for example `"signing_key:RS256"`) so a
    /// ciphertext copied into another row or purpose does not decrypt.
    pub fn encrypt(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, EncryptError> {
        let nonce_bytes = random_bytes::<NONCE_LEN>();
        let mut sealed = plaintext.to_vec();
        let nonce = Nonce::assume_unique_for_key(nonce_bytes);
        self.key
            .seal_in_place_append_tag(nonce, Aad::from(context.as_bytes()), &mut sealed)
            .map_err(|_| EncryptError)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(CIPHERTEXT_V1);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts what [`MasterKey::encrypt`] produced for the same `context`.
    pub fn decrypt(&self, context: &str, ciphertext: &[u8]) -> Result<Vec<u8>, DecryptError> {
        let (&version, rest) = ciphertext.split_first().ok_or(DecryptError)?;
        if version != CIPHERTEXT_V1 || rest.len() < NONCE_LEN {
            return Err(DecryptError);
        }
        let (nonce_bytes, sealed) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce_bytes).map_err(|_| DecryptError)?;
        let mut buffer = sealed.to_vec();
        let plaintext = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buffer)
            .map_err(|_| DecryptError)?;
        Ok(plaintext.to_vec())
    }
}

/// Writes a new file readable only by its owner; refuses to overwrite an existing one.
fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// `N` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // aws-lc's RNG only fails if the OS entropy source is broken; there is no safe fallback,
    // and a zeroed buffer must never be used as a secret, so stop here.
    #[allow(clippy::panic)]
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        panic!("the operating system's random number generator failed");
    }
    bytes
}

/// A URL-safe random token with `N` bytes of entropy.
pub fn random_token<const N: usize>() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<N>())
}

/// The SHA-256 of a high-entropy secret (API keys, SCIM tokens, refresh tokens): enough for
/// values with 256 bits of entropy, which cannot be guessed, and cheap to look up by index.
pub fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// [`hash_secret`] as URL-safe base64: the form single-use secrets take in ephemeral-store keys
/// and records, so the store never holds a usable code, token or ticket.
pub fn secret_digest(secret: &str) -> String {
    base64url(&hash_secret(secret))
}

/// URL-safe base64 without padding (JWK members, thumbprints).
pub fn base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::from_bytes(&[7u8; 32]).unwrap()
    }

    #[test]
    fn encrypt_round_trips_with_same_context() {
        let key = key();
        let sealed = key.encrypt("ctx", b"secret").unwrap();
        assert_ne!(&sealed[1 + NONCE_LEN..], b"secret");
        assert_eq!(key.decrypt("ctx", &sealed).unwrap(), b"secret");
    }

    #[test]
    fn ciphertext_moved_to_another_context_does_not_decrypt() {
        let key = key();
        let sealed = key.encrypt("signing_key:a", b"secret").unwrap();
        assert!(key.decrypt("signing_key:b", &sealed).is_err());
    }

    #[test]
    fn tampered_or_foreign_ciphertext_is_refused() {
        let sealed = key().encrypt("ctx", b"secret").unwrap();
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(key().decrypt("ctx", &tampered).is_err());
        let other = MasterKey::from_bytes(&[8u8; 32]).unwrap();
        assert!(other.decrypt("ctx", &sealed).is_err());
        assert!(key().decrypt("ctx", &[]).is_err());
    }

    #[test]
    fn master_key_must_be_32_bytes_of_base64() {
        assert!(MasterKey::from_base64("not base64!").is_err());
        let short = STANDARD.encode([1u8; 16]);
        let err = MasterKey::from_base64(&short).unwrap_err().to_string();
        assert!(err.contains("16 bytes"), "{err}");
        assert!(MasterKey::from_base64(&STANDARD.encode([1u8; 32])).is_ok());
    }

    #[test]
    fn key_file_is_created_once_with_owner_only_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let (first, created) = MasterKey::load_or_create(&path).unwrap();
        assert!(created);
        let sealed = first.encrypt("ctx", b"x").unwrap();
        let (second, created_again) = MasterKey::load_or_create(&path).unwrap();
        assert!(!created_again);
        assert_eq!(second.decrypt("ctx", &sealed).unwrap(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn debug_never_prints_the_key() {
        assert_eq!(format!("{:?}", key()), "MasterKey([redacted])");
    }

    #[test]
    fn hash_secret_is_sha256() {
        let hex: String = hash_secret("abc")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
