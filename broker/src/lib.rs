//! Tessera's domain: organizations, domains, users, memberships, API keys, signing keys, the
//! audit log and the ephemeral store. No HTTP types live here; the `tessera` binary's handlers
//! call these functions and map [`Error`] to responses.

pub mod actor;
pub mod admin;
pub mod api_key;
pub mod audit;
pub mod branding;
pub mod clock;
pub mod crypto;
pub mod db;
pub mod directory;
pub mod dns;
pub mod domain;
pub mod error;
pub mod federation;
pub mod first_admin;
pub mod health;
pub mod login;
pub mod mail;
pub mod membership;
pub mod org;
pub mod page;
pub mod provider;
pub mod rate_limit;
pub mod session;
pub mod setup_link;
pub mod store;
pub mod sweep;
pub mod user;
pub mod validate;

use std::sync::Arc;

use sea_orm::{
    DatabaseConnection, DatabaseTransaction, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};

pub use crate::actor::{Actor, ActorKind, Scope};
pub use crate::clock::{Clock, ManualClock, SystemClock};
pub use crate::crypto::MasterKey;
pub use crate::error::{Error, ErrorCode, ErrorKind, Result};
pub use crate::page::{Page, PageRequest};
pub use entities;

/// Everything the broker needs from the outside world, assembled by the binary at start-up.
#[derive(Debug)]
pub struct BrokerParts {
    /// The database pool (SQLite or PostgreSQL), already migrated.
    pub db: DatabaseConnection,
    /// The ephemeral store (in-process or Redis).
    pub store: Arc<dyn store::EphemeralStore>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// The key that encrypts secrets at rest.
    pub master_key: MasterKey,
    /// Resolves DNS TXT records for domain verification.
    pub dns: Arc<dyn dns::TxtResolver>,
    /// How the OIDC provider behaves (issuer, token lifetimes, key rotation).
    pub provider: provider::ProviderSettings,
    /// Local sign-in (links, passkeys, passwords).
    pub login: login::LoginSettings,
    /// Outgoing mail.
    pub mailer: Arc<dyn mail::Mailer>,
    /// The SCIM directory.
    pub directory: directory::DirectorySettings,
}

/// The domain service. Cheap to clone; every clone shares the same pools, except one made by
/// [`Broker::with_io`].
#[derive(Debug, Clone)]
pub struct Broker {
    inner: Arc<Inner>,
    /// An HTTP worker thread's own database pool and ephemeral store, used instead of the
    /// parts' (see [`Broker::with_io`]).
    own_db: Option<DatabaseConnection>,
    own_store: Option<Arc<dyn store::EphemeralStore>>,
}

#[derive(Debug)]
struct Inner {
    parts: BrokerParts,
    key_ring: provider::keyring::KeyRing,
    clients: provider::client_cache::ClientCache,
    session_clients: provider::grant_context::RememberedSessionClients,
    discovery: String,
    upstream: std::sync::OnceLock<federation::http::UpstreamHttp>,
}

impl Broker {
    /// Builds the broker from its parts.
    pub fn new(parts: BrokerParts) -> Self {
        // The metadata depends only on settings: serialize it once.
        let discovery = provider::discovery::metadata(&parts.provider).to_string();
        Self {
            own_db: None,
            own_store: None,
            inner: Arc::new(Inner {
                parts,
                key_ring: provider::keyring::KeyRing::default(),
                clients: provider::client_cache::ClientCache::default(),
                session_clients: Default::default(),
                discovery,
                upstream: std::sync::OnceLock::new(),
            }),
        }
    }

    /// The same broker (settings, caches, signing keys) working through its own database pool
    /// and ephemeral store where given (`None`: the process's), reaching the same database and
    /// Redis: an HTTP worker thread gives its requests connections of its own (ADR 0014).
    pub fn with_io(
        &self,
        db: Option<DatabaseConnection>,
        store: Option<Arc<dyn store::EphemeralStore>>,
    ) -> Self {
        Self {
            inner: self.inner.clone(),
            own_db: db,
            own_store: store,
        }
    }

    /// The database pool.
    pub fn db(&self) -> &DatabaseConnection {
        self.own_db.as_ref().unwrap_or(&self.inner.parts.db)
    }

    /// The ephemeral store.
    pub fn store(&self) -> &dyn store::EphemeralStore {
        self.own_store
            .as_ref()
            .unwrap_or(&self.inner.parts.store)
            .as_ref()
    }

    /// The process's pool, when this broker works through its own (for readiness).
    pub(crate) fn process_db_beside_own(&self) -> Option<&DatabaseConnection> {
        self.own_db.as_ref().map(|_| &self.inner.parts.db)
    }

    /// The process's store, when this broker works through its own (for readiness).
    pub(crate) fn process_store_beside_own(&self) -> Option<&dyn store::EphemeralStore> {
        self.own_store
            .as_ref()
            .map(|_| self.inner.parts.store.as_ref())
    }

    /// The current time according to the broker's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.parts.clock.now()
    }

    /// The provider's settings.
    pub fn provider(&self) -> &provider::ProviderSettings {
        &self.inner.parts.provider
    }

    /// The SCIM directory's settings.
    pub fn directory_settings(&self) -> &directory::DirectorySettings {
        &self.inner.parts.directory
    }

    pub(crate) fn key_ring(&self) -> &provider::keyring::KeyRing {
        &self.inner.key_ring
    }

    pub(crate) fn client_cache(&self) -> &provider::client_cache::ClientCache {
        &self.inner.clients
    }

    pub(crate) fn remembered_session_clients(
        &self,
    ) -> &provider::grant_context::RememberedSessionClients {
        &self.inner.session_clients
    }

    /// The provider's metadata document (OIDC Discovery and RFC 8414), serialized.
    pub fn discovery_json(&self) -> &str {
        &self.inner.discovery
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at `BEGIN`
    /// (`IMMEDIATE`), so concurrent writers queue on the busy timeout; a deferred transaction
    /// that reads first would instead fail with `SQLITE_BUSY` when its read turns into a write.
    /// PostgreSQL ignores the mode.
    pub(crate) async fn begin_write(&self) -> Result<DatabaseTransaction> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        Ok(self.db().begin_with_options(options).await?)
    }

    pub(crate) fn mailer(&self) -> Arc<dyn mail::Mailer> {
        self.inner.parts.mailer.clone()
    }

    pub(crate) fn master_key(&self) -> &MasterKey {
        &self.inner.parts.master_key
    }

    /// The HTTP client toward upstream IdPs (made on first use).
    pub(crate) fn upstream_http(&self) -> Result<federation::http::UpstreamHttp> {
        if let Some(client) = self.inner.upstream.get() {
            return Ok(client.clone());
        }
        let client = federation::http::UpstreamHttp::new()?;
        let _ = self.inner.upstream.set(client.clone());
        Ok(client)
    }

    pub(crate) fn dns(&self) -> &dyn dns::TxtResolver {
        self.inner.parts.dns.as_ref()
    }
}
