//! State one replica writes is what the other reads: a sign-in moves between replicas, a code
//! is redeemed once across both, a revocation on one holds on the other, rate limits count
//! requests on both, SCIM writes through both lose nothing, and app changes apply on both.

use std::time::{Duration, Instant};

use broker::provider::client_cache::CLIENT_TTL;
use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use tessera_tests::{expect_status, location_params, pkce_pair};

use super::{Cluster, authorize_path, code_at, exchange, http, post_form, verify_at};
use crate::login::browser::{Browser, ask_for_link, location};
use crate::provider::flow::REDIRECT;

/// Allowance on top of a documented bound for a machine busy with other builds and tests.
const SLACK: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_sign_in_started_on_one_replica_finishes_on_the_other() {
    let test = "a_sign_in_started_on_one_replica_finishes_on_the_other";
    let Some(cluster) = Cluster::start(test).await else {
        return;
    };
    let (a, b) = (&cluster.a, &cluster.b);
    let (client_id, secret) = cluster.web_app(a).await;
    let (verifier, challenge) = pkce_pair();

    // Replica A takes the app's request and mails a code.
    let mut browser = Browser::at(&a.base);
    let started = browser
        .get(&authorize_path(&client_id, &challenge, "openid email"))
        .await;
    assert_eq!(started.status(), 302);
    let (login, params) = location_params(&started);
    assert_eq!(login.path(), "/login", "{login}");
    let return_to = params["return_to"].clone();
    let asked = ask_for_link(&mut browser, "ada@example.com", &return_to).await;
    assert_eq!(asked.status(), 303);
    let code = cluster.sink.wait_for("ada@example.com", 1).await.code();

    // Replica B checks the code: the pending sign-in is in Redis, not in A's memory.
    browser.base = b.base.clone();
    let (_, csrf) = browser.page("/login/check-email").await;
    let accepted = browser
        .post("/login/code", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_eq!(accepted.status(), 303, "{}", accepted.text().await.unwrap());

    // Back on A, the app's request resumes into a code; B redeems it.
    browser.base = a.base.clone();
    let resumed = browser.get(&return_to).await;
    assert_eq!(resumed.status(), 302);
    let (target, params) = location_params(&resumed);
    assert!(target.as_str().starts_with(REDIRECT), "{target}");
    assert_eq!(params["state"], "st-123");
    let creds = (client_id.as_str(), secret.as_str());
    let tokens = expect_status(
        exchange(&b.base, creds, &params["code"], &verifier).await,
        200,
    )
    .await;

    // The ID token verifies against either replica's JWKS, issued by the shared public URL.
    let id_token = tokens["id_token"].as_str().unwrap();
    let issuer = &cluster.shared.public_url;
    for replica in [a, b] {
        let (_, claims) = verify_at(&replica.base, issuer, id_token).await.unwrap();
        assert_eq!(claims["email"], "ada@example.com");
        assert_eq!(claims["nonce"], "n-456");
    }
}

#[tokio::test]
async fn a_code_issued_by_one_replica_is_redeemed_once_across_both() {
    let test = "a_code_issued_by_one_replica_is_redeemed_once_across_both";
    let Some(cluster) = Cluster::start(test).await else {
        return;
    };
    let (client_id, secret) = cluster.web_app(&cluster.a).await;
    let creds = (client_id.as_str(), secret.as_str());
    let (_, cookie) = cluster.session("bob@example.com").await;
    let (code, verifier) = code_at(&cluster.a, &cookie, &client_id, "openid").await;

    // Sixteen redemptions at once, half on each replica.
    let attempts = (0..16).map(|i| {
        let base = if i % 2 == 0 {
            &cluster.a.base
        } else {
            &cluster.b.base
        };
        exchange(base, creds, &code, &verifier)
    });
    let mut granted = 0;
    for response in join_all(attempts).await {
        match response.status().as_u16() {
            200 => granted += 1,
            400 => assert_eq!(
                response.json::<Value>().await.unwrap()["error"],
                "invalid_grant"
            ),
            other => panic!("unexpected {other}: {}", response.text().await.unwrap()),
        }
    }
    assert_eq!(
        granted, 1,
        "exactly one redemption wins, whichever replica serves it"
    );
}

#[tokio::test]
async fn a_session_or_refresh_token_revoked_on_one_replica_is_refused_on_the_other() {
    let test = "a_session_or_refresh_token_revoked_on_one_replica_is_refused_on_the_other";
    let Some(cluster) = Cluster::start(test).await else {
        return;
    };
    let (a, b) = (&cluster.a, &cluster.b);
    // One person, two devices.
    let (laptop_id, laptop) = cluster.session("cy@example.com").await;
    let (_, phone) = cluster.session("cy@example.com").await;
    let account = |base: &str, cookie: &str| {
        http()
            .get(format!("{base}/account"))
            .header("cookie", cookie)
            .send()
    };
    assert_eq!(account(&b.base, &laptop).await.unwrap().status(), 200);

    // On A, the phone signs the laptop out.
    let mut browser = Browser::at(&a.base);
    let (name, value) = phone.split_once('=').unwrap();
    browser.cookies.insert(name.to_owned(), value.to_owned());
    let (_, csrf) = browser.page("/account").await;
    let revoked = browser
        .post(
            &format!("/account/sessions/{laptop_id}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(revoked.status(), 303);
    // B no longer knows the laptop.
    let refused = account(&b.base, &laptop).await.unwrap();
    assert!(refused.status().is_redirection(), "{}", refused.status());
    assert!(
        location(&refused).contains("/login"),
        "{}",
        location(&refused)
    );
    assert_eq!(account(&b.base, &phone).await.unwrap().status(), 200);

    // A refresh token revoked on A does not refresh on B.
    let (client_id, secret) = cluster.web_app(a).await;
    let creds = (client_id.as_str(), secret.as_str());
    let (code, verifier) = code_at(a, &phone, &client_id, "openid offline_access").await;
    let tokens = expect_status(exchange(&a.base, creds, &code, &verifier).await, 200).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let form = [("token", refresh_token)];
    let revoked = post_form(&a.base, "/oauth2/revoke", creds, &form).await;
    assert_eq!(revoked.unwrap().status(), 200);
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    let refused = post_form(&b.base, "/oauth2/token", creds, &form)
        .await
        .unwrap();
    assert_eq!(expect_status(refused, 400).await["error"], "invalid_grant");
}

#[tokio::test]
async fn rate_limits_count_requests_on_every_replica() {
    let Some(cluster) = Cluster::start("rate_limits_count_requests_on_every_replica").await else {
        return;
    };
    let (client_id, _) = cluster.service_app(&cluster.a).await;
    let wrong = (client_id.as_str(), "tcs_wrong");
    let form = [("grant_type", "client_credentials")];
    // Twenty failed client authentications per IP per minute, spread over both replicas.
    for i in 0..20 {
        let replica = if i % 2 == 0 { &cluster.a } else { &cluster.b };
        let refused = post_form(&replica.base, "/oauth2/token", wrong, &form)
            .await
            .unwrap();
        assert_eq!(expect_status(refused, 401).await["error"], "invalid_client");
    }
    // The 21st is over the limit on either replica.
    for replica in [&cluster.a, &cluster.b] {
        let limited = post_form(&replica.base, "/oauth2/token", wrong, &form)
            .await
            .unwrap();
        assert_eq!(limited.status(), 429);
        assert!(limited.headers().contains_key("retry-after"));
    }
}

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[tokio::test]
async fn scim_patches_through_both_replicas_lose_no_member() {
    let test = "scim_patches_through_both_replicas_lose_no_member";
    let Some(cluster) = Cluster::start(test).await else {
        return;
    };
    let (a, b) = (&cluster.a, &cluster.b);
    let org = json!({ "name": "Acme", "slug": "acme" });
    let created = cluster.admin(a, Method::POST, "/api/v1/organizations", Some(org));
    let org_id = expect_status(created.await, 201).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = json!({ "name": "entra" });
    let path = "/api/v1/organizations/acme/scim-tokens";
    let created = cluster.admin(b, Method::POST, path, Some(token)).await;
    let token = expect_status(created, 201).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let scim = |base: &str, method: Method, path: &str, body: Value| {
        let request = http()
            .request(method, format!("{base}/scim/v2/{org_id}{path}"))
            .bearer_auth(&token)
            .header("content-type", "application/scim+json");
        match body {
            Value::Null => request,
            body => request.body(body.to_string()),
        }
        .send()
    };
    let group = json!({ "schemas": [GROUP], "displayName": "Everyone" });
    let created = scim(&a.base, Method::POST, "/Groups", group).await.unwrap();
    let group_id = expect_status(created, 201).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ids = Vec::new();
    for i in 0..16 {
        let user = json!({ "schemas": [USER], "userName": format!("user{i}@acme.example") });
        let replica = if i % 2 == 0 { a } else { b };
        let created = scim(&replica.base, Method::POST, "/Users", user)
            .await
            .unwrap();
        ids.push(
            expect_status(created, 201).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }

    // Every member added at once, half through each replica.
    let group_path = format!("/Groups/{group_id}");
    let patches = ids.iter().enumerate().map(|(i, id)| {
        let replica = if i % 2 == 0 { a } else { b };
        let operations = json!([{ "op": "add", "path": "members", "value": [{ "value": id }] }]);
        let body = json!({ "schemas": [PATCH_OP], "Operations": operations });
        scim(&replica.base, Method::PATCH, &group_path, body)
    });
    for response in join_all(patches).await {
        let response = response.unwrap();
        let status = response.status();
        assert!(
            status == 200 || status == 204,
            "{status}: {}",
            response.text().await.unwrap()
        );
    }
    let read = scim(&b.base, Method::GET, &group_path, Value::Null)
        .await
        .unwrap();
    let group = expect_status(read, 200).await;
    let mut members: Vec<String> = group["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_owned())
        .collect();
    members.sort();
    ids.sort();
    assert_eq!(members, ids);
}

#[tokio::test]
async fn app_changes_made_through_one_replica_apply_on_the_other() {
    let test = "app_changes_made_through_one_replica_apply_on_the_other";
    let Some(cluster) = Cluster::start(test).await else {
        return;
    };
    let (a, b) = (&cluster.a, &cluster.b);
    let (client_id, old_secret) = cluster.service_app(a).await;
    // B serves the app once, so it holds the app in its cache.
    super::service_token(&b.base, (&client_id, &old_secret)).await;
    let path = format!("/api/v1/clients/{client_id}/secret");
    let rotated = cluster.admin(a, Method::POST, &path, None).await;
    let new_secret = expect_status(rotated, 200).await["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    // The new secret works on B at once: B reads the app again before refusing it.
    super::service_token(&b.base, (&client_id, &new_secret)).await;
    // The old one stops working on B at the latest when B's copy expires (CLIENT_TTL); here
    // at once, since B has just read the app again.
    let ttl = CLIENT_TTL.to_std().unwrap();
    let form = [("grant_type", "client_credentials")];
    let rotated_at = Instant::now();
    loop {
        let old = post_form(&b.base, "/oauth2/token", (&client_id, &old_secret), &form);
        match old.await.unwrap().status().as_u16() {
            401 => break,
            200 => assert!(rotated_at.elapsed() < ttl + SLACK, "old secret still works"),
            other => panic!("unexpected {other}"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // A redirect URI added through A is accepted by B at once.
    let (web_id, _) = cluster.web_app(a).await;
    let (_, cookie) = cluster.session("dan@example.com").await;
    code_at(b, &cookie, &web_id, "openid").await;
    let second = "https://app.example.com/second";
    let settings = json!({
        "name": "web app",
        "type": "confidential",
        "redirect_uris": [REDIRECT, second],
        "grant_types": ["authorization_code", "refresh_token"],
    });
    let path = format!("/api/v1/clients/{web_id}");
    expect_status(
        cluster.admin(a, Method::PUT, &path, Some(settings)).await,
        200,
    )
    .await;
    let (_, challenge) = pkce_pair();
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            crate::provider::flow::standard(&web_id, &challenge, "openid")
                .into_iter()
                .map(|(k, v)| (k, if k == "redirect_uri" { second } else { v })),
        )
        .finish();
    let sent = http()
        .get(format!("{}/oauth2/authorize?{query}", b.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 302);
    assert!(location(&sent).starts_with(second), "{}", location(&sent));
}
