//! The client credentials grant: authentication, scopes, audiences, algorithms and errors.

use serde_json::json;
use tessera_tests::{
    TestApp, create_client, expect_status, post_form, service_client, verify_with_jwks,
};

const GRANT: (&str, &str) = ("grant_type", "client_credentials");

#[tokio::test]
async fn service_gets_a_verifiable_rfc9068_access_token() {
    let app = TestApp::spawn().await;
    let (id, secret) = service_client(&app, &["invoices:read", "invoices:write"]).await;
    let response = post_form(&app, "/oauth2/token", Some((&id, &secret)), &[GRANT]).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = expect_status(response, 200).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    assert_eq!(body["scope"], "invoices:read invoices:write");
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());

    let (header, claims) = verify_with_jwks(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["client_id"], id.as_str());
    assert_eq!(claims["aud"], app.config.public_base());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600
    );
    assert!(claims["jti"].is_string());
}

#[tokio::test]
async fn scope_and_resource_narrow_the_token() {
    let app = TestApp::spawn().await;
    let (id, secret) = service_client(&app, &["invoices:read", "invoices:write"]).await;
    let form = [
        GRANT,
        ("scope", "invoices:read"),
        ("resource", "https://api.example.com/"),
    ];
    let body = expect_status(
        post_form(&app, "/oauth2/token", Some((&id, &secret)), &form).await,
        200,
    )
    .await;
    assert_eq!(body["scope"], "invoices:read");
    let (_, claims) = verify_with_jwks(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["aud"], "https://api.example.com/");
    assert_eq!(claims["scope"], "invoices:read");

    let form = [GRANT, ("scope", "invoices:read admin")];
    let body = expect_status(
        post_form(&app, "/oauth2/token", Some((&id, &secret)), &form).await,
        400,
    )
    .await;
    assert_eq!(body["error"], "invalid_scope");
    let form = [GRANT, ("resource", "not-a-uri")];
    let body = expect_status(
        post_form(&app, "/oauth2/token", Some((&id, &secret)), &form).await,
        400,
    )
    .await;
    assert_eq!(body["error"], "invalid_target");
}

#[tokio::test]
async fn per_app_algorithms_sign_with_es256_and_eddsa() {
    let app = TestApp::spawn().await;
    for (alg, expected) in [
        ("ES256", jsonwebtoken::Algorithm::ES256),
        ("EdDSA", jsonwebtoken::Algorithm::EdDSA),
    ] {
        let created = create_client(
            &app,
            json!({ "name": alg, "type": "confidential", "grant_types": ["client_credentials"], "signing_alg": alg }),
        )
        .await;
        let creds = (
            created["client_id"].as_str().unwrap(),
            created["client_secret"].as_str().unwrap(),
        );
        let body = expect_status(
            post_form(&app, "/oauth2/token", Some(creds), &[GRANT]).await,
            200,
        )
        .await;
        let (header, _) = verify_with_jwks(&app, body["access_token"].as_str().unwrap()).await;
        assert_eq!(header.alg, expected);
    }
}

#[tokio::test]
async fn wrong_credentials_are_invalid_client_with_a_challenge() {
    let app = TestApp::spawn().await;
    let (id, _) = service_client(&app, &[]).await;
    for creds in [
        (id.as_str(), "tcs_wrong"),
        ("unknown-client", "x"),
        (id.as_str(), ""),
    ] {
        let response = post_form(&app, "/oauth2/token", Some(creds), &[GRANT]).await;
        assert!(
            response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic")
        );
        assert_eq!(
            expect_status(response, 401).await["error"],
            "invalid_client"
        );
    }
    let response = post_form(&app, "/oauth2/token", None, &[GRANT]).await;
    assert_eq!(
        expect_status(response, 401).await["error"],
        "invalid_client"
    );
}

#[tokio::test]
async fn the_registered_authentication_method_is_the_only_one() {
    let app = TestApp::spawn().await;
    let created = create_client(
        &app,
        json!({ "name": "post", "type": "confidential", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_post" }),
    )
    .await;
    let (id, secret) = (
        created["client_id"].as_str().unwrap(),
        created["client_secret"].as_str().unwrap(),
    );
    let by_post = post_form(
        &app,
        "/oauth2/token",
        None,
        &[GRANT, ("client_id", id), ("client_secret", secret)],
    )
    .await;
    expect_status(by_post, 200).await;
    let by_basic = post_form(&app, "/oauth2/token", Some((id, secret)), &[GRANT]).await;
    assert_eq!(
        expect_status(by_basic, 401).await["error"],
        "invalid_client"
    );
}

#[tokio::test]
async fn apps_without_the_grant_are_unauthorized_clients() {
    let app = TestApp::spawn().await;
    let created = create_client(
        &app,
        json!({ "name": "web", "type": "confidential", "redirect_uris": ["https://a.example/cb"] }),
    )
    .await;
    let creds = (
        created["client_id"].as_str().unwrap(),
        created["client_secret"].as_str().unwrap(),
    );
    let body = expect_status(
        post_form(&app, "/oauth2/token", Some(creds), &[GRANT]).await,
        400,
    )
    .await;
    assert_eq!(body["error"], "unauthorized_client");
    let body = expect_status(
        post_form(
            &app,
            "/oauth2/token",
            Some(creds),
            &[("grant_type", "password")],
        )
        .await,
        400,
    )
    .await;
    assert_eq!(body["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn malformed_requests_are_invalid_request() {
    let app = TestApp::spawn().await;
    let (id, secret) = service_client(&app, &["a"]).await;
    let repeated = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth(&id, Some(&secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=a&scope=a")
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(repeated, 400).await["error"],
        "invalid_request"
    );
    let json_body = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth(&id, Some(&secret))
        .json(&json!({ "grant_type": "client_credentials" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(json_body, 400).await["error"],
        "invalid_request"
    );
    let missing = post_form(
        &app,
        "/oauth2/token",
        Some((&id, &secret)),
        &[("scope", "a")],
    )
    .await;
    let body = expect_status(missing, 400).await;
    assert_eq!(body["error"], "invalid_request");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("grant_type")
    );
    let ignored = post_form(
        &app,
        "/oauth2/token",
        Some((&id, &secret)),
        &[GRANT, ("unknown_param", "x")],
    )
    .await;
    expect_status(ignored, 200).await;
}

#[tokio::test]
async fn org_restricted_apps_carry_their_org() {
    let app = TestApp::spawn().await;
    let org = app.create_org("acme").await;
    let created = create_client(
        &app,
        json!({ "name": "acme svc", "type": "confidential", "grant_types": ["client_credentials"], "organization": "acme" }),
    )
    .await;
    let creds = (
        created["client_id"].as_str().unwrap(),
        created["client_secret"].as_str().unwrap(),
    );
    let body = expect_status(
        post_form(&app, "/oauth2/token", Some(creds), &[GRANT]).await,
        200,
    )
    .await;
    let (_, claims) = verify_with_jwks(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["org_id"], org["id"]);
}

#[tokio::test]
async fn guessing_secrets_is_rate_limited() {
    let app = TestApp::spawn().await;
    let (id, secret) = service_client(&app, &[]).await;
    let mut statuses = Vec::new();
    for _ in 0..21 {
        statuses.push(
            post_form(&app, "/oauth2/token", Some((&id, "tcs_guess")), &[GRANT])
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses[..20], [401; 20]);
    assert_eq!(statuses[20], 429);
    // Only failures count: the app with its real secret is not locked out by someone guessing.
    let ok = post_form(&app, "/oauth2/token", Some((&id, &secret)), &[GRANT]).await;
    assert_eq!(ok.status(), 200);
}
