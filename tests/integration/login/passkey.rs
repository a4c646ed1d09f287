//! Passkey answers no honest browser sends: malformed, from another origin, for a challenge
//! already answered, or too late. Each gets a stable error code, stores nothing, and is in the
//! audit log. The answers come from a software passkey (`tessera_tests::authenticator`); the
//! honest path in a real browser is in `e2e/passkeys.rs`.

use std::sync::Arc;

use broker::ManualClock;
use reqwest::Response;
use serde_json::{Value, json};
use tessera_tests::authenticator::SoftAuthenticator;
use tessera_tests::smtp::SmtpSink;
use tessera_tests::{Options, TestApp, expect_error};

use super::browser::{Browser, audit_events, signed_up};

const EVIL: &str = "https://evil.example";

async fn app_with_clock() -> (TestApp, SmtpSink, Arc<ManualClock>) {
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let clock = Arc::new(ManualClock::new(start));
    let sink = SmtpSink::start();
    let app = TestApp::spawn_with(Options {
        env: vec![("TESSERA_SMTP_URL".into(), sink.url())],
        clock: Some(clock.clone()),
    })
    .await;
    (app, sink, clock)
}

/// The WebAuthn origin of the app: its public URL's origin.
fn origin(app: &TestApp) -> String {
    app.config.public_url.origin().ascii_serialization()
}

/// Asks for passkey options at `path` and returns `(ceremony, options)`.
async fn ceremony(browser: &mut Browser, path: &str) -> (String, Value) {
    let response = browser.post_json(path, &json!({})).await;
    assert_eq!(response.status(), 200, "POST {path}");
    let body: Value = response.json().await.unwrap();
    (
        body["ceremony"].as_str().unwrap().to_owned(),
        body["options"].clone(),
    )
}

async fn register(browser: &mut Browser, ceremony: &str, credential: &Value) -> Response {
    browser
        .post_json(
            "/account/passkeys",
            &json!({ "ceremony": ceremony, "credential": credential, "name": "Phone" }),
        )
        .await
}

async fn sign_in(browser: &mut Browser, ceremony: &str, credential: &Value) -> Response {
    browser
        .post_json(
            "/login/passkey",
            &json!({ "ceremony": ceremony, "credential": credential }),
        )
        .await
}

async fn passkey_count(app: &TestApp) -> usize {
    use sea_orm::{EntityTrait as _, PaginatorTrait as _};
    broker::entities::passkey::Entity::find()
        .count(app.broker().db())
        .await
        .unwrap() as usize
}

async fn session_count(app: &TestApp, email: &str) -> usize {
    let user = app
        .broker()
        .find_or_create_user(&broker::Actor::cli(), email)
        .await
        .unwrap();
    app.broker().sessions_of(user.id).await.unwrap().len()
}

/// The `reason`s of the audit events for `action`, oldest first.
async fn reasons(app: &TestApp, action: &str) -> Vec<String> {
    let mut reasons: Vec<String> = audit_events(app, action)
        .await
        .iter()
        .map(|e| e["data"]["reason"].as_str().unwrap_or_default().to_owned())
        .collect();
    reasons.reverse();
    reasons
}

