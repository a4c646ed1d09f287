//! The real `tessera` binary: bootstrap an admin key from the CLI, serve, use the key over
//! HTTP, health-check, stop gracefully; and clear start-up errors instead of panics.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use tessera_tests::real::free_port;
use tessera_tests::{FreshDatabase, tessera_bin};

/// A command for the binary with a clean, explicit environment.
fn tessera(data_dir: &Path, database: &FreshDatabase, port: u16) -> Command {
    let mut command = Command::new(tessera_bin());
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TESSERA_DATA_DIR", data_dir)
        .env("TESSERA_LISTEN", format!("127.0.0.1:{port}"))
        .env("TESSERA_LOG_FORMAT", "json");
    if let Some(url) = &database.url {
        command.env("DATABASE_URL", url);
    }
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Kills the server if a test fails before stopping it.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_healthy(client: &reqwest::Client, base: &str, server: &mut Server) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = client.get(format!("{base}/healthz")).send().await
            && response.status() == 200
        {
            return;
        }
        if let Some(status) = server.0.try_wait().unwrap() {
            panic!("tessera serve exited early with {status}");
        }
        assert!(
            Instant::now() < deadline,
            "tessera serve did not become healthy"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn run(command: &mut Command) -> Output {
    command.output().unwrap()
}

#[tokio::test]
async fn cli_admin_key_drives_the_real_server() {
    let dir = tempfile::tempdir().unwrap();
    // A data directory that does not exist yet: Tessera creates it.
    let data_dir = dir.path().join("data");
    let database = FreshDatabase::create().await;
    let port = free_port();

    let created = run(tessera(&data_dir, &database, port).args([
        "admin",
        "create-key",
        "--name",
        "bootstrap",
    ]));
    assert!(
        created.status.success(),
        "create-key failed: {}",
        text(&created.stderr)
    );
    let stdout = text(&created.stdout);
    let key = stdout.lines().last().unwrap().trim().to_owned();
    assert!(
        key.starts_with("tsk_"),
        "last stdout line is not a key: {stdout}"
    );

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data_dir.join("master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "master.key must be readable by its owner only"
        );
    }

    let mut server = Server(
        tessera(&data_dir, &database, port)
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_healthy(&client, &base, &mut server).await;

    let org = client
        .post(format!("{base}/api/v1/organizations"))
        .bearer_auth(&key)
        .json(&json!({ "name": "Acme", "slug": "acme" }))
        .send()
        .await
        .unwrap();
    assert_eq!(org.status(), 201);
    let domain = client
        .post(format!("{base}/api/v1/organizations/acme/domains"))
        .bearer_auth(&key)
        .json(&json!({ "domain": "acme.example" }))
        .send()
        .await
        .unwrap();
    assert_eq!(domain.status(), 201);
    let body: serde_json::Value = domain.json().await.unwrap();
    assert_eq!(
        body["txt_record"]["name"],
        "_tessera-challenge.acme.example"
    );

    let check = run(tessera(&data_dir, &database, port).arg("healthcheck"));
    assert!(check.status.success(), "{}", text(&check.stderr));

    // SIGTERM: actix stops gracefully and the process exits 0.
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "tessera did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "exit status after SIGTERM: {status}");

    let mut logs = String::new();
    std::io::Read::read_to_string(server.0.stderr.as_mut().unwrap(), &mut logs).unwrap();
    assert!(logs.contains("listening"), "{logs}");
    for line in logs.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
    }
    assert!(!logs.contains(&key), "the API key leaked into the logs");
}

#[test]
fn logs_are_written_out_before_exit_and_plain_when_not_at_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(Command::new(tessera_bin())
        .env_clear()
        .env("TESSERA_DATA_DIR", dir.path())
        .args(["admin", "create-key", "--name", "logs"]));
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    // A first start logs every migration it applies: all written out by the log thread
    // before the short-lived command ended.
    assert!(stderr.matches("applied migration").count() > 5, "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "colour codes in a log that is not a terminal: {stderr:?}"
    );
}

