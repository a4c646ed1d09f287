//! The real `tessera` binary as a child process on a free loopback port, on the backends the
//! environment selects, with an in-process broker on the same database for setting up state
//! the product has no route for yet (sessions, until the sign-in pages exist).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use broker::Broker;
use tessera::config::{Config, Sources};

use crate::{Backends, FreshDatabase, tessera_bin};

/// A free TCP port on 127.0.0.1 (free when asked; good enough for a test).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The file in the data directory that a `RealServer`'s log goes to.
const SERVE_LOG: &str = "serve.log";

/// A `tessera serve` process; killed when dropped.
#[derive(Debug)]
pub struct RealServer {
    /// `http://127.0.0.1:{port}`, also the issuer.
    pub base: String,
    env: Vec<(String, String)>,
    child: Child,
    _database: Option<FreshDatabase>,
    data_dir: tempfile::TempDir,
}

impl RealServer {
    /// Starts the binary and waits until `/healthz` answers.
    pub async fn start(extra_env: &[(&str, &str)]) -> Self {
        let database = FreshDatabase::create().await;
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut env: Vec<(String, String)> = vec![("TESSERA_PUBLIC_URL".into(), base)];
        if let Some(url) = &database.url {
            env.push(("DATABASE_URL".into(), url.clone()));
        }
        if let Some(url) = Backends::from_env().redis {
            env.push(("REDIS_URL".into(), url));
            let namespace = format!("tessera-e2e-{}:", uuid::Uuid::new_v4().simple());
            env.push(("TESSERA_REDIS_NAMESPACE".into(), namespace));
        }
        env.extend(
            extra_env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        Self::start_on(port, env, Some(database)).await
    }

    /// Starts the binary on `port` with `env` (which names the database, the store and anything
    /// else; the data directory, listen address and log format are added here) and waits until
    /// `/healthz` answers. `database` is dropped with the server.
    pub async fn start_on(
        port: u16,
        mut env: Vec<(String, String)>,
        database: Option<FreshDatabase>,
    ) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        env.extend([
            (
                "TESSERA_DATA_DIR".to_owned(),
                data_dir.path().display().to_string(),
            ),
            ("TESSERA_LISTEN".to_owned(), format!("127.0.0.1:{port}")),
            ("TESSERA_LOG_FORMAT".to_owned(), "json".to_owned()),
        ]);
        // The log (stderr), kept for `log()` until the data directory goes.
        let log = std::fs::File::create(data_dir.path().join(SERVE_LOG)).unwrap();
        let child = command(&env)
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut server = Self {
            base,
            env,
            child,
            _database: database,
            data_dir,
        };
        server.wait_healthy().await;
        server
    }

    /// Kills the process at once (SIGKILL: no graceful shutdown, like a crashed host) and
    /// reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    async fn wait_healthy(&mut self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = client.get(format!("{}/healthz", self.base)).send().await
                && response.status() == 200
            {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("tessera serve exited early with {status}:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "tessera serve did not become healthy"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A `tessera` command with this server's configuration (for CLI calls).
    pub fn command(&self) -> Command {
        command(&self.env)
    }

    /// An in-process broker on the server's database and master key.
    pub async fn broker(&self) -> Broker {
        let config =
            Config::from_sources(Sources::gather(None, self.env.clone()).unwrap()).unwrap();
        tessera::server::prepare(&config).await.unwrap()
    }

    /// The configuration the server runs with.
    pub fn config(&self) -> Config {
        Config::from_sources(Sources::gather(None, self.env.clone()).unwrap()).unwrap()
    }

    /// What the server has logged so far (JSON lines, as `TESSERA_LOG_FORMAT=json` writes them).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.path().join(SERVE_LOG)).unwrap_or_default()
    }

    /// The process id (to send signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for RealServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn command(env: &[(String, String)]) -> Command {
    let mut command = Command::new(tessera_bin());
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    command
}

/// Runs a Node.js script of the end-to-end suite (`tests/e2e/`), with `env`, and returns its
/// standard output. Fails the test with the script's output when it fails.
pub fn run_node(script: &str, env: &[(&str, String)]) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e");
    assert!(
        dir.join("node_modules").is_dir(),
        "tests/e2e/node_modules is missing: scripts/test installs the end-to-end peers (npm ci)"
    );
    let output = Command::new("node")
        .arg(script)
        .current_dir(&dir)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("node is missing: scripts/test installs Node.js");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{stderr}"
    );
    stdout
}
