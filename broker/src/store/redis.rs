//! The Redis ephemeral store: state shared by every replica, with Redis doing expiry and the
//! atomic steps (`GETDEL`, `SET NX`, a Lua script for counters).

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Cmd, FromRedisValue, RedisError, RedisResult, Script, Value};

use super::{Counter, EphemeralStore, StoreError};

/// Each attempt to open a connection (TCP, TLS, AUTH) gives up after this.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(2);
/// Each command on an open connection gives up after this.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Reconnection attempts after a failed one, with backoff capped at [`MAX_RECONNECT_DELAY`].
const RECONNECT_RETRIES: usize = 2;
const MAX_RECONNECT_DELAY: Duration = Duration::from_millis(500);
/// Bound on one store call, including any wait for a reconnection: a request that needs a dead
/// Redis fails after this rather than hanging.
const COMMAND_DEADLINE: Duration = Duration::from_secs(3);
/// Bound on [`RedisStore::connect`].
const CONNECT_DEADLINE: Duration = Duration::from_secs(5);

/// Counts a hit and starts the window on the first one, in one atomic step. The `ttl < 0` branch
/// repairs a counter left without expiry, so it can never block a key forever.
const HIT_SCRIPT: &str = r"
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
";

/// Takes a value and keeps one member of it (a JSON object) under another key, in one atomic
/// step and one round trip. `cjson` is Redis's own JSON library for scripts.
const TAKE_KEEPING_FIELD_SCRIPT: &str = r"
local value = redis.call('GETDEL', KEYS[1])
if value then
  local ok, object = pcall(cjson.decode, value)
  if ok and type(object) == 'table' and object[ARGV[1]] ~= nil then
    redis.call('SET', KEYS[2], cjson.encode(object[ARGV[1]]), 'PX', ARGV[2])
  end
end
return value
";

/// [`EphemeralStore`] in Redis (6.2 or later, for `GETDEL`), shared by every replica.
///
/// Cloning is cheap and shares the connection, which reconnects by itself after Redis restarts.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    namespace: String,
    /// `host:port` (or socket path) for messages; never holds credentials.
    target: String,
    hit_script: Script,
    take_keeping_field_script: Script,
}

impl RedisStore {
    /// Connects to `url` (`redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS
    /// when built with it) and prefixes every key with `namespace` (for example `"tessera:"`).
    ///
    /// Fails with [`StoreError::Unavailable`] when the URL is invalid or Redis cannot be reached
    /// within a few seconds; the message names the host, never the password.
    pub async fn connect(url: &str, namespace: &str) -> Result<Self, StoreError> {
        let store = Self::unconnected(url, namespace)?;
        let mut connection = store.connection.clone();
        within(
            CONNECT_DEADLINE,
            redis::cmd("PING").query_async::<()>(&mut connection),
        )
        .await
        .map_err(|e| {
            StoreError::Unavailable(format!("cannot reach Redis at {}: {e}", store.target))
        })?;
        Ok(store)
    }

    /// A store that opens its connection on first use, on the runtime of the task that uses it
    /// first (an HTTP worker's own connection: ADR 0014). Fails only on an invalid URL.
    pub fn unconnected(url: &str, namespace: &str) -> Result<Self, StoreError> {
        // The URL is not echoed: when it does not parse, we cannot tell which part is a password.
        let client = Client::open(url)
            .map_err(|e| StoreError::Unavailable(format!("invalid Redis URL (not shown): {e}")))?;
        let target = client.get_connection_info().addr().to_string();
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECTION_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(RECONNECT_RETRIES)
            .set_max_delay(MAX_RECONNECT_DELAY);
        let connection = ConnectionManager::new_lazy_with_config(client, config).map_err(|e| {
            StoreError::Unavailable(format!("cannot set up Redis client for {target}: {e}"))
        })?;
        Ok(Self {
            connection,
            namespace: namespace.to_owned(),
            target,
            hit_script: Script::new(HIT_SCRIPT),
            take_keeping_field_script: Script::new(TAKE_KEEPING_FIELD_SCRIPT),
        })
    }

    /// The prefix added to every key.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.namespace)
    }

    /// Sends one command (see [`Self::deadline`]).
    async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, StoreError> {
        let mut connection = self.connection.clone();
        self.deadline(cmd.query_async(&mut connection)).await
    }

    /// Awaits one Redis call for at most [`COMMAND_DEADLINE`]; every failure, the server's
    /// error replies included, is [`StoreError::Unavailable`].
    async fn deadline<T>(
        &self,
        command: impl Future<Output = RedisResult<T>>,
    ) -> Result<T, StoreError> {
        within(COMMAND_DEADLINE, command)
            .await
            .map_err(|e| StoreError::Unavailable(format!("Redis at {}: {e}", self.target)))
    }
}

