//! Each replica's short-lived copy of the apps it serves. Every token request authenticates an
//! app; reading it from the database each time costs more than signing the token. Changes made
//! on this replica take effect at once (the entry is dropped). On other replicas, whatever a
//! change allows works at once (a secret or redirect URI the copy refuses is checked again
//! against the database before the request is refused), and whatever it takes away (an old
//! secret, a deleted app, a removed redirect URI) stops within [`CLIENT_TTL`].

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};
use entities::ClientId;

use super::client::Client;

/// How long another replica may keep serving an app's previous settings (or a replaced
/// secret, or a deleted app) after a change.
pub const CLIENT_TTL: Duration = Duration::seconds(5);
/// Entries kept at most; past that the cache starts over (apps are few; ids are attacker
/// supplied only for unknown apps, which are never cached).
const MAX_ENTRIES: usize = 10_000;

/// An app and when it was read.
type Entry = (DateTime<Utc>, Arc<Client>);

/// Cached apps by id.
#[derive(Debug, Default)]
pub(crate) struct ClientCache {
    entries: RwLock<HashMap<ClientId, Entry>>,
}

impl ClientCache {
    /// The cached app, unless older than [`CLIENT_TTL`] at `now`.
    pub fn get(&self, id: ClientId, now: DateTime<Utc>) -> Option<Arc<Client>> {
        let entries = self.entries.read().ok()?;
        let (loaded_at, client) = entries.get(&id)?;
        (now - *loaded_at < CLIENT_TTL).then(|| client.clone())
    }

    /// Remembers an app read from the database at `now`.
    pub fn put(&self, client: Arc<Client>, now: DateTime<Utc>) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(client.id, (now, client));
        }
    }

    /// Forgets an app (after this replica changed or deleted it).
    pub fn forget(&self, id: ClientId) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(&id);
        }
    }
}
