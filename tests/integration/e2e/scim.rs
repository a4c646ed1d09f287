//! scim2-tester (run by scim2-cli's `scim2 test`, pinned in tests/e2e/requirements.txt and
//! installed by scripts/test into tests/e2e/.venv) checks the real binary's SCIM 2.0 endpoint:
//! the discovery endpoints, then Users (with the enterprise extension) and Groups created, read,
//! listed, attribute-filtered, replaced, patched attribute by attribute and deleted. Its report
//! and the server's log stay in `target/e2e-scim/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use tessera_tests::real::RealServer;
use tessera_tests::{Backends, expect_status};

use super::KillOnDrop;

/// How long the whole compliance run may take (it takes a few seconds).
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// Fewer successful checks than this means the run checked (nearly) nothing.
const MIN_SUCCESSES: usize = 100;

/// The statuses scim2-tester reports, each at the start of a line (scim2_tester.Status).
const STATUSES: [&str; 7] = [
    "SUCCESS",
    "COMPLIANT",
    "ACCEPTABLE",
    "DEVIATION",
    "ERROR",
    "CRITICAL",
    "SKIPPED",
];

/// The `scim2` executable: `$SCIM2_CLI`, or the one scripts/test installs.
fn scim2_cli() -> PathBuf {
    let path = std::env::var_os("SCIM2_CLI")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e/.venv/bin/scim2"));
    assert!(
        path.is_file(),
        "{} is missing: run scripts/test, which installs scim2-cli and scim2-tester \
         (tests/e2e/requirements.txt) into tests/e2e/.venv",
        path.display()
    );
    path
}

/// `target/e2e-scim/`, next to the browser tests' `target/e2e-screenshots/`.
fn artifact_dir() -> PathBuf {
    super::browser::screenshot_dir().with_file_name("e2e-scim")
}

/// One result of the report: its status line and the indented lines that explain it.
#[derive(Debug)]
struct Check {
    status: &'static str,
    text: String,
}

/// The results in scim2-cli's report, in order: each line that starts with a status opens one
/// (so does anything else that starts with `ERROR` or `CRITICAL`).
fn checks(report: &str) -> Vec<Check> {
    let mut checks: Vec<Check> = Vec::new();
    for line in report.lines() {
        let status = STATUSES.iter().find(|s| line.starts_with(**s));
        match (status, checks.last_mut()) {
            (Some(status), _) => checks.push(Check {
                status,
                text: line.to_owned(),
            }),
            (None, Some(last)) if line.starts_with(' ') => {
                last.text.push('\n');
                last.text.push_str(line);
            }
            _ => {}
        }
    }
    checks
}

#[tokio::test]
async fn scim_endpoint_passes_scim2_tester_compliance_run() {
    let scim2 = scim2_cli();
    let server = RealServer::start(&[]).await;

    // An admin key the way an operator gets one, then the org and its SCIM token through the
    // admin API.
    let created = server
        .command()
        .args(["admin", "create-key", "--name", "scim e2e"])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "create-key failed: {}",
        String::from_utf8_lossy(&created.stderr)
    );
    let key = String::from_utf8_lossy(&created.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();
    let client = reqwest::Client::new();
    let org = expect_status(
        client
            .post(format!("{}/api/v1/organizations", server.base))
            .bearer_auth(&key)
            .json(&json!({"name": "Acme", "slug": "acme"}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let org_id = org["id"].as_str().unwrap();
    let token = expect_status(
        client
            .post(format!(
                "{}/api/v1/organizations/{org_id}/scim-tokens",
                server.base
            ))
            .bearer_auth(&key)
            .json(&json!({"name": "scim2-tester"}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let base_url = token["base_url"].as_str().unwrap();
    assert_eq!(base_url, format!("{}/scim/v2/{org_id}", server.base));
    let secret = token["token"].as_str().unwrap();

    // The report goes straight to the artifact file; the token goes through the environment
    // (not argv, which other users of the machine can read).
    let backend = if Backends::from_env().postgres.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let dir = artifact_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let report_path = dir.join(format!("scim2-test-{backend}.txt"));
    let stderr_path = dir.join(format!("scim2-test-{backend}.stderr.txt"));
    let log_path = dir.join(format!("tessera-{backend}.log"));
    let started = Instant::now();
    let mut run = KillOnDrop(
        Command::new(&scim2)
            .args(["--url", base_url, "test"])
            .env(
                "SCIM_CLI_HEADERS",
                format!("Authorization: Bearer {secret}"),
            )
            .env("PYTHONUTF8", "1")
            .env_remove("SCIM_CLI_URL")
            .env_remove("SCIM_CLI_SCHEMAS")
            .env_remove("SCIM_CLI_RESOURCE_TYPES")
            .env_remove("SCIM_CLI_SERVICE_PROVIDER_CONFIG")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&report_path).unwrap())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", scim2.display())),
    );
    let Some(status) = run.wait_until(started, RUN_TIMEOUT).await else {
        std::fs::write(&log_path, server.log()).unwrap();
        panic!(
            "scim2 test did not finish within {RUN_TIMEOUT:?}; report so far in {}",
            report_path.display()
        );
    };
    let elapsed = started.elapsed();
    let log = server.log();
    std::fs::write(&log_path, &log).unwrap();
    let report = std::fs::read_to_string(&report_path).unwrap();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();

    let checks = checks(&report);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for check in &checks {
        *counts.entry(check.status).or_default() += 1;
    }
    let count = |status| counts.get(status).copied().unwrap_or(0);
    eprintln!(
        "scim2 test on {backend}: {counts:?} in {elapsed:.1?} ({status}); report in {}",
        report_path.display()
    );

    let failures: Vec<&str> = checks
        .iter()
        .filter(|c| c.status == "ERROR" || c.status == "CRITICAL")
        .map(|c| c.text.as_str())
        .collect();
    // The server's own warnings and errors, to read next to the failed checks.
    let server_problems: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(r#""level":"WARN""#) || l.contains(r#""level":"ERROR""#))
        .collect();
    assert!(
        failures.is_empty(),
        "scim2-tester found {} ERROR/CRITICAL result(s) on {backend} (report: {}, server log: \
         {}):\n\n{}\n\nserver warnings and errors:\n{}",
        failures.len(),
        report_path.display(),
        log_path.display(),
        failures.join("\n\n"),
        server_problems.join("\n")
    );
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("Performing a SCIM compliance check on "))
            && !stderr.contains("Traceback"),
        "scim2 test did not complete its run ({status}):\n{report}\n{stderr}"
    );
    assert!(
        count("SUCCESS") >= MIN_SUCCESSES,
        "only {} SUCCESS results (at least {MIN_SUCCESSES} expected): the run checked almost \
         nothing:\n{report}\n{stderr}",
        count("SUCCESS")
    );
    // scim2-cli exits 0 when every result is SUCCESS and 1 as soon as one is not (a SKIPPED
    // check included); anything else (2 for a usage error, a crash) is a broken run.
    let expected_code = if checks.iter().all(|c| c.status == "SUCCESS") {
        0
    } else {
        1
    };
    assert_eq!(
        status.code(),
        Some(expected_code),
        "scim2 test exited with {status}, for {counts:?}:\n{stderr}"
    );
}
