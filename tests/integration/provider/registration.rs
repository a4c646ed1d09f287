//! Dynamic client registration (RFC 7591) and the consent it brings for third-party apps.

use reqwest::Method;
use serde_json::{Value, json};
use tessera_tests::{Options, SignedIn, TestApp, expect_status, location_params, pkce_pair};

use super::flow::authorize;

async fn with_registration(policy: &str) -> TestApp {
    TestApp::spawn_with(Options {
        env: vec![("TESSERA_CLIENT_REGISTRATION".into(), policy.into())],
        ..Options::default()
    })
    .await
}

async fn register(app: &TestApp, token: Option<&str>, body: Value) -> reqwest::Response {
    let mut request = app.client.post(app.url("/oauth2/register")).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

const LOOPBACK: &str = "http://127.0.0.1/callback";

fn mcp_client() -> Value {
    json!({
        "client_name": "Claude Desktop",
        "redirect_uris": [LOOPBACK],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "logo_uri": "https://example.com/logo.png"
    })
}

#[tokio::test]
async fn registration_is_off_by_default() {
    let app = TestApp::spawn().await;
    assert_eq!(register(&app, None, mcp_client()).await.status(), 404);
    let doc: Value = app
        .client
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc.get("registration_endpoint").is_none());
}

#[tokio::test]
async fn open_registration_admits_public_apps_only() {
    let app = with_registration("open").await;
    let doc: Value = app
        .client
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["registration_endpoint"],
        format!("{}/oauth2/register", app.config.public_base())
    );

    let registered = expect_status(register(&app, None, mcp_client()).await, 201).await;
    assert!(registered["client_id"].is_string());
    assert!(registered.get("client_secret").is_none());
    assert_eq!(registered["token_endpoint_auth_method"], "none");
    assert_eq!(registered["response_types"], json!(["code"]));

    let confidential = json!({ "client_name": "x", "redirect_uris": ["https://x.example/cb"] });
    let refused = expect_status(register(&app, None, confidential.clone()).await, 400).await;
    assert_eq!(refused["error"], "invalid_client_metadata");
    let with_token = expect_status(
        register(&app, Some(&app.admin_key), confidential).await,
        201,
    )
    .await;
    assert!(
        with_token["client_secret"]
            .as_str()
            .unwrap()
            .starts_with("tcs_")
    );
    assert_eq!(with_token["client_secret_expires_at"], 0);

    let bad_uri = json!({ "client_name": "x", "redirect_uris": ["http://evil.example/cb"], "token_endpoint_auth_method": "none" });
    assert_eq!(
        expect_status(register(&app, None, bad_uri).await, 400).await["error"],
        "invalid_redirect_uri"
    );
    let bad_token = register(&app, Some("tsk_forged"), mcp_client()).await;
    assert_eq!(
        expect_status(bad_token, 401).await["error"],
        "invalid_token"
    );
}

