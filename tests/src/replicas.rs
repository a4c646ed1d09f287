//! Several `tessera serve` processes acting as one service, as behind a load balancer: one
//! PostgreSQL database, one Redis namespace, one master key and one public URL (the issuer),
//! which is exactly what replicas must share. Each replica has its own port and data directory;
//! tests address each one directly to choose which replica serves each step.
//!
//! Replicas cannot share SQLite or the in-process store, so these tests need PostgreSQL and
//! Redis (`TEST_DATABASE_URL`, `TEST_REDIS_URL`, as CI's second pass sets them).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::process::Command;

use broker::Broker;
use tessera::config::{Config, Sources};

use crate::real::{RealServer, free_port};
use crate::{Backends, FreshDatabase, RedisNamespace};

/// What every replica of one service shares.
#[derive(Debug)]
pub struct Shared {
    /// The public URL every replica announces: the load balancer's address, also the issuer.
    pub public_url: String,
    env: Vec<(String, String)>,
    _database: FreshDatabase,
    _redis: RedisNamespace,
}

impl Shared {
    /// A fresh database and Redis namespace, or `None` (saying why on stderr) when this run
    /// has no PostgreSQL and Redis to share.
    pub async fn from_env(test: &str) -> Option<Self> {
        let backends = Backends::from_env();
        let (Some(_), Some(redis_url)) = (&backends.postgres, &backends.redis) else {
            // Written to stderr directly: the test harness would swallow `eprintln!` of a test
            // that passes, and this line must show in every run's output.
            let _ = writeln!(
                std::io::stderr(),
                "{test}: not run on this pass: replicas share state only through PostgreSQL and \
                 Redis, and SQLite or the in-process store cannot be shared between processes; \
                 set TEST_DATABASE_URL and TEST_REDIS_URL (CI's second pass does) to run it"
            );
            return None;
        };
        Some(Self::with_redis(redis_url).await)
    }

    /// A fresh database (PostgreSQL, since `TEST_DATABASE_URL` is set) and a fresh namespace on
    /// the Redis at `redis_url`.
    pub async fn with_redis(redis_url: &str) -> Self {
        let database = FreshDatabase::create().await;
        let database_url = database
            .url
            .clone()
            .expect("replicas need TEST_DATABASE_URL (PostgreSQL)");
        let namespace = format!("tessera-replicas-{}:", uuid::Uuid::new_v4().simple());
        let public_url = format!("http://127.0.0.1:{}", free_port());
        let env = vec![
            ("DATABASE_URL".to_owned(), database_url),
            ("REDIS_URL".to_owned(), redis_url.to_owned()),
            ("TESSERA_REDIS_NAMESPACE".to_owned(), namespace.clone()),
            ("TESSERA_MASTER_KEY".to_owned(), random_master_key()),
            ("TESSERA_PUBLIC_URL".to_owned(), public_url.clone()),
        ];
        Self {
            public_url,
            env,
            _database: database,
            _redis: RedisNamespace {
                url: redis_url.to_owned(),
                namespace,
            },
        }
    }

    /// The shared database's URL.
    pub fn database_url(&self) -> &str {
        self._database.url.as_deref().unwrap_or_default()
    }

    /// The shared settings with `extra` added (later values win).
    pub fn env(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut env = self.env.clone();
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        env
    }

    /// Starts one more replica with `extra` settings and waits until it answers.
    pub async fn replica(&self, extra: &[(&str, &str)]) -> RealServer {
        RealServer::start_on(free_port(), self.env(extra), None).await
    }

    /// A `tessera` command (CLI) on the shared configuration, as an operator runs it.
    pub fn command(&self) -> Command {
        let mut command = Command::new(crate::tessera_bin());
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        command
    }

    /// An in-process broker on the shared database, store and master key (for setting up
    /// state, such as an admin key).
    pub async fn broker(&self) -> Broker {
        let config =
            Config::from_sources(Sources::gather(None, self.env.clone()).unwrap()).unwrap();
        tessera::server::prepare(&config).await.unwrap()
    }
}

/// A fresh 256-bit master key, base64 as `TESSERA_MASTER_KEY` takes it.
pub fn random_master_key() -> String {
    use base64::Engine as _;
    let bytes: Vec<u8> = uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .chain(uuid::Uuid::new_v4().as_bytes())
        .copied()
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
