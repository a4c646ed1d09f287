//! The committed openapi.yaml equals the generated document, and the server publishes it.

use tessera_tests::{TestApp, expect_status};

fn committed() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");
    std::fs::read_to_string(path).expect("openapi.yaml is missing at the repository root")
}

#[test]
fn committed_openapi_yaml_matches_the_code() {
    let generated = tessera::openapi::yaml().unwrap();
    assert!(
        committed() == generated,
        "openapi.yaml is stale: regenerate it with `cargo run -q -- openapi > openapi.yaml`"
    );
}

#[test]
fn every_documented_operation_has_an_id_a_tag_and_error_schema() {
    let document = serde_json::to_value(tessera::openapi::document()).unwrap();
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.contains_key("/api/v1/organizations/{org}/domains/{domain}/verify"));
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            assert!(operation["operationId"].is_string(), "{method} {path}");
            assert!(operation["tags"].is_array(), "{method} {path}");
            if path.starts_with("/api/v1") {
                assert!(
                    operation["security"].is_array(),
                    "{method} {path} must declare its API-key security"
                );
            }
        }
    }
}

/// The extractors, the JSON reader and the error mapping answer these on any admin route, so
/// every operation must document them (schemathesis holds the server to the document).
#[test]
fn every_admin_operation_documents_the_errors_any_route_can_give() {
    let document = serde_json::to_value(tessera::openapi::document()).unwrap();
    let shared = &document["components"]["responses"];
    assert!(shared["Unauthenticated"]["headers"]["WWW-Authenticate"].is_object());
    assert!(shared["RateLimited"]["headers"]["Retry-After"].is_object());
    for (path, item) in document["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            let mut expected = vec!["401", "403", "429", "503"];
            if operation.get("requestBody").is_some() {
                expected.extend(["400", "413", "415"]);
            }
            if operation["parameters"]
                .as_array()
                .is_some_and(|p| !p.is_empty())
            {
                expected.push("400");
            }
            for status in expected {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} does not document {status}"
                );
            }
        }
    }
}

#[tokio::test]
async fn served_document_and_docs_page_work_offline() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    let served = expect_status(response, 200).await;
    assert_eq!(
        served,
        serde_json::to_value(tessera::openapi::document()).unwrap()
    );

    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    for line in html
        .lines()
        .filter(|l| l.contains("src=") || l.contains("href="))
    {
        assert!(
            !line.contains("http://") && !line.contains("https://"),
            "external asset: {line}"
        );
    }
    let script = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
}
