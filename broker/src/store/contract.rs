//! What every [`EphemeralStore`] backend must do, as checks that unit tests and the integration
//! suite run against whichever backend they hold. Each check uses fresh random keys, so checks
//! can share one Redis with other tests, and returns `Err` naming the broken expectation.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use tokio::sync::Barrier;
use uuid::Uuid;

use super::{EphemeralStore, StoreError};
use crate::clock::ManualClock;

/// How a check lets time run out on the values it stores.
#[derive(Debug, Clone, Copy)]
pub enum Elapse<'a> {
    /// Real time: values live for `ttl`, then the check sleeps for `wait`, which must be longer.
    /// For Redis, `ttl` 50 ms and `wait` 120 ms ([`Elapse::REAL_TIME`]) work.
    Sleep {
        /// The time to live given to values.
        ttl: Duration,
        /// How long to sleep before expecting them gone.
        wait: Duration,
    },
    /// A manual clock that the store reads: values live for a minute and the clock is moved
    /// forward a minute.
    Clock(&'a ManualClock),
}

impl Elapse<'_> {
    /// Short real TTLs that suit Redis.
    pub const REAL_TIME: Elapse<'static> = Elapse::Sleep {
        ttl: Duration::from_millis(50),
        wait: Duration::from_millis(120),
    };

    fn ttl(self) -> Duration {
        match self {
            Self::Sleep { ttl, .. } => ttl,
            Self::Clock(_) => Duration::from_secs(60),
        }
    }

    async fn past_ttl(self) {
        match self {
            Self::Sleep { wait, .. } => tokio::time::sleep(wait).await,
            Self::Clock(clock) => clock.advance(TimeDelta::seconds(60)),
        }
    }
}

/// A TTL no check outlives.
const LONG: Duration = Duration::from_secs(300);

/// Runs every check, stopping at the first failure (prefixed with the check's name).
pub async fn all(store: Arc<dyn EphemeralStore>, elapse: Elapse<'_>) -> Result<(), String> {
    let named = |name: &str, result: Result<(), String>| result.map_err(|e| format!("{name}: {e}"));
    named("ping_answers", ping_answers(&*store).await)?;
    named("take_is_single_use", take_is_single_use(&*store).await)?;
    named(
        "take_keeping_field_keeps_one_member",
        take_keeping_field_keeps_one_member(&*store).await,
    )?;
    named("put_replaces_value", put_replaces_value(&*store).await)?;
    named("delete_removes_value", delete_removes_value(&*store).await)?;
    named(
        "put_new_refuses_live_key",
        put_new_refuses_live_key(&*store).await,
    )?;
    named(
        "counters_count_within_window",
        counters_count_within_window(&*store, elapse).await,
    )?;
    named("values_expire", values_expire(&*store, elapse).await)?;
    named(
        "take_races_have_one_winner",
        take_races_have_one_winner(store, 64).await,
    )
}

/// `ping` succeeds.
pub async fn ping_answers(store: &dyn EphemeralStore) -> Result<(), String> {
    step("ping", store.ping().await)
}

/// `get` reads without consuming; `take` returns the value once, then `None`.
pub async fn take_is_single_use(store: &dyn EphemeralStore) -> Result<(), String> {
    let key = fresh_key("take");
    step("put", store.put(&key, b"code", LONG).await)?;
    expect_eq(
        "get before take",
        step("get", store.get(&key).await)?,
        Some(b"code".to_vec()),
    )?;
    expect_eq(
        "first take",
        step("take", store.take(&key).await)?,
        Some(b"code".to_vec()),
    )?;
    expect_eq("second take", step("take", store.take(&key).await)?, None)?;
    expect_eq("get after take", step("get", store.get(&key).await)?, None)?;
    expect_eq(
        "take of a missing key",
        step("take", store.take(&fresh_key("none")).await)?,
        None,
    )
}

