//! The admin console in a real browser (`tests/e2e/console.mjs`): the first admin creates an
//! organization, verifies its domain against the test's DNS server, runs the connection wizard
//! for a real oidc-provider IdP (test sign-ins, a role rule with a live preview, activation),
//! registers an app, opens a setup link, and a user signs in through the app with
//! openid-client. Screenshots of each wizard step stay in `target/e2e-screenshots/`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};
use tessera_tests::expect_status;

use super::browser::{KillOnDrop, LocalApp, chromium, e2e_dir, local_app, screenshot_dir};

/// How long the whole browser run may take.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(240);

const SCREENSHOTS: &[&str] = &[
    "console-1-first-admin",
    "console-2-org-overview",
    "console-3-domain-record",
    "console-4-domain-verified",
    "wizard-1-choose-idp",
    "wizard-2-register",
    "wizard-3-connect-error",
    "wizard-4-test-failed",
    "wizard-4-test",
    "wizard-5-roles",
    "wizard-6-activate",
    "console-5-apps",
    "console-6-scim",
    "console-7-branding",
    "console-8-audit",
    "setup-link",
    "wizard-saml-2-register",
    "wizard-saml-3-connect-error",
    "wizard-saml-4-test",
    "wizard-saml-5-roles",
    "wizard-saml-6-connection",
];

/// Runs the script, publishing the TXT record it asks for the way an admin would at their
/// DNS provider, and returns its JSON result.
async fn run_console(local: &LocalApp, first_admin_link: &str) -> Value {
    let work = tempfile::tempdir().unwrap();
    let (stdout_path, stderr_path) = (work.path().join("out.txt"), work.path().join("err.txt"));
    let shots = screenshot_dir();
    std::fs::create_dir_all(&shots).unwrap();
    for name in SCREENSHOTS.iter().chain(&["failure"]) {
        let _ = std::fs::remove_file(shots.join(format!("{name}.png")));
    }
    let mut node = KillOnDrop(
        Command::new("node")
            .arg("console.mjs")
            .current_dir(e2e_dir())
            .env("BASE_URL", &local.base)
            .env("FIRST_ADMIN_LINK", first_admin_link)
            .env("WORK_DIR", work.path())
            .env("LINK_FILE", work.path().join("unused-link.txt"))
            .env("SCREENSHOT_DIR", &shots)
            .env("CHROMIUM", chromium())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout_path).unwrap())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .expect("node is missing: scripts/test installs Node.js"),
    );
    let output = || {
        format!(
            "{}\n{}",
            std::fs::read_to_string(&stdout_path).unwrap_or_default(),
            std::fs::read_to_string(&stderr_path).unwrap_or_default()
        )
    };
    let deadline = Instant::now() + SCRIPT_TIMEOUT;
    let request = work.path().join("dns.json");
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&request) {
            let record: Value = serde_json::from_str(&text).unwrap();
            local.app.dns.add_txt(
                record["name"].as_str().unwrap(),
                record["value"].as_str().unwrap(),
            );
            std::fs::remove_file(&request).unwrap();
            std::fs::write(work.path().join("dns.done"), "published").unwrap();
        }
        if let Some(status) = node.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "console.mjs did not finish within {SCRIPT_TIMEOUT:?}:\n{}",
            output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        status.success(),
        "console.mjs failed ({status}):\n{}",
        output()
    );
    let stdout = std::fs::read_to_string(&stdout_path).unwrap();
    let result: Value = serde_json::from_str(
        stdout
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("no JSON result ({e}):\n{}", output()));
    assert_eq!(result["ok"], true, "{result}");
    for name in SCREENSHOTS {
        let file = shots.join(format!("{name}.png"));
        let size = std::fs::metadata(&file)
            .unwrap_or_else(|e| panic!("screenshot {} is missing: {e}", file.display()))
            .len();
        assert!(size > 1000, "screenshot {} is nearly empty", file.display());
    }
    result
}

#[tokio::test]
async fn admin_sets_up_sso_in_the_console_and_a_user_signs_in_through_an_app() {
    let local = local_app(&[]).await;
    let app = &local.app;
    let link = app.broker().first_admin_link().await.unwrap().unwrap();
    let result = run_console(&local, link.expose_secret()).await;

    // The user signed in through the app, at the org's IdP, with the role the rule gives.
    let sign_in = &result["sign_in"];
    assert_eq!(sign_in["email"], "alice@acme.test");
    assert_eq!(sign_in["org_id"], result["org_id"]);
    assert_eq!(sign_in["roles"], json!(["admin"]));
    // The wizard showed a failed check by its code, and the rule's preview before saving.
    assert_eq!(result["failed_test"], "upstream_access_denied");
    assert!(
        result["preview"].as_str().unwrap().contains("admin"),
        "{result}"
    );

    // The same wizard for a SAML IdP (samlify) in a second org: the SP values shown before the
    // connection existed are the ones it has, a wrong metadata URL is refused on its field, and
    // a user signs in through the app at that IdP with the role its rule gives.
    let saml = &result["saml_sign_in"];
    assert_eq!(saml["email"], "gina@globex.test");
    assert_eq!(saml["roles"], json!(["staff"]));
    assert_eq!(saml["amr"], json!(["fed", "pwd"]));
    assert!(
        result["saml_inline_error"]
            .as_str()
            .unwrap()
            .contains("could not read the metadata"),
        "{result}"
    );
    let saml_connection = expect_status(
        app.admin(
            Method::GET,
            &format!(
                "/api/v1/organizations/globex/connections/{}",
                result["saml_connection_id"].as_str().unwrap()
            ),
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(saml_connection["kind"], "saml");
    assert_eq!(saml_connection["status"], "active");
    assert_eq!(saml_connection["sp_entity_id"], result["saml_sp"]["entity"]);
    assert_eq!(saml_connection["acs_url"], result["saml_sp"]["acs"]);
    assert_eq!(saml["org_id"], saml_connection["organization_id"]);

    // Every page screenshotted labels its controls and names its buttons and links.
    let checked = result["accessibility"].as_object().unwrap();
    assert_eq!(
        checked.len(),
        SCREENSHOTS.len(),
        "every screenshotted page is checked"
    );
    for (page, problems) in checked {
        assert_eq!(problems, &json!([]), "accessibility problems on {page}");
    }

    // What the console did is what the API holds.
    let get = |path: String| app.admin(Method::GET, &path).send();
    let connection = expect_status(
        get(format!(
            "/api/v1/organizations/acme/connections/{}",
            result["connection_id"].as_str().unwrap()
        ))
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(connection["status"], "active");
    assert_eq!(connection["preset"], "okta");
    assert_eq!(connection["redirect_uri"], result["redirect_uri"]);
    let org = expect_status(get("/api/v1/organizations/acme".into()).await.unwrap(), 200).await;
    assert_eq!(
        org["require_sso"], true,
        "switched on in the activation step"
    );
    let domain = expect_status(
        get("/api/v1/organizations/acme/domains/acme.test".into())
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(domain["verified"], true);
    assert_eq!(domain["verification_method"], "dns_txt");
    let rules = expect_status(
        get("/api/v1/organizations/acme/role-mappings".into())
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(
        rules["rules"],
        json!([{ "claim": "groups", "op": "equals", "value": "acme-admins", "role": "admin" }])
    );
    assert_eq!(rules["default_role"], "member");
    // Every change was made by the first admin, a person, in the audit log.
    let events = expect_status(
        get("/api/v1/organizations/acme/audit-events?action=connection.activated".into())
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(events["data"][0]["actor"]["kind"], "user");
    local.app.stop().await;
}
