//! Domains: claiming, proving ownership through a real DNS TXT lookup, the instance-admin
//! override, and one verified owner per domain.

use reqwest::Method;
use serde_json::{Value, json};
use tessera_tests::{TestApp, expect_error, expect_status};

async fn add(app: &TestApp, org: &str, domain: &str) -> Value {
    let response = app
        .admin(
            Method::POST,
            &format!("/api/v1/organizations/{org}/domains"),
        )
        .json(&json!({ "domain": domain }))
        .send()
        .await
        .unwrap();
    expect_status(response, 201).await
}

async fn verify(
    app: &TestApp,
    key: &str,
    org: &str,
    domain: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let request = app.with_key(
        key,
        Method::POST,
        &format!("/api/v1/organizations/{org}/domains/{domain}/verify"),
    );
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    request.send().await.unwrap()
}

fn publish(app: &TestApp, added: &Value) {
    app.dns.add_txt(
        added["txt_record"]["name"].as_str().unwrap(),
        added["txt_record"]["value"].as_str().unwrap(),
    );
}

#[tokio::test]
async fn added_domain_is_normalized_and_shows_its_txt_record() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let added = add(&app, "acme", "Acme.EXAMPLE.").await;
    assert_eq!(added["domain"], "acme.example");
    assert_eq!(added["verified"], false);
    assert_eq!(added["txt_record"]["type"], "TXT");
    assert_eq!(
        added["txt_record"]["name"],
        "_tessera-challenge.acme.example"
    );
    let value = added["txt_record"]["value"].as_str().unwrap();
    assert!(
        value.starts_with("tessera-domain-verification=") && value.len() > 40,
        "{value}"
    );
}

#[tokio::test]
async fn verification_succeeds_once_the_txt_record_is_published() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let added = add(&app, "acme", "acme.example").await;

    let response = verify(&app, &app.admin_key, "acme", "acme.example", None).await;
    let error = expect_error(response, 422, "domain_verification_failed", Some("domain")).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("_tessera-challenge.acme.example")
    );

    app.dns.add_txt(
        "_tessera-challenge.acme.example",
        "some-other-site-verification=x",
    );
    publish(&app, &added);
    let response = verify(&app, &app.admin_key, "acme", "acme.example", None).await;
    let verified = expect_status(response, 200).await;
    assert_eq!(verified["verified"], true);
    assert_eq!(verified["verification_method"], "dns_txt");
    assert!(verified["verified_at"].is_string());
}

#[tokio::test]
async fn a_wrong_token_does_not_verify() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    add(&app, "acme", "acme.example").await;
    app.dns.add_txt(
        "_tessera-challenge.acme.example",
        "tessera-domain-verification=guessed",
    );
    let response = verify(&app, &app.admin_key, "acme", "acme.example", None).await;
    expect_error(response, 422, "domain_verification_failed", None).await;
}

#[tokio::test]
async fn force_verification_is_for_instance_admins_only() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    add(&app, "acme", "acme.example").await;
    let org_key = app.create_org_key("acme").await;

    let response = verify(
        &app,
        &org_key,
        "acme",
        "acme.example",
        Some(json!({ "force": true })),
    )
    .await;
    expect_error(response, 403, "instance_admin_required", Some("force")).await;

    let response = verify(
        &app,
        &app.admin_key,
        "acme",
        "acme.example",
        Some(json!({ "force": true })),
    )
    .await;
    let verified = expect_status(response, 200).await;
    assert_eq!(verified["verified"], true);
    assert_eq!(verified["verification_method"], "manual");
}

#[tokio::test]
async fn a_verified_domain_belongs_to_one_organization() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    app.create_org("rival").await;
    let acme_claim = add(&app, "acme", "contested.example").await;
    let rival_claim = add(&app, "rival", "contested.example").await;
    publish(&app, &acme_claim);
    publish(&app, &rival_claim);

    let response = verify(&app, &app.admin_key, "acme", "contested.example", None).await;
    expect_status(response, 200).await;
    let response = verify(&app, &app.admin_key, "rival", "contested.example", None).await;
    expect_error(response, 409, "domain_owned_by_other_org", Some("domain")).await;

    app.create_org("latecomer").await;
    let response = app
        .admin(Method::POST, "/api/v1/organizations/latecomer/domains")
        .json(&json!({ "domain": "contested.example" }))
        .send()
        .await
        .unwrap();
    expect_error(response, 409, "domain_owned_by_other_org", Some("domain")).await;
}

#[tokio::test]
async fn bad_domains_are_refused_with_the_field() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    for bad in [
        "com",
        "co.uk",
        "10.0.0.1",
        "not a domain",
        "https://acme.example",
        "-x.example",
    ] {
        let response = app
            .admin(Method::POST, "/api/v1/organizations/acme/domains")
            .json(&json!({ "domain": bad }))
            .send()
            .await
            .unwrap();
        expect_error(response, 400, "invalid_domain", Some("domain")).await;
    }
    add(&app, "acme", "acme.example").await;
    let response = app
        .admin(Method::POST, "/api/v1/organizations/acme/domains")
        .json(&json!({ "domain": "ACME.example" }))
        .send()
        .await
        .unwrap();
    expect_error(response, 409, "domain_already_added", Some("domain")).await;
}

#[tokio::test]
async fn another_orgs_domain_is_not_found_under_this_org() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    app.create_org("globex").await;
    add(&app, "acme", "acme.example").await;
    for (method, path) in [
        (
            Method::GET,
            "/api/v1/organizations/globex/domains/acme.example",
        ),
        (
            Method::POST,
            "/api/v1/organizations/globex/domains/acme.example/verify",
        ),
        (
            Method::DELETE,
            "/api/v1/organizations/globex/domains/acme.example",
        ),
    ] {
        let response = app.admin(method, path).send().await.unwrap();
        expect_error(response, 404, "domain_not_found", None).await;
    }
    let listed = app
        .admin(Method::GET, "/api/v1/organizations/globex/domains")
        .send()
        .await
        .unwrap();
    assert!(
        expect_status(listed, 200).await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn removed_domain_is_gone() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    add(&app, "acme", "acme.example").await;
    let response = app
        .admin(
            Method::DELETE,
            "/api/v1/organizations/acme/domains/acme.example",
        )
        .send()
        .await
        .unwrap();
    expect_status(response, 204).await;
    let response = app
        .admin(
            Method::GET,
            "/api/v1/organizations/acme/domains/acme.example",
        )
        .send()
        .await
        .unwrap();
    expect_error(response, 404, "domain_not_found", None).await;
}

#[tokio::test]
async fn verify_refuses_a_malformed_force_flag() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    add(&app, "acme", "acme.example").await;
    let response = verify(
        &app,
        &app.admin_key,
        "acme",
        "acme.example",
        Some(json!({ "force": "yes" })),
    )
    .await;
    expect_error(response, 400, "invalid_field", Some("force")).await;
}
