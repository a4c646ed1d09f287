//! Setup links: an org admin hands one to the customer's IT person, who can then run the SSO
//! set-up of that one organization (domains, connections, role rules) and nothing else, until
//! the link expires or is revoked; its creation, first use and every change made with it are
//! in the audit log.

use std::sync::Arc;

use broker::ManualClock;
use reqwest::Method;
use serde_json::{Value, json};
use tessera_tests::{Options, TestApp, expect_error, expect_status};

use super::{Console, audit, make_org_admin};

/// Creates a link for `org` with the instance key; returns (its JSON, its token).
async fn create_link(app: &TestApp, org: &str, body: Value) -> (Value, String) {
    let response = app
        .admin(
            Method::POST,
            &format!("/api/v1/organizations/{org}/setup-links"),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    let created = expect_status(response, 201).await;
    let url = created["url"].as_str().unwrap().to_owned();
    let token = url.rsplit('/').next().unwrap().to_owned();
    (created, token)
}

#[tokio::test]
async fn setup_link_opens_the_sso_setup_of_its_org_and_nothing_else() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    app.create_org("globex").await;
    let (created, token) = create_link(&app, "acme", json!({ "label": "Jane, Acme IT" })).await;
    assert_eq!(created["status"], "active");
    assert_eq!(created["label"], "Jane, Acme IT");
    assert!(created["url"].as_str().unwrap().contains("/setup/tsl_"));
    let link = |method: Method, path: &str| app.with_key(&token, method, path);

    // What the wizard needs works.
    let me = expect_status(link(Method::GET, "/api/v1/me").send().await.unwrap(), 200).await;
    assert_eq!(me["kind"], "setup_link");
    assert_eq!(me["organizations"][0]["slug"], "acme");
    let org = link(Method::GET, "/api/v1/organizations/acme")
        .send()
        .await
        .unwrap();
    expect_status(org, 200).await;
    let domain = link(Method::POST, "/api/v1/organizations/acme/domains")
        .json(&json!({ "domain": "acme.test" }))
        .send()
        .await
        .unwrap();
    let domain = expect_status(domain, 201).await;
    app.dns.add_txt(
        domain["txt_record"]["name"].as_str().unwrap(),
        domain["txt_record"]["value"].as_str().unwrap(),
    );
    let verified = link(
        Method::POST,
        "/api/v1/organizations/acme/domains/acme.test/verify",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(expect_status(verified, 200).await["verified"], true);
    for path in [
        "/api/v1/organizations/acme/connections",
        "/api/v1/organizations/acme/role-mappings",
        "/api/v1/organizations/acme/connection-endpoints",
    ] {
        let response = link(Method::GET, path).send().await.unwrap();
        expect_status(response, 200).await;
    }
    let rules = link(Method::PUT, "/api/v1/organizations/acme/role-mappings")
        .json(&json!({ "rules": [{ "claim": "groups", "op": "equals", "value": "IT", "role": "admin" }] }))
        .send()
        .await
        .unwrap();
    expect_status(rules, 200).await;

    // The rest of the admin API is closed to it, with a code that says why.
    for (method, path) in [
        (Method::GET, "/api/v1/organizations"),
        (Method::GET, "/api/v1/organizations/acme/memberships"),
        (Method::POST, "/api/v1/organizations/acme/api-keys"),
        (Method::POST, "/api/v1/organizations/acme/scim-tokens"),
        (Method::POST, "/api/v1/organizations/acme/setup-links"),
        (Method::GET, "/api/v1/organizations/acme/audit-events"),
        (Method::PUT, "/api/v1/organizations/acme/branding"),
        (Method::PATCH, "/api/v1/organizations/acme"),
        (
            Method::DELETE,
            "/api/v1/organizations/acme/domains/acme.test",
        ),
        (Method::GET, "/api/v1/clients"),
    ] {
        let response = link(method.clone(), path)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        expect_error(response, 403, "setup_link_not_allowed", None).await;
    }
    // Another organization does not exist for it.
    for path in [
        "/api/v1/organizations/globex",
        "/api/v1/organizations/globex/connections",
        "/api/v1/organizations/globex/domains",
    ] {
        let response = link(Method::GET, path).send().await.unwrap();
        expect_error(response, 404, "organization_not_found", None).await;
    }

    // Audited: creation, first use (once), and the changes made with it, as the link.
    let link_id = created["id"].as_str().unwrap();
    assert_eq!(audit(&app, "acme", "setup_link.created").await.len(), 1);
    let used = audit(&app, "acme", "setup_link.used").await;
    assert_eq!(used.len(), 1, "{used:?}");
    let verified = audit(&app, "acme", "domain.verified").await;
    assert_eq!(verified[0]["actor"]["kind"], "setup_link");
    assert_eq!(verified[0]["actor"]["id"], link_id);
    let by_links = app
        .admin(
            Method::GET,
            "/api/v1/organizations/acme/audit-events?actor_kind=setup_link",
        )
        .send()
        .await
        .unwrap();
    let actions: Vec<String> = expect_status(by_links, 200).await["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        actions.contains(&"role_mapping.updated".to_owned()),
        "{actions:?}"
    );
    assert!(
        !actions.contains(&"setup_link.created".to_owned()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn revoked_and_expired_setup_links_stop_working() {
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let clock = Arc::new(ManualClock::new(start));
    let app = TestApp::spawn_with(Options {
        env: Vec::new(),
        clock: Some(clock.clone()),
    })
    .await;
    app.create_org("acme").await;
    let (revoked, revoked_token) = create_link(&app, "acme", json!({})).await;
    let (_, expiring_token) = create_link(
        &app,
        "acme",
        json!({ "expires_at": "2026-11-22T12:00:00Z" }),
    )
    .await;
    let works = |token: &str| {
        app.with_key(token, Method::GET, "/api/v1/organizations/acme/connections")
            .send()
    };
    expect_status(works(&revoked_token).await.unwrap(), 200).await;
    expect_status(works(&expiring_token).await.unwrap(), 200).await;

    let revoke = app
        .admin(
            Method::DELETE,
            &format!(
                "/api/v1/organizations/acme/setup-links/{}",
                revoked["id"].as_str().unwrap()
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(expect_status(revoke, 200).await["status"], "revoked");
    expect_error(
        works(&revoked_token).await.unwrap(),
        401,
        "setup_link_invalid",
        None,
    )
    .await;
    let page = app
        .client
        .get(app.url(&format!("/setup/{revoked_token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 401, "the wizard page refuses a revoked link");

    clock.advance(chrono::Duration::hours(2));
    expect_error(
        works(&expiring_token).await.unwrap(),
        401,
        "setup_link_invalid",
        None,
    )
    .await;
    let listed = app
        .admin(Method::GET, "/api/v1/organizations/acme/setup-links")
        .send()
        .await
        .unwrap();
    let statuses: Vec<String> = expect_status(listed, 200).await["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["expired", "revoked"], "newest first");
    assert_eq!(audit(&app, "acme", "setup_link.revoked").await.len(), 1);

    // A link lasts at most 30 days.
    for expires in ["2026-11-22T09:00:00Z", "2027-01-01T00:00:00Z"] {
        let response = app
            .admin(Method::POST, "/api/v1/organizations/acme/setup-links")
            .json(&json!({ "expires_at": expires }))
            .send()
            .await
            .unwrap();
        expect_error(response, 400, "invalid_expiry", Some("expires_at")).await;
    }
}

#[tokio::test]
async fn org_admins_create_setup_links_and_the_page_shows_the_org() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    app.create_org("globex").await;
    let ada = Console::sign_in(&app, "ada@acme.test").await;
    make_org_admin(&app, "acme", "ada@acme.test").await;
    let created = ada
        .request(Method::POST, "/api/v1/organizations/acme/setup-links")
        .json(&json!({ "label": "Jane" }))
        .send()
        .await
        .unwrap();
    let created = expect_status(created, 201).await;
    assert_eq!(created["created_by"], ada.user_id());
    let url = created["url"].as_str().unwrap();
    let token = url.rsplit('/').next().unwrap();

    let page = app
        .client
        .get(app.url(&format!("/setup/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Org acme"), "the page names the organization");
    assert!(html.contains("/assets/setup.js"));

    // Ada's links are Acme's: she cannot list or revoke Globex's.
    let (globex_link, _) = create_link(&app, "globex", json!({})).await;
    let revoke = ada
        .request(
            Method::DELETE,
            &format!(
                "/api/v1/organizations/acme/setup-links/{}",
                globex_link["id"].as_str().unwrap()
            ),
        )
        .send()
        .await
        .unwrap();
    expect_error(revoke, 404, "setup_link_not_found", None).await;

    // Guessing links is rate limited per address.
    let mut last = 0;
    for _ in 0..25 {
        let response = app
            .client
            .get(app.url("/setup/tsl_guessed-token-that-does-not-exist"))
            .send()
            .await
            .unwrap();
        last = response.status().as_u16();
    }
    assert_eq!(last, 429);
}
