//! API keys: how they are presented, scoped, listed without their secret, revoked, and how
//! guessing them is rate limited.

use reqwest::Method;
use serde_json::json;
use tessera_tests::{Options, TestApp, expect_error, expect_status};

#[tokio::test]
async fn requests_without_a_key_are_refused_with_a_challenge() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/api/v1/organizations"))
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    expect_error(response, 401, "missing_credentials", None).await;
}

#[tokio::test]
async fn unknown_keys_are_refused() {
    let app = TestApp::spawn().await;
    for key in ["tsk_not-a-real-key", "something-else"] {
        let response = app
            .with_key(key, Method::GET, "/api/v1/organizations")
            .send()
            .await
            .unwrap();
        expect_error(response, 401, "invalid_credentials", None).await;
    }
}

#[tokio::test]
async fn x_api_key_header_works_too() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/api/v1/organizations"))
        .header("x-api-key", &app.admin_key)
        .send()
        .await
        .unwrap();
    expect_status(response, 200).await;
}

#[tokio::test]
async fn org_key_is_shown_once_listed_by_prefix_and_revocable() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let response = app
        .admin(Method::POST, "/api/v1/organizations/acme/api-keys")
        .json(&json!({ "name": "terraform" }))
        .send()
        .await
        .unwrap();
    let created = expect_status(response, 201).await;
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("tsk_") && key.len() >= 40, "{key}");
    assert!(key.starts_with(created["prefix"].as_str().unwrap()));

    let listed = app
        .admin(Method::GET, "/api/v1/organizations/acme/api-keys")
        .send()
        .await
        .unwrap();
    let listed = expect_status(listed, 200).await;
    let text = listed.to_string();
    assert!(!text.contains(&key), "a listing must never contain the key");
    assert_eq!(listed["data"][0]["name"], "terraform");

    let works = app
        .with_key(&key, Method::GET, "/api/v1/organizations/acme")
        .send()
        .await
        .unwrap();
    expect_status(works, 200).await;
    // Use is recorded (to the minute).
    let listed = app
        .admin(Method::GET, "/api/v1/organizations/acme/api-keys")
        .send()
        .await
        .unwrap();
    assert!(expect_status(listed, 200).await["data"][0]["last_used_at"].is_string());

    let id = created["id"].as_str().unwrap();
    let revoked = app
        .admin(
            Method::DELETE,
            &format!("/api/v1/organizations/acme/api-keys/{id}"),
        )
        .send()
        .await
        .unwrap();
    assert!(expect_status(revoked, 200).await["revoked_at"].is_string());
    let refused = app
        .with_key(&key, Method::GET, "/api/v1/organizations/acme")
        .send()
        .await
        .unwrap();
    expect_error(refused, 401, "invalid_credentials", None).await;
}

#[tokio::test]
async fn keys_cannot_be_created_already_expired() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let response = app
        .admin(Method::POST, "/api/v1/organizations/acme/api-keys")
        .json(&json!({ "name": "old", "expires_at": "2001-01-01T00:00:00Z" }))
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_expiry", Some("expires_at")).await;
}

#[tokio::test]
async fn another_orgs_key_cannot_be_revoked_through_this_org() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    app.create_org("globex").await;
    let response = app
        .admin(Method::POST, "/api/v1/organizations/acme/api-keys")
        .json(&json!({ "name": "acme ci" }))
        .send()
        .await
        .unwrap();
    let created = expect_status(response, 201).await;
    let globex_key = app.create_org_key("globex").await;
    let id = created["id"].as_str().unwrap();
    let response = app
        .with_key(
            &globex_key,
            Method::DELETE,
            &format!("/api/v1/organizations/globex/api-keys/{id}"),
        )
        .send()
        .await
        .unwrap();
    expect_error(response, 404, "api_key_not_found", None).await;
    let still_works = app
        .with_key(
            created["key"].as_str().unwrap(),
            Method::GET,
            "/api/v1/organizations/acme",
        )
        .send()
        .await
        .unwrap();
    expect_status(still_works, 200).await;
}

#[tokio::test]
async fn guessing_keys_is_rate_limited_per_client() {
    let app = TestApp::spawn().await;
    let mut limited = None;
    for attempt in 1..=25 {
        let response = app
            .with_key(
                &format!("tsk_guess{attempt}"),
                Method::GET,
                "/api/v1/organizations",
            )
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            limited = Some((attempt, response));
            break;
        }
        assert_eq!(response.status(), 401);
    }
    let (attempt, response) = limited.expect("no rate limit after 25 bad keys");
    assert_eq!(attempt, 21, "the limit is 20 failures per minute");
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    expect_error(response, 429, "rate_limited", None).await;
    // A valid key still works for its owner.
    let ok = app
        .admin(Method::GET, "/api/v1/organizations")
        .send()
        .await
        .unwrap();
    expect_status(ok, 200).await;
}

