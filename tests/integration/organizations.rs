//! `/api/v1/organizations`: the lifecycle, uniqueness, pagination and tenant isolation.

use reqwest::Method;
use serde_json::{Value, json};
use tessera_tests::{TestApp, expect_error, expect_status};

async fn list(app: &TestApp, key: &str, query: &str) -> Value {
    let response = app
        .with_key(key, Method::GET, &format!("/api/v1/organizations{query}"))
        .send()
        .await
        .unwrap();
    expect_status(response, 200).await
}

#[tokio::test]
async fn created_organization_is_readable_by_id_and_slug() {
    let app = TestApp::spawn().await;
    let created = app.create_org("acme").await;
    assert_eq!(created["slug"], "acme");
    assert_eq!(created["name"], "Org acme");
    let id = created["id"].as_str().unwrap();
    for key in [id, "acme"] {
        let response = app
            .admin(Method::GET, &format!("/api/v1/organizations/{key}"))
            .send()
            .await
            .unwrap();
        let body = expect_status(response, 200).await;
        assert_eq!(body["id"], id);
    }
}

#[tokio::test]
async fn duplicate_slug_is_a_conflict_and_writes_nothing() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let response = app
        .admin(Method::POST, "/api/v1/organizations")
        .json(&json!({ "name": "Other", "slug": "acme" }))
        .send()
        .await
        .unwrap();
    expect_error(response, 409, "slug_taken", Some("slug")).await;
    let all = list(&app, &app.admin_key, "").await;
    assert_eq!(all["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn invalid_slugs_and_names_name_the_field() {
    let app = TestApp::spawn().await;
    let uuid_like = uuid::Uuid::new_v4().to_string();
    for (body, code, field) in [
        (
            json!({ "name": "A", "slug": "Not Valid" }),
            "invalid_slug",
            "slug",
        ),
        (
            json!({ "name": "A", "slug": "-edge" }),
            "invalid_slug",
            "slug",
        ),
        (
            json!({ "name": "A", "slug": uuid_like }),
            "invalid_slug",
            "slug",
        ),
        (
            json!({ "name": "   ", "slug": "fine" }),
            "invalid_name",
            "name",
        ),
        (
            json!({ "name": "x".repeat(129), "slug": "fine" }),
            "invalid_name",
            "name",
        ),
    ] {
        let response = app
            .admin(Method::POST, "/api/v1/organizations")
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_error(response, 400, code, Some(field)).await;
    }
    assert!(
        list(&app, &app.admin_key, "").await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn list_pages_with_a_cursor() {
    let app = TestApp::spawn().await;
    for slug in ["one", "two", "three"] {
        app.create_org(slug).await;
    }
    let first = list(&app, &app.admin_key, "?limit=2").await;
    let slugs: Vec<&str> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["one", "two"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = list(&app, &app.admin_key, &format!("?limit=2&after={cursor}")).await;
    assert_eq!(second["data"][0]["slug"], "three");
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert!(second.get("next_cursor").is_none());
}

#[tokio::test]
async fn update_changes_name_and_slug_but_not_to_a_taken_slug() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    app.create_org("globex").await;
    let response = app
        .admin(Method::PATCH, "/api/v1/organizations/acme")
        .json(&json!({ "name": "Acme Corporation", "slug": "acme-corp" }))
        .send()
        .await
        .unwrap();
    let body = expect_status(response, 200).await;
    assert_eq!(body["name"], "Acme Corporation");
    assert_eq!(body["slug"], "acme-corp");
    let response = app
        .admin(Method::PATCH, "/api/v1/organizations/acme-corp")
        .json(&json!({ "slug": "globex" }))
        .send()
        .await
        .unwrap();
    expect_error(response, 409, "slug_taken", Some("slug")).await;
    let old = app
        .admin(Method::GET, "/api/v1/organizations/acme")
        .send()
        .await
        .unwrap();
    expect_error(old, 404, "organization_not_found", None).await;
}

#[tokio::test]
async fn delete_removes_the_organization_and_what_it_owns() {
    let app = TestApp::spawn().await;
    app.create_org("doomed").await;
    let response = app
        .admin(Method::POST, "/api/v1/organizations/doomed/domains")
        .json(&json!({ "domain": "doomed.example" }))
        .send()
        .await
        .unwrap();
    expect_status(response, 201).await;
    let response = app
        .admin(Method::DELETE, "/api/v1/organizations/doomed")
        .send()
        .await
        .unwrap();
    expect_status(response, 204).await;
    let gone = app
        .admin(Method::GET, "/api/v1/organizations/doomed")
        .send()
        .await
        .unwrap();
    expect_error(gone, 404, "organization_not_found", None).await;
    // The domain went with it: another organization can claim and verify it.
    app.create_org("heir").await;
    let response = app
        .admin(Method::POST, "/api/v1/organizations/heir/domains")
        .json(&json!({ "domain": "doomed.example" }))
        .send()
        .await
        .unwrap();
    expect_status(response, 201).await;
}

#[tokio::test]
async fn org_scoped_key_sees_only_its_organization() {
    let app = TestApp::spawn().await;
    let acme = app.create_org("acme").await;
    let globex = app.create_org("globex").await;
    let key = app.create_org_key("acme").await;

    let visible = list(&app, &key, "").await;
    assert_eq!(visible["data"].as_array().unwrap().len(), 1);
    assert_eq!(visible["data"][0]["slug"], "acme");

    let own = app
        .with_key(
            &key,
            Method::GET,
            &format!("/api/v1/organizations/{}", acme["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    expect_status(own, 200).await;
    for other in ["globex", globex["id"].as_str().unwrap()] {
        let response = app
            .with_key(&key, Method::GET, &format!("/api/v1/organizations/{other}"))
            .send()
            .await
            .unwrap();
        expect_error(response, 404, "organization_not_found", None).await;
        let response = app
            .with_key(
                &key,
                Method::POST,
                &format!("/api/v1/organizations/{other}/domains"),
            )
            .json(&json!({ "domain": "sneaky.example" }))
            .send()
            .await
            .unwrap();
        expect_error(response, 404, "organization_not_found", None).await;
    }
}

#[tokio::test]
async fn org_scoped_key_cannot_create_or_delete_organizations() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let key = app.create_org_key("acme").await;
    let response = app
        .with_key(&key, Method::POST, "/api/v1/organizations")
        .json(&json!({ "name": "Mine", "slug": "mine" }))
        .send()
        .await
        .unwrap();
    expect_error(response, 403, "instance_admin_required", None).await;
    let response = app
        .with_key(&key, Method::DELETE, "/api/v1/organizations/acme")
        .send()
        .await
        .unwrap();
    expect_error(response, 403, "instance_admin_required", None).await;
    let rename = app
        .with_key(&key, Method::PATCH, "/api/v1/organizations/acme")
        .json(&json!({ "name": "Acme (renamed by its admin)" }))
        .send()
        .await
        .unwrap();
    expect_status(rename, 200).await;
}

#[tokio::test]
async fn only_instance_admins_change_slugs() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let key = app.create_org_key("acme").await;
    let response = app
        .with_key(&key, Method::PATCH, "/api/v1/organizations/acme")
        .json(&json!({ "slug": "acme-2" }))
        .send()
        .await
        .unwrap();
    expect_error(response, 403, "instance_admin_required", Some("slug")).await;
}

#[tokio::test]
async fn an_empty_update_changes_and_records_nothing() {
    let app = TestApp::spawn().await;
    let created = app.create_org("acme").await;
    for body in [json!({}), json!({ "name": "Org acme", "slug": "acme" })] {
        let response = app
            .admin(Method::PATCH, "/api/v1/organizations/acme")
            .json(&body)
            .send()
            .await
            .unwrap();
        let same = expect_status(response, 200).await;
        assert_eq!(same["updated_at"], created["updated_at"]);
    }
    let events = app
        .admin(
            Method::GET,
            "/api/v1/audit-events?action=organization.updated",
        )
        .send()
        .await
        .unwrap();
    assert!(
        expect_status(events, 200).await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}
