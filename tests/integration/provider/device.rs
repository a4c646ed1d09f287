//! The device authorization grant (RFC 8628): a CLI gets a code, the user approves it on the
//! /device page, the CLI's poll returns tokens once.

use serde_json::{Value, json};
use tessera_tests::{
    SignedIn, TestApp, create_client, expect_status, location_params, post_form, verify_with_jwks,
};

async fn cli_app(app: &TestApp) -> String {
    let created = create_client(
        app,
        json!({
            "name": "tessera-cli", "type": "public",
            "grant_types": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
        }),
    )
    .await;
    created["client_id"].as_str().unwrap().to_owned()
}

async fn start(app: &TestApp, client_id: &str, scope: &str) -> Value {
    let response = post_form(
        app,
        "/oauth2/device_authorization",
        None,
        &[("client_id", client_id), ("scope", scope)],
    )
    .await;
    expect_status(response, 200).await
}

async fn poll(app: &TestApp, client_id: &str, device_code: &str) -> reqwest::Response {
    post_form(
        app,
        "/oauth2/token",
        None,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", client_id),
            ("device_code", device_code),
        ],
    )
    .await
}

fn hidden_confirm(html: &str) -> String {
    html.split("name=\"confirm\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned()
}

async fn answer(
    app: &TestApp,
    user: &SignedIn,
    user_code: &str,
    decision: &str,
) -> reqwest::Response {
    let page = app
        .browser()
        .get(app.url("/device"))
        .query(&[("user_code", user_code)])
        .header("cookie", &user.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let confirm = hidden_confirm(&page.text().await.unwrap());
    app.browser()
        .post(app.url("/device"))
        .header("cookie", &user.cookie)
        .form(&[("confirm", confirm.as_str()), ("decision", decision)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_cli_gets_tokens_after_the_user_approves_its_code() {
    let app = TestApp::spawn().await;
    let client_id = cli_app(&app).await;
    let started = start(&app, &client_id, "openid email offline_access").await;
    let user_code = started["user_code"].as_str().unwrap();
    assert!(
        user_code.len() == 9 && &user_code[4..5] == "-",
        "{user_code}"
    );
    assert_eq!(
        started["verification_uri"],
        format!("{}/device", app.config.public_base())
    );
    assert_eq!(started["interval"], 5);
    assert!(
        started["verification_uri_complete"]
            .as_str()
            .unwrap()
            .ends_with(user_code)
    );

    let user = app.sign_in("ada@example.com", None, &["hwk"]).await;
    let typed = user_code.to_lowercase().replace('-', " ");
    let done = answer(&app, &user, &typed, "approve").await;
    assert!(done.text().await.unwrap().contains("Device connected"));

    let tokens = expect_status(
        poll(&app, &client_id, started["device_code"].as_str().unwrap()).await,
        200,
    )
    .await;
    let (_, id_token) = verify_with_jwks(&app, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(id_token["sub"], user.user_id.as_str());
    assert_eq!(id_token["email"], "ada@example.com");
    assert!(tokens["refresh_token"].is_string());
    let again = expect_status(
        poll(&app, &client_id, started["device_code"].as_str().unwrap()).await,
        400,
    )
    .await;
    assert_eq!(again["error"], "expired_token", "tokens are issued once");
}

#[tokio::test]
async fn polling_before_approval_is_pending_and_too_fast_is_slow_down() {
    let app = TestApp::spawn().await;
    let client_id = cli_app(&app).await;
    let started = start(&app, &client_id, "openid").await;
    let code = started["device_code"].as_str().unwrap();
    assert_eq!(
        expect_status(poll(&app, &client_id, code).await, 400).await["error"],
        "authorization_pending"
    );
    assert_eq!(
        expect_status(poll(&app, &client_id, code).await, 400).await["error"],
        "slow_down"
    );
    let unknown = expect_status(poll(&app, &client_id, "tdc_unknown").await, 400).await;
    assert_eq!(unknown["error"], "expired_token");
}

#[tokio::test]
async fn a_denied_code_yields_access_denied() {
    let app = TestApp::spawn().await;
    let client_id = cli_app(&app).await;
    let started = start(&app, &client_id, "openid").await;
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let done = answer(&app, &user, started["user_code"].as_str().unwrap(), "deny").await;
    assert!(done.text().await.unwrap().contains("denied"));
    let denied = expect_status(
        poll(&app, &client_id, started["device_code"].as_str().unwrap()).await,
        400,
    )
    .await;
    assert_eq!(denied["error"], "access_denied");
}

#[tokio::test]
async fn the_device_page_wants_a_session_a_valid_code_and_its_own_question() {
    let app = TestApp::spawn().await;
    let client_id = cli_app(&app).await;
    let started = start(&app, &client_id, "openid").await;
    let user_code = started["user_code"].as_str().unwrap();

    let anonymous = app
        .browser()
        .get(app.url("/device"))
        .query(&[("user_code", user_code)])
        .send()
        .await
        .unwrap();
    let (url, query) = location_params(&anonymous);
    assert_eq!(url.path(), "/login");
    assert_eq!(query["return_to"], format!("/device?user_code={user_code}"));

    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let wrong = app
        .browser()
        .get(app.url("/device"))
        .query(&[("user_code", "BBBB-BBBB")])
        .header("cookie", &user.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    assert!(wrong.text().await.unwrap().contains("not valid"));

    // A question shown to one session cannot be answered by another.
    let page = app
        .browser()
        .get(app.url("/device"))
        .query(&[("user_code", user_code)])
        .header("cookie", &user.cookie)
        .send()
        .await
        .unwrap();
    let confirm = hidden_confirm(&page.text().await.unwrap());
    let mallory = app.sign_in("mallory@example.com", None, &["pwd"]).await;
    let forged = app
        .browser()
        .post(app.url("/device"))
        .header("cookie", &mallory.cookie)
        .form(&[("confirm", confirm.as_str()), ("decision", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    assert_eq!(
        expect_status(
            poll(&app, &client_id, started["device_code"].as_str().unwrap()).await,
            400
        )
        .await["error"],
        "authorization_pending"
    );

    // Once answered, the code is spent.
    answer(&app, &user, user_code, "approve").await;
    let reused = app
        .browser()
        .get(app.url("/device"))
        .query(&[("user_code", user_code)])
        .header("cookie", &user.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), 400);
}

#[tokio::test]
async fn apps_without_the_device_grant_cannot_start_one() {
    let app = TestApp::spawn().await;
    let created = create_client(
        &app,
        json!({ "name": "spa", "type": "public", "redirect_uris": ["https://spa.example/cb"] }),
    )
    .await;
    let response = post_form(
        &app,
        "/oauth2/device_authorization",
        None,
        &[("client_id", created["client_id"].as_str().unwrap())],
    )
    .await;
    assert_eq!(
        expect_status(response, 400).await["error"],
        "unauthorized_client"
    );
}
