//! Refresh tokens: rotation on every use, reuse detection revoking the family, narrowing scope,
//! and the sliding and absolute lifetimes.

use serde_json::{Value, json};
use tessera_tests::{TestApp, expect_status, post_form, verify_with_jwks};

use super::flow::{refresh, tokens_for, web_app};

async fn first_tokens(app: &TestApp, creds: (&str, &str), scope: &str) -> Value {
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    tokens_for(app, &user, creds, scope).await
}

/// The refresh token of a new grant (`openid offline_access`).
async fn new_refresh_token(app: &TestApp, creds: (&str, &str)) -> String {
    let tokens = first_tokens(app, creds, "openid offline_access").await;
    tokens["refresh_token"].as_str().unwrap().to_owned()
}

/// Uses `token` every ten days, `times` times, and returns the grant's latest token.
async fn refresh_every_ten_days(
    app: &TestApp,
    clock: &broker::ManualClock,
    creds: (&str, &str),
    mut token: String,
    times: usize,
) -> String {
    for _ in 0..times {
        clock.advance(chrono::Duration::days(10));
        let body = expect_status(refresh(app, creds, &token, None).await, 200).await;
        token = body["refresh_token"].as_str().unwrap().to_owned();
    }
    token
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = TestApp::spawn().await;
    let (id, secret) = web_app(&app, json!({})).await;
    let creds = (id.as_str(), secret.as_str());
    let first = first_tokens(&app, creds, "openid email offline_access").await;
    let r1 = first["refresh_token"].as_str().unwrap();

    let second = expect_status(refresh(&app, creds, r1, None).await, 200).await;
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2, "every use returns a new refresh token");
    let (_, id_token) = verify_with_jwks(&app, second["id_token"].as_str().unwrap()).await;
    let (_, original) = verify_with_jwks(&app, first["id_token"].as_str().unwrap()).await;
    assert_eq!(
        id_token["auth_time"], original["auth_time"],
        "refresh keeps the sign-in time"
    );
    assert!(id_token.get("nonce").is_none());

    // r1 comes back: someone else has it. The whole family dies, r2 included.
    let reuse = expect_status(refresh(&app, creds, r1, None).await, 400).await;
    assert_eq!(reuse["error"], "invalid_grant");
    let after = expect_status(refresh(&app, creds, r2, None).await, 400).await;
    assert_eq!(after["error"], "invalid_grant");
    let introspected = expect_status(
        post_form(
            &app,
            "/oauth2/introspect",
            Some(creds),
            &[("token", second["access_token"].as_str().unwrap())],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        introspected["active"], false,
        "access tokens of the revoked grant are inactive"
    );
}

