//! Readiness: whether the database and the ephemeral store answer.

use std::time::Duration;

use crate::Broker;

/// How long a readiness probe waits for each dependency.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The state of each dependency; `None` means healthy, `Some(reason)` explains a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// The database.
    pub database: Option<String>,
    /// The ephemeral store.
    pub store: Option<String>,
}

impl Readiness {
    /// Whether every dependency answered.
    pub fn is_ready(&self) -> bool {
        self.database.is_none() && self.store.is_none()
    }
}

impl Broker {
    /// Pings the database and the store, each with a short timeout: through this broker's
    /// connections and, for an HTTP worker with its own (ADR 0014), the process's too.
    pub async fn readiness(&self) -> Readiness {
        let database = probe(async {
            self.db().ping().await.map_err(|e| e.to_string())?;
            match self.process_db_beside_own() {
                Some(shared) => shared.ping().await.map_err(|e| e.to_string()),
                None => Ok(()),
            }
        });
        let store = probe(async {
            self.store().ping().await.map_err(|e| e.to_string())?;
            match self.process_store_beside_own() {
                Some(shared) => shared.ping().await.map_err(|e| e.to_string()),
                None => Ok(()),
            }
        });
        let (database, store) = tokio::join!(database, store);
        Readiness { database, store }
    }
}

async fn probe(check: impl Future<Output = Result<(), String>>) -> Option<String> {
    match tokio::time::timeout(PROBE_TIMEOUT, check).await {
        Ok(Ok(())) => None,
        Ok(Err(reason)) => Some(reason),
        Err(_) => Some(format!("no answer within {}s", PROBE_TIMEOUT.as_secs())),
    }
}
