//! A passkey as the second factor after a password, in a real browser
//! (`tests/e2e/second_factor.mjs`, run by [`super::browser`]): a password user with a passkey
//! signs in to an app with email and password, gets the second-factor page, answers it with the
//! passkey and lands back at the app, whose tokens say both factors were used. The
//! second-factor page's screenshot stays in `target/e2e-screenshots/`.

use serde_json::json;
use tessera_tests::{pkce_pair, verify_with_jwks};

use super::browser::{local_app, run_script};
use crate::provider::flow::{REDIRECT, exchange, standard, web_app};

#[tokio::test]
async fn a_password_user_finishes_sign_in_with_a_passkey_as_second_factor_in_chromium() {
    let local = local_app(&[("TESSERA_PASSWORD_LOGIN", "true")]).await;
    let app = &local.app;
    let (client_id, secret) = web_app(app, json!({})).await;
    let (verifier, challenge) = pkce_pair();
    let query = form_query(&standard(&client_id, &challenge, "openid email"));
    let authorize = format!("{}/oauth2/authorize?{query}", local.base);
    let email = format!("second-{}@example.com", uuid::Uuid::new_v4().simple());

    let result = run_script(
        &local,
        "second_factor.mjs",
        &email,
        &[
            ("PASSWORD", "lantern orchard velvet compass"),
            ("AUTHORIZE_URL", &authorize),
            ("REDIRECT_URI", REDIRECT),
        ],
        &["second-factor", "account-password-and-passkey"],
    )
    .await;
    assert_eq!(result["state"], "st-123");

    // The app's view: the code becomes tokens that say password, passkey, two factors.
    let code = result["code"].as_str().unwrap();
    let response = exchange(app, (&client_id, &secret), code, &verifier).await;
    assert_eq!(response.status(), 200);
    let tokens: serde_json::Value = response.json().await.unwrap();
    let (_, claims) = verify_with_jwks(app, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["email"], email.as_str());
    let amr: Vec<&str> = claims["amr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(amr.contains(&"pwd"), "amr {amr:?}");
    assert!(amr.contains(&"swk"), "amr {amr:?}");
    assert!(amr.contains(&"mfa"), "amr {amr:?}");
    assert_eq!(claims["acr"], "urn:tessera:acr:mfa", "{claims}");

    let signed_in = app
        .admin(
            reqwest::Method::GET,
            "/api/v1/audit-events?action=user.signed_in",
        )
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let methods: Vec<&str> = signed_in["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"]["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, ["second_factor", "email_link"], "newest first");
    local.app.stop().await;
}

fn form_query(params: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}
