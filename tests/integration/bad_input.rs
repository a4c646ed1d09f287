//! Bad input: malformed JSON, unknown fields, wrong types, oversized bodies, wrong content
//! types, bad query and path parameters. Always a 4xx with a stable code and the field at
//! fault, never a 500, and never a partial write.

use reqwest::Method;
use serde_json::json;
use tessera_tests::{TestApp, expect_error, expect_status};

async fn org_count(app: &TestApp) -> usize {
    let response = app
        .admin(Method::GET, "/api/v1/organizations")
        .send()
        .await
        .unwrap();
    expect_status(response, 200).await["data"]
        .as_array()
        .unwrap()
        .len()
}

async fn post_raw(app: &TestApp, body: &str, content_type: &str) -> reqwest::Response {
    app.admin(Method::POST, "/api/v1/organizations")
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_bodies_get_stable_codes_and_write_nothing() {
    let app = TestApp::spawn().await;
    let cases = [
        (r#"{"name": "Acme", "slug": "acme""#, "invalid_json", None),
        (
            r#"{"name": "Acme", "slug": "acme"} {}"#,
            "invalid_json",
            None,
        ),
        (
            r#"{"name": "Acme", "slug": "acme", "colour": "red"}"#,
            "unknown_field",
            Some("colour"),
        ),
        (r#"{"name": "Acme"}"#, "missing_field", Some("slug")),
        (
            r#"{"name": 42, "slug": "acme"}"#,
            "invalid_field",
            Some("name"),
        ),
        (
            r#"{"name": "Acme", "slug": "acme", "slug": "other"}"#,
            "invalid_field",
            None,
        ),
        (r#"["Acme", "acme"]"#, "invalid_json", None),
        ("null", "invalid_json", None),
        ("", "invalid_json", None),
    ];
    for (body, code, field) in cases {
        let response = post_raw(&app, body, "application/json").await;
        expect_error(response, 400, code, field).await;
    }
    assert_eq!(org_count(&app).await, 0);
}

#[tokio::test]
async fn nested_errors_point_at_the_element() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let response = app
        .admin(Method::POST, "/api/v1/organizations/acme/memberships")
        .json(&json!({ "email": "a@acme.example", "roles": ["ok", 7] }))
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_field", Some("roles[1]")).await;
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = TestApp::spawn().await;
    let huge = json!({ "name": "x".repeat(70 * 1024), "slug": "big" }).to_string();
    let response = post_raw(&app, &huge, "application/json").await;
    expect_error(response, 413, "payload_too_large", None).await;
    assert_eq!(org_count(&app).await, 0);
}

#[tokio::test]
async fn non_json_content_types_are_refused() {
    let app = TestApp::spawn().await;
    let response = post_raw(
        &app,
        "name=Acme&slug=acme",
        "application/x-www-form-urlencoded",
    )
    .await;
    expect_error(response, 415, "unsupported_media_type", None).await;
    let response = post_raw(
        &app,
        r#"{"name":"Acme","slug":"acme"}"#,
        "application/merge-patch+json",
    )
    .await;
    expect_status(response, 201).await;
}

#[tokio::test]
async fn bad_query_parameters_are_named() {
    let app = TestApp::spawn().await;
    for (path, code, field) in [
        ("/api/v1/organizations?limit=0", "invalid_query", "limit"),
        ("/api/v1/organizations?limit=1000", "invalid_query", "limit"),
        ("/api/v1/organizations?limit=ten", "invalid_query", "limit"),
        ("/api/v1/organizations?limt=5", "invalid_query", "limt"),
        (
            "/api/v1/organizations?after=not-a-cursor",
            "invalid_cursor",
            "after",
        ),
        (
            "/api/v1/organizations?after=AAAA",
            "invalid_cursor",
            "after",
        ),
        (
            "/api/v1/audit-events?since=yesterday",
            "invalid_query",
            "since",
        ),
        (
            "/api/v1/audit-events?organization_id=acme",
            "invalid_query",
            "organization_id",
        ),
    ] {
        let response = app.admin(Method::GET, path).send().await.unwrap();
        expect_error(response, 400, code, Some(field)).await;
    }
    let encoded = app
        .admin(
            Method::GET,
            "/api/v1/audit-events?since=2026-01-01T00%3A00%3A00%2B02%3A00",
        )
        .send()
        .await
        .unwrap();
    expect_status(encoded, 200).await;
}

#[tokio::test]
async fn bad_path_parameters_are_refused() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let response = app
        .admin(
            Method::GET,
            "/api/v1/organizations/acme/memberships/not-a-uuid",
        )
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_path", None).await;
    let response = app
        .admin(Method::GET, "/api/v1/organizations/no%20such%20org")
        .send()
        .await
        .unwrap();
    expect_error(response, 404, "organization_not_found", None).await;
}
