//! The in-process ephemeral store: one replica's state in a mutex-guarded map, with expiry judged
//! by the injected [`Clock`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use super::{Counter, EphemeralStore, StoreError};
use crate::clock::Clock;

/// The smallest map size that triggers a sweep of expired entries.
///
/// Expired entries are dropped when they are next read, but keys that are never read again
/// (a flood of unique rate-limit keys, abandoned login transactions) would stay forever. So
/// whenever an insert makes the map reach `sweep_at` entries, every expired entry is removed and
/// `sweep_at` becomes twice the surviving count (never less than this floor). The map therefore
/// stays under about twice its peak of live entries, and each sweep's O(n) cost is paid for by
/// the n inserts that preceded it.
const SWEEP_FLOOR: usize = 1024;

/// [`EphemeralStore`] held in this process: fine for one replica and for tests, but state is not
/// shared between replicas and is lost on restart.
pub struct MemoryStore {
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

struct State {
    entries: HashMap<String, Entry>,
    sweep_at: usize,
}

/// A stored value. Counters are stored as decimal text, as Redis stores them, so `get` on a
/// counter answers the same from both backends.
struct Entry {
    value: Vec<u8>,
    expires_at: DateTime<Utc>,
}

impl Entry {
    fn is_live(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at
    }
}

impl MemoryStore {
    /// An empty store whose values expire by `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            state: Mutex::new(State {
                entries: HashMap::new(),
                sweep_at: SWEEP_FLOOR,
            }),
        }
    }

    /// Locks the map. A panic while holding the lock cannot leave an entry half-written, so a
    /// poisoned lock is still safe to use.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.state().entries.len()
    }
}

impl State {
    /// The live entry under `key`; an expired one is removed on the way.
    fn live(&mut self, key: &str, now: DateTime<Utc>) -> Option<&mut Entry> {
        if self.entries.get(key).is_some_and(|e| !e.is_live(now)) {
            self.entries.remove(key);
        }
        self.entries.get_mut(key)
    }

    fn insert(&mut self, key: &str, entry: Entry, now: DateTime<Utc>) {
        self.entries.insert(key.to_owned(), entry);
        if self.entries.len() >= self.sweep_at {
            self.entries.retain(|_, e| e.is_live(now));
            self.sweep_at = SWEEP_FLOOR.max(self.entries.len().saturating_mul(2));
        }
    }
}

