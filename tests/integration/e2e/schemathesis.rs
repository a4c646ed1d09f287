//! Schemathesis (pinned in tests/e2e/requirements.txt, installed by scripts/test into
//! tests/e2e/.venv) runs property-based tests of the committed openapi.yaml against the real
//! binary: every documented operation with the schema's examples, boundary values, random valid
//! and invalid input and inferred call sequences, checking that no response is a 5xx and that
//! every status, content type, header and body is the one the document promises. Path
//! parameters draw, most of the time, from a dictionary of objects made beforehand (an
//! organization with a domain, members, keys, an app, OIDC and SAML connections (one still
//! without metadata), a test login, SCIM tokens and setup links), so the run gets past "not found" into the handlers. Its report,
//! configuration and the server's log stay in `target/e2e-schemathesis/`.
//!
//! Nothing leaves the machine: upstream fetches (OIDC discovery, SAML metadata URLs) go
//! through a proxy address where nothing listens, except to the loopback IdPs (an OIDC
//! stand-in, and samlify run by tests/e2e/saml-idp.mjs), and domain verification asks a
//! loopback DNS server.
//!
//! Every operation in openapi.yaml is run; none needs excluding. The document covers the admin
//! API and the health endpoints only: SCIM has its own checker (scim2-tester, e2e/scim.rs), and
//! the OAuth endpoints, sign-in pages and console session routes are tested by their peers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tessera_tests::TestDns;
use tessera_tests::real::{RealServer, free_port};
use tessera_tests::saml_idp::SamlIdp;
use tessera_tests::static_http::StaticHttp;
use tessera_tests::{Backends, expect_status};

use super::KillOnDrop;

/// How long the run may take before it is stopped as hung. It takes 1.5 to 3 minutes; more on
/// a machine busy with other work (most of the server's time goes into the RSA keys of the SAML
/// connections the run creates).
const RUN_TIMEOUT: Duration = Duration::from_secs(900);

/// Test cases per operation and phase: enough for the boundary and invalid-input cases to
/// reach every handler, few enough to keep the run within about three minutes on two cores.
const MAX_EXAMPLES: u32 = 50;

/// The checks run on every response; the last two hold methods the document does not list
/// for a path to `405` with an `Allow` header naming the ones it does.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance,\
                      unsupported_method,allow_header_conformance";

/// Fewer operations than this answering a success at least once means the fixtures no longer
/// open the way into the handlers (most answers would be 404s), so the run checked little.
/// 60 of the 61 do (the logo upload would need a real image).
const MIN_OPERATIONS_WITH_SUCCESS: usize = 55;

/// The `schemathesis` executable: `$SCHEMATHESIS`, or the one scripts/test installs.
fn schemathesis_cli() -> PathBuf {
    let path = std::env::var_os("SCHEMATHESIS")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e/.venv/bin/schemathesis")
        });
    assert!(
        path.is_file(),
        "{} is missing: run scripts/test, which installs schemathesis \
         (tests/e2e/requirements.txt) into tests/e2e/.venv",
        path.display()
    );
    path
}

/// `target/e2e-schemathesis/`, next to the browser tests' `target/e2e-screenshots/`.
fn artifact_dir() -> PathBuf {
    super::browser::screenshot_dir().with_file_name("e2e-schemathesis")
}

/// The admin API as the instance-admin key sees it, for making the fixtures.
struct Admin {
    client: reqwest::Client,
    base: String,
    key: String,
}

impl Admin {
    async fn call(&self, method: Method, path: &str, body: Value, status: u16) -> Value {
        let response = self
            .client
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_status(response, status).await
    }

    async fn create(&self, path: &str, body: Value) -> Value {
        self.call(Method::POST, path, body, 201).await
    }
}

/// The dictionaries path parameters draw from: name → values. `keep_*` objects serve every
/// operation; each deleting operation gets the `spare_*` ones (and `delete_organization` an
/// empty organization of its own), so deleting them does not turn the rest of the run into 404s.
type Dictionaries = BTreeMap<String, Vec<String>>;

fn id(value: &Value, field: &str) -> String {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {value}"))
        .to_owned()
}

/// Where the fixtures' connections find their IdPs (both on loopback).
struct Upstreams {
    /// The OIDC stand-in's issuer.
    issuer: String,
    /// The SAML IdP's metadata URL.
    saml_metadata_url: String,
}

