//! The audit log: every change is recorded with who, what and which request; filters work;
//! org-scoped keys see only their organization's history.

use reqwest::Method;
use serde_json::{Value, json};
use tessera_tests::{TestApp, expect_error, expect_status};

async fn events(app: &TestApp, key: &str, path: &str) -> Vec<Value> {
    let response = app.with_key(key, Method::GET, path).send().await.unwrap();
    expect_status(response, 200).await["data"]
        .as_array()
        .unwrap()
        .clone()
}

fn actions(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn every_change_is_recorded_newest_first() {
    let app = TestApp::spawn().await;
    let org = app.create_org("acme").await;
    let org_id = org["id"].as_str().unwrap();
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/organizations/acme/domains",
            json!({ "domain": "acme.example" }),
        ),
        (
            Method::POST,
            "/api/v1/organizations/acme/domains/acme.example/verify",
            json!({ "force": true }),
        ),
        (
            Method::POST,
            "/api/v1/organizations/acme/memberships",
            json!({ "email": "ada@acme.example", "roles": ["admin"] }),
        ),
        (
            Method::PATCH,
            "/api/v1/organizations/acme",
            json!({ "name": "Acme Inc." }),
        ),
    ] {
        let response = app.admin(method, path).json(&body).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
    }
    let listed = events(
        &app,
        &app.admin_key,
        &format!("/api/v1/audit-events?organization_id={org_id}"),
    )
    .await;
    assert_eq!(
        actions(&listed),
        [
            "organization.updated",
            "membership.added",
            "domain.verified",
            "domain.added",
            "organization.created",
        ]
    );
    let updated = &listed[0];
    assert_eq!(updated["actor"]["kind"], "api_key");
    assert_eq!(updated["actor"]["ip"], "127.0.0.1");
    assert_eq!(updated["data"]["before"]["name"], "Org acme");
    assert_eq!(updated["data"]["after"]["name"], "Acme Inc.");
    // Users are global: their creation is an instance-level event.
    let users = events(
        &app,
        &app.admin_key,
        "/api/v1/audit-events?action=user.created",
    )
    .await;
    assert_eq!(users.len(), 1);
}

#[tokio::test]
async fn events_carry_the_request_id_of_the_change() {
    let app = TestApp::spawn().await;
    let response = app
        .admin(Method::POST, "/api/v1/organizations")
        .header("x-request-id", "change-42")
        .json(&json!({ "name": "Acme", "slug": "acme" }))
        .send()
        .await
        .unwrap();
    expect_status(response, 201).await;
    let listed = events(
        &app,
        &app.admin_key,
        "/api/v1/organizations/acme/audit-events",
    )
    .await;
    assert_eq!(listed[0]["action"], "organization.created");
    assert_eq!(listed[0]["request_id"], "change-42");
}

#[tokio::test]
async fn failed_domain_verification_is_audited() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let response = app
        .admin(Method::POST, "/api/v1/organizations/acme/domains")
        .json(&json!({ "domain": "acme.example" }))
        .send()
        .await
        .unwrap();
    expect_status(response, 201).await;
    let response = app
        .admin(
            Method::POST,
            "/api/v1/organizations/acme/domains/acme.example/verify",
        )
        .send()
        .await
        .unwrap();
    expect_status(response, 422).await;
    let listed = events(
        &app,
        &app.admin_key,
        "/api/v1/organizations/acme/audit-events?action=domain.verification_failed",
    )
    .await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["target"]["id"], "acme.example");
}

#[tokio::test]
async fn org_key_sees_only_its_own_history() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let globex = app.create_org("globex").await;
    let key = app.create_org_key("acme").await;
    let own = events(&app, &key, "/api/v1/audit-events").await;
    assert!(!own.is_empty());
    assert!(own.iter().all(|e| e["organization_id"] != globex["id"]));
    let response = app
        .with_key(
            &key,
            Method::GET,
            &format!(
                "/api/v1/audit-events?organization_id={}",
                globex["id"].as_str().unwrap()
            ),
        )
        .send()
        .await
        .unwrap();
    expect_error(response, 404, "organization_not_found", None).await;
    let response = app
        .with_key(
            &key,
            Method::GET,
            "/api/v1/organizations/globex/audit-events",
        )
        .send()
        .await
        .unwrap();
    expect_error(response, 404, "organization_not_found", None).await;
}

#[tokio::test]
async fn time_and_action_filters_apply() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let future = "2999-01-01T00:00:00Z";
    assert!(
        events(
            &app,
            &app.admin_key,
            &format!("/api/v1/audit-events?since={future}")
        )
        .await
        .is_empty()
    );
    let past = "2000-01-01T00:00:00Z";
    assert!(
        events(
            &app,
            &app.admin_key,
            &format!("/api/v1/audit-events?until={past}")
        )
        .await
        .is_empty()
    );
    let created = events(
        &app,
        &app.admin_key,
        "/api/v1/audit-events?action=organization.created",
    )
    .await;
    assert_eq!(created.len(), 1);
    let response = app
        .admin(Method::GET, "/api/v1/audit-events?action=made.up")
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_query", Some("action")).await;
}
