//! Concurrent writes: no 500s, database uniqueness decides races, and every loser gets the
//! same 409 a sequential duplicate would.

use futures::future::join_all;
use reqwest::Method;
use serde_json::json;
use tessera_tests::{TestApp, expect_status};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_creates_all_succeed() {
    let app = TestApp::spawn().await;
    let requests = (0..40).map(|i| {
        app.admin(Method::POST, "/api/v1/organizations")
            .json(&json!({ "name": format!("Org {i}"), "slug": format!("org-{i}") }))
            .send()
    });
    let statuses: Vec<u16> = join_all(requests)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_duplicates_get_one_winner_and_conflicts() {
    let app = TestApp::spawn().await;
    let requests = (0..20).map(|_| {
        app.admin(Method::POST, "/api/v1/organizations")
            .json(&json!({ "name": "Same", "slug": "same" }))
            .send()
    });
    let mut statuses: Vec<u16> = join_all(requests)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses[0], 201, "{statuses:?}");
    assert!(statuses[1..].iter().all(|s| *s == 409), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_adds_of_a_new_email_create_one_user() {
    let app = TestApp::spawn().await;
    let slugs: Vec<String> = (0..10).map(|i| format!("team-{i}")).collect();
    for slug in &slugs {
        app.create_org(slug).await;
    }
    let requests = slugs.iter().map(|slug| {
        app.admin(
            Method::POST,
            &format!("/api/v1/organizations/{slug}/memberships"),
        )
        .json(&json!({ "email": "new.person@example.com" }))
        .send()
    });
    let mut users = Vec::new();
    for response in join_all(requests).await {
        let member = expect_status(response.unwrap(), 201).await;
        users.push(member["user_id"].as_str().unwrap().to_owned());
    }
    users.dedup();
    assert_eq!(users.len(), 1, "one person, one account: {users:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_starting_together_create_one_current_key_per_algorithm() {
    use broker::entities::signing_key;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = TestApp::spawn().await;
    let broker = app.broker().clone();
    signing_key::Entity::delete_many()
        .exec(broker.db())
        .await
        .unwrap();
    let starts = (0..4).map(|_| {
        let broker = broker.clone();
        tokio::spawn(async move { broker.ensure_signing_keys().await })
    });
    for start in join_all(starts).await {
        start.unwrap().unwrap();
    }
    let keys = signing_key::Entity::find()
        .count(broker.db())
        .await
        .unwrap();
    assert_eq!(
        keys, 6,
        "one current and one next key for RS256, ES256 and EdDSA"
    );
}
