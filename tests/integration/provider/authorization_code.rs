//! The authorization code flow with PKCE: codes, ID tokens, and every refusal.

use serde_json::json;
use tessera_tests::{
    TestApp, create_client, expect_status, location_params, pkce_pair, post_form, verify_with_jwks,
};

use super::flow::{REDIRECT, authorize, code_for, exchange, refresh, standard, web_app};

#[tokio::test]
async fn signed_in_user_gets_code_then_tokens() {
    let app = TestApp::spawn().await;
    let (id, secret) = web_app(&app, json!({})).await;
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let (code, verifier, params) =
        code_for(&app, &user, &id, "openid email profile offline_access").await;
    assert_eq!(params["state"], "st-123");
    assert_eq!(
        params["iss"],
        app.config.public_base(),
        "RFC 9207 iss in the response"
    );

    let body = expect_status(exchange(&app, (&id, &secret), &code, &verifier).await, 200).await;
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["refresh_token"].as_str().unwrap().starts_with("trt_"));
    let (header, id_token) = verify_with_jwks(&app, body["id_token"].as_str().unwrap()).await;
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(id_token["sub"], user.user_id.as_str());
    assert_eq!(id_token["aud"], id.as_str());
    assert_eq!(id_token["azp"], id.as_str());
    assert_eq!(id_token["nonce"], "n-456");
    assert_eq!(id_token["email"], "ada@example.com");
    assert_eq!(id_token["email_verified"], false);
    assert_eq!(id_token["amr"], json!(["pwd"]));
    assert_eq!(id_token["sid"], user.session_id.as_str());
    assert!(id_token["auth_time"].is_i64());
    // at_hash: left half of SHA-256 of the access token (OIDC Core 3.1.3.6).
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(body["access_token"].as_str().unwrap().as_bytes());
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]);
    assert_eq!(id_token["at_hash"], expected);

    let (header, access) = verify_with_jwks(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(access["sub"], user.user_id.as_str());
    assert_eq!(access["client_id"], id.as_str());
    assert_eq!(access["scope"], "openid email profile offline_access");
}

