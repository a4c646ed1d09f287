//! Per-organization branding: refused field by field when it would be invalid or unreadable,
//! and shown on the sign-in page of apps that belong to the organization.

use reqwest::Method;
use serde_json::json;
use tessera_tests::{TestApp, create_client, expect_error, expect_status, pkce_pair};

use super::{Console, make_org_admin};

/// The smallest valid PNG: a 1×1 transparent pixel.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// The path and query of an absolute URL.
fn path_of(url: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

#[tokio::test]
async fn branding_is_refused_field_by_field_when_invalid_or_unreadable() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let put = |body: serde_json::Value| {
        app.admin(Method::PUT, "/api/v1/organizations/acme/branding")
            .json(&body)
            .send()
    };
    for color in ["blue", "#12345", "#12345g", "0b5394"] {
        let response = put(json!({ "color": color })).await.unwrap();
        expect_error(response, 400, "invalid_brand_color", Some("color")).await;
    }
    // Yellow under white text is unreadable: refused with the contrast it would have.
    let pale = expect_error(
        put(json!({ "color": "#ffd400" })).await.unwrap(),
        400,
        "invalid_brand_color",
        Some("color"),
    )
    .await;
    assert!(pale["message"].as_str().unwrap().contains(":1"), "{pale}");
    let long = put(json!({ "display_name": "x".repeat(129) }))
        .await
        .unwrap();
    expect_error(long, 400, "invalid_name", Some("display_name")).await;
    let unknown = put(json!({ "colour": "#0b5394" })).await.unwrap();
    expect_error(unknown, 400, "unknown_field", Some("colour")).await;

    let logo = |bytes: Vec<u8>| {
        app.admin(Method::PUT, "/api/v1/organizations/acme/branding/logo")
            .header("content-type", "image/png")
            .body(bytes)
            .send()
    };
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>".to_vec();
    expect_error(logo(svg).await.unwrap(), 400, "invalid_logo", None).await;
    let mut huge = PNG.to_vec();
    huge.resize(300 * 1024, 0);
    expect_error(logo(huge).await.unwrap(), 413, "payload_too_large", None).await;

    // Nothing was stored by the refusals.
    let current = app
        .admin(Method::GET, "/api/v1/organizations/acme/branding")
        .send()
        .await
        .unwrap();
    assert_eq!(expect_status(current, 200).await, json!({}));

    let saved = put(json!({ "display_name": "Acme Corporation", "color": "#0B5394" }))
        .await
        .unwrap();
    let saved = expect_status(saved, 200).await;
    assert_eq!(saved["color"], "#0b5394");
    assert_eq!(saved["display_name"], "Acme Corporation");
}

#[tokio::test]
async fn the_orgs_sign_in_page_shows_its_name_colour_and_logo() {
    let app = TestApp::spawn().await;
    let acme = app.create_org("acme").await;
    let ada = Console::sign_in(&app, "ada@acme.test").await;
    make_org_admin(&app, "acme", "ada@acme.test").await;
    let saved = ada
        .request(Method::PUT, "/api/v1/organizations/acme/branding")
        .json(&json!({ "display_name": "Acme Corporation", "color": "#0b5394" }))
        .send()
        .await
        .unwrap();
    expect_status(saved, 200).await;
    let logo = ada
        .request(Method::PUT, "/api/v1/organizations/acme/branding/logo")
        .header("content-type", "image/png")
        .body(PNG.to_vec())
        .send()
        .await
        .unwrap();
    let logo_url = expect_status(logo, 200).await["logo_url"]
        .as_str()
        .unwrap()
        .to_owned();
    // The public URL's host, not the test's loopback address: keep the path and query.
    let logo_path = path_of(&logo_url);

    // An app restricted to Acme, and one for everyone.
    let restricted = create_client(
        &app,
        json!({ "name": "acme portal", "type": "public", "organization": "acme",
                "redirect_uris": ["http://127.0.0.1:9/callback"] }),
    )
    .await;
    let shared = create_client(
        &app,
        json!({ "name": "shared", "type": "public", "redirect_uris": ["http://127.0.0.1:9/callback"] }),
    )
    .await;
    let sign_in_page = |client_id: String| {
        let app = &app;
        async move {
            let (_, challenge) = pkce_pair();
            let browser = app.browser();
            let authorize = browser
                .get(app.url("/oauth2/authorize"))
                .query(&[
                    ("client_id", client_id.as_str()),
                    ("redirect_uri", "http://127.0.0.1:9/callback"),
                    ("response_type", "code"),
                    ("scope", "openid"),
                    ("code_challenge", challenge.as_str()),
                    ("code_challenge_method", "S256"),
                ])
                .send()
                .await
                .unwrap();
            let login = path_of(authorize.headers()["location"].to_str().unwrap());
            browser
                .get(app.url(&login))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let branded = sign_in_page(restricted["client_id"].as_str().unwrap().to_owned()).await;
    assert!(branded.contains("Sign in to Acme Corporation"), "{branded}");
    assert!(branded.contains("--accent: #0b5394"));
    assert!(
        branded.contains(&logo_path.replace('&', "&amp;")),
        "the page shows the logo at {logo_path}"
    );
    let plain = sign_in_page(shared["client_id"].as_str().unwrap().to_owned()).await;
    assert!(!plain.contains("Acme Corporation") && !plain.contains("--accent"));

    // The logo is served as uploaded, to anyone (sign-in pages are public), and scripts in it
    // could not run.
    let served = app.client.get(app.url(&logo_path)).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(
        served.headers()["content-security-policy"],
        "default-src 'none'"
    );
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);

    // Removing the logo removes it from the page and the URL.
    let removed = ada
        .request(Method::DELETE, "/api/v1/organizations/acme/branding/logo")
        .send()
        .await
        .unwrap();
    assert!(expect_status(removed, 200).await.get("logo_url").is_none());
    let gone = app.client.get(app.url(&logo_path)).send().await.unwrap();
    expect_error(gone, 404, "logo_not_found", None).await;
    let events = super::audit(&app, "acme", "branding.updated").await;
    assert_eq!(events.len(), 3);
    assert_eq!(events[0]["actor"]["id"], ada.user_id());
    assert_eq!(acme["slug"], "acme");
}