/// One of each kind of object in organization `org` (and at the instance level), each added
/// to the dictionary `{set}_{kind}`.
async fn object_set(admin: &Admin, org: &str, set: &str, idps: &Upstreams, out: &mut Dictionaries) {
    let issuer = idps.issuer.as_str();
    let mut add = |kind: &str, value: String| {
        out.entry(format!("{set}_{kind}")).or_default().push(value);
    };
    let base = format!("/organizations/{org}");
    let domain = format!("{set}.acme.example");
    admin
        .create(&format!("{base}/domains"), json!({"domain": domain}))
        .await;
    admin
        .call(
            Method::POST,
            &format!("{base}/domains/{domain}/verify"),
            json!({"force": true}),
            200,
        )
        .await;
    add("domain", domain);
    let member = admin
        .create(
            &format!("{base}/memberships"),
            json!({"email": format!("{set}@acme.example"), "roles": ["admin"]}),
        )
        .await;
    add("user", id(&member, "user_id"));
    let instance_admin = admin
        .create(
            "/instance-admins",
            json!({"email": format!("{set}-root@tessera.example")}),
        )
        .await;
    add("user", id(&instance_admin, "user_id"));
    let key = admin
        .create(&format!("{base}/api-keys"), json!({"name": set}))
        .await;
    add("key", id(&key, "id"));
    let connection = admin
        .create(
            &format!("{base}/connections"),
            json!({"kind": "oidc", "name": format!("{set} IdP"), "issuer": issuer,
                   "client_id": "tessera", "client_secret": "s3cret"}),
        )
        .await;
    let connection_id = id(&connection, "id");
    let test = admin
        .create(
            &format!("{base}/connections/{connection_id}/test-logins"),
            json!({}),
        )
        .await;
    add("test", id(&test, "id"));
    add("connection", connection_id);
    let saml = admin
        .create(
            &format!("{base}/connections"),
            json!({"kind": "saml", "name": format!("{set} SAML"),
                   "metadata_url": idps.saml_metadata_url}),
        )
        .await;
    add("connection", id(&saml, "id"));
    // A SAML connection still waiting for its IdP's metadata (it cannot be activated yet).
    let waiting = admin
        .create(
            &format!("{base}/connections"),
            json!({"kind": "saml", "name": format!("{set} SAML, no metadata yet")}),
        )
        .await;
    add("connection", id(&waiting, "id"));
    let social = admin
        .create(
            "/connections",
            json!({"kind": "oidc", "name": format!("{set} social"), "issuer": issuer,
                   "client_id": "tessera", "client_secret": "s3cret"}),
        )
        .await;
    add("social", id(&social, "id"));
    let token = admin
        .create(&format!("{base}/scim-tokens"), json!({"name": set}))
        .await;
    add("token", id(&token, "id"));
    let link = admin
        .create(&format!("{base}/setup-links"), json!({"label": set}))
        .await;
    add("link", id(&link, "id"));
    let app = admin
        .create(
            "/clients",
            json!({"name": format!("{set} billing"), "type": "confidential",
                   "grant_types": ["client_credentials"], "organization": org}),
        )
        .await;
    add("client", id(&app, "client_id"));
}

/// The objects the run works on: organization `acme` with role rules, branding and two sets
/// of objects (`keep_*`, `spare_*`), and the empty organization `doomed`.
async fn fixtures(admin: &Admin, idps: &Upstreams) -> Dictionaries {
    let mut dictionaries = Dictionaries::new();
    for (slug, set) in [("acme", "keep"), ("doomed", "doomed")] {
        let org = admin
            .create("/organizations", json!({"name": slug, "slug": slug}))
            .await;
        dictionaries.insert(format!("{set}_org"), vec![id(&org, "id")]);
    }
    let acme = dictionaries["keep_org"][0].clone();
    for set in ["keep", "spare"] {
        object_set(admin, &acme, set, idps, &mut dictionaries).await;
    }
    admin
        .call(
            Method::PUT,
            "/organizations/acme/role-mappings",
            json!({"rules": [{"claim": "groups", "op": "equals", "value": "Admins",
                              "role": "admin"}]}),
            200,
        )
        .await;
    admin
        .call(
            Method::PUT,
            "/organizations/acme/branding",
            json!({"display_name": "Acme", "color": "#1d4ed8"}),
            200,
        )
        .await;
    dictionaries
}

/// Path parameter → the kind of object it names.
const PATH_PARAMETERS: [(&str, &str); 9] = [
    ("org", "org"),
    ("domain", "domain"),
    ("user_id", "user"),
    ("key_id", "key"),
    ("id", "connection"),
    ("test", "test"),
    ("token_id", "token"),
    ("link_id", "link"),
    ("client_id", "client"),
];

