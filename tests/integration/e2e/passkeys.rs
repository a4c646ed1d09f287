//! Passkeys and email-link sign-in in a real browser (`tests/e2e/passkeys.mjs`, run by
//! [`super::browser`]): sign up by link, create a passkey, sign out, sign in with the passkey
//! alone. Screenshots of the sign-in, passkey and account pages stay in
//! `target/e2e-screenshots/`.

use base64::Engine as _;
use broker::entities::user;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};

use super::browser::{local_app, run_script};

#[tokio::test]
async fn passkey_sign_up_sign_out_and_usernameless_sign_in_in_chromium() {
    let local = local_app(&[]).await;
    let app = &local.app;
    let email = format!("passkey-{}@example.com", uuid::Uuid::new_v4().simple());
    let result = run_script(
        &local,
        "passkeys.mjs",
        &email,
        &[],
        &["sign-in", "passkey-prompt", "account"],
    )
    .await;
    assert_eq!(result["email"], email.as_str());
    assert_eq!(result["rp_id"], "localhost");

    // What the app recorded: one passkey, the one in the authenticator, with its backup flags
    // and a last use from the passkey sign-in.
    let broker = app.broker();
    let user = user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(broker.db())
        .await
        .unwrap()
        .expect("the email link created the user");
    let passkeys = broker.passkeys_of(user.id).await.unwrap();
    assert_eq!(passkeys.len(), 1, "{passkeys:?}");
    let passkey = &passkeys[0];
    let credential_id = base64::engine::general_purpose::STANDARD
        .decode(result["credential_id"].as_str().unwrap())
        .unwrap();
    assert_eq!(passkey.credential_id, credential_id);
    assert_eq!(passkey.name, "Work laptop", "renamed on the account page");
    assert!(passkey.backup_eligible, "{passkey:?}");
    assert!(passkey.backup_state, "{passkey:?}");
    let last_used = passkey
        .last_used_at
        .expect("last_used_at set by the passkey sign-in");
    assert!(last_used > passkey.created_at, "{passkey:?}");
    assert!(passkey.sign_count >= 0);

    // The sign-out revoked the first session; the live one is the passkey's.
    let sessions = broker.sessions_of(user.id).await.unwrap();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let amr = &sessions[0].amr;
    assert!(
        amr.as_array()
            .is_some_and(|a| a.iter().any(|m| m == "swk") && a.iter().any(|m| m == "user")),
        "amr {amr}"
    );
    assert!(sessions[0].auth_time >= last_used - chrono::Duration::seconds(5));

    local.app.stop().await;
}
