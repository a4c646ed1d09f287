//! Discovery and the JWKS: what they list is exactly what answers.

use reqwest::Method;
use serde_json::Value;
use tessera_tests::{TestApp, expect_status};

async fn metadata(app: &TestApp, path: &str) -> (reqwest::header::HeaderMap, Value) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    let headers = response.headers().clone();
    (headers, expect_status(response, 200).await)
}

#[tokio::test]
async fn both_metadata_documents_describe_the_same_issuer() {
    let app = TestApp::spawn().await;
    let (headers, oidc) = metadata(&app, "/.well-known/openid-configuration").await;
    let (_, oauth) = metadata(&app, "/.well-known/oauth-authorization-server").await;
    assert_eq!(oidc, oauth);
    assert_eq!(oidc["issuer"], app.config.public_base());
    assert_eq!(
        oidc["response_types_supported"],
        serde_json::json!(["code"])
    );
    assert_eq!(
        oidc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    let algs = oidc["id_token_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    assert!(algs.contains(&"RS256".into()) && !algs.contains(&"none".into()));
    assert_public_json(&headers);
}

/// Metadata any origin may read and caches may keep for five minutes.
fn assert_public_json(headers: &reqwest::header::HeaderMap) {
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(headers["cache-control"], "public, max-age=300");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers.get_all("cache-control").iter().count(), 1);
}

#[tokio::test]
async fn every_advertised_endpoint_answers() {
    let app = TestApp::spawn().await;
    let (_, doc) = metadata(&app, "/.well-known/openid-configuration").await;
    let base = app.config.public_base();
    for (name, url) in doc.as_object().unwrap() {
        let Some(url) = url
            .as_str()
            .filter(|_| name.ends_with("_endpoint") || name == "jwks_uri")
        else {
            continue;
        };
        let path = url
            .strip_prefix(&base)
            .unwrap_or_else(|| panic!("{name} is not under the issuer"));
        let method = if name == "jwks_uri" {
            Method::GET
        } else {
            Method::POST
        };
        let response = app
            .client
            .request(method, app.url(path))
            .send()
            .await
            .unwrap();
        assert_ne!(
            response.status(),
            404,
            "{name} ({url}) is advertised but not served"
        );
    }
}

#[tokio::test]
async fn jwks_publishes_current_and_next_public_keys_only() {
    let app = TestApp::spawn().await;
    let (headers, jwks) = metadata(&app, "/oauth2/jwks").await;
    assert_public_json(&headers);
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(
        keys.len(),
        6,
        "a current and a next key for RS256, ES256 and EdDSA"
    );
    for alg in ["RS256", "ES256", "EdDSA"] {
        assert_eq!(keys.iter().filter(|k| k["alg"] == alg).count(), 2, "{alg}");
    }
    for key in keys {
        assert!(key["kid"].is_string() && key["use"] == "sig", "{key}");
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(
                key.get(private).is_none(),
                "private member {private} published: {key}"
            );
        }
    }
}
