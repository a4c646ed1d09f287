//! RP-initiated logout and back-channel logout notices.

use std::time::Duration;

use serde_json::json;
use tessera_tests::receiver::Receiver;
use tessera_tests::{TestApp, expect_status, location_params, pkce_pair, verify_with_jwks};

use super::flow::{authorize, code_for, exchange, standard, tokens_for, web_app};

const AFTER_LOGOUT: &str = "https://app.example.com/signed-out";

async fn end_session(
    app: &TestApp,
    cookie: Option<&str>,
    params: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = app
        .browser()
        .get(app.url("/oauth2/end_session"))
        .query(params);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

async fn is_signed_in(app: &TestApp, client_id: &str, cookie: &str) -> bool {
    let (_, challenge) = pkce_pair();
    let response = app
        .browser()
        .get(app.url("/oauth2/authorize"))
        .query(&standard(client_id, &challenge, "openid"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let (url, _) = location_params(&response);
    url.path() != "/login"
}

#[tokio::test]
async fn logout_with_an_id_token_hint_signs_out_and_returns_to_the_app() {
    let app = TestApp::spawn().await;
    let (id, secret) = web_app(&app, json!({ "post_logout_redirect_uris": [AFTER_LOGOUT] })).await;
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let tokens = tokens_for(&app, &user, (&id, &secret), "openid").await;
    let hint = tokens["id_token"].as_str().unwrap();

    let response = end_session(
        &app,
        Some(&user.cookie),
        &[
            ("id_token_hint", hint),
            ("post_logout_redirect_uri", AFTER_LOGOUT),
            ("state", "bye"),
        ],
    )
    .await;
    assert_eq!(response.status(), 302);
    let cleared = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cleared.starts_with("tessera_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let (url, params) = location_params(&response);
    assert!(url.as_str().starts_with(AFTER_LOGOUT));
    assert_eq!(params["state"], "bye");
    assert!(
        !is_signed_in(&app, &id, &user.cookie).await,
        "the session is over server-side"
    );
}

#[tokio::test]
async fn logout_without_a_hint_asks_first_and_the_question_cannot_be_forged() {
    let app = TestApp::spawn().await;
    let (id, _) = web_app(&app, json!({})).await;
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let page = end_session(&app, Some(&user.cookie), &[]).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let confirmation = html
        .split("name=\"confirm\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    assert!(
        is_signed_in(&app, &id, &user.cookie).await,
        "asking signs nobody out"
    );

    // Another site posting the confirmation: the browser sends no SameSite=Lax cookie with it.
    let forged = app
        .browser()
        .post(app.url("/oauth2/end_session"))
        .form(&[("confirm", confirmation.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 200);
    assert!(
        is_signed_in(&app, &id, &user.cookie).await,
        "a post without the session does nothing"
    );

    let other_page = end_session(&app, Some(&user.cookie), &[])
        .await
        .text()
        .await
        .unwrap();
    let confirmation = other_page
        .split("name=\"confirm\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let confirmed = app
        .browser()
        .post(app.url("/oauth2/end_session"))
        .header("cookie", &user.cookie)
        .form(&[("confirm", confirmation.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 200);
    assert!(
        confirmed
            .text()
            .await
            .unwrap()
            .contains("You are signed out")
    );
    assert!(!is_signed_in(&app, &id, &user.cookie).await);
}

#[tokio::test]
async fn logout_never_redirects_to_an_unregistered_uri() {
    let app = TestApp::spawn().await;
    let (id, _) = web_app(&app, json!({ "post_logout_redirect_uris": [AFTER_LOGOUT] })).await;
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    for params in [
        vec![
            ("client_id", id.as_str()),
            ("post_logout_redirect_uri", "https://evil.example.com/"),
        ],
        vec![("post_logout_redirect_uri", AFTER_LOGOUT)],
        vec![
            ("id_token_hint", "not-a-token"),
            ("post_logout_redirect_uri", AFTER_LOGOUT),
        ],
    ] {
        let response = end_session(&app, Some(&user.cookie), &params).await;
        assert_eq!(response.status(), 400, "{params:?}");
        assert!(response.headers().get("location").is_none());
    }
    assert!(is_signed_in(&app, &id, &user.cookie).await);
}

#[tokio::test]
async fn an_expired_id_token_still_identifies_the_session_to_end() {
    let (app, clock) = TestApp::spawn_with_manual_clock().await;
    let (id, secret) = web_app(&app, json!({ "post_logout_redirect_uris": [AFTER_LOGOUT] })).await;
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let tokens = tokens_for(&app, &user, (&id, &secret), "openid").await;
    clock.advance(chrono::Duration::hours(2));
    let response = end_session(
        &app,
        Some(&user.cookie),
        &[
            ("id_token_hint", tokens["id_token"].as_str().unwrap()),
            ("post_logout_redirect_uri", AFTER_LOGOUT),
        ],
    )
    .await;
    assert_eq!(response.status(), 302);
}

#[tokio::test]
async fn apps_the_session_used_get_a_signed_back_channel_notice() {
    let app = TestApp::spawn().await;
    let mut receiver = Receiver::start().await;
    let (used, used_secret) = web_app(
        &app,
        json!({
            "name": "used", "backchannel_logout_uri": receiver.url("/backchannel"),
        }),
    )
    .await;
    let mut bystander = Receiver::start().await;
    web_app(
        &app,
        json!({ "name": "bystander", "backchannel_logout_uri": bystander.url("/backchannel") }),
    )
    .await;
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let (code, verifier, _) = code_for(&app, &user, &used, "openid").await;
    let tokens = expect_status(
        exchange(&app, (&used, &used_secret), &code, &verifier).await,
        200,
    )
    .await;

    let response = end_session(
        &app,
        Some(&user.cookie),
        &[("id_token_hint", tokens["id_token"].as_str().unwrap())],
    )
    .await;
    assert_eq!(response.status(), 200);

    let (path, body) = receiver
        .next(Duration::from_secs(5))
        .await
        .expect("no back-channel notice");
    assert_eq!(path, "/backchannel");
    let token = url::form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let (header, claims) = verify_with_jwks(&app, &token).await;
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    assert_eq!(claims["aud"], used.as_str());
    assert_eq!(claims["sub"], user.user_id.as_str());
    assert_eq!(claims["sid"], user.session_id.as_str());
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(
        claims.get("nonce").is_none(),
        "logout tokens must not carry a nonce"
    );
    assert!(
        bystander.next(Duration::from_millis(500)).await.is_none(),
        "only apps the session used"
    );

    let (_, challenge) = pkce_pair();
    let (url, _) = location_params(
        &authorize(&app, Some(&user), &standard(&used, &challenge, "openid")).await,
    );
    assert_eq!(url.path(), "/login");
}

#[tokio::test]
async fn a_self_registered_app_needs_an_id_token_hint_to_redirect_after_logout() {
    let app = TestApp::spawn_with(tessera_tests::Options {
        env: vec![("TESSERA_CLIENT_REGISTRATION".into(), "open".into())],
        ..Default::default()
    })
    .await;
    let registered: serde_json::Value = app
        .client
        .post(app.url("/oauth2/register"))
        .json(&json!({
            "client_name": "x", "redirect_uris": ["http://127.0.0.1/cb"],
            "post_logout_redirect_uris": ["https://attacker.example/landing"],
            "token_endpoint_auth_method": "none",
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let response = end_session(
        &app,
        None,
        &[
            ("client_id", registered["client_id"].as_str().unwrap()),
            (
                "post_logout_redirect_uri",
                "https://attacker.example/landing",
            ),
        ],
    )
    .await;
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
}

#[tokio::test]
async fn a_logout_token_is_not_an_id_token_hint() {
    let app = TestApp::spawn().await;
    let mut receiver = Receiver::start().await;
    let (id, secret) = web_app(
        &app,
        json!({ "backchannel_logout_uri": receiver.url("/bcl") }),
    )
    .await;
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let tokens = tokens_for(&app, &user, (&id, &secret), "openid").await;
    end_session(
        &app,
        Some(&user.cookie),
        &[("id_token_hint", tokens["id_token"].as_str().unwrap())],
    )
    .await;
    let (_, body) = receiver.next(Duration::from_secs(5)).await.unwrap();
    let logout_token = url::form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "logout_token")
        .unwrap()
        .1
        .into_owned();
    let other = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let response = end_session(
        &app,
        Some(&other.cookie),
        &[("id_token_hint", &logout_token)],
    )
    .await;
    assert_eq!(
        response.status(),
        400,
        "typ logout+jwt is refused as an ID token"
    );
}
