//! UserInfo: claims by scope, and who may call it.

use serde_json::json;
use tessera_tests::{TestApp, expect_status, service_client};

use super::flow::{refresh, tokens_for, web_app};

async fn userinfo(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn userinfo_releases_claims_by_scope() {
    let app = TestApp::spawn().await;
    let (id, secret) = web_app(&app, json!({ "custom_claims": { "tier": { "value": "gold" }, "mail": { "from": "user.email" } } })).await;
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let tokens = tokens_for(&app, &user, (&id, &secret), "openid email").await;
    let claims = expect_status(
        userinfo(&app, tokens["access_token"].as_str().unwrap()).await,
        200,
    )
    .await;
    assert_eq!(claims["sub"], user.user_id.as_str());
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["tier"], "gold");
    assert_eq!(claims["mail"], "ada@example.com");
    assert!(claims.get("name").is_none(), "profile was not requested");

    let narrow = tokens_for(&app, &user, (&id, &secret), "openid").await;
    let claims = expect_status(
        userinfo(&app, narrow["access_token"].as_str().unwrap()).await,
        200,
    )
    .await;
    assert!(claims.get("email").is_none());
}

#[tokio::test]
async fn userinfo_refuses_bad_and_foreign_tokens() {
    let app = TestApp::spawn().await;
    let response = userinfo(&app, "nonsense").await;
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    assert_eq!(expect_status(response, 401).await["error"], "invalid_token");
    let missing = app
        .client
        .get(app.url("/oauth2/userinfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 401);

    // An app's own client-credentials token is not a user's.
    let (id, secret) = service_client(&app, &[]).await;
    let body = expect_status(
        tessera_tests::post_form(
            &app,
            "/oauth2/token",
            Some((&id, &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        expect_status(
            userinfo(&app, body["access_token"].as_str().unwrap()).await,
            401
        )
        .await["error"],
        "invalid_token"
    );
}

#[tokio::test]
async fn a_disabled_user_gets_nothing_more() {
    let app = TestApp::spawn().await;
    let (id, secret) = web_app(&app, json!({})).await;
    let signed_in = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let tokens = tokens_for(&app, &signed_in, (&id, &secret), "openid offline_access").await;
    app.disable_user(&signed_in.user_id).await;
    assert_eq!(
        expect_status(
            userinfo(&app, tokens["access_token"].as_str().unwrap()).await,
            401
        )
        .await["error"],
        "invalid_token"
    );
    let refused = refresh(
        &app,
        (&id, &secret),
        tokens["refresh_token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(expect_status(refused, 400).await["error"], "invalid_grant");
}

#[tokio::test]
async fn an_id_token_is_not_an_access_token() {
    let app = TestApp::spawn().await;
    let (id, secret) = web_app(&app, json!({})).await;
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let tokens = tokens_for(&app, &user, (&id, &secret), "openid email").await;
    let response = userinfo(&app, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(expect_status(response, 401).await["error"], "invalid_token");
    let introspected = expect_status(
        tessera_tests::post_form(
            &app,
            "/oauth2/introspect",
            Some((&id, &secret)),
            &[("token", tokens["id_token"].as_str().unwrap())],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(introspected["active"], false);
}

#[tokio::test]
async fn browser_apps_may_call_the_token_endpoints_cross_origin() {
    let app = TestApp::spawn().await;
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/oauth2/token"))
        .header("origin", "https://spa.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    let (id, secret) = service_client(&app, &[]).await;
    let response = tessera_tests::post_form(
        &app,
        "/oauth2/token",
        Some((&id, &secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let page = app
        .client
        .get(app.url("/oauth2/authorize"))
        .send()
        .await
        .unwrap();
    assert!(
        page.headers().get("access-control-allow-origin").is_none(),
        "browser pages are not CORS endpoints"
    );
}