/// `take_keeping_field` takes the value once and, with it, leaves the named member of the JSON
/// object (as JSON) under the other key; a missing key leaves nothing, and a value that is not
/// an object is still taken.
pub async fn take_keeping_field_keeps_one_member(store: &dyn EphemeralStore) -> Result<(), String> {
    let (key, kept) = (fresh_key("take_keeping"), fresh_key("kept"));
    let value = br#"{"grant_id":"0190c0de-0000-7000-8000-000000000001","scope":"openid"}"#;
    step("put", store.put(&key, value, LONG).await)?;
    let take = |key: String, kept: String| async move {
        step(
            "take_keeping_field",
            store
                .take_keeping_field(&key, "grant_id", &kept, LONG)
                .await,
        )
    };
    expect_eq(
        "first take",
        take(key.clone(), kept.clone()).await?,
        Some(value.to_vec()),
    )?;
    expect_eq(
        "the member kept",
        step("get", store.get(&kept).await)?,
        Some(br#""0190c0de-0000-7000-8000-000000000001""#.to_vec()),
    )?;
    expect_eq("second take", take(key.clone(), kept.clone()).await?, None)?;
    expect_eq(
        "the member kept after a second take",
        step("get", store.get(&kept).await)?.is_some(),
        true,
    )?;
    let (missing, nothing_kept) = (fresh_key("missing"), fresh_key("nothing"));
    expect_eq(
        "take of a missing key",
        take(missing, nothing_kept.clone()).await?,
        None,
    )?;
    expect_eq(
        "nothing kept for a missing key",
        step("get", store.get(&nothing_kept).await)?,
        None,
    )?;
    let (plain, plain_kept) = (fresh_key("plain"), fresh_key("plain_kept"));
    step("put", store.put(&plain, b"not json", LONG).await)?;
    expect_eq(
        "take of a value that is not an object",
        take(plain, plain_kept.clone()).await?,
        Some(b"not json".to_vec()),
    )?;
    expect_eq(
        "nothing kept for a value that is not an object",
        step("get", store.get(&plain_kept).await)?,
        None,
    )?;
    step("delete", store.delete(&kept).await)
}

/// `put` on a key that holds a value replaces it.
pub async fn put_replaces_value(store: &dyn EphemeralStore) -> Result<(), String> {
    let key = fresh_key("put");
    step("put", store.put(&key, b"old", LONG).await)?;
    step("put", store.put(&key, b"new", LONG).await)?;
    expect_eq(
        "get after second put",
        step("get", store.get(&key).await)?,
        Some(b"new".to_vec()),
    )?;
    step("delete", store.delete(&key).await)
}

/// `delete` removes a value, and deleting a missing key is not an error.
pub async fn delete_removes_value(store: &dyn EphemeralStore) -> Result<(), String> {
    let key = fresh_key("delete");
    step("put", store.put(&key, b"v", LONG).await)?;
    step("delete", store.delete(&key).await)?;
    expect_eq(
        "get after delete",
        step("get", store.get(&key).await)?,
        None,
    )?;
    step("delete of a missing key", store.delete(&key).await)
}

/// `put_new` stores into an empty key once; later calls leave the first value in place.
pub async fn put_new_refuses_live_key(store: &dyn EphemeralStore) -> Result<(), String> {
    let key = fresh_key("put_new");
    expect_eq(
        "first put_new",
        step("put_new", store.put_new(&key, b"first", LONG).await)?,
        true,
    )?;
    expect_eq(
        "second put_new",
        step("put_new", store.put_new(&key, b"second", LONG).await)?,
        false,
    )?;
    expect_eq(
        "value kept",
        step("get", store.get(&key).await)?,
        Some(b"first".to_vec()),
    )?;
    step("delete", store.delete(&key).await)
}

/// `hit` counts 1, 2, 3 within one window, reports time left in it, and starts from 1 again once
/// the window has passed.
pub async fn counters_count_within_window(
    store: &dyn EphemeralStore,
    elapse: Elapse<'_>,
) -> Result<(), String> {
    let key = fresh_key("hit");
    let window = elapse.ttl();
    for expected in 1..=3 {
        let counter = step("hit", store.hit(&key, window).await)?;
        expect_eq("count", counter.count, expected)?;
        if counter.resets_in.is_zero() || counter.resets_in > window {
            return Err(format!(
                "resets_in {:?} is not within (0, {window:?}]",
                counter.resets_in
            ));
        }
    }
    elapse.past_ttl().await;
    let counter = step("hit after the window", store.hit(&key, window).await)?;
    expect_eq("count after the window", counter.count, 1)
}

/// Values written by `put` and `put_new` are gone once their TTL has passed, and `put_new` then
/// accepts the key again.
pub async fn values_expire(store: &dyn EphemeralStore, elapse: Elapse<'_>) -> Result<(), String> {
    let (put_key, new_key) = (fresh_key("expire"), fresh_key("expire_new"));
    let ttl = elapse.ttl();
    step("put", store.put(&put_key, b"v", ttl).await)?;
    expect_eq(
        "put_new",
        step("put_new", store.put_new(&new_key, b"v", ttl).await)?,
        true,
    )?;
    expect_eq(
        "get before expiry",
        step("get", store.get(&put_key).await)?,
        Some(b"v".to_vec()),
    )?;

    elapse.past_ttl().await;
    expect_eq(
        "get after expiry",
        step("get", store.get(&put_key).await)?,
        None,
    )?;
    expect_eq(
        "take after expiry",
        step("take", store.take(&put_key).await)?,
        None,
    )?;
    expect_eq(
        "put_new after expiry",
        step("put_new", store.put_new(&new_key, b"again", LONG).await)?,
        true,
    )?;
    step("delete", store.delete(&new_key).await)
}

/// `tasks` tasks race to `take` one key; exactly one receives the value. Run it on a
/// multi-thread runtime for a real race.
pub async fn take_races_have_one_winner(
    store: Arc<dyn EphemeralStore>,
    tasks: usize,
) -> Result<(), String> {
    let key = Arc::new(fresh_key("race"));
    step("put", store.put(&key, b"code", LONG).await)?;
    let start = Arc::new(Barrier::new(tasks));
    let racers: Vec<_> = (0..tasks)
        .map(|_| {
            let (store, key, start) = (store.clone(), key.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                store.take(&key).await
            })
        })
        .collect();
    let mut winners = 0;
    for racer in racers {
        let taken = racer
            .await
            .map_err(|e| format!("racing task failed: {e}"))?;
        winners += usize::from(step("take", taken)?.is_some());
    }
    expect_eq("tasks that got the value", winners, 1)
}

fn fresh_key(check: &str) -> String {
    format!("contract:{check}:{}", Uuid::new_v4())
}

fn step<T>(what: &str, result: Result<T, StoreError>) -> Result<T, String> {
    result.map_err(|e| format!("{what} failed: {e}"))
}

fn expect_eq<T: PartialEq + Debug>(what: &str, got: T, want: T) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: expected {want:?}, got {got:?}"))
    }
}
