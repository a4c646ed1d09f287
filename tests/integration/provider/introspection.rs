//! Introspection (RFC 7662) and revocation (RFC 7009): who may ask, what they learn, and forged
//! tokens (alg none, key confusion, another issuer's key) never passing.

use base64::Engine as _;
use serde_json::json;
use tessera_tests::{TestApp, create_client, expect_status, post_form, service_client};

async fn token_for(app: &TestApp, creds: (&str, &str)) -> String {
    let body = expect_status(
        post_form(
            app,
            "/oauth2/token",
            Some(creds),
            &[("grant_type", "client_credentials")],
        )
        .await,
        200,
    )
    .await;
    body["access_token"].as_str().unwrap().to_owned()
}

fn b64(value: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

#[tokio::test]
async fn a_live_token_is_active_with_its_claims() {
    let app = TestApp::spawn().await;
    let (id, secret) = service_client(&app, &["read"]).await;
    let token = token_for(&app, (&id, &secret)).await;
    let (rs_id, rs_secret) = service_client(&app, &[]).await;
    let body = expect_status(
        post_form(
            &app,
            "/oauth2/introspect",
            Some((&rs_id, &rs_secret)),
            &[("token", &token)],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(body["active"], true);
    assert_eq!(body["client_id"], id.as_str());
    assert_eq!(body["scope"], "read");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["iss"], app.config.public_base());

    let garbage = expect_status(
        post_form(
            &app,
            "/oauth2/introspect",
            Some((&rs_id, &rs_secret)),
            &[("token", "garbage")],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(garbage, json!({ "active": false }));
}

#[tokio::test]
async fn forged_tokens_are_never_active() {
    let app = TestApp::spawn().await;
    let (id, secret) = service_client(&app, &["read"]).await;
    let genuine = token_for(&app, (&id, &secret)).await;
    let parts: Vec<&str> = genuine.split('.').collect();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[0])
            .unwrap(),
    )
    .unwrap();
    let kid = header["kid"].as_str().unwrap();

    // alg "none", with and without a signature part.
    let none = b64(&json!({ "alg": "none", "typ": "at+jwt", "kid": kid }));
    // Key confusion: HS256 "signed" with the public JWK as the secret.
    let hs = b64(&json!({ "alg": "HS256", "typ": "at+jwt", "kid": kid }));
    // A payload change under the genuine signature.
    let mut claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    claims["scope"] = json!("read admin");
    let tampered = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
    let forgeries = [
        format!("{none}.{}.", parts[1]),
        format!("{none}.{}", parts[1]),
        format!("{hs}.{}.{}", parts[1], parts[2]),
        tampered,
    ];
    for forged in forgeries {
        let body = expect_status(
            post_form(
                &app,
                "/oauth2/introspect",
                Some((&id, &secret)),
                &[("token", &forged)],
            )
            .await,
            200,
        )
        .await;
        assert_eq!(body["active"], false, "{forged}");
    }
}

#[tokio::test]
async fn public_apps_may_not_introspect() {
    let app = TestApp::spawn().await;
    let created = create_client(
        &app,
        json!({ "name": "spa", "type": "public", "redirect_uris": ["https://spa.example/cb"] }),
    )
    .await;
    let response = post_form(
        &app,
        "/oauth2/introspect",
        None,
        &[
            ("client_id", created["client_id"].as_str().unwrap()),
            ("token", "x"),
        ],
    )
    .await;
    assert_eq!(
        expect_status(response, 400).await["error"],
        "unauthorized_client"
    );
}

#[tokio::test]
async fn an_org_restricted_app_learns_nothing_about_other_orgs_tokens() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    app.create_org("globex").await;
    let svc = |org: &str| json!({ "name": org, "type": "confidential", "grant_types": ["client_credentials"], "organization": org });
    let acme = create_client(&app, svc("acme")).await;
    let globex = create_client(&app, svc("globex")).await;
    let creds = |c: &serde_json::Value| {
        (
            c["client_id"].as_str().unwrap().to_owned(),
            c["client_secret"].as_str().unwrap().to_owned(),
        )
    };
    let (acme_id, acme_secret) = creds(&acme);
    let (globex_id, globex_secret) = creds(&globex);
    let globex_token = token_for(&app, (&globex_id, &globex_secret)).await;
    let body = expect_status(
        post_form(
            &app,
            "/oauth2/introspect",
            Some((&acme_id, &acme_secret)),
            &[("token", &globex_token)],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(body, json!({ "active": false }));
    let own = token_for(&app, (&acme_id, &acme_secret)).await;
    let body = expect_status(
        post_form(
            &app,
            "/oauth2/introspect",
            Some((&acme_id, &acme_secret)),
            &[("token", &own)],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(body["active"], true);
}

#[tokio::test]
async fn revocation_accepts_any_token_quietly() {
    let app = TestApp::spawn().await;
    let (id, secret) = service_client(&app, &[]).await;
    let token = token_for(&app, (&id, &secret)).await;
    for token in [token.as_str(), "trt_unknown", "nonsense"] {
        let response = post_form(
            &app,
            "/oauth2/revoke",
            Some((&id, &secret)),
            &[("token", token)],
        )
        .await;
        assert_eq!(response.status(), 200);
    }
    let unauthenticated = post_form(
        &app,
        "/oauth2/revoke",
        Some((&id, "tcs_wrong")),
        &[("token", "x")],
    )
    .await;
    assert_eq!(
        expect_status(unauthenticated, 401).await["error"],
        "invalid_client"
    );
}