/// Operations whose path parameter draws from another dictionary than `keep_{kind}`: those
/// that delete what it names get the `spare_*` objects (`delete_organization` the empty
/// organization), and the social connection routes the instance's connections.
const OVERRIDES: [(&str, &str, &str); 11] = [
    ("delete_organization", "org", "doomed_org"),
    ("remove_domain", "domain", "spare_domain"),
    ("remove_membership", "user_id", "spare_user"),
    ("remove_instance_admin", "user_id", "spare_user"),
    ("revoke_api_key", "key_id", "spare_key"),
    ("delete_connection", "id", "spare_connection"),
    ("delete_social_connection", "id", "spare_social"),
    ("activate_social_connection", "id", "keep_social"),
    ("revoke_scim_token", "token_id", "spare_token"),
    ("revoke_setup_link", "link_id", "spare_link"),
    ("delete_client", "client_id", "spare_client"),
];

/// How often a path parameter takes a fixture's value rather than a generated one.
const FIXTURE_PROBABILITY: f64 = 0.75;

/// schemathesis.toml for the run: the key (read from the environment, never written down),
/// the dictionaries and which parameters draw from them.
fn config(dictionaries: &Dictionaries) -> String {
    // No state carried over from an earlier run (its cache replays old requests, its example
    // database old failures): every run is the same run.
    let mut out = String::from(
        "headers = { Authorization = \"Bearer ${TESSERA_E2E_KEY}\" }\n\
         [cache]\nenabled = false\n\
         [generation]\ndatabase = \"none\"\n\n",
    );
    for (name, values) in dictionaries {
        out.push_str(&format!("[dictionaries.{name}]\nvalues = {values:?}\n\n"));
    }
    let binding = |parameter: &str, dictionary: &str| {
        format!(
            "\"path.{parameter}\" = {{ dictionary = \"{dictionary}\", probability = \
             {FIXTURE_PROBABILITY} }}\n"
        )
    };
    out.push_str("[parameters]\n");
    for (parameter, kind) in PATH_PARAMETERS {
        out.push_str(&binding(parameter, &format!("keep_{kind}")));
    }
    for (operation, overridden, dictionary) in OVERRIDES {
        out.push_str(&format!(
            "\n[[operations]]\ninclude-operation-id = \"{operation}\"\n[operations.parameters]\n"
        ));
        for (parameter, kind) in PATH_PARAMETERS {
            if parameter == overridden {
                out.push_str(&binding(parameter, dictionary));
            } else {
                out.push_str(&binding(parameter, &format!("keep_{kind}")));
            }
        }
    }
    out
}

/// The operations (`GET /api/v1/organizations/{org}`) that answered 2xx at least once, read
/// from the server's own request counters.
async fn operations_with_success(base: &str) -> BTreeSet<String> {
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let label = |labels: &str, name: &str| {
        let start = labels.find(&format!("{name}=\""))? + name.len() + 2;
        let end = labels[start..].find('"')? + start;
        Some(labels[start..end].to_owned())
    };
    metrics
        .lines()
        .filter_map(|line| line.strip_prefix("http_requests_total{"))
        .filter_map(|rest| {
            let (labels, _) = rest.rsplit_once('}')?;
            let status = label(labels, "status")?;
            status.starts_with('2').then(|| {
                Some(format!(
                    "{} {}",
                    label(labels, "method")?,
                    label(labels, "route")?
                ))
            })?
        })
        .collect()
}

/// The failures section of schemathesis's report (the whole report when there is none).
fn failures_section(report: &str) -> &str {
    let start = report
        .find("= FAILURES =")
        .or_else(|| report.find("= ERRORS ="));
    let end = report
        .find("= WARNINGS =")
        .or_else(|| report.find("= SUMMARY ="));
    match (start, end) {
        (Some(start), Some(end)) if start < end => &report[start..end],
        _ => report,
    }
}