#[tokio::test]
async fn behind_a_proxy_the_limit_follows_the_real_client_not_forged_headers() {
    let app = TestApp::spawn_with(Options {
        env: vec![("TESSERA_TRUSTED_PROXY_HOPS".into(), "1".into())],
        ..Options::default()
    })
    .await;
    let mut statuses = Vec::new();
    for attempt in 1..=21 {
        // The client forges a new leftmost address each time; the proxy appends the real one.
        let forwarded = format!("198.51.100.{attempt}, 203.0.113.9");
        let response = app
            .with_key("tsk_guess", Method::GET, "/api/v1/organizations")
            .header("x-forwarded-for", forwarded)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses[..20], [401; 20]);
    assert_eq!(statuses[20], 429);
    // Another client behind the same proxy is unaffected, and the audit log names it.
    let response = app
        .admin(Method::POST, "/api/v1/organizations")
        .header("x-forwarded-for", "203.0.113.77")
        .json(&json!({ "name": "Acme", "slug": "acme" }))
        .send()
        .await
        .unwrap();
    expect_status(response, 201).await;
    let events = app
        .admin(
            Method::GET,
            "/api/v1/audit-events?action=organization.created",
        )
        .header("x-forwarded-for", "203.0.113.77")
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(events, 200).await["data"][0]["actor"]["ip"],
        "203.0.113.77"
    );
}

#[tokio::test]
async fn keys_stop_working_when_they_expire() {
    let (app, clock) = TestApp::spawn_with_manual_clock().await;
    app.create_org("acme").await;
    let response = app
        .admin(Method::POST, "/api/v1/organizations/acme/api-keys")
        .json(&json!({ "name": "short-lived", "expires_at": "2030-01-01T01:00:00Z" }))
        .send()
        .await
        .unwrap();
    let key = expect_status(response, 201).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = app
        .with_key(&key, Method::GET, "/api/v1/organizations/acme")
        .send()
        .await
        .unwrap();
    expect_status(before, 200).await;

    clock.advance(chrono::Duration::minutes(61));
    let after = app
        .with_key(&key, Method::GET, "/api/v1/organizations/acme")
        .send()
        .await
        .unwrap();
    expect_error(after, 401, "invalid_credentials", None).await;
}

mod app_keys {
    //! Keys for an organization's apps: scopes, member keys, and the verification endpoint an
    //! app's backend calls.

    use reqwest::Method;
    use serde_json::{Value, json};
    use tessera_tests::{TestApp, create_client, expect_error, expect_status, post_form};