#[tokio::test]
async fn a_code_works_once_and_its_replay_revokes_the_grant() {
    let app = TestApp::spawn().await;
    let (id, secret) = web_app(&app, json!({})).await;
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let (code, verifier, _) = code_for(&app, &user, &id, "openid offline_access").await;
    let first = expect_status(exchange(&app, (&id, &secret), &code, &verifier).await, 200).await;
    let second = expect_status(exchange(&app, (&id, &secret), &code, &verifier).await, 400).await;
    assert_eq!(second["error"], "invalid_grant");
    // What the first redemption issued no longer works.
    let refused = refresh(
        &app,
        (&id, &secret),
        first["refresh_token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(expect_status(refused, 400).await["error"], "invalid_grant");
    let introspected = expect_status(
        post_form(
            &app,
            "/oauth2/introspect",
            Some((&id, &secret)),
            &[("token", first["access_token"].as_str().unwrap())],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(introspected["active"], false);
}

#[tokio::test]
async fn pkce_is_enforced_end_to_end() {
    let app = TestApp::spawn().await;
    let (id, secret) = web_app(&app, json!({})).await;
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;

    let (code, _, _) = code_for(&app, &user, &id, "openid").await;
    let (other_verifier, _) = pkce_pair();
    let wrong = expect_status(
        exchange(&app, (&id, &secret), &code, &other_verifier).await,
        400,
    )
    .await;
    assert_eq!(wrong["error"], "invalid_grant");

    let (code, _, _) = code_for(&app, &user, &id, "openid").await;
    let missing = post_form(
        &app,
        "/oauth2/token",
        Some((&id, &secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(expect_status(missing, 400).await["error"], "invalid_grant");

    for (params, why) in [
        (
            vec![
                ("code_challenge", "x".repeat(43)),
                ("code_challenge_method", "plain".into()),
            ],
            "plain",
        ),
        (vec![], "missing"),
        (
            vec![
                ("code_challenge", "short".into()),
                ("code_challenge_method", "S256".into()),
            ],
            "malformed",
        ),
    ] {
        let mut query: Vec<(&str, &str)> = vec![
            ("client_id", &id),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s"),
        ];
        query.extend(params.iter().map(|(k, v)| (*k, v.as_str())));
        let response = authorize(&app, Some(&user), &query).await;
        let (_, params) = location_params(&response);
        assert_eq!(params["error"], "invalid_request", "{why}");
        assert_eq!(params["state"], "s");
    }
}

#[tokio::test]
async fn a_verifier_without_a_challenge_is_refused() {
    let app = TestApp::spawn().await;
    let (id, secret) = web_app(&app, json!({ "require_pkce": false })).await;
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let response = authorize(
        &app,
        Some(&user),
        &[
            ("client_id", &id),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
        ],
    )
    .await;
    let (_, params) = location_params(&response);
    let (verifier, _) = pkce_pair();
    let downgrade = expect_status(
        exchange(&app, (&id, &secret), &params["code"], &verifier).await,
        400,
    )
    .await;
    assert_eq!(downgrade["error"], "invalid_grant");
}

#[tokio::test]
async fn codes_are_bound_to_app_and_redirect_uri() {
    let app = TestApp::spawn().await;
    let (id, secret) = web_app(&app, json!({})).await;
    let (other_id, other_secret) = web_app(&app, json!({ "name": "other" })).await;
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let (code, verifier, _) = code_for(&app, &user, &id, "openid").await;
    let stolen = expect_status(
        exchange(&app, (&other_id, &other_secret), &code, &verifier).await,
        400,
    )
    .await;
    assert_eq!(stolen["error"], "invalid_grant");

    let (code, verifier, _) = code_for(&app, &user, &id, "openid").await;
    let wrong_uri = post_form(
        &app,
        "/oauth2/token",
        Some((&id, &secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://app.example.com/other"),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(
        expect_status(wrong_uri, 400).await["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn expired_codes_are_refused() {
    let app = TestApp::spawn_with(tessera_tests::Options {
        env: vec![("TESSERA_AUTHORIZATION_CODE_TTL".into(), "1".into())],
        ..Default::default()
    })
    .await;
    let (id, secret) = web_app(&app, json!({})).await;
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let (code, verifier, _) = code_for(&app, &user, &id, "openid").await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let late = expect_status(exchange(&app, (&id, &secret), &code, &verifier).await, 400).await;
    assert_eq!(late["error"], "invalid_grant");
}

#[tokio::test]
async fn unknown_apps_and_unregistered_redirects_get_an_error_page_not_a_redirect() {
    let app = TestApp::spawn().await;
    let (id, _) = web_app(&app, json!({})).await;
    let (_, challenge) = pkce_pair();
    let cases = [
        (
            uuid::Uuid::new_v4().to_string(),
            REDIRECT,
            404,
            "unknown_client",
        ),
        (
            id.clone(),
            "https://evil.example.com/callback",
            400,
            "redirect_uri_mismatch",
        ),
        (
            id.clone(),
            "https://app.example.com/callback/../evil",
            400,
            "redirect_uri_mismatch",
        ),
    ];
    for (client_id, redirect_uri, status, code) in cases {
        let response = authorize(
            &app,
            None,
            &[
                ("client_id", client_id.as_str()),
                ("redirect_uri", redirect_uri),
                ("response_type", "code"),
                ("scope", "openid"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
        assert_eq!(response.status(), status);
        assert!(
            response.headers().get("location").is_none(),
            "never redirect to an unchecked URI"
        );
        let page = response.text().await.unwrap();
        assert!(page.contains(code), "{page}");
        assert!(
            !page.contains("evil.example.com"),
            "the page does not echo the URI as a link"
        );
    }
}

#[tokio::test]
async fn request_errors_go_back_to_the_app() {
    let app = TestApp::spawn().await;
    let (id, _) = web_app(&app, json!({ "scopes": ["billing:read"] })).await;
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let (_, challenge) = pkce_pair();
    let base = |scope: &'static str| {
        let mut p = standard(&id, &challenge, scope);
        p.retain(|(k, _)| *k != "scope");
        p.push(("scope", scope));
        p
    };
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            [base("openid"), vec![("response_mode", "fragment")]].concat(),
            "invalid_request",
        ),
        (base("openid admin:all"), "invalid_scope"),
        (
            [base("openid"), vec![("request", "eyJ...")]].concat(),
            "request_not_supported",
        ),
        (
            [base("openid"), vec![("prompt", "none login")]].concat(),
            "invalid_request",
        ),
        (
            [base("openid"), vec![("max_age", "-1")]].concat(),
            "invalid_request",
        ),
        (
            [base("openid"), vec![("resource", "not a uri")]].concat(),
            "invalid_target",
        ),
    ];
    for (params, error) in cases {
        let response = authorize(&app, Some(&user), &params).await;
        assert_eq!(response.status(), 302);
        let (url, params) = location_params(&response);
        assert!(url.as_str().starts_with(REDIRECT));
        assert_eq!(params["error"], error, "{params:?}");
        assert_eq!(params["state"], "st-123");
    }
    let mut wrong_type = standard(&id, &challenge, "openid");
    wrong_type.retain(|(k, _)| *k != "response_type");
    wrong_type.push(("response_type", "id_token"));
    let (_, params) = location_params(&authorize(&app, Some(&user), &wrong_type).await);
    assert_eq!(params["error"], "unsupported_response_type");
    let registered = base("openid billing:read");
    let (_, params) = location_params(&authorize(&app, Some(&user), &registered).await);
    assert!(params.contains_key("code"), "{params:?}");
}

#[tokio::test]
async fn repeated_parameters_are_refused_on_the_error_page() {
    let app = TestApp::spawn().await;
    let (id, _) = web_app(&app, json!({})).await;
    let (_, challenge) = pkce_pair();
    let mut params = standard(&id, &challenge, "openid");
    params.push(("redirect_uri", "https://evil.example.com/cb"));
    let response = authorize(&app, None, &params).await;
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
}

#[tokio::test]
async fn native_apps_redirect_to_any_loopback_port() {
    let app = TestApp::spawn().await;
    let created = create_client(
        &app,
        json!({
            "name": "desktop", "type": "public", "redirect_uris": ["http://127.0.0.1/callback"],
        }),
    )
    .await;
    let id = created["client_id"].as_str().unwrap();
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    let (verifier, challenge) = pkce_pair();
    let redirect = "http://127.0.0.1:51873/callback";
    let response = authorize(
        &app,
        Some(&user),
        &[
            ("client_id", id),
            ("redirect_uri", redirect),
            ("response_type", "code"),
            ("scope", "openid"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let (url, params) = location_params(&response);
    assert_eq!(url.port(), Some(51873));
    let body = post_form(
        &app,
        "/oauth2/token",
        None,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", id),
            ("code", &params["code"]),
            ("redirect_uri", redirect),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    let body = expect_status(body, 200).await;
    assert!(body["id_token"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_code_redeemed_by_many_requests_at_once_issues_tokens_once() {
    let app = TestApp::spawn().await;
    let (id, secret) = web_app(&app, json!({})).await;
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;
    for _ in 0..3 {
        let (code, verifier, _) = code_for(&app, &user, &id, "openid offline_access").await;
        let racers = (0..16).map(|_| exchange(&app, (&id, &secret), &code, &verifier));
        let statuses: Vec<u16> = futures::future::join_all(racers)
            .await
            .into_iter()
            .map(|r| r.status().as_u16())
            .collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 400),
            "{statuses:?}"
        );
    }
}

#[tokio::test]
async fn a_code_is_refused_once_its_session_has_ended_or_its_user_is_disabled() {
    let app = TestApp::spawn().await;
    let (id, secret) = web_app(&app, json!({})).await;
    app.create_org("acme").await;
    let (org_app, org_secret) = web_app(&app, json!({ "organization": "acme" })).await;
    // With offline_access the refresh token is stored with the redemption's read (PostgreSQL):
    // a refused redemption must leave none behind.
    for (n, scope) in ["openid", "openid offline_access"].into_iter().enumerate() {
        let signed_out = app
            .sign_in(&format!("ada{n}@example.com"), None, &["pwd"])
            .await;
        let (code, verifier, _) = code_for(&app, &signed_out, &id, scope).await;
        app.broker()
            .revoke_session(signed_out.session_id.parse().unwrap())
            .await
            .unwrap();
        expect_invalid_grant(
            exchange(&app, (&id, &secret), &code, &verifier).await,
            "session",
        )
        .await;
        assert_eq!(refresh_tokens_of(&app, &signed_out.user_id).await, 0);

        let disabled = app
            .sign_in(&format!("bob{n}@example.com"), None, &["pwd"])
            .await;
        let (code, verifier, _) = code_for(&app, &disabled, &id, scope).await;
        app.disable_user(&disabled.user_id).await;
        expect_invalid_grant(
            exchange(&app, (&id, &secret), &code, &verifier).await,
            "can no longer sign in",
        )
        .await;
        assert_eq!(refresh_tokens_of(&app, &disabled.user_id).await, 0);

        // Removed from the organization between the code and its redemption.
        let email = format!("eve{n}@acme.example");
        let added = app
            .admin(
                reqwest::Method::POST,
                "/api/v1/organizations/acme/memberships",
            )
            .json(&json!({ "email": email, "roles": ["member"] }))
            .send()
            .await
            .unwrap();
        expect_status(added, 201).await;
        let removed = app.sign_in(&email, None, &["pwd"]).await;
        let (code, verifier, _) = code_for(&app, &removed, &org_app, scope).await;
        let gone = app
            .admin(
                reqwest::Method::DELETE,
                &format!("/api/v1/organizations/acme/memberships/{}", removed.user_id),
            )
            .send()
            .await
            .unwrap();
        expect_status(gone, 204).await;
        expect_invalid_grant(
            exchange(&app, (&org_app, &org_secret), &code, &verifier).await,
            "can no longer sign in",
        )
        .await;
        assert_eq!(refresh_tokens_of(&app, &removed.user_id).await, 0);
    }

    // The same redemption while everything stands stores exactly one refresh token.
    let fine = app.sign_in("cy@example.com", None, &["pwd"]).await;
    let (code, verifier, _) = code_for(&app, &fine, &id, "openid offline_access").await;
    let body = expect_status(exchange(&app, (&id, &secret), &code, &verifier).await, 200).await;
    assert!(body["refresh_token"].is_string(), "{body}");
    assert_eq!(refresh_tokens_of(&app, &fine.user_id).await, 1);
}

/// The token endpoint refused with `invalid_grant`, saying why in words containing `why`.
async fn expect_invalid_grant(response: reqwest::Response, why: &str) {
    let refused = expect_status(response, 400).await;
    assert_eq!(refused["error"], "invalid_grant", "{refused}");
    assert!(
        refused["error_description"].as_str().unwrap().contains(why),
        "{refused}"
    );
}

/// How many refresh tokens the user has in the database.
async fn refresh_tokens_of(app: &TestApp, user_id: &str) -> u64 {
    use sea_orm::{ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};
    broker::entities::refresh_token::Entity::find()
        .filter(
            broker::entities::refresh_token::Column::UserId
                .eq(user_id.parse::<broker::entities::UserId>().unwrap()),
        )
        .count(app.broker().db())
        .await
        .unwrap()
}
