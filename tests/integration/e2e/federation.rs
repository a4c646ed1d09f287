//! Per-org OIDC federation against real software: two oidc-provider instances (OpenID
//! Certified) are the customer IdPs of two organizations, openid-client (OpenID Certified) is
//! the app, and the real binary sits between them. Set-up goes through the admin API.

use broker::Actor;
use broker::api_key::NewApiKey;
use secrecy::ExposeSecret as _;
use serde_json::json;
use tessera_tests::real::{RealServer, run_node};

#[tokio::test]
async fn orgs_sign_in_at_their_own_idp_and_get_roles_from_its_groups() {
    let smtp_port = tessera_tests::real::free_port();
    let smtp_url = format!("smtp://127.0.0.1:{smtp_port}");
    let server = RealServer::start(&[("TESSERA_SMTP_URL", smtp_url.as_str())]).await;
    let broker = server.broker().await;
    let key = broker
        .create_instance_api_key(&Actor::cli(), NewApiKey::admin("federation e2e"))
        .await
        .unwrap();

    let output = run_node(
        "federation.mjs",
        &[
            ("TESSERA", server.base.clone()),
            ("API_KEY", key.secret.expose_secret().to_owned()),
            ("SMTP_PORT", smtp_port.to_string()),
        ],
    );
    // oidc-provider prints development warnings; the result is the last line.
    let last = output.lines().last().unwrap_or_default();
    let result: serde_json::Value = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("federation.mjs printed no result ({e}):\n{output}"));

    // Roles come from the upstream groups through each org's rules.
    assert_eq!(result["alice"]["email"], "alice@acme.test");
    assert_eq!(result["alice"]["roles"], json!(["admin"]));
    assert_eq!(result["alice"]["amr"], json!(["fed"]));
    assert_eq!(result["bob"]["roles"], json!(["member"]));
    assert_eq!(result["carol"]["roles"], json!(["operator"]));
    assert_ne!(result["alice"]["org_id"], result["carol"]["org_id"]);
    assert_eq!(result["bob"]["org_id"], result["alice"]["org_id"]);

    // After the IdP rotated its key, the JWKS was refetched and the new key accepted.
    assert_eq!(result["key_rotation"], json!(["admin"]));

    // A user provisioned by acme's SCIM directory signs in through acme's IdP as that user,
    // with the role of the directory's group; deactivated there, the next sign-in is refused.
    assert_eq!(
        result["scim"],
        json!({
            "provisioned_roles": ["admin"],
            "same_user": true,
            "org_id": true,
            "roles": ["admin"],
            "after_deactivation": "membership_inactive",
        })
    );

    // Two orgs, two IdPs: neither sees the other's people.
    assert_eq!(
        result["members"]["acme"],
        json!([
            "alice@acme.test",
            "bob@acme.test",
            "rotated@acme.test",
            "sam@acme.test"
        ])
    );
    assert_eq!(
        result["members"]["globex"],
        json!(["carol@globex.test", "dana@acme.test"])
    );

    // The dry run reported roles, and a failed check with its code.
    assert_eq!(result["test_login"]["roles"], json!(["admin"]));
    assert_eq!(result["test_login"]["failed"], "oidc_audience_mismatch");

    // Each attack ends on an error page with its stable code.
    let refusals = &result["refusals"];
    assert_eq!(refusals["tamper-aud@acme.test"], "oidc_audience_mismatch");
    assert_eq!(refusals["tamper-exp@acme.test"], "oidc_token_expired");
    assert_eq!(refusals["tamper-sig@acme.test"], "oidc_signature_invalid");
    assert_eq!(refusals["dana@acme.test"], "identity_link_refused");
    assert_eq!(refusals["replayed_state"], "sso_state_invalid");
    assert_eq!(refusals["cancelled_at_idp"], "upstream_access_denied");

    // Social sign-in: one-click sign-up, and linking only after signing in to the account.
    assert_eq!(result["social"]["erin"], "signed up");
    assert_eq!(result["social"]["frank"], "linked after signing in");

    // Presets: Entra ID's tenant check, Google Workspace's hosted-domain check.
    let presets = &result["presets"];
    assert_eq!(presets["entra_same_tenant"], "signed in");
    assert_eq!(presets["entra_other_tenant"], "oidc_tenant_mismatch");
    assert_eq!(presets["google_workspace"], "signed in");
    assert_eq!(presets["google_personal"], "oidc_hosted_domain_mismatch");
}
