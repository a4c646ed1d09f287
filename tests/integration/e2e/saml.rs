//! Per-org SAML federation against real software: samlify as the customer's SAML IdP,
//! openid-client (OpenID Certified) as the app, headless Chromium for the browser's
//! cross-site POST to the ACS, and the real binary between them. Set-up goes through the admin
//! API (`tests/e2e/saml.mjs`).

use broker::Actor;
use broker::api_key::NewApiKey;
use secrecy::ExposeSecret as _;
use serde_json::json;
use tessera_tests::real::{RealServer, run_node};

#[tokio::test]
async fn an_org_signs_in_through_its_saml_idp_with_encryption_rotation_and_a_real_browser() {
    let server = RealServer::start(&[]).await;
    let broker = server.broker().await;
    let key = broker
        .create_instance_api_key(&Actor::cli(), NewApiKey::admin("saml e2e"))
        .await
        .unwrap();
    let screenshots = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/e2e-screenshots")
        .display()
        .to_string();
    let output = run_node(
        "saml.mjs",
        &[
            ("TESSERA", server.base.clone()),
            ("API_KEY", key.secret.expose_secret().to_owned()),
            ("SCREENSHOT_DIR", screenshots),
        ],
    );
    let last = output.lines().last().unwrap_or_default();
    let result: serde_json::Value = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("saml.mjs printed no result ({e}):\n{output}"));

    // The app got Tessera tokens for the org, with roles from the SAML groups attribute.
    assert_eq!(result["alice"]["email"], "alice@acme.test");
    assert_eq!(result["alice"]["roles"], json!(["admin"]));
    assert_eq!(result["alice"]["amr"], json!(["fed", "pwd"]));
    // Encryption required: a plain assertion is refused, an encrypted one signs in.
    assert_eq!(
        result["plain_after_encryption_required"],
        "saml_assertion_not_encrypted"
    );
    assert_eq!(result["encrypted"]["roles"], json!(["member"]));
    // Certificate rotation: refused until the metadata is refreshed, then accepted.
    assert_eq!(result["rotated_before_refresh"], "saml_signature_invalid");
    assert_eq!(result["rotated"]["roles"], json!(["admin"]));
    // Chromium: home-realm discovery from the sign-in page, the IdP's login form, the
    // cross-site POST to the ACS, and the account page.
    assert_eq!(result["chromium"]["landed"], "/account");
    assert_eq!(
        result["members"],
        json!([
            "alice@acme.test:admin",
            "bob@acme.test:member",
            "carol@acme.test:admin",
            "dora@acme.test:member"
        ])
    );
}
