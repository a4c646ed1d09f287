//! Liveness, readiness, metrics, request ids and the JSON 404.

use reqwest::Method;
use tessera_tests::{TestApp, expect_error, expect_status};

#[tokio::test]
async fn healthz_answers_ok() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    let body = expect_status(response, 200).await;
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readyz_reports_database_and_store() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    let body = expect_status(response, 200).await;
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["store"], "ok");
}

#[tokio::test]
async fn readyz_turns_unavailable_when_the_database_closes() {
    let app = TestApp::spawn().await;
    app.broker().db().close_by_ref().await.unwrap();
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    let body = expect_status(response, 503).await;
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["database"], "unavailable");
    assert_eq!(body["store"], "ok");
}

/// What `/metrics` renders now.
async fn metrics_text(app: &TestApp) -> String {
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    response.text().await.unwrap()
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern() {
    let app = TestApp::spawn().await;
    app.create_org("metrics-org").await;
    let text = metrics_text(&app).await;
    assert!(
        text.lines().any(|l| l.starts_with("http_requests_total")
            && l.contains(r#"route="/api/v1/organizations""#)
            && l.contains(r#"status="201""#)),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
}

#[tokio::test]
async fn made_up_methods_share_one_metrics_label() {
    let app = TestApp::spawn().await;
    for method in ["BREW", "WHEN", "BREW"] {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        app.client
            .request(method, app.url("/healthz"))
            .send()
            .await
            .unwrap();
    }
    let text = metrics_text(&app).await;
    let other = text
        .lines()
        .find(|l| l.starts_with("http_requests_total") && l.contains(r#"method="OTHER""#))
        .unwrap_or_else(|| panic!("no OTHER series: {text}"));
    assert!(other.ends_with(" 3"), "{other}");
    assert!(!text.contains("BREW") && !text.contains("WHEN"), "{text}");
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-abc.123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-abc.123");
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "spaces and/slashes are not kept")
        .send()
        .await
        .unwrap();
    let generated = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(generated.len(), 32, "{generated}");
    assert!(
        generated
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{generated}"
    );
    let next = app.client.get(app.url("/healthz")).send().await.unwrap();
    let next = next.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(next[..16], generated[..16], "one prefix per process");
    assert_ne!(next, generated);
}

#[tokio::test]
async fn unknown_routes_get_a_json_404_with_the_request_id() {
    let app = TestApp::spawn().await;
    let response = app
        .admin(Method::GET, "/api/v1/nothing-here")
        .header("x-request-id", "req-404")
        .send()
        .await
        .unwrap();
    let body = expect_error(response, 404, "route_not_found", None).await;
    assert_eq!(body["request_id"], "req-404");
}

#[tokio::test]
async fn a_documented_path_with_another_method_gets_405_with_allow() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    for (method, path, allow) in [
        (Method::PUT, "/api/v1/organizations", "GET, POST"),
        (
            Method::TRACE,
            "/api/v1/organizations/acme",
            "GET, DELETE, PATCH",
        ),
        // Routing comes before existence: a wrong method is 405 whatever the ids.
        (
            Method::POST,
            "/api/v1/organizations/nobody/domains/x.example",
            "GET, DELETE",
        ),
        (Method::DELETE, "/healthz", "GET"),
    ] {
        let response = app.admin(method.clone(), path).send().await.unwrap();
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        expect_error(response, 405, "method_not_allowed", None).await;
    }
    // A path that is not documented stays a 404 whatever the method.
    let response = app
        .admin(Method::PUT, "/api/v1/organizations/acme/nothing-here")
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("allow").is_none());
    expect_error(response, 404, "route_not_found", None).await;
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let app = TestApp::spawn().await;
    let response = app
        .admin(Method::GET, "/api/v1/organizations")
        .send()
        .await
        .unwrap();
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-frame-options"], "DENY");
}

#[tokio::test]
async fn landing_page_and_its_assets_are_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let page = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("/assets/tessera.css"));
    let css = app
        .client
        .get(app.url("/assets/tessera.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}
