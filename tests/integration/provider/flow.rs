//! Shared steps of the browser flow: a registered web app, an authorization request, the code
//! exchange, a refresh.

use std::collections::HashMap;

use serde_json::{Value, json};
use tessera_tests::{
    SignedIn, TestApp, create_client, expect_status, location_params, pkce_pair, post_form,
};

pub const REDIRECT: &str = "https://app.example.com/callback";

/// A confidential web app (client_id, client_secret).
pub async fn web_app(app: &TestApp, extra: Value) -> (String, String) {
    let mut body = json!({
        "name": "web app",
        "type": "confidential",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let created = create_client(app, body).await;
    (
        created["client_id"].as_str().unwrap().to_owned(),
        created["client_secret"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// An authorization request; returns the response (a redirect) unfollowed.
pub async fn authorize(
    app: &TestApp,
    session: Option<&SignedIn>,
    params: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = app
        .browser()
        .get(app.url("/oauth2/authorize"))
        .query(params);
    if let Some(session) = session {
        request = request.header("cookie", &session.cookie);
    }
    request.send().await.unwrap()
}

/// The standard parameters for `client_id` with a PKCE challenge.
pub fn standard<'a>(
    client_id: &'a str,
    challenge: &'a str,
    scope: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", scope),
        ("state", "st-123"),
        ("nonce", "n-456"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
}

/// Runs authorize with a session and returns the code and the redirect's parameters.
pub async fn code_for(
    app: &TestApp,
    session: &SignedIn,
    client_id: &str,
    scope: &str,
) -> (String, String, HashMap<String, String>) {
    let (verifier, challenge) = pkce_pair();
    let response = authorize(app, Some(session), &standard(client_id, &challenge, scope)).await;
    assert_eq!(response.status(), 302, "{:?}", response.headers());
    let (_, params) = location_params(&response);
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("no code: {params:?}"))
        .clone();
    (code, verifier, params)
}

/// Exchanges a code.
pub async fn exchange(
    app: &TestApp,
    creds: (&str, &str),
    code: &str,
    verifier: &str,
) -> reqwest::Response {
    post_form(
        app,
        "/oauth2/token",
        Some(creds),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

/// Runs authorize with a session and exchanges the code: the token response, which must be 200.
pub async fn tokens_for(
    app: &TestApp,
    session: &SignedIn,
    creds: (&str, &str),
    scope: &str,
) -> serde_json::Value {
    let (code, verifier, _) = code_for(app, session, creds.0, scope).await;
    expect_status(exchange(app, creds, &code, &verifier).await, 200).await
}

/// Uses a refresh token, optionally narrowing the scope.
pub async fn refresh(
    app: &TestApp,
    creds: (&str, &str),
    token: &str,
    scope: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    post_form(app, "/oauth2/token", Some(creds), &form).await
}
