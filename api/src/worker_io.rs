//! Connections per HTTP worker: each worker thread runs its own runtime, and a socket reports
//! readiness to the runtime that opened it. A request that waited on a PostgreSQL or Redis
//! connection opened elsewhere was woken by another thread for every reply (two thread
//! switches per Redis command), so each worker opens its own (ADR 0014).

use std::sync::Arc;

use broker::Broker;
use broker::store::{EphemeralStore, RedisStore};
use secrecy::ExposeSecret as _;

use crate::config::Config;

/// How many HTTP worker threads serve requests: one per core, as actix-web would pick.
pub fn worker_count() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// How a replica spends its `TESSERA_DATABASE_MAX_CONNECTIONS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSizes {
    /// The process's own pool: start-up, migrations, schedules, the CLI, and on SQLite (or a
    /// budget too small to split) the requests too. `None`: the backend's default.
    pub shared: Option<u32>,
    /// Each HTTP worker's own pool, when the workers have their own.
    pub per_worker: Option<u32>,
}

/// The shared pool's size when the workers have pools of their own (nothing in it is busy).
const SHARED_WHEN_SPLIT: u32 = 2;
/// The least a worker's pool may hold: with one, a slow statement stalls the whole worker.
const MIN_PER_WORKER: u32 = 2;

impl PoolSizes {
    /// The split for `config` and `workers` threads: on PostgreSQL, a small shared pool and
    /// the rest divided between the workers, never more than the configured total; when that
    /// leaves a worker fewer than [`MIN_PER_WORKER`], and always on SQLite (one writer), one
    /// shared pool as configured.
    pub fn of(config: &Config, workers: usize) -> Self {
        let shared = Self {
            shared: config.database_max_connections,
            per_worker: None,
        };
        if config.database_backend() != broker::db::Backend::Postgres {
            return shared;
        }
        let total = config
            .database_max_connections
            .unwrap_or(broker::db::POSTGRES_MAX_CONNECTIONS);
        let workers = u32::try_from(workers.max(1)).unwrap_or(u32::MAX);
        let per_worker = total.saturating_sub(SHARED_WHEN_SPLIT) / workers;
        if per_worker < MIN_PER_WORKER {
            return shared;
        }
        Self {
            shared: Some(SHARED_WHEN_SPLIT),
            per_worker: Some(per_worker),
        }
    }
}

/// The broker a worker thread serves with: its own PostgreSQL pool and Redis connection, both
/// opened on first use from this thread. SQLite (one writer) and the in-process store stay
/// shared; so does anything that cannot be set up, with a warning (the shared ones work, only
/// slower).
pub fn worker_broker(shared: &Broker, config: &Config, workers: usize) -> Broker {
    let url = config.database_url.expose_secret();
    let db = PoolSizes::of(config, workers)
        .per_worker
        .and_then(|size| broker::db::connect_lazy(url, size))
        .and_then(|made| {
            made.inspect_err(|e| {
                tracing::warn!(error = %e, "a worker's database pool could not be made; sharing one");
            })
            .ok()
        });
    let store = config.redis_url.as_ref().and_then(|redis| {
        RedisStore::unconnected(redis.expose_secret(), &config.redis_namespace)
            .inspect_err(|e| {
                tracing::warn!(error = %e, "a worker's Redis connection could not be made; sharing one");
            })
            .ok()
            .map(|store| Arc::new(store) as Arc<dyn EphemeralStore>)
    });
    shared.with_io(db, store)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(env: &[(&str, &str)], workers: usize) -> PoolSizes {
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        let config = Config::from_sources(crate::config::Sources::gather(None, env).unwrap());
        PoolSizes::of(&config.unwrap(), workers)
    }

    const POSTGRES: (&str, &str) = ("DATABASE_URL", "postgres://tessera@db/tessera");

    #[test]
    fn workers_split_the_replicas_connections_and_never_exceed_them() {
        let split = |shared, per_worker| PoolSizes {
            shared: Some(shared),
            per_worker: Some(per_worker),
        };
        // The default 16 on 2 cores: 2 shared, 7 per worker.
        assert_eq!(sizes(&[POSTGRES], 2), split(2, 7));
        assert_eq!(sizes(&[POSTGRES], 3), split(2, 4));
        let forty = ("TESSERA_DATABASE_MAX_CONNECTIONS", "40");
        assert_eq!(sizes(&[POSTGRES, forty], 4), split(2, 9));
    }

    #[test]
    fn a_budget_too_small_to_split_and_sqlite_keep_one_pool() {
        let two = ("TESSERA_DATABASE_MAX_CONNECTIONS", "2");
        let one_pool = |shared| PoolSizes {
            shared,
            per_worker: None,
        };
        assert_eq!(sizes(&[POSTGRES, two], 2), one_pool(Some(2)));
        assert_eq!(sizes(&[POSTGRES], 8), one_pool(None));
        assert_eq!(sizes(&[], 2), one_pool(None));
    }
}