/// Why a Redis call failed. Redis errors carry the server's reply or an I/O error, never the
/// connection URL, so they are safe to show.
#[derive(Debug, thiserror::Error)]
enum CallError {
    #[error("{0}")]
    Redis(#[from] RedisError),
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
}

async fn within<T>(
    limit: Duration,
    call: impl Future<Output = RedisResult<T>>,
) -> Result<T, CallError> {
    match tokio::time::timeout(limit, call).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(CallError::TimedOut(limit)),
    }
}

/// Redis counts TTLs in whole milliseconds: round up, so nothing expires early and a sub-
/// millisecond TTL does not become "no expiry". (A TTL beyond Redis's range makes the command
/// fail rather than live forever.)
fn millis(ttl: Duration) -> u64 {
    let ms = ttl.as_nanos().div_ceil(1_000_000).max(1);
    u64::try_from(ms).unwrap_or(u64::MAX)
}

#[async_trait]
impl EphemeralStore for RedisStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key)).arg(value).arg("PX").arg(millis(ttl));
        self.query(&cmd).await
    }

    async fn put_new(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl));
        // `OK` when stored, nil when the key already held a value.
        let reply: Value = self.query(&cmd).await?;
        Ok(!matches!(reply, Value::Nil))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.query(redis::cmd("GET").arg(self.key(key))).await
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.query(redis::cmd("GETDEL").arg(self.key(key))).await
    }

    async fn take_keeping_field(
        &self,
        key: &str,
        field: &str,
        kept: &str,
        ttl: Duration,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let mut connection = self.connection.clone();
        let mut invocation = self.take_keeping_field_script.key(self.key(key));
        invocation.key(self.key(kept)).arg(field).arg(millis(ttl));
        self.deadline(invocation.invoke_async(&mut connection))
            .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.query(redis::cmd("DEL").arg(self.key(key))).await
    }

    async fn hit(&self, key: &str, window: Duration) -> Result<Counter, StoreError> {
        let mut connection = self.connection.clone();
        let mut invocation = self.hit_script.key(self.key(key));
        invocation.arg(millis(window));
        let (count, ttl_ms): (u64, u64) = self
            .deadline(invocation.invoke_async(&mut connection))
            .await?;
        Ok(Counter {
            count,
            resets_in: Duration::from_millis(ttl_ms),
        })
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.query(&redis::cmd("PING")).await
    }
}

/// Shows where the store points, never the URL (it may hold a password).
impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("target", &self.target)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use tokio::net::TcpListener;

    use super::*;

    #[test]
    fn ttl_is_whole_milliseconds_rounded_up() {
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_nanos(1)), 1);
        assert_eq!(millis(Duration::from_millis(1)), 1);
        assert_eq!(millis(Duration::from_micros(1_001)), 2);
        assert_eq!(millis(Duration::from_secs(300)), 300_000);
        assert_eq!(millis(Duration::MAX), u64::MAX);
    }

    #[tokio::test]
    async fn keys_carry_the_namespace() {
        let store = RedisStore::unconnected("redis://127.0.0.1:6379", "tessera:").unwrap();
        assert_eq!(store.namespace(), "tessera:");
        assert_eq!(store.key("code:abc"), "tessera:code:abc");
    }

    #[tokio::test]
    async fn debug_shows_host_not_password() {
        let url = "redis://tessera:hunter2@redis.internal:6380/2";
        let shown = format!("{:?}", RedisStore::unconnected(url, "tessera:").unwrap());
        assert!(shown.contains("redis.internal:6380"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    /// A TCP server that accepts connections and never answers, like a hung Redis.
    async fn silent_server() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        format!("redis://{addr}")
    }

    /// An address nothing listens on.
    async fn closed_port_url(credentials: &str) -> (String, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        drop(listener);
        (format!("redis://{credentials}{addr}/0"), addr)
    }

    #[tokio::test]
    async fn unreachable_redis_names_host_not_password() {
        let (url, addr) = closed_port_url("tessera:hunter2@").await;
        let err = RedisStore::connect(&url, "tessera:").await.unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        assert!(message.contains(&addr), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[tokio::test]
    async fn invalid_url_is_not_echoed() {
        for url in [
            "http://tessera:hunter2@host",
            "redis://tessera:hunter2@host:notaport",
            "hunter2",
        ] {
            let err = RedisStore::connect(url, "tessera:").await.unwrap_err();
            assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
    }

    #[tokio::test]
    async fn connect_to_silent_redis_fails_within_deadline() {
        let url = silent_server().await;
        let started = Instant::now();
        let err = RedisStore::connect(&url, "tessera:").await.unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        assert!(started.elapsed() < CONNECT_DEADLINE + Duration::from_secs(1));
    }

    #[tokio::test]
    async fn command_to_silent_redis_fails_within_deadline() {
        let store = RedisStore::unconnected(&silent_server().await, "tessera:").unwrap();
        let started = Instant::now();
        let err = store.take("code:abc").await.unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        assert!(started.elapsed() < COMMAND_DEADLINE + Duration::from_secs(1));
    }
}