#[test]
fn unsupported_database_url_names_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(Command::new(tessera_bin())
        .env_clear()
        .env("TESSERA_DATA_DIR", dir.path())
        .env("DATABASE_URL", "mysql://db/tessera")
        .arg("migrate"));
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("DATABASE_URL") && stderr.contains("unsupported scheme 'mysql'"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn unreachable_database_is_reported_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(Command::new(tessera_bin())
        .env_clear()
        .env("TESSERA_DATA_DIR", dir.path())
        .env(
            "DATABASE_URL",
            "postgres://tess:hunter2@127.0.0.1:1/tessera",
        )
        .arg("migrate"));
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("DATABASE_URL: cannot open postgres://tess:redacted@127.0.0.1:1/tessera"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn a_different_master_key_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let database = FreshDatabase::create().await;
    let port = free_port();
    let first = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let second = "HxweHRwbGhkYFxYVFBMSERAPDg0MCwoJCAcGBQQDAgE=";
    let ok = run(tessera(dir.path(), &database, port)
        .env("TESSERA_MASTER_KEY", first)
        .args(["admin", "create-key", "--name", "one"]));
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(
        !dir.path().join("master.key").exists(),
        "a configured key must not be written to disk"
    );
    let refused = run(tessera(dir.path(), &database, port)
        .env("TESSERA_MASTER_KEY", second)
        .args(["admin", "create-key", "--name", "two"]));
    assert_eq!(refused.status.code(), Some(1));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("master key")
            && stderr.contains("not the one this database was set up with"),
        "{stderr}"
    );
}

#[tokio::test]
async fn migrate_applies_once_then_reports_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let database = FreshDatabase::create().await;
    let first = run(tessera(dir.path(), &database, 0).arg("migrate"));
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(text(&first.stderr).contains("applied m20261122_000001_create_organizations"));
    let second = run(tessera(dir.path(), &database, 0).arg("migrate"));
    assert!(second.status.success());
    assert!(
        text(&second.stderr).contains("up to date"),
        "{}",
        text(&second.stderr)
    );
}

#[test]
fn openapi_command_prints_the_committed_document() {
    let output = run(Command::new(tessera_bin()).env_clear().arg("openapi"));
    assert!(output.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml")).unwrap();
    assert!(
        text(&output.stdout) == committed,
        "`tessera openapi` differs from openapi.yaml"
    );
}

#[tokio::test]
async fn cli_registers_apps_and_rotates_keys() {
    let dir = tempfile::tempdir().unwrap();
    let database = FreshDatabase::create().await;
    let created = run(tessera(dir.path(), &database, 0).args([
        "admin",
        "create-client",
        "--name",
        "nightly export",
        "--type",
        "confidential",
        "--grant-type",
        "client_credentials",
        "--scope",
        "export:read",
    ]));
    assert!(created.status.success(), "{}", text(&created.stderr));
    let app: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    assert!(app["client_id"].is_string());
    assert!(app["client_secret"].as_str().unwrap().starts_with("tcs_"));
    assert_eq!(app["scopes"], json!(["export:read"]));

    let refused = run(tessera(dir.path(), &database, 0).args([
        "admin",
        "create-client",
        "--name",
        "x",
        "--type",
        "public",
        "--grant-type",
        "client_credentials",
    ]));
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("confidential"),
        "{}",
        text(&refused.stderr)
    );

    let rotated = run(tessera(dir.path(), &database, 0).args(["keys", "rotate", "--alg", "ES256"]));
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    let stderr = text(&rotated.stderr);
    assert!(
        stderr.contains("ES256:") && stderr.contains("now signs"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("RS256:"),
        "only the asked algorithm rotates: {stderr}"
    );
}

#[tokio::test]
async fn the_database_pool_never_opens_more_connections_than_configured() {
    let dir = tempfile::tempdir().unwrap();
    let database = FreshDatabase::create().await;
    let port = free_port();
    let created =
        run(tessera(dir.path(), &database, port).args(["admin", "create-key", "--name", "pool"]));
    assert!(created.status.success(), "{}", text(&created.stderr));
    let key = text(&created.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();
    let mut server = Server(
        tessera(dir.path(), &database, port)
            .env("TESSERA_DATABASE_MAX_CONNECTIONS", "2")
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&client, &base, &mut server).await;

    // Forty requests at once, each reading the database: two connections serve them all.
    let requests = (0..40).map(|i| {
        client
            .post(format!("{base}/api/v1/organizations"))
            .bearer_auth(&key)
            .json(&json!({"name": format!("Org {i}"), "slug": format!("org-{i}")}))
            .send()
    });
    for response in futures::future::join_all(requests).await {
        assert_eq!(response.unwrap().status(), 201);
    }
    if let Some(url) = &database.url {
        use sea_orm::{ConnectionTrait as _, Statement};
        let db = sea_orm::Database::connect(url.as_str()).await.unwrap();
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT count(*) AS n FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            ))
            .await
            .unwrap()
            .unwrap();
        let open: i64 = row.try_get("", "n").unwrap();
        assert!(
            (1..=2).contains(&open),
            "the server holds {open} connections"
        );
        db.close().await.unwrap();
    }
}
