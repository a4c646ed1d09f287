//! Reference documents generated from the code stay in step with it, and the deployment files
//! only use settings Tessera knows.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use broker::audit::AuditAction;
use tessera::config::SETTINGS;

fn repo_file(relative: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join(relative)
}

/// Compares a generated document with the committed one; `UPDATE_DOCS=1` rewrites it.
fn check_generated(relative: &str, generated: &str) {
    let path = repo_file(relative);
    if std::env::var("UPDATE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{relative} is stale: run `UPDATE_DOCS=1 cargo test -p tessera-tests docs`"
    );
}

#[test]
fn error_code_reference_matches_the_code() {
    check_generated(
        "docs/errors.md",
        &tessera::error::error_reference_markdown(),
    );
}

#[test]
fn audit_action_reference_matches_the_code() {
    let mut doc = String::from(
        "# Audit events\n\n\
         Generated from `broker::audit::AuditAction`; do not edit by hand.\n\n\
         List them with `GET /api/v1/audit-events` (filters: `organization_id`, `action`, `since`,\n\
         `until`) or `GET /api/v1/organizations/{org}/audit-events`. Each event records the actor\n\
         (kind, id, IP), the target, details in `data`, and the `request_id` of the change.\n\n\
         | action | meaning |\n|---|---|\n",
    );
    for action in AuditAction::ALL {
        doc.push_str(&format!(
            "| `{}` | {} |\n",
            action.as_str(),
            action.meaning()
        ));
    }
    check_generated("docs/audit-events.md", &doc);
}

#[test]
fn operator_guide_documents_every_setting() {
    let guide = std::fs::read_to_string(repo_file("docs/operator-guide.md")).unwrap();
    for (env, key) in SETTINGS {
        assert!(
            guide.contains(&format!("`{env}`")),
            "docs/operator-guide.md misses {env}"
        );
        assert!(
            guide.contains(&format!("`{key}`")),
            "docs/operator-guide.md misses file key {key}"
        );
    }
}

fn compose(args: &[&str], master_key: Option<&str>) -> std::process::Output {
    let mut command = Command::new("docker-compose");
    command
        .current_dir(repo_file(""))
        .args(["-f", "docker-compose.yml"])
        .args(args)
        .env_remove("TESSERA_MASTER_KEY");
    if let Some(key) = master_key {
        command.env("TESSERA_MASTER_KEY", key);
    }
    command
        .output()
        .expect("docker-compose is missing; scripts/test installs Debian's docker-compose")
}

#[test]
fn compose_file_is_valid_and_wires_healthy_dependencies() {
    let output = compose(&["config"], Some("dGVzdA=="));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let config: serde_json::Value = yaml_serde::from_slice(&output.stdout).unwrap();
    let services = &config["services"];
    for name in ["tessera", "postgres", "redis"] {
        assert!(
            services[name]["healthcheck"]["test"].is_array(),
            "{name} has no health check"
        );
        assert!(
            services[name]["volumes"].is_array(),
            "{name} has no persistent volume"
        );
    }
    for dependency in ["postgres", "redis"] {
        assert_eq!(
            services["tessera"]["depends_on"][dependency]["condition"],
            "service_healthy"
        );
    }
    let known: BTreeSet<&str> = SETTINGS.iter().map(|(env, _)| *env).collect();
    let environment = services["tessera"]["environment"].as_object().unwrap();
    for variable in environment.keys() {
        assert!(
            known.contains(variable.as_str()),
            "compose sets unknown setting {variable}"
        );
    }
    assert_eq!(environment["TESSERA_MASTER_KEY"], "dGVzdA==");
}

#[test]
fn compose_refuses_to_start_without_a_master_key() {
    let output = compose(&["config", "-q"], None);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("set TESSERA_MASTER_KEY"));
}

#[test]
fn tls_proxy_is_an_opt_in_profile() {
    let output = compose(&["--profile", "tls", "config"], Some("x"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let config: serde_json::Value = yaml_serde::from_slice(&output.stdout).unwrap();
    let services = &config["services"];
    assert_eq!(services["caddy"]["profiles"], serde_json::json!(["tls"]));
    assert_eq!(
        services["caddy"]["depends_on"]["tessera"]["condition"],
        "service_healthy"
    );
    for always_on in ["tessera", "postgres", "redis"] {
        assert!(
            services[always_on]["profiles"].is_null(),
            "{always_on} must start by default"
        );
    }
}

#[test]
fn dockerfile_sets_only_known_settings() {
    let dockerfile = std::fs::read_to_string(repo_file("Dockerfile")).unwrap();
    let known: BTreeSet<&str> = SETTINGS.iter().map(|(env, _)| *env).collect();
    let mentioned: Vec<&str> = dockerfile
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("TESSERA_"))
        .collect();
    assert!(!mentioned.is_empty());
    for word in mentioned {
        assert!(
            known.contains(word),
            "Dockerfile uses unknown setting {word}"
        );
    }
}