    async fn key(app: &TestApp, org: &str, body: Value) -> Value {
        let response = app
            .admin(
                Method::POST,
                &format!("/api/v1/organizations/{org}/api-keys"),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_status(response, 201).await
    }

    async fn backend(app: &TestApp, org: Option<&str>) -> (String, String) {
        let mut body = json!({ "name": "api backend", "type": "confidential", "grant_types": ["client_credentials"] });
        if let Some(org) = org {
            body["organization"] = json!(org);
        }
        let created = create_client(app, body).await;
        (
            created["client_id"].as_str().unwrap().to_owned(),
            created["client_secret"].as_str().unwrap().to_owned(),
        )
    }

    async fn verify(app: &TestApp, creds: (&str, &str), key: &str) -> Value {
        expect_status(
            post_form(app, "/oauth2/api_keys/verify", Some(creds), &[("key", key)]).await,
            200,
        )
        .await
    }

    #[tokio::test]
    async fn an_app_backend_verifies_a_members_key() {
        let app = TestApp::spawn().await;
        let org = app.create_org("acme").await;
        let member = app
            .admin(Method::POST, "/api/v1/organizations/acme/memberships")
            .json(&json!({ "email": "ada@acme.example" }))
            .send()
            .await
            .unwrap();
        let member = expect_status(member, 201).await;
        let created = key(
            &app,
            "acme",
            json!({
                "name": "ada's script", "scopes": ["invoices:read"], "user_id": member["user_id"],
            }),
        )
        .await;
        assert_eq!(created["scopes"], json!(["invoices:read"]));
        assert_eq!(created["user_id"], member["user_id"]);
        let secret = created["key"].as_str().unwrap();

        let (id, client_secret) = backend(&app, Some("acme")).await;
        let answer = verify(&app, (&id, &client_secret), secret).await;
        assert_eq!(answer["active"], true);
        assert_eq!(answer["scopes"], json!(["invoices:read"]));
        assert_eq!(answer["organization_id"], org["id"]);
        assert_eq!(answer["user_id"], member["user_id"]);
        assert_eq!(answer["name"], "ada's script");

        // Not an admin key: Tessera's own admin API refuses it.
        let refused = app
            .with_key(secret, Method::GET, "/api/v1/organizations/acme")
            .send()
            .await
            .unwrap();
        expect_error(refused, 403, "insufficient_key_scope", None).await;

        let key_id = created["id"].as_str().unwrap();
        let revoked = app
            .admin(
                Method::DELETE,
                &format!("/api/v1/organizations/acme/api-keys/{key_id}"),
            )
            .send()
            .await
            .unwrap();
        expect_status(revoked, 200).await;
        assert_eq!(
            verify(&app, (&id, &client_secret), secret).await,
            json!({ "active": false })
        );
    }

    #[tokio::test]
    async fn another_orgs_app_learns_nothing_about_a_key() {
        let app = TestApp::spawn().await;
        app.create_org("acme").await;
        app.create_org("globex").await;
        let created = key(
            &app,
            "acme",
            json!({ "name": "acme ci", "scopes": ["deploy"] }),
        )
        .await;
        let (id, secret) = backend(&app, Some("globex")).await;
        assert_eq!(
            verify(&app, (&id, &secret), created["key"].as_str().unwrap()).await,
            json!({ "active": false })
        );
        let (any_id, any_secret) = backend(&app, None).await;
        assert_eq!(
            verify(
                &app,
                (&any_id, &any_secret),
                created["key"].as_str().unwrap()
            )
            .await["active"],
            true
        );
        assert_eq!(
            verify(&app, (&any_id, &any_secret), "tsk_nope").await,
            json!({ "active": false })
        );
    }

    #[tokio::test]
    async fn key_rules_name_the_field() {
        let app = TestApp::spawn().await;
        app.create_org("acme").await;
        let stranger = uuid::Uuid::new_v4();
        for (body, status, code, field) in [
            (
                json!({ "name": "x", "scopes": ["bad scope"] }),
                400,
                "invalid_scope_name",
                "scopes",
            ),
            (
                json!({ "name": "x", "user_id": stranger, "scopes": ["read"] }),
                404,
                "user_not_found",
                "user_id",
            ),
        ] {
            let response = app
                .admin(Method::POST, "/api/v1/organizations/acme/api-keys")
                .json(&body)
                .send()
                .await
                .unwrap();
            expect_error(response, status, code, Some(field)).await;
        }
        let member = app
            .admin(Method::POST, "/api/v1/organizations/acme/memberships")
            .json(&json!({ "email": "bob@acme.example" }))
            .send()
            .await
            .unwrap();
        let member = expect_status(member, 201).await;
        let response = app
            .admin(Method::POST, "/api/v1/organizations/acme/api-keys")
            .json(&json!({ "name": "x", "user_id": member["user_id"], "scopes": ["admin"] }))
            .send()
            .await
            .unwrap();
        expect_error(response, 400, "invalid_scope_name", Some("scopes")).await;
    }

    #[tokio::test]
    async fn public_apps_may_not_verify_keys() {
        let app = TestApp::spawn().await;
        let spa = create_client(
            &app,
            json!({ "name": "spa", "type": "public", "redirect_uris": ["https://spa.example/cb"] }),
        )
        .await;
        let response = post_form(
            &app,
            "/oauth2/api_keys/verify",
            None,
            &[
                ("client_id", spa["client_id"].as_str().unwrap()),
                ("key", "tsk_x"),
            ],
        )
        .await;
        assert_eq!(
            expect_status(response, 400).await["error"],
            "unauthorized_client"
        );
    }

    #[tokio::test]
    async fn guessing_keys_through_the_verifier_is_rate_limited() {
        let app = TestApp::spawn().await;
        let (id, secret) = backend(&app, None).await;
        let mut last = 200;
        for i in 0..101 {
            last = post_form(
                &app,
                "/oauth2/api_keys/verify",
                Some((&id, &secret)),
                &[("key", &format!("tsk_guess{i}"))],
            )
            .await
            .status()
            .as_u16();
        }
        assert_eq!(last, 429);
    }
}
