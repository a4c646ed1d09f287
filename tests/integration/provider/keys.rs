//! Key rotation: a published next key starts signing, the retired key keeps verifying until its
//! tokens expire, and only then leaves the JWKS.

use broker::provider::keys::ALGORITHMS;
use serde_json::Value;
use tessera_tests::{TestApp, expect_status, post_form, service_client, verify_with_jwks};

async fn kids(app: &TestApp) -> Vec<String> {
    let jwks: Value = app
        .client
        .get(app.url("/oauth2/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

async fn issue(app: &TestApp, creds: (&str, &str)) -> String {
    let response = post_form(
        app,
        "/oauth2/token",
        Some(creds),
        &[("grant_type", "client_credentials")],
    )
    .await;
    expect_status(response, 200).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn active(app: &TestApp, creds: (&str, &str), token: &str) -> bool {
    let response = post_form(app, "/oauth2/introspect", Some(creds), &[("token", token)]).await;
    expect_status(response, 200).await["active"] == true
}

#[tokio::test]
async fn rotation_promotes_the_published_next_key_and_keeps_the_old_one_verifying() {
    let (app, clock) = TestApp::spawn_with_manual_clock().await;
    let (id, secret) = service_client(&app, &[]).await;
    let creds = (id.as_str(), secret.as_str());

    let before = issue(&app, creds).await;
    let old_kid = verify_with_jwks(&app, &before).await.0.kid.unwrap();
    let published_before = kids(&app).await;

    let rotations = app.broker().rotate_signing_keys(&ALGORITHMS).await.unwrap();
    let rs = rotations
        .iter()
        .find(|r| r.retired == old_kid)
        .expect("RS256 rotated");
    assert!(
        published_before.contains(&rs.current),
        "the new signing key was published before it signed"
    );

    let after = issue(&app, creds).await;
    assert_eq!(
        verify_with_jwks(&app, &after).await.0.kid.unwrap(),
        rs.current
    );
    let published = kids(&app).await;
    assert_eq!(
        published.len(),
        9,
        "retired, current and next for three algorithms"
    );
    assert!(published.contains(&old_kid) && published.contains(&rs.next));
    assert!(
        active(&app, creds, &before).await,
        "tokens of the retired key still verify"
    );

    // Past the retired key's window (token lifetime plus a minute) it leaves the JWKS.
    clock.advance(chrono::Duration::minutes(12));
    app.broker()
        .rotate_due_signing_keys(chrono::Duration::days(90))
        .await
        .unwrap();
    clock.advance(chrono::Duration::seconds(31)); // past the key ring's reload interval
    let published = kids(&app).await;
    assert!(!published.contains(&old_kid));
    assert_eq!(published.len(), 6);
}

#[tokio::test]
async fn scheduled_rotation_replaces_keys_that_signed_long_enough() {
    let (app, clock) = TestApp::spawn_with_manual_clock().await;
    let interval = chrono::Duration::days(90);
    assert!(
        app.broker()
            .rotate_due_signing_keys(interval)
            .await
            .unwrap()
            .is_empty()
    );
    clock.advance(chrono::Duration::days(91));
    let rotated = app
        .broker()
        .rotate_due_signing_keys(interval)
        .await
        .unwrap();
    assert_eq!(rotated.len(), 3);
    // Replicas running the schedule together rotate once.
    let again = app
        .broker()
        .rotate_due_signing_keys(interval)
        .await
        .unwrap();
    assert!(again.is_empty());
}