#[tokio::test]
async fn admin_api_matches_openapi_yaml_under_schemathesis() {
    let schemathesis = schemathesis_cli();
    let dns = TestDns::start().await.unwrap();
    let idp = StaticHttp::start().await;
    idp.route(
        "/.well-known/openid-configuration",
        200,
        json!({
            "issuer": idp.base,
            "authorization_endpoint": format!("{}/auth", idp.base),
            "token_endpoint": format!("{}/token", idp.base),
            "jwks_uri": format!("{}/jwks", idp.base),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        })
        .to_string(),
    );
    idp.route("/jwks", 200, crate::federation::RSA_JWK);
    let saml_idp = SamlIdp::start();
    let idps = Upstreams {
        issuer: idp.base.clone(),
        saml_metadata_url: saml_idp.metadata_url(),
    };
    // Nothing listens there: a generated issuer or metadata URL fails at once, on the machine.
    let proxy = format!("http://127.0.0.1:{}", free_port());
    let dns_server = dns.addr.to_string();
    let server = RealServer::start(&[
        ("TESSERA_DNS_SERVER", &dns_server),
        ("HTTPS_PROXY", &proxy),
        ("HTTP_PROXY", &proxy),
        ("NO_PROXY", "127.0.0.1,localhost"),
    ])
    .await;

    let created = server
        .command()
        .args(["admin", "create-key", "--name", "schemathesis"])
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
    let admin = Admin {
        client: reqwest::Client::new(),
        base: server.base.clone(),
        key: key.clone(),
    };
    let dictionaries = fixtures(&admin, &idps).await;

    let backend = if Backends::from_env().postgres.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let dir = artifact_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let config_path = dir.join(format!("schemathesis-{backend}.toml"));
    let report_path = dir.join(format!("schemathesis-{backend}.txt"));
    let json_path = dir.join(format!("schemathesis-{backend}.json"));
    let log_path = dir.join(format!("tessera-{backend}.log"));
    std::fs::write(&config_path, config(&dictionaries)).unwrap();
    let _ = std::fs::remove_file(&json_path);
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml");

    let started = Instant::now();
    let mut run = KillOnDrop(
        Command::new(&schemathesis)
            .arg("--config-file")
            .arg(&config_path)
            .arg("run")
            .arg(&spec)
            .args(["--url", &server.base, "--checks", CHECKS])
            .args(["--max-examples", &MAX_EXAMPLES.to_string()])
            // The same test cases on every run (no seed), one request at a time; an operation's
            // first failure does not hide the others.
            .args(["--generation-deterministic", "--workers", "1", "--no-color"])
            .arg("--continue-on-failure")
            .args(["--report", "json", "--report-json-path"])
            .arg(&json_path)
            // The key goes through the environment (argv is readable by other users).
            .env("TESSERA_E2E_KEY", &key)
            .env("PYTHONUTF8", "1")
            .env("NO_COLOR", "1")
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&report_path).unwrap())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", schemathesis.display())),
    );
    let Some(status) = run.wait_until(started, RUN_TIMEOUT).await else {
        std::fs::write(&log_path, server.log()).unwrap();
        panic!(
            "schemathesis did not finish within {RUN_TIMEOUT:?}; report so far in {}",
            report_path.display()
        );
    };
    let elapsed = started.elapsed();
    let reached = operations_with_success(&server.base).await;
    std::fs::write(&log_path, server.log()).unwrap();
    let report = std::fs::read_to_string(&report_path).unwrap();
    let summary: Value = std::fs::read_to_string(&json_path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| panic!("schemathesis wrote no JSON report ({status}):\n{report}"));
    eprintln!(
        "schemathesis on {backend}: {} test cases over {} operations in {elapsed:.1?} ({status}), \
         {} operations answered 2xx; report in {}",
        summary["test_cases"]["generated"],
        summary["operations"]["tested"],
        reached.len(),
        report_path.display()
    );

    assert!(
        summary["failures"].as_array().is_some_and(Vec::is_empty)
            && summary["errors"].as_array().is_some_and(Vec::is_empty)
            && status.success(),
        "schemathesis found problems on {backend} ({status}; report: {}, server log: {}):\n{}\n\
         failures: {}\nerrors: {}",
        report_path.display(),
        log_path.display(),
        failures_section(&report),
        summary["failures"],
        summary["errors"],
    );
    let operations = &summary["operations"];
    assert!(
        summary["complete"] == true
            && operations["tested"] == operations["total"]
            && operations["skipped"] == 0,
        "schemathesis did not test every operation: {operations}\n{report}"
    );
    assert!(
        reached.len() >= MIN_OPERATIONS_WITH_SUCCESS,
        "only {} operations answered 2xx (at least {MIN_OPERATIONS_WITH_SUCCESS} expected): the \
         run hardly got past 'not found': {reached:?}",
        reached.len()
    );
}
