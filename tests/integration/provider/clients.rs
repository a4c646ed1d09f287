//! `/api/v1/clients`: registration rules, secrets shown once, tenant scoping.

use reqwest::Method;
use serde_json::json;
use tessera_tests::{TestApp, create_client, expect_error, expect_status, post_form};

async fn register(app: &TestApp, body: serde_json::Value) -> reqwest::Response {
    app.admin(Method::POST, "/api/v1/clients")
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn confidential_app_gets_a_secret_once() {
    let app = TestApp::spawn().await;
    let created = create_client(
        &app,
        json!({
            "name": "Dashboard",
            "type": "confidential",
            "redirect_uris": ["https://app.example.com/callback"],
        }),
    )
    .await;
    let secret = created["client_secret"].as_str().unwrap();
    assert!(secret.starts_with("tcs_") && secret.len() > 40, "{secret}");
    assert_eq!(
        created["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(created["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(created["require_pkce"], true);
    assert_eq!(created["signing_alg"], "RS256");

    let id = created["client_id"].as_str().unwrap();
    let read = app
        .admin(Method::GET, &format!("/api/v1/clients/{id}"))
        .send()
        .await
        .unwrap();
    let read = expect_status(read, 200).await;
    assert!(read.get("client_secret").is_none());
    let listed = app
        .admin(Method::GET, "/api/v1/clients")
        .send()
        .await
        .unwrap();
    assert!(
        !expect_status(listed, 200)
            .await
            .to_string()
            .contains(secret)
    );
}

#[tokio::test]
async fn public_apps_have_no_secret_and_always_pkce() {
    let app = TestApp::spawn().await;
    let created = create_client(
        &app,
        json!({ "name": "CLI", "type": "public", "redirect_uris": ["http://127.0.0.1/callback"] }),
    )
    .await;
    assert!(created.get("client_secret").is_none());
    assert_eq!(created["token_endpoint_auth_method"], "none");
    let response = register(
        &app,
        json!({ "name": "SPA", "type": "public", "redirect_uris": ["https://spa.example.com/cb"], "require_pkce": false }),
    )
    .await;
    expect_error(response, 400, "invalid_pkce_setting", Some("require_pkce")).await;
    let id = created["client_id"].as_str().unwrap();
    let rotate = app
        .admin(Method::POST, &format!("/api/v1/clients/{id}/secret"))
        .send()
        .await
        .unwrap();
    expect_error(rotate, 409, "public_client_has_no_secret", None).await;
}

#[tokio::test]
async fn registration_rules_name_the_field() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            json!({ "name": "x", "type": "public", "grant_types": ["client_credentials"] }),
            "invalid_grant_type",
            "grant_types[0]",
        ),
        (
            json!({ "name": "x", "type": "confidential", "grant_types": ["implicit"] }),
            "invalid_grant_type",
            "grant_types[0]",
        ),
        (
            json!({ "name": "x", "type": "confidential" }),
            "invalid_redirect_uri",
            "redirect_uris",
        ),
        (
            json!({ "name": "x", "type": "confidential", "redirect_uris": ["http://app.example.com/cb"] }),
            "invalid_redirect_uri",
            "redirect_uris[0]",
        ),
        (
            json!({ "name": "x", "type": "confidential", "redirect_uris": ["https://ok.example/cb", "https://*.example/cb"] }),
            "invalid_redirect_uri",
            "redirect_uris[1]",
        ),
        (
            json!({ "name": "x", "type": "confidential", "grant_types": ["client_credentials"], "scopes": ["bad scope"] }),
            "invalid_scope_name",
            "scopes",
        ),
        (
            json!({ "name": "x", "type": "public", "redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "client_secret_basic" }),
            "invalid_auth_method",
            "token_endpoint_auth_method",
        ),
        (
            json!({ "name": "x", "type": "confidential", "grant_types": ["client_credentials"], "custom_claims": { "sub": { "value": "root" } } }),
            "invalid_custom_claims",
            "custom_claims.sub",
        ),
        (
            json!({ "name": "x", "type": "confidential", "grant_types": ["client_credentials"], "custom_claims": { "tier": { "from": "user.password" } } }),
            "invalid_custom_claims",
            "custom_claims.tier",
        ),
        (
            json!({ "name": "x", "type": "sideways" }),
            "invalid_field",
            "type",
        ),
        (
            json!({ "name": "x", "type": "confidential", "grant_types": ["client_credentials"], "signing_alg": "HS256" }),
            "invalid_field",
            "signing_alg",
        ),
        (
            json!({ "name": "x", "type": "confidential", "grant_types": ["client_credentials"], "organization": "nope" }),
            "organization_not_found",
            "organization",
        ),
    ];
    for (body, code, field) in cases {
        let response = register(&app, body.clone()).await;
        expect_error(
            response,
            if code == "organization_not_found" {
                404
            } else {
                400
            },
            code,
            Some(field),
        )
        .await;
    }
    let listed = app
        .admin(Method::GET, "/api/v1/clients")
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
async fn org_keys_manage_only_their_orgs_apps() {
    let app = TestApp::spawn().await;
    let acme = app.create_org("acme").await;
    app.create_org("globex").await;
    let acme_key = app.create_org_key("acme").await;
    let globex_app = create_client(
        &app,
        json!({ "name": "Globex portal", "type": "confidential", "grant_types": ["client_credentials"], "organization": "globex" }),
    )
    .await;
    let response = app
        .with_key(&acme_key, Method::POST, "/api/v1/clients")
        .json(&json!({ "name": "Acme portal", "type": "confidential", "grant_types": ["client_credentials"] }))
        .send()
        .await
        .unwrap();
    let acme_app = expect_status(response, 201).await;
    assert_eq!(
        acme_app["organization_id"], acme["id"],
        "an org key's apps are restricted to its org"
    );

    let listed = app
        .with_key(&acme_key, Method::GET, "/api/v1/clients")
        .send()
        .await
        .unwrap();
    let listed = expect_status(listed, 200).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    let other = globex_app["client_id"].as_str().unwrap();
    for (method, path) in [
        (Method::GET, format!("/api/v1/clients/{other}")),
        (Method::DELETE, format!("/api/v1/clients/{other}")),
        (Method::POST, format!("/api/v1/clients/{other}/secret")),
    ] {
        let response = app.with_key(&acme_key, method, &path).send().await.unwrap();
        expect_error(response, 404, "client_not_found", None).await;
    }
    let response = app
        .with_key(&acme_key, Method::POST, "/api/v1/clients")
        .json(&json!({ "name": "x", "type": "confidential", "grant_types": ["client_credentials"], "organization": "globex" }))
        .send()
        .await
        .unwrap();
    expect_error(
        response,
        404,
        "organization_not_found",
        Some("organization"),
    )
    .await;
}

#[tokio::test]
async fn settings_can_be_replaced_but_not_the_type() {
    let app = TestApp::spawn().await;
    let created = create_client(
        &app,
        json!({ "name": "Dashboard", "type": "confidential", "redirect_uris": ["https://a.example/cb"] }),
    )
    .await;
    let path = format!("/api/v1/clients/{}", created["client_id"].as_str().unwrap());
    let response = app
        .admin(Method::PUT, &path)
        .json(&json!({ "name": "Dashboard 2", "type": "confidential", "redirect_uris": ["https://b.example/cb"], "signing_alg": "ES256" }))
        .send()
        .await
        .unwrap();
    let updated = expect_status(response, 200).await;
    assert_eq!(updated["redirect_uris"], json!(["https://b.example/cb"]));
    assert_eq!(updated["signing_alg"], "ES256");
    let response = app
        .admin(Method::PUT, &path)
        .json(&json!({ "name": "Dashboard", "type": "public", "redirect_uris": ["https://b.example/cb"] }))
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_field", Some("type")).await;
}

#[tokio::test]
async fn rotated_secret_replaces_the_old_one_and_deleted_apps_are_gone() {
    let app = TestApp::spawn().await;
    let (id, old) = tessera_tests::service_client(&app, &["read"]).await;
    let rotated = app
        .admin(Method::POST, &format!("/api/v1/clients/{id}/secret"))
        .send()
        .await
        .unwrap();
    let new = expect_status(rotated, 200).await["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new, old);
    let form = [("grant_type", "client_credentials")];
    let refused = post_form(&app, "/oauth2/token", Some((&id, &old)), &form).await;
    assert_eq!(refused.status(), 401);
    let accepted = post_form(&app, "/oauth2/token", Some((&id, &new)), &form).await;
    assert_eq!(accepted.status(), 200);

    let deleted = app
        .admin(Method::DELETE, &format!("/api/v1/clients/{id}"))
        .send()
        .await
        .unwrap();
    expect_status(deleted, 204).await;
    let gone = post_form(&app, "/oauth2/token", Some((&id, &new)), &form).await;
    assert_eq!(gone.status(), 401);
    let audit = app
        .admin(
            Method::GET,
            "/api/v1/audit-events?action=client.secret_rotated",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(audit, 200).await["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
