//! Opening the database: SQLite (embedded default) or PostgreSQL, with pool settings that
//! suit each. The same entities and queries run on both.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr};

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://path?mode=rwc`
    Sqlite,
    /// `postgres://user@host/db` or `postgresql://…`
    Postgres,
}

impl Backend {
    /// Recognizes the scheme of a database URL.
    pub fn of_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':')?.0;
        match scheme {
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            _ => None,
        }
    }
}

/// Connections a replica opens to PostgreSQL unless told otherwise: enough to keep two cores
/// busy with the token endpoint's concurrent reads, few enough that several replicas stay well
/// inside PostgreSQL's default `max_connections` (100). Each idle one also costs the replica
/// about 100 KB (buffers, prepared-statement cache) and PostgreSQL a backend process.
pub const POSTGRES_MAX_CONNECTIONS: u32 = 16;
/// SQLite's pool: one writer at a time, a few readers.
pub const SQLITE_MAX_CONNECTIONS: u32 = 8;
/// Connections beyond the first that sat unused this long are closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Opens a pool on `url` of at most `max_connections` (default by backend). SQLite runs in WAL
/// mode with a busy timeout and a small pool (one writer at a time); PostgreSQL gets a larger
/// pool. Both fail fast when unreachable.
pub async fn connect(url: &str, max_connections: Option<u32>) -> Result<DatabaseConnection, DbErr> {
    Database::connect(options(url, max_connections)).await
}

/// A PostgreSQL pool like [`connect`]'s that opens its connections on first use, made without
/// waiting: for an HTTP worker thread, whose connections then belong to that thread's runtime.
/// The worker's requests wait on those sockets without another thread relaying each reply
/// (ADR 0014). `None` for SQLite, whose single writer needs the one shared pool.
pub fn connect_lazy(url: &str, max_connections: u32) -> Option<Result<DatabaseConnection, DbErr>> {
    if Backend::of_url(url) != Some(Backend::Postgres) {
        return None;
    }
    let mut options = options(url, Some(max_connections));
    options.connect_lazy(true);
    // A lazy pool is built without awaiting anything (sea-orm's connect awaits only when it
    // connects), so the future is ready on its first poll.
    let made = futures::FutureExt::now_or_never(Database::connect(options));
    Some(made.unwrap_or_else(|| Err(DbErr::Custom("a lazy pool had to wait".into()))))
}

fn options(url: &str, max_connections: Option<u32>) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        // A ping before every use costs a round trip per query; ping only connections that sat
        // idle (those are the ones a database restart or a proxy may have cut).
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .idle_timeout(IDLE_TIMEOUT)
        .sqlx_logging(false);
    match Backend::of_url(url) {
        Some(Backend::Sqlite) => {
            options
                .max_connections(max_connections.unwrap_or(SQLITE_MAX_CONNECTIONS))
                .min_connections(1);
            options.map_sqlx_sqlite_opts(|opts| {
                opts.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true)
                    // LIKE respects case, as on PostgreSQL: SCIM filters on case-exact
                    // attributes (externalId, id) must not match other cases.
                    .pragma("case_sensitive_like", "ON")
            });
        }
        _ => {
            options
                .max_connections(max_connections.unwrap_or(POSTGRES_MAX_CONNECTIONS))
                .min_connections(1);
        }
    }
    options
}

/// The backend of an open connection.
pub fn backend_of(db: &DatabaseConnection) -> Backend {
    match db.get_database_backend() {
        DbBackend::Sqlite => Backend::Sqlite,
        _ => Backend::Postgres,
    }
}

/// Removes the password from a database or Redis URL so it can be logged.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("redacted"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "<unparseable url>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_are_recognized() {
        assert_eq!(Backend::of_url("sqlite://x.db"), Some(Backend::Sqlite));
        assert_eq!(
            Backend::of_url("postgresql://h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::of_url("mysql://h/db"), None);
        assert_eq!(Backend::of_url("nonsense"), None);
    }

    #[test]
    fn redaction_hides_only_the_password() {
        let redacted = redact_url("postgres://tess:hunter2@db:5432/tessera");
        assert!(!redacted.contains("hunter2"));
        assert!(redacted.contains("tess:redacted@db:5432/tessera"));
    }
}
