//! Federation set-up through the admin API: connections refused with a message that says
//! exactly what to fix (unreachable or malformed discovery, unusable keys, plain-HTTP
//! issuers), role rules checked field by field, and nothing half-created.

use reqwest::Method;
use serde_json::{Value, json};
use tessera_tests::static_http::StaticHttp;
use tessera_tests::{TestApp, expect_error, expect_status};

/// A discovery document for `issuer` whose endpoints live under it.
fn discovery(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    })
}

/// A public RSA key set (RFC 7517 example key) for IdP stand-ins.
pub(crate) const RSA_JWK: &str = r#"{"keys":[{"kty":"RSA","kid":"k1","use":"sig","alg":"RS256","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB"}]}"#;

async fn create(app: &TestApp, body: Value) -> reqwest::Response {
    app.admin(Method::POST, "/api/v1/organizations/acme/connections")
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn oidc(issuer: &str) -> Value {
    json!({
        "kind": "oidc",
        "name": "Acme IdP",
        "issuer": issuer,
        "client_id": "tessera",
        "client_secret": "s3cret",
    })
}

#[tokio::test]
async fn a_connection_to_a_bad_idp_is_refused_with_what_to_fix() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let idp = StaticHttp::start().await;
    let base = idp.base.clone();

    let plain = expect_error(
        create(&app, oidc("http://idp.example.com")).await,
        400,
        "invalid_upstream_url",
        Some("issuer"),
    )
    .await;
    assert!(plain["message"].as_str().unwrap().contains("https"));

    // Nothing listens on the port once the listener is gone.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let unreachable = expect_error(
        create(&app, oidc(&format!("http://127.0.0.1:{closed}"))).await,
        422,
        "oidc_discovery_failed",
        Some("issuer"),
    )
    .await;
    assert!(
        unreachable["message"]
            .as_str()
            .unwrap()
            .contains("could not reach"),
        "{unreachable}"
    );

    let missing = expect_error(
        create(&app, oidc(&base)).await,
        422,
        "oidc_discovery_failed",
        Some("issuer"),
    )
    .await;
    assert!(missing["message"].as_str().unwrap().contains("HTTP 404"));

    idp.route("/.well-known/openid-configuration", 200, "{not json");
    expect_error(
        create(&app, oidc(&base)).await,
        422,
        "oidc_discovery_invalid",
        Some("issuer"),
    )
    .await;

    let mut other = discovery("https://someone-else.example");
    idp.route("/.well-known/openid-configuration", 200, other.to_string());
    let mismatch = expect_error(
        create(&app, oidc(&base)).await,
        422,
        "oidc_issuer_mismatch",
        Some("issuer"),
    )
    .await;
    assert!(
        mismatch["message"]
            .as_str()
            .unwrap()
            .contains("someone-else")
    );

    other = discovery(&base);
    other["token_endpoint"] = json!("http://idp.example.com/token");
    idp.route("/.well-known/openid-configuration", 200, other.to_string());
    let insecure = expect_error(
        create(&app, oidc(&base)).await,
        400,
        "invalid_upstream_url",
        Some("issuer"),
    )
    .await;
    assert!(
        insecure["message"]
            .as_str()
            .unwrap()
            .contains("token_endpoint")
    );

    idp.route(
        "/.well-known/openid-configuration",
        200,
        discovery(&base).to_string(),
    );
    idp.route("/jwks", 200, r#"{"keys":[]}"#);
    expect_error(
        create(&app, oidc(&base)).await,
        422,
        "oidc_jwks_unusable",
        Some("issuer"),
    )
    .await;
    idp.route(
        "/jwks",
        200,
        r#"{"keys":[{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}]}"#,
    );
    expect_error(
        create(&app, oidc(&base)).await,
        422,
        "oidc_jwks_unusable",
        Some("issuer"),
    )
    .await;

    let mut no_secret = oidc(&base);
    no_secret.as_object_mut().unwrap().remove("client_secret");
    expect_error(
        create(&app, no_secret).await,
        400,
        "missing_field",
        Some("client_secret"),
    )
    .await;
    let mut entra = oidc("https://login.microsoftonline.com/organizations/v2.0");
    entra["preset"] = json!("entra");
    expect_error(
        create(&app, entra).await,
        400,
        "invalid_tenant_id",
        Some("tenant_id"),
    )
    .await;

    // Nothing was half-created along the way.
    let list = expect_status(
        app.admin(Method::GET, "/api/v1/organizations/acme/connections")
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(list["data"], json!([]));

    // With usable keys the same IdP is accepted, as a draft, with the redirect URI to register.
    idp.route("/jwks", 200, RSA_JWK);
    let created = expect_status(
        create(
            &app,
            json!({
                "kind": "oidc",
                "name": "Acme IdP",
                "issuer": format!("{base}/.well-known/openid-configuration"),
                "client_id": "tessera",
                "client_secret": "s3cret",
                "preset": "okta",
            }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(created["status"], "draft");
    assert_eq!(created["issuer"], base);
    assert_eq!(
        created["scopes"],
        json!(["openid", "email", "profile", "groups"])
    );
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        created["redirect_uri"],
        format!("{}/sso/oidc/{id}/callback", app.config.public_base())
    );
    assert!(!created.to_string().contains("s3cret"));

    // Settings can change (not the issuer); bad values name their field.
    let path = format!("/api/v1/organizations/acme/connections/{id}");
    expect_error(
        app.admin(Method::PATCH, &path)
            .json(&json!({ "clock_skew_seconds": 3600 }))
            .send()
            .await
            .unwrap(),
        400,
        "invalid_connection",
        Some("clock_skew_seconds"),
    )
    .await;
    expect_error(
        app.admin(Method::PATCH, &path)
            .json(&json!({ "scopes": ["email"] }))
            .send()
            .await
            .unwrap(),
        400,
        "invalid_connection",
        Some("scopes"),
    )
    .await;
    let renamed = expect_status(
        app.admin(Method::PATCH, &path)
            .json(&json!({ "name": "Acme Okta (prod)", "client_secret": "n3w-s3cret" }))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(renamed["name"], "Acme Okta (prod)");
    assert_eq!(renamed["issuer"], base);
    assert!(!renamed.to_string().contains("n3w-s3cret"));

    // A draft is not used for sign-in.
    let start = app
        .browser()
        .get(app.url(&format!("/sso/{id}/start")))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 403);
    assert!(start.text().await.unwrap().contains("connection_inactive"));

    // Another org cannot see it.
    app.create_org("globex").await;
    expect_error(
        app.admin(
            Method::GET,
            &format!("/api/v1/organizations/globex/connections/{id}"),
        )
        .send()
        .await
        .unwrap(),
        404,
        "connection_not_found",
        None,
    )
    .await;
}

#[tokio::test]
async fn role_rules_are_checked_field_by_field_and_replaced_whole() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let put = |body: Value| {
        app.admin(Method::PUT, "/api/v1/organizations/acme/role-mappings")
            .json(&body)
            .send()
    };
    let good = json!({
        "rules": [
            {"claim": "groups", "op": "equals", "value": "Admins", "role": "admin"},
            {"claim": "email", "op": "matches", "value": ".*@acme\\.test", "role": "staff"},
        ],
        "default_role": "member",
    });
    expect_status(put(good.clone()).await.unwrap(), 200).await;
    for (rules, field) in [
        (
            json!([{"claim": "groups", "op": "matches", "value": "(", "role": "x"}]),
            "rules[0].value",
        ),
        (
            json!([{"claim": "", "op": "equals", "value": "a", "role": "x"}]),
            "rules[0].claim",
        ),
        (
            json!([{"claim": "g", "op": "in", "value": "a", "role": "x"}]),
            "rules[0].value",
        ),
    ] {
        expect_error(
            put(json!({ "rules": rules })).await.unwrap(),
            400,
            "invalid_role_mapping",
            Some(field),
        )
        .await;
    }
    expect_error(
        put(json!({"rules": [{"claim": "g", "op": "equals", "value": "a", "role": "bad role"}]}))
            .await
            .unwrap(),
        400,
        "invalid_role",
        Some("rules[0].role"),
    )
    .await;
    let unknown_op =
        put(json!({"rules": [{"claim": "g", "op": "like", "value": "a", "role": "x"}]}))
            .await
            .unwrap();
    assert_eq!(unknown_op.status(), 400);
    // The refused writes left the good rules in place.
    let stored = expect_status(
        app.admin(Method::GET, "/api/v1/organizations/acme/role-mappings")
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(stored["rules"], good["rules"]);
    assert_eq!(stored["default_role"], "member");
    assert_eq!(stored["deny_unmatched"], false);
}
