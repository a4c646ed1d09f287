//! Memberships: adding users by email or id, changing roles, removing, and isolation.

use reqwest::Method;
use serde_json::{Value, json};
use tessera_tests::{TestApp, expect_error, expect_status};

async fn add(app: &TestApp, org: &str, body: Value) -> reqwest::Response {
    app.admin(
        Method::POST,
        &format!("/api/v1/organizations/{org}/memberships"),
    )
    .json(&body)
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn member_added_by_email_gets_an_account_and_roles() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let response = add(
        &app,
        "acme",
        json!({ "email": "Ada@Acme.example", "roles": ["admin", "admin", "billing:read"] }),
    )
    .await;
    let member = expect_status(response, 201).await;
    assert_eq!(member["email"], "ada@acme.example");
    assert_eq!(member["roles"], json!(["admin", "billing:read"]));
    assert_eq!(member["source"], "admin");
    let user_id = member["user_id"].as_str().unwrap();

    let response = app
        .admin(
            Method::GET,
            &format!("/api/v1/organizations/acme/memberships/{user_id}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(response, 200).await["email"],
        "ada@acme.example"
    );

    let again = add(&app, "acme", json!({ "email": "ada@acme.example" })).await;
    expect_error(again, 409, "membership_exists", Some("user_id")).await;
}

#[tokio::test]
async fn one_user_can_belong_to_several_organizations() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    app.create_org("globex").await;
    let first = expect_status(
        add(&app, "acme", json!({ "email": "ada@example.com" })).await,
        201,
    )
    .await;
    let user_id = first["user_id"].as_str().unwrap();
    let second = expect_status(
        add(
            &app,
            "globex",
            json!({ "user_id": user_id, "roles": ["viewer"] }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(second["user_id"], user_id);
    assert_ne!(second["id"], first["id"]);
}

#[tokio::test]
async fn roles_can_be_replaced_and_members_removed() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let member = expect_status(
        add(
            &app,
            "acme",
            json!({ "email": "bob@acme.example", "roles": ["member"] }),
        )
        .await,
        201,
    )
    .await;
    let path = format!(
        "/api/v1/organizations/acme/memberships/{}",
        member["user_id"].as_str().unwrap()
    );

    let response = app
        .admin(Method::PATCH, &path)
        .json(&json!({ "roles": ["admin", "billing"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(response, 200).await["roles"],
        json!(["admin", "billing"])
    );

    let listed = app
        .admin(Method::GET, "/api/v1/organizations/acme/memberships")
        .send()
        .await
        .unwrap();
    let listed = expect_status(listed, 200).await;
    assert_eq!(listed["data"][0]["roles"], json!(["admin", "billing"]));

    expect_status(app.admin(Method::DELETE, &path).send().await.unwrap(), 204).await;
    let gone = app.admin(Method::GET, &path).send().await.unwrap();
    expect_error(gone, 404, "membership_not_found", None).await;
}

#[tokio::test]
async fn member_reference_must_be_exactly_one_valid_thing() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let both = add(
        &app,
        "acme",
        json!({ "email": "a@acme.example", "user_id": uuid::Uuid::new_v4() }),
    )
    .await;
    expect_error(both, 400, "ambiguous_member", None).await;
    let neither = add(&app, "acme", json!({ "roles": ["x"] })).await;
    expect_error(neither, 400, "ambiguous_member", None).await;
    let bad_email = add(&app, "acme", json!({ "email": "not-an-email" })).await;
    expect_error(bad_email, 400, "invalid_email", Some("email")).await;
    let bad_role = add(
        &app,
        "acme",
        json!({ "email": "a@acme.example", "roles": ["ok", "not ok"] }),
    )
    .await;
    expect_error(bad_role, 400, "invalid_role", Some("roles[1]")).await;
    let unknown = add(&app, "acme", json!({ "user_id": uuid::Uuid::new_v4() })).await;
    expect_error(unknown, 404, "user_not_found", Some("user_id")).await;

    let listed = app
        .admin(Method::GET, "/api/v1/organizations/acme/memberships")
        .send()
        .await
        .unwrap();
    assert!(
        expect_status(listed, 200).await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn another_orgs_member_is_not_found_under_this_org() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    app.create_org("globex").await;
    let member = expect_status(
        add(&app, "acme", json!({ "email": "ada@acme.example" })).await,
        201,
    )
    .await;
    let path = format!(
        "/api/v1/organizations/globex/memberships/{}",
        member["user_id"].as_str().unwrap()
    );
    for method in [Method::GET, Method::DELETE] {
        let response = app.admin(method, &path).send().await.unwrap();
        expect_error(response, 404, "membership_not_found", None).await;
    }
    let response = app
        .admin(Method::PATCH, &path)
        .json(&json!({ "roles": ["admin"] }))
        .send()
        .await
        .unwrap();
    expect_error(response, 404, "membership_not_found", None).await;
}

#[tokio::test]
async fn org_key_cannot_pull_in_another_orgs_user() {
    let app = TestApp::spawn().await;
    app.create_org("alpha").await;
    app.create_org("beta").await;
    let beta_member = expect_status(
        add(&app, "beta", json!({ "email": "ceo@beta-corp.example" })).await,
        201,
    )
    .await;
    let alpha_key = app.create_org_key("alpha").await;

    let by_id = app
        .with_key(
            &alpha_key,
            Method::POST,
            "/api/v1/organizations/alpha/memberships",
        )
        .json(&json!({ "user_id": beta_member["user_id"] }))
        .send()
        .await
        .unwrap();
    expect_error(by_id, 404, "user_not_found", Some("user_id")).await;

    let by_email = app
        .with_key(
            &alpha_key,
            Method::POST,
            "/api/v1/organizations/alpha/memberships",
        )
        .json(&json!({ "email": "ceo@beta-corp.example" }))
        .send()
        .await
        .unwrap();
    expect_error(by_email, 403, "email_domain_not_verified", Some("email")).await;

    let listed = app
        .with_key(
            &alpha_key,
            Method::GET,
            "/api/v1/organizations/alpha/memberships",
        )
        .send()
        .await
        .unwrap();
    assert!(
        expect_status(listed, 200).await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn org_key_adds_people_from_its_verified_domains() {
    let app = TestApp::spawn().await;
    app.create_org("alpha").await;
    let alpha_key = app.create_org_key("alpha").await;
    let claim = app
        .admin(Method::POST, "/api/v1/organizations/alpha/domains")
        .json(&json!({ "domain": "alpha.example" }))
        .send()
        .await
        .unwrap();
    expect_status(claim, 201).await;
    // Claimed but unverified is not enough.
    let early = app
        .with_key(
            &alpha_key,
            Method::POST,
            "/api/v1/organizations/alpha/memberships",
        )
        .json(&json!({ "email": "ada@alpha.example" }))
        .send()
        .await
        .unwrap();
    expect_error(early, 403, "email_domain_not_verified", Some("email")).await;
    let verify = app
        .admin(
            Method::POST,
            "/api/v1/organizations/alpha/domains/alpha.example/verify",
        )
        .json(&json!({ "force": true }))
        .send()
        .await
        .unwrap();
    expect_status(verify, 200).await;
    let added = app
        .with_key(
            &alpha_key,
            Method::POST,
            "/api/v1/organizations/alpha/memberships",
        )
        .json(&json!({ "email": "ada@alpha.example", "roles": ["admin"] }))
        .send()
        .await
        .unwrap();
    let member = expect_status(added, 201).await;
    // And by id, once the user's email is in a verified domain of the org.
    let removed = app
        .with_key(
            &alpha_key,
            Method::DELETE,
            &format!(
                "/api/v1/organizations/alpha/memberships/{}",
                member["user_id"].as_str().unwrap()
            ),
        )
        .send()
        .await
        .unwrap();
    expect_status(removed, 204).await;
    let again = app
        .with_key(
            &alpha_key,
            Method::POST,
            "/api/v1/organizations/alpha/memberships",
        )
        .json(&json!({ "user_id": member["user_id"] }))
        .send()
        .await
        .unwrap();
    expect_status(again, 201).await;
}
