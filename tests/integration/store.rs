//! The ephemeral store contract on the backend this run selects (in-process by default, Redis
//! when TEST_REDIS_URL is set): single use is atomic, values expire, counters count.

use std::sync::Arc;

use broker::SystemClock;
use broker::store::contract::{self, Elapse};
use broker::store::{EphemeralStore, MemoryStore, RedisStore};
use tessera_tests::Backends;

async fn configured_store() -> Arc<dyn EphemeralStore> {
    match Backends::from_env().redis {
        Some(url) => {
            let namespace = format!("tessera-test-{}:", uuid::Uuid::new_v4().simple());
            Arc::new(RedisStore::connect(&url, &namespace).await.unwrap())
        }
        None => Arc::new(MemoryStore::new(Arc::new(SystemClock))),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn take_once_has_exactly_one_winner_among_many_tasks() {
    let store = configured_store().await;
    for _ in 0..5 {
        contract::take_races_have_one_winner(store.clone(), 64)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_meets_the_whole_contract() {
    contract::all(configured_store().await, Elapse::REAL_TIME)
        .await
        .unwrap();
}
