//! Session timeouts as a person meets them: the account page sends them back to sign in after
//! three idle days, use keeps a session going, and nothing keeps it past fourteen days.

use std::sync::Arc;

use broker::ManualClock;
use broker::session::{ABSOLUTE_TIMEOUT, IDLE_TIMEOUT};
use chrono::Duration;
use tessera_tests::smtp::SmtpSink;
use tessera_tests::{Options, TestApp};

use super::browser::{Browser, location, signed_up};

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

/// Whether the account page opens (or sends the browser to sign in).
async fn account_opens(browser: &mut Browser) -> bool {
    let response = browser.get("/account").await;
    match response.status().as_u16() {
        200 => true,
        303 => {
            assert_eq!(location(&response), "/login?return_to=%2Faccount");
            false
        }
        other => panic!("GET /account answered {other}"),
    }
}

#[tokio::test]
async fn an_idle_session_ends_after_three_days() {
    let (app, sink, clock) = app_with_clock().await;
    assert_eq!(IDLE_TIMEOUT, Duration::days(3));
    let mut browser = signed_up(&app, &sink, "idle@example.com").await;
    assert!(account_opens(&mut browser).await);

    clock.advance(IDLE_TIMEOUT - Duration::minutes(5));
    assert!(account_opens(&mut browser).await, "just inside the window");
    // That visit started a new idle window.
    clock.advance(IDLE_TIMEOUT - Duration::minutes(5));
    assert!(account_opens(&mut browser).await, "the window slid");

    clock.advance(IDLE_TIMEOUT + Duration::minutes(1));
    assert!(!account_opens(&mut browser).await, "idle too long");
    // Coming back does not revive it.
    clock.advance(Duration::minutes(1));
    assert!(!account_opens(&mut browser).await);
}

#[tokio::test]
async fn a_session_ends_after_fourteen_days_however_active() {
    let (app, sink, clock) = app_with_clock().await;
    assert_eq!(ABSOLUTE_TIMEOUT, Duration::days(14));
    let mut browser = signed_up(&app, &sink, "busy@example.com").await;
    // Every day for thirteen days and 23 hours: never idle, always signed in.
    for day in 1..14 {
        clock.advance(Duration::days(1));
        assert!(account_opens(&mut browser).await, "day {day}");
    }
    clock.advance(Duration::hours(23));
    assert!(account_opens(&mut browser).await, "the last hour");
    clock.advance(Duration::hours(1));
    assert!(
        !account_opens(&mut browser).await,
        "fourteen days after sign-in"
    );

    // A new sign-in starts a new session.
    let mut again = signed_up(&app, &sink, "busy@example.com").await;
    assert!(account_opens(&mut again).await);
}

#[tokio::test]
async fn the_hourly_sweep_deletes_ended_sessions_and_keeps_live_ones() {
    let (app, clock) = TestApp::spawn_with_manual_clock().await;
    let idle = app.sign_in("idle@example.com", None, &["pwd"]).await;
    clock.advance(IDLE_TIMEOUT + Duration::minutes(1));
    let signed_out = app.sign_in("signed-out@example.com", None, &["pwd"]).await;
    app.broker()
        .revoke_session(signed_out.session_id.parse().unwrap())
        .await
        .unwrap();
    let live = app.sign_in("live@example.com", None, &["pwd"]).await;

    assert_eq!(app.broker().sweep_ended_sessions().await.unwrap(), 2);
    assert_eq!(
        app.broker().sweep().await.unwrap().sessions,
        0,
        "nothing left to sweep"
    );

    let opens = |cookie: String| {
        let app = &app;
        async move {
            let response = app
                .browser()
                .get(app.url("/account"))
                .header("Cookie", cookie)
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        }
    };
    assert_eq!(opens(live.cookie).await, 200, "the live session stays");
    // The deleted sessions' cookies are simply not signed in.
    assert_eq!(opens(idle.cookie).await, 303);
    assert_eq!(opens(signed_out.cookie).await, 303);
}
