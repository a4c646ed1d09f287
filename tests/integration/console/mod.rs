//! The admin console's API pieces: browser sessions as admin credentials (with CSRF on
//! writes), tenant isolation for org admins, setup links, branding, the first instance admin,
//! and the wizard's helpers (connection ids handed out first, role-rule previews).

mod branding;
mod first_admin;
mod instance_admins;
mod sessions;
mod setup_links;
mod wizard;

use broker::entities::instance_admin;
use reqwest::{Method, RequestBuilder};
use sea_orm::{ActiveValue::Set, EntityTrait as _};
use serde_json::{Value, json};
use tessera_tests::{SignedIn, TestApp, expect_status};

/// A CSRF token as the sign-in pages' cookie carries it (43 characters).
const CSRF: &str = "console-test-csrf-token-0123456789abcdefghi";

/// A browser signed in to the console: its session and anti-forgery cookies.
pub struct Console<'a> {
    pub app: &'a TestApp,
    pub signed_in: SignedIn,
}

impl<'a> Console<'a> {
    /// Signs `email` in (a new user unless it exists).
    pub async fn sign_in(app: &'a TestApp, email: &str) -> Self {
        let signed_in = app.sign_in(email, None, &["swk", "user"]).await;
        Self { app, signed_in }
    }

    /// A request carrying the session and CSRF cookies, and the CSRF header as the console's
    /// scripts send it.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.bare(method, path).header("x-csrf-token", CSRF)
    }

    /// The same without the `X-CSRF-Token` header.
    pub fn bare(&self, method: Method, path: &str) -> RequestBuilder {
        self.app.client.request(method, self.app.url(path)).header(
            "cookie",
            format!("{}; tessera_csrf={CSRF}", self.signed_in.cookie),
        )
    }

    /// The user id.
    pub fn user_id(&self) -> &str {
        &self.signed_in.user_id
    }
}

/// Makes `email` an administrator of `org` (the `tessera:admin` role), with the instance key.
pub async fn make_org_admin(app: &TestApp, org: &str, email: &str) {
    let response = app
        .admin(
            Method::POST,
            &format!("/api/v1/organizations/{org}/memberships"),
        )
        .json(&json!({ "email": email, "roles": ["tessera:admin"] }))
        .send()
        .await
        .unwrap();
    expect_status(response, 201).await;
}

/// Makes the user an instance administrator (as the first-admin link or another instance
/// admin would).
pub async fn make_instance_admin(app: &TestApp, user_id: &str) {
    instance_admin::Entity::insert(instance_admin::ActiveModel {
        user_id: Set(user_id.parse().unwrap()),
        created_at: Set(app.broker().now()),
    })
    .exec(app.broker().db())
    .await
    .unwrap();
}

/// The organization's audit events with `action`, newest first (read with the instance key).
pub async fn audit(app: &TestApp, org: &str, action: &str) -> Vec<Value> {
    let response = app
        .admin(
            Method::GET,
            &format!("/api/v1/organizations/{org}/audit-events?action={action}"),
        )
        .send()
        .await
        .unwrap();
    let body = expect_status(response, 200).await;
    body["data"].as_array().cloned().unwrap_or_default()
}