/// `now + ttl`, or the end of time when that does not fit.
fn deadline(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(ttl)
        .ok()
        .and_then(|ttl| now.checked_add_signed(ttl))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[async_trait]
impl EphemeralStore for MemoryStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        let now = self.clock.now();
        let entry = Entry {
            value: value.to_vec(),
            expires_at: deadline(now, ttl),
        };
        self.state().insert(key, entry, now);
        Ok(())
    }

    async fn put_new(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let mut state = self.state();
        if state.live(key, now).is_some() {
            return Ok(false);
        }
        let entry = Entry {
            value: value.to_vec(),
            expires_at: deadline(now, ttl),
        };
        state.insert(key, entry, now);
        Ok(true)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let now = self.clock.now();
        Ok(self.state().live(key, now).map(|e| e.value.clone()))
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let now = self.clock.now();
        let entry = self.state().entries.remove(key);
        Ok(entry.filter(|e| e.is_live(now)).map(|e| e.value))
    }

    async fn take_keeping_field(
        &self,
        key: &str,
        field: &str,
        kept: &str,
        ttl: Duration,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let now = self.clock.now();
        let mut state = self.state();
        let Some(value) = state.entries.remove(key).filter(|e| e.is_live(now)) else {
            return Ok(None);
        };
        let member = serde_json::from_slice::<serde_json::Value>(&value.value)
            .ok()
            .and_then(|object| object.get(field).map(serde_json::Value::to_string));
        if let Some(member) = member {
            let entry = Entry {
                value: member.into_bytes(),
                expires_at: deadline(now, ttl),
            };
            state.insert(kept, entry, now);
        }
        Ok(Some(value.value))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.state().entries.remove(key);
        Ok(())
    }

    async fn hit(&self, key: &str, window: Duration) -> Result<Counter, StoreError> {
        let now = self.clock.now();
        let mut state = self.state();
        let (count, expires_at) = match state.live(key, now) {
            Some(entry) => {
                let count = parse_count(&entry.value)
                    .ok_or_else(|| StoreError::Corrupt {
                        key: key.to_owned(),
                        reason: "hit on a value that is not a counter".to_owned(),
                    })?
                    .saturating_add(1);
                entry.value = count.to_string().into_bytes();
                (count, entry.expires_at)
            }
            None => {
                let expires_at = deadline(now, window);
                let entry = Entry {
                    value: b"1".to_vec(),
                    expires_at,
                };
                state.insert(key, entry, now);
                (1, expires_at)
            }
        };
        Ok(Counter {
            count,
            resets_in: (expires_at - now).to_std().unwrap_or(Duration::ZERO),
        })
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

fn parse_count(value: &[u8]) -> Option<u64> {
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// Shows the number of entries, never the values (they are codes and tokens).
impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entries", &self.state().entries.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::clock::ManualClock;
    use crate::store::contract::{self, Elapse};

    const MINUTE: Duration = Duration::from_secs(60);

    fn store() -> (Arc<ManualClock>, MemoryStore) {
        let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        let clock = Arc::new(ManualClock::new(start));
        (clock.clone(), MemoryStore::new(clock))
    }

    fn advance(clock: &ManualClock, by: Duration) {
        clock.advance(TimeDelta::from_std(by).unwrap());
    }

    #[tokio::test]
    async fn value_expires_exactly_at_ttl() {
        let (clock, store) = store();
        store.put("k", b"v", MINUTE).await.unwrap();

        advance(&clock, MINUTE - Duration::from_millis(1));
        assert_eq!(store.get("k").await.unwrap(), Some(b"v".to_vec()));

        advance(&clock, Duration::from_millis(1));
        assert_eq!(store.get("k").await.unwrap(), None);
        assert_eq!(store.take("k").await.unwrap(), None);
    }

    #[tokio::test]
    async fn expired_value_is_not_taken() {
        let (clock, store) = store();
        store.put("k", b"v", MINUTE).await.unwrap();
        advance(&clock, MINUTE);
        assert_eq!(store.take("k").await.unwrap(), None);
    }

    #[tokio::test]
    async fn take_returns_value_once() {
        let (_, store) = store();
        store.put("k", b"v", MINUTE).await.unwrap();
        assert_eq!(store.take("k").await.unwrap(), Some(b"v".to_vec()));
        assert_eq!(store.take("k").await.unwrap(), None);
    }

    #[tokio::test]
    async fn put_new_refuses_live_key_and_accepts_after_expiry() {
        let (clock, store) = store();
        assert!(store.put_new("k", b"first", MINUTE).await.unwrap());
        assert!(!store.put_new("k", b"second", MINUTE).await.unwrap());
        assert_eq!(store.get("k").await.unwrap(), Some(b"first".to_vec()));

        advance(&clock, MINUTE);
        assert!(store.put_new("k", b"third", MINUTE).await.unwrap());
        assert_eq!(store.get("k").await.unwrap(), Some(b"third".to_vec()));
    }

    #[tokio::test]
    async fn hit_counts_within_window_and_resets_after() {
        let (clock, store) = store();
        let first = store.hit("k", MINUTE).await.unwrap();
        assert_eq!(
            first,
            Counter {
                count: 1,
                resets_in: MINUTE
            }
        );

        advance(&clock, Duration::from_secs(20));
        let second = store.hit("k", MINUTE).await.unwrap();
        assert_eq!(
            second,
            Counter {
                count: 2,
                resets_in: Duration::from_secs(40)
            }
        );

        advance(&clock, Duration::from_secs(40));
        let fresh = store.hit("k", MINUTE).await.unwrap();
        assert_eq!(
            fresh,
            Counter {
                count: 1,
                resets_in: MINUTE
            }
        );
    }

    #[tokio::test]
    async fn hit_on_a_plain_value_is_corrupt() {
        let (_, store) = store();
        store.put("k", b"not a number", MINUTE).await.unwrap();
        let err = store.hit("k", MINUTE).await.unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { key, .. } if key == "k"));
    }

    #[tokio::test]
    async fn sweep_removes_expired_entries() {
        let (clock, store) = store();
        for i in 0..SWEEP_FLOOR - 1 {
            store.hit(&format!("rl:{i}"), MINUTE).await.unwrap();
        }
        assert_eq!(store.len(), SWEEP_FLOOR - 1);

        advance(&clock, MINUTE);
        store.put("live", b"v", MINUTE).await.unwrap();
        assert_eq!(store.len(), 1);
        assert_eq!(store.get("live").await.unwrap(), Some(b"v".to_vec()));
    }

    #[tokio::test]
    async fn sweep_keeps_live_entries_and_backs_off() {
        let (clock, store) = store();
        for i in 0..SWEEP_FLOOR {
            store.put(&format!("k:{i}"), b"v", MINUTE).await.unwrap();
        }
        // All were live at the sweep, so the next one waits until the map doubles.
        assert_eq!(store.len(), SWEEP_FLOOR);
        assert_eq!(store.state().sweep_at, 2 * SWEEP_FLOOR);

        advance(&clock, MINUTE);
        for i in SWEEP_FLOOR..2 * SWEEP_FLOOR {
            store.put(&format!("k:{i}"), b"v", MINUTE).await.unwrap();
        }
        assert_eq!(store.len(), SWEEP_FLOOR);
    }

    #[tokio::test]
    async fn debug_does_not_print_values() {
        let (_, store) = store();
        store.put("code:abc", b"s3cret", MINUTE).await.unwrap();
        let shown = format!("{store:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("code:abc"),
            "{shown}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn racing_takes_have_one_winner() {
        let (_, store) = store();
        contract::take_races_have_one_winner(Arc::new(store), 64)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn meets_the_store_contract() {
        let (clock, store) = store();
        contract::all(Arc::new(store), Elapse::Clock(&clock))
            .await
            .unwrap();
    }
}