#[tokio::test]
async fn a_refresh_token_sent_many_times_at_once_leaves_no_usable_successor() {
    let app = TestApp::spawn().await;
    let (id, secret) = web_app(&app, json!({})).await;
    let creds = (id.as_str(), secret.as_str());
    let token = new_refresh_token(&app, creds).await;

    let answers =
        futures::future::join_all((0..8).map(|_| refresh(&app, creds, &token, None))).await;
    let mut successors = Vec::new();
    for answer in answers {
        match answer.status().as_u16() {
            200 => successors.push(
                answer.json::<Value>().await.unwrap()["refresh_token"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ),
            400 => assert_eq!(
                answer.json::<Value>().await.unwrap()["error"],
                "invalid_grant"
            ),
            other => panic!("unexpected status {other}"),
        }
    }
    // One use may win the race; every other one is a reuse, which revokes the whole family,
    // the winner's successor with it (RFC 9700 §4.14.2).
    assert!(successors.len() <= 1, "{} successors", successors.len());
    for successor in successors.iter().chain([&token]) {
        let refused = expect_status(refresh(&app, creds, successor, None).await, 400).await;
        assert_eq!(refused["error"], "invalid_grant");
    }
}

#[tokio::test]
async fn scope_may_narrow_but_not_widen() {
    let app = TestApp::spawn().await;
    let (id, secret) = web_app(&app, json!({})).await;
    let creds = (id.as_str(), secret.as_str());
    let first = first_tokens(&app, creds, "openid email offline_access").await;
    let narrowed = expect_status(
        refresh(
            &app,
            creds,
            first["refresh_token"].as_str().unwrap(),
            Some("openid offline_access"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(narrowed["scope"], "openid offline_access");
    let wider = expect_status(
        refresh(
            &app,
            creds,
            narrowed["refresh_token"].as_str().unwrap(),
            Some("openid profile"),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(wider["error"], "invalid_scope");
}

#[tokio::test]
async fn refresh_tokens_need_offline_access_and_stay_with_their_app() {
    let app = TestApp::spawn().await;
    let (id, secret) = web_app(&app, json!({})).await;
    let creds = (id.as_str(), secret.as_str());
    let online = first_tokens(&app, creds, "openid").await;
    assert!(online.get("refresh_token").is_none());

    let offline = first_tokens(&app, creds, "openid offline_access").await;
    let (other_id, other_secret) = web_app(&app, json!({ "name": "other" })).await;
    let stolen = expect_status(
        refresh(
            &app,
            (&other_id, &other_secret),
            offline["refresh_token"].as_str().unwrap(),
            None,
        )
        .await,
        400,
    )
    .await;
    assert_eq!(stolen["error"], "invalid_grant");
    // The rightful app still can.
    expect_status(
        refresh(
            &app,
            creds,
            offline["refresh_token"].as_str().unwrap(),
            None,
        )
        .await,
        200,
    )
    .await;
}

#[tokio::test]
async fn refresh_tokens_expire_when_idle_and_at_their_absolute_limit() {
    let (app, clock) = TestApp::spawn_with_manual_clock().await;
    let (id, secret) = web_app(&app, json!({})).await;
    let creds = (id.as_str(), secret.as_str());

    let idle = first_tokens(&app, creds, "openid offline_access").await;
    clock.advance(chrono::Duration::days(15));
    let expired = expect_status(
        refresh(&app, creds, idle["refresh_token"].as_str().unwrap(), None).await,
        400,
    )
    .await;
    assert_eq!(
        expired["error"], "invalid_grant",
        "unused for 15 days (idle limit 14)"
    );

    // Used every 10 days, the family still ends 90 days after sign-in.
    let first = new_refresh_token(&app, creds).await;
    let token = refresh_every_ten_days(&app, &clock, creds, first, 8).await;
    clock.advance(chrono::Duration::days(10));
    let ended = expect_status(refresh(&app, creds, &token, None).await, 400).await;
    assert_eq!(
        ended["error"], "invalid_grant",
        "day 90: the absolute limit"
    );
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_its_grant() {
    let app = TestApp::spawn().await;
    let (id, secret) = web_app(&app, json!({})).await;
    let creds = (id.as_str(), secret.as_str());
    let first = first_tokens(&app, creds, "openid offline_access").await;
    let token = first["refresh_token"].as_str().unwrap();
    let revoked = post_form(
        &app,
        "/oauth2/revoke",
        Some(creds),
        &[("token", token), ("token_type_hint", "refresh_token")],
    )
    .await;
    assert_eq!(revoked.status(), 200);
    assert_eq!(
        expect_status(refresh(&app, creds, token, None).await, 400).await["error"],
        "invalid_grant"
    );
    let introspected = expect_status(
        post_form(
            &app,
            "/oauth2/introspect",
            Some(creds),
            &[("token", first["access_token"].as_str().unwrap())],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(introspected["active"], false);
}

#[tokio::test]
async fn the_sweep_deletes_ended_grants_and_keeps_what_reuse_detection_needs() {
    let (app, clock) = TestApp::spawn_with_manual_clock().await;
    let (id, secret) = web_app(&app, json!({})).await;
    let creds = (id.as_str(), secret.as_str());

    // A grant refreshed twice (three tokens, two retired), then past its 90 days.
    let first = new_refresh_token(&app, creds).await;
    let ended = refresh_every_ten_days(&app, &clock, creds, first, 2).await;
    clock.advance(chrono::Duration::days(71));
    // A grant that is still live, refreshed once: its retired token must stay.
    let live_first = first_tokens(&app, creds, "openid offline_access").await;
    let live_retired = live_first["refresh_token"].as_str().unwrap();
    let live_current = expect_status(refresh(&app, creds, live_retired, None).await, 200).await;

    assert_eq!(app.broker().sweep_ended_refresh_tokens().await.unwrap(), 3);
    assert_eq!(
        app.broker().sweep_ended_refresh_tokens().await.unwrap(),
        0,
        "nothing left to sweep"
    );
    let gone = expect_status(refresh(&app, creds, &ended, None).await, 400).await;
    assert_eq!(gone["error"], "invalid_grant");

    // The live grant's retired token is still recognised: reuse ends the grant.
    let reuse = expect_status(refresh(&app, creds, live_retired, None).await, 400).await;
    assert_eq!(reuse["error"], "invalid_grant");
    let after = refresh(
        &app,
        creds,
        live_current["refresh_token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(
        expect_status(after, 400).await["error"],
        "invalid_grant",
        "the reuse was detected, so the current token died with its grant"
    );
}

#[tokio::test]
async fn refresh_tokens_outlive_the_sweep_of_their_ended_session() {
    let (app, clock) = TestApp::spawn_with_manual_clock().await;
    let (id, secret) = web_app(&app, json!({})).await;
    let creds = (id.as_str(), secret.as_str());
    let token = new_refresh_token(&app, creds).await;

    // Four days later the browser session has ended (three idle days) and is swept.
    clock.advance(chrono::Duration::days(4));
    let swept = app.broker().sweep().await.unwrap();
    assert_eq!((swept.sessions, swept.refresh_tokens), (1, 0));

    let body = expect_status(refresh(&app, creds, &token, None).await, 200).await;
    let (_, id_token) = verify_with_jwks(&app, body["id_token"].as_str().unwrap()).await;
    assert!(
        id_token.get("sid").is_none(),
        "no session to name any more: {id_token}"
    );
    // Reuse detection still works on the family.
    let reuse = expect_status(refresh(&app, creds, &token, None).await, 400).await;
    assert_eq!(reuse["error"], "invalid_grant");
}
