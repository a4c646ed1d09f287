//! When the provider needs the user to sign in: no session, prompt=none/login, max_age; the
//! hand-off to the sign-in pages and the resumption afterwards.

use serde_json::json;
use tessera_tests::{TestApp, location_params, pkce_pair};

use super::flow::{REDIRECT, authorize, standard, web_app};

/// What the sign-in page does once the user is in: send the browser to `return_to`.
async fn resume(app: &TestApp, return_to: &str, cookie: Option<&str>) -> reqwest::Response {
    assert!(
        return_to.starts_with('/'),
        "return_to must be a path on Tessera: {return_to}"
    );
    let mut request = app.browser().get(app.url(return_to));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn without_a_session_the_user_is_sent_to_sign_in_and_comes_back_with_a_code() {
    let app = TestApp::spawn().await;
    let (id, _) = web_app(&app, json!({})).await;
    let (_, challenge) = pkce_pair();
    let mut params = standard(&id, &challenge, "openid");
    params.push(("login_hint", "ada@example.com"));
    let response = authorize(&app, None, &params).await;
    assert_eq!(response.status(), 302);
    let (url, query) = location_params(&response);
    assert_eq!(url.path(), "/login");
    assert_eq!(query["login_hint"], "ada@example.com");
    let transaction = query["return_to"].clone();

    // The sign-in pages create a session (here: the test kit), then send the browser back.
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let back = resume(&app, &transaction, Some(&user.cookie)).await;
    let (url, query) = location_params(&back);
    assert!(url.as_str().starts_with(REDIRECT));
    assert!(query.contains_key("code") && query["state"] == "st-123");

    // A transaction is used once.
    let again = resume(&app, &transaction, Some(&user.cookie)).await;
    assert_eq!(again.status(), 400);
    assert!(again.text().await.unwrap().contains("sign_in_expired"));
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    let app = TestApp::spawn().await;
    let (id, _) = web_app(&app, json!({})).await;
    let (_, challenge) = pkce_pair();
    let mut params = standard(&id, &challenge, "openid");
    params.push(("prompt", "none"));
    let (url, query) = location_params(&authorize(&app, None, &params).await);
    assert!(url.as_str().starts_with(REDIRECT));
    assert_eq!(query["error"], "login_required");

    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let (_, query) = location_params(&authorize(&app, Some(&user), &params).await);
    assert!(
        query.contains_key("code"),
        "prompt=none with a session succeeds silently"
    );
}

#[tokio::test]
async fn prompt_login_and_max_age_demand_a_fresh_sign_in() {
    let (app, clock) = TestApp::spawn_with_manual_clock().await;
    let (id, _) = web_app(&app, json!({})).await;
    let old = app.sign_in("ada@example.com", None, &["pwd"]).await;
    clock.advance(chrono::Duration::minutes(30));
    let (_, challenge) = pkce_pair();

    let mut login = standard(&id, &challenge, "openid");
    login.push(("prompt", "login"));
    let (url, query) = location_params(&authorize(&app, Some(&old), &login).await);
    assert_eq!(
        url.path(),
        "/login",
        "prompt=login ignores the existing session"
    );
    // Resuming with the old session is not enough; a sign-in after the request is.
    let stale = resume(&app, &query["return_to"], Some(&old.cookie)).await;
    let (url, retry) = location_params(&stale);
    assert_eq!(url.path(), "/login");
    let fresh = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let (_, done) = location_params(&resume(&app, &retry["return_to"], Some(&fresh.cookie)).await);
    assert!(done.contains_key("code"));

    let mut max_age = standard(&id, &challenge, "openid");
    max_age.push(("max_age", "600"));
    let (url, _) = location_params(&authorize(&app, Some(&old), &max_age).await);
    assert_eq!(
        url.path(),
        "/login",
        "a 30-minute-old sign-in is older than max_age=600"
    );
    let (_, ok) = location_params(&authorize(&app, Some(&fresh), &max_age).await);
    assert!(ok.contains_key("code"));
}

#[tokio::test]
async fn a_revoked_session_is_no_session() {
    let app = TestApp::spawn().await;
    let (id, _) = web_app(&app, json!({})).await;
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    app.broker()
        .revoke_session(user.session_id.parse().unwrap())
        .await
        .unwrap();
    let (_, challenge) = pkce_pair();
    let (url, _) =
        location_params(&authorize(&app, Some(&user), &standard(&id, &challenge, "openid")).await);
    assert_eq!(url.path(), "/login");
}