#[tokio::test]
async fn token_policy_requires_an_initial_access_token() {
    let app = with_registration("token").await;
    assert_eq!(
        expect_status(register(&app, None, mcp_client()).await, 401).await["error"],
        "invalid_token"
    );
    expect_status(
        register(&app, Some(&app.admin_key), mcp_client()).await,
        201,
    )
    .await;
    let org = app.create_org("acme").await;
    let org_key = app.create_org_key("acme").await;
    let registered = expect_status(register(&app, Some(&org_key), mcp_client()).await, 201).await;
    let listed = app
        .admin(
            Method::GET,
            &format!(
                "/api/v1/clients/{}",
                registered["client_id"].as_str().unwrap()
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(listed, 200).await["organization_id"],
        org["id"],
        "an org key registers apps for its org"
    );
}

async fn authorize_mcp(
    app: &TestApp,
    user: &SignedIn,
    client_id: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let (_, challenge) = pkce_pair();
    let redirect = "http://127.0.0.1:49152/callback";
    let mut params = vec![
        ("client_id", client_id),
        ("redirect_uri", redirect),
        ("response_type", "code"),
        ("scope", "openid email"),
        ("state", "s1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    params.extend_from_slice(extra);
    authorize(app, Some(user), &params).await
}

async fn answer_consent(
    app: &TestApp,
    user: &SignedIn,
    consent_url: &url::Url,
    decision: &str,
) -> reqwest::Response {
    let here = format!(
        "{}?{}",
        consent_url.path(),
        consent_url.query().unwrap_or_default()
    );
    let page = app
        .browser()
        .get(app.url(&here))
        .header("cookie", &user.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Claude Desktop") && html.contains("openid") && html.contains("127.0.0.1"),
        "{html}"
    );
    let confirm = html
        .split("name=\"confirm\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    app.browser()
        .post(app.url("/oauth2/consent"))
        .header("cookie", &user.cookie)
        .form(&[("confirm", confirm.as_str()), ("decision", decision)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn third_party_apps_get_a_code_only_after_consent() {
    let app = with_registration("open").await;
    let registered = expect_status(register(&app, None, mcp_client()).await, 201).await;
    let client_id = registered["client_id"].as_str().unwrap();
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;

    let first = authorize_mcp(&app, &user, client_id, &[]).await;
    let (consent_url, _) = location_params(&first);
    assert_eq!(consent_url.path(), "/oauth2/consent");
    let allowed = answer_consent(&app, &user, &consent_url, "allow").await;
    let (url, params) = location_params(&allowed);
    assert_eq!(url.port(), Some(49152));
    assert!(params.contains_key("code") && params["state"] == "s1");

    // Remembered: the next sign-in goes straight through; prompt=consent asks again.
    let (_, params) = location_params(&authorize_mcp(&app, &user, client_id, &[]).await);
    assert!(params.contains_key("code"));
    let (again, _) =
        location_params(&authorize_mcp(&app, &user, client_id, &[("prompt", "consent")]).await);
    assert_eq!(again.path(), "/oauth2/consent");
}

#[tokio::test]
async fn denying_or_silent_requests_never_yield_a_code() {
    let app = with_registration("open").await;
    let registered = expect_status(register(&app, None, mcp_client()).await, 201).await;
    let client_id = registered["client_id"].as_str().unwrap();
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;

    // Before any interaction, a self-registered app's errors stay on Tessera's page: its
    // redirect URI could be anything (RFC 9700 §4.11.2).
    let silent = authorize_mcp(&app, &user, client_id, &[("prompt", "none")]).await;
    assert_eq!(silent.status(), 400);
    assert!(silent.headers().get("location").is_none());
    assert!(silent.text().await.unwrap().contains("consent_required"));

    let (consent_url, _) = location_params(&authorize_mcp(&app, &user, client_id, &[]).await);
    let denied = answer_consent(&app, &user, &consent_url, "deny").await;
    let (_, params) = location_params(&denied);
    assert_eq!(params["error"], "access_denied");
    assert!(!params.contains_key("code"));

    // An admin-registered app is first party: no consent screen.
    let first_party = tessera_tests::create_client(
        &app,
        json!({ "name": "own", "type": "public", "redirect_uris": [LOOPBACK] }),
    )
    .await;
    let (url, params) = location_params(
        &authorize_mcp(&app, &user, first_party["client_id"].as_str().unwrap(), &[]).await,
    );
    assert_eq!(url.port(), Some(49152));
    assert!(params.contains_key("code"));
}

#[tokio::test]
async fn self_registration_cannot_claim_api_scopes_or_a_callback_into_tessera() {
    let app = with_registration("open").await;
    let mut callback = mcp_client();
    callback["backchannel_logout_uri"] = json!("https://notify.example.com/logout");
    assert_eq!(
        expect_status(register(&app, None, callback).await, 400).await["error"],
        "invalid_client_metadata"
    );
    let mut scoped = mcp_client();
    scoped["scope"] = json!("openid invoices:write");
    assert_eq!(
        expect_status(register(&app, None, scoped).await, 400).await["error"],
        "invalid_client_metadata"
    );
}

#[tokio::test]
async fn a_self_registered_app_never_redirects_a_bad_request() {
    let app = with_registration("open").await;
    let registered = expect_status(register(&app, None, mcp_client()).await, 201).await;
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let bad = authorize_mcp(
        &app,
        &user,
        registered["client_id"].as_str().unwrap(),
        &[("response_mode", "fragment")],
    )
    .await;
    assert_eq!(bad.status(), 400);
    assert!(bad.headers().get("location").is_none());
}

#[tokio::test]
async fn consent_covers_the_resources_and_organization_asked_for() {
    let app = with_registration("open").await;
    let registered = expect_status(register(&app, None, mcp_client()).await, 201).await;
    let client_id = registered["client_id"].as_str().unwrap();
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let (consent_url, _) = location_params(&authorize_mcp(&app, &user, client_id, &[]).await);
    location_params(&answer_consent(&app, &user, &consent_url, "allow").await);

    // Same app, now asking for tokens for an API: the user is asked again.
    let api = [("resource", "https://mcp.example.com/")];
    let (again, _) = location_params(&authorize_mcp(&app, &user, client_id, &api).await);
    assert_eq!(again.path(), "/oauth2/consent");
    let here = format!("{}?{}", again.path(), again.query().unwrap_or_default());
    let page = app
        .browser()
        .get(app.url(&here))
        .header("cookie", &user.cookie)
        .send()
        .await
        .unwrap();
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("https://mcp.example.com/"),
        "the page names the API"
    );
}
