//! The ephemeral store: short-lived, single-use state shared by every replica (authorization
//! codes, login transactions, WebAuthn challenges, magic-link tokens, SAML replay cache,
//! rate-limit counters). Two backends: in-process ([`MemoryStore`]) and Redis ([`RedisStore`]).

#[doc(hidden)]
pub mod contract;
mod memory;
mod redis;

use std::time::Duration;

use async_trait::async_trait;
use serde::{Serialize, de::DeserializeOwned};

pub use self::memory::MemoryStore;
pub use self::redis::RedisStore;

/// Why the store could not answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend is unreachable or refused the command; retrying later may work.
    #[error("ephemeral store unavailable: {0}")]
    Unavailable(String),
    /// A stored value could not be decoded into the requested type.
    #[error("ephemeral store value for {key} is not valid: {reason}")]
    Corrupt {
        /// The key (without the store's namespace prefix).
        key: String,
        /// What failed to decode.
        reason: String,
    },
}

/// A rate-limit counter after one more hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// Hits in the current window, including this one.
    pub count: u64,
    /// Time until the window ends and the counter starts again from zero.
    pub resets_in: Duration,
}

/// Short-lived key/value state with atomic single use.
///
/// Keys are plain strings chosen by callers (`"code:{hash}"`); each backend adds its own
/// namespace prefix. Every value has a time to live; expired values are never returned.
#[async_trait]
pub trait EphemeralStore: Send + Sync + std::fmt::Debug {
    /// Stores `value` under `key` for `ttl`, replacing any value already there.
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError>;

    /// Stores `value` only if `key` holds nothing; returns whether this call stored it.
    /// Used for replay caches and one-shot markers.
    async fn put_new(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError>;

    /// Reads a value without consuming it.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Removes and returns the value in one atomic step: when many callers race for the same
    /// key, exactly one receives it and the others get `None`.
    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Takes a JSON object like [`take`](Self::take) and, in the same atomic step, keeps its
    /// member `field` (as JSON) under `kept` for `ttl`: whoever comes for `key` later finds it
    /// gone and can still learn what it held (a redeemed code's grant, revoked on replay). A
    /// value that is not an object with that member is taken and nothing is kept.
    async fn take_keeping_field(
        &self,
        key: &str,
        field: &str,
        kept: &str,
        ttl: Duration,
    ) -> Result<Option<Vec<u8>>, StoreError>;

    /// Removes a value if present.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;

    /// Counts one hit on a fixed-window counter that lives for `window` from its first hit.
    async fn hit(&self, key: &str, window: Duration) -> Result<Counter, StoreError>;

    /// Checks that the backend answers (used by `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;
}

/// JSON helpers over any [`EphemeralStore`].
#[async_trait]
pub trait EphemeralStoreExt: EphemeralStore {
    /// Stores `value` as JSON, replacing what is there.
    async fn put_json<T: Serialize + Sync>(
        &self,
        key: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).map_err(|e| StoreError::Corrupt {
            key: key.to_owned(),
            reason: e.to_string(),
        })?;
        self.put(key, &bytes, ttl).await
    }

    /// Takes a JSON value once (see [`EphemeralStore::take`]).
    async fn take_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        decode(key, self.take(key).await?)
    }

    /// Takes a JSON value once, keeping its member `field` under `kept` (see
    /// [`EphemeralStore::take_keeping_field`]).
    async fn take_json_keeping_field<T: DeserializeOwned>(
        &self,
        key: &str,
        field: &str,
        kept: &str,
        ttl: Duration,
    ) -> Result<Option<T>, StoreError> {
        decode(key, self.take_keeping_field(key, field, kept, ttl).await?)
    }

    /// Reads a JSON value without consuming it.
    async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        decode(key, self.get(key).await?)
    }
}

impl<S: EphemeralStore + ?Sized> EphemeralStoreExt for S {}

fn decode<T: DeserializeOwned>(key: &str, bytes: Option<Vec<u8>>) -> Result<Option<T>, StoreError> {
    bytes
        .map(|b| serde_json::from_slice(&b))
        .transpose()
        .map_err(|e| StoreError::Corrupt {
            key: key.to_owned(),
            reason: e.to_string(),
        })
}