#[tokio::test]
async fn bad_passkey_registrations_store_nothing_and_are_audited() {
    let (app, sink, clock) = app_with_clock().await;
    let mut browser = signed_up(&app, &sink, "reg@example.com").await;
    browser.page("/account").await;
    let mut authenticator = SoftAuthenticator::new();

    // Not JSON at all: the body is refused before anything looks at it.
    let garbage = browser
        .client
        .post(browser.url("/account/passkeys"))
        .header("cookie", browser.cookie_header())
        .header("x-csrf-token", browser.cookies["tessera_csrf"].clone())
        .header("content-type", "application/json")
        .body(r#"{"ceremony": "x", "credential": "#)
        .send()
        .await
        .unwrap();
    expect_error(garbage, 400, "invalid_json", None).await;

    // JSON, but not a WebAuthn credential.
    let (id, _) = ceremony(&mut browser, "/account/passkeys/options").await;
    let malformed = register(
        &mut browser,
        &id,
        &json!({ "id": "x", "type": "public-key" }),
    )
    .await;
    expect_error(malformed, 400, "passkey_rejected", Some("credential")).await;

    // A credential made for another site (the origin in clientDataJSON is what the server
    // checks: attestation "none" signs nothing at registration).
    let (id, options) = ceremony(&mut browser, "/account/passkeys/options").await;
    let phished = authenticator.register(&options, EVIL);
    let body = expect_error(
        register(&mut browser, &id, &phished).await,
        400,
        "passkey_rejected",
        None,
    )
    .await;
    assert!(
        body["message"].as_str().unwrap().contains("not accepted"),
        "{body}"
    );

    // An answer after the five minutes the prompt lasts.
    let (id, options) = ceremony(&mut browser, "/account/passkeys/options").await;
    let late = authenticator.register(&options, &origin(&app));
    clock.advance(chrono::Duration::minutes(6));
    expect_error(
        register(&mut browser, &id, &late).await,
        400,
        "ceremony_expired",
        None,
    )
    .await;
    assert_eq!(passkey_count(&app).await, 0, "nothing was stored");

    let (id, options) = ceremony(&mut browser, "/account/passkeys/options").await;
    let good = authenticator.register(&options, &origin(&app));
    assert_eq!(register(&mut browser, &id, &good).await.status(), 201);
    assert_eq!(passkey_count(&app).await, 1);

    // The same answer again, for its own (spent) challenge or a new one.
    expect_error(
        register(&mut browser, &id, &good).await,
        400,
        "ceremony_expired",
        None,
    )
    .await;
    let (fresh, _) = ceremony(&mut browser, "/account/passkeys/options").await;
    expect_error(
        register(&mut browser, &fresh, &good).await,
        400,
        "passkey_rejected",
        None,
    )
    .await;
    assert_eq!(passkey_count(&app).await, 1, "still the one passkey");

    assert_eq!(
        reasons(&app, "passkey.registration_failed").await,
        [
            "malformed",
            "verification_failed",
            "ceremony_expired",
            "ceremony_expired",
            "verification_failed",
        ]
    );
    assert_eq!(audit_events(&app, "passkey.added").await.len(), 1);
}

#[tokio::test]
async fn passkey_sign_ins_cannot_be_replayed_phished_malformed_or_late() {
    let (app, sink, clock) = app_with_clock().await;
    let email = "signin@example.com";
    let mut owner = signed_up(&app, &sink, email).await;
    owner.page("/account").await;
    let mut authenticator = SoftAuthenticator::new();
    let (id, options) = ceremony(&mut owner, "/account/passkeys/options").await;
    let created = authenticator.register(&options, &origin(&app));
    assert_eq!(register(&mut owner, &id, &created).await.status(), 201);
    assert_eq!(session_count(&app, email).await, 1);

    // An honest sign-in works.
    let mut browser = Browser::new(&app);
    browser.page("/login").await;
    let (id, options) = ceremony(&mut browser, "/login/passkey/options").await;
    let answer = authenticator.assert(&options, &origin(&app));
    let signed_in = sign_in(&mut browser, &id, &answer).await;
    assert_eq!(signed_in.status(), 200);
    assert_eq!(browser.get("/account").await.status(), 200);
    assert_eq!(session_count(&app, email).await, 2);

    // Replayed by someone who captured it: for its own challenge, or for a new one.
    let mut attacker = Browser::new(&app);
    attacker.page("/login").await;
    expect_error(
        sign_in(&mut attacker, &id, &answer).await,
        400,
        "ceremony_expired",
        None,
    )
    .await;
    let (fresh, _) = ceremony(&mut attacker, "/login/passkey/options").await;
    expect_error(
        sign_in(&mut attacker, &fresh, &answer).await,
        400,
        "passkey_rejected",
        Some("credential"),
    )
    .await;

    // Signed by the right passkey, but for a phishing site's page.
    let (id, options) = ceremony(&mut attacker, "/login/passkey/options").await;
    let phished = authenticator.assert(&options, EVIL);
    expect_error(
        sign_in(&mut attacker, &id, &phished).await,
        400,
        "passkey_rejected",
        None,
    )
    .await;

    // Not a WebAuthn assertion.
    let (id, _) = ceremony(&mut attacker, "/login/passkey/options").await;
    let malformed = json!({ "id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {} });
    expect_error(
        sign_in(&mut attacker, &id, &malformed).await,
        400,
        "passkey_rejected",
        None,
    )
    .await;

    // Too late: the prompt lasts five minutes.
    let (id, options) = ceremony(&mut attacker, "/login/passkey/options").await;
    let late = authenticator.assert(&options, &origin(&app));
    clock.advance(chrono::Duration::minutes(6));
    expect_error(
        sign_in(&mut attacker, &id, &late).await,
        400,
        "ceremony_expired",
        None,
    )
    .await;

    assert_eq!(
        attacker.get("/account").await.status(),
        303,
        "never signed in"
    );
    assert_eq!(session_count(&app, email).await, 2, "no session was added");
    assert_eq!(
        reasons(&app, "user.sign_in_failed").await,
        [
            "ceremony_expired",
            "verification_failed",
            "verification_failed",
            "malformed",
            "ceremony_expired",
        ]
    );
}
