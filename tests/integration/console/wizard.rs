//! The wizard's helpers in the admin API: the redirect URI is shown before the connection
//! exists (its id is handed out first and must be recent), and role rules are tried on a test
//! login's claims without being saved.

use reqwest::Method;
use serde_json::json;
use tessera_tests::static_http::StaticHttp;
use tessera_tests::{TestApp, expect_error, expect_status};

const RSA_JWK: &str = r#"{"keys":[{"kty":"RSA","kid":"k1","use":"sig","alg":"RS256","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB"}]}"#;

/// An IdP answering a valid discovery document and key set.
async fn idp() -> StaticHttp {
    let idp = StaticHttp::start().await;
    let issuer = idp.base.clone();
    let discovery = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    });
    idp.route(
        "/.well-known/openid-configuration",
        200,
        discovery.to_string(),
    );
    idp.route("/jwks", 200, RSA_JWK);
    idp
}

#[tokio::test]
async fn a_connection_created_with_the_handed_out_id_keeps_the_redirect_uri_shown_first() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let idp = idp().await;
    let endpoints = app
        .admin(
            Method::GET,
            "/api/v1/organizations/acme/connection-endpoints",
        )
        .send()
        .await
        .unwrap();
    let endpoints = expect_status(endpoints, 200).await;
    let id = endpoints["id"].as_str().unwrap();
    let redirect_uri = endpoints["redirect_uri"].as_str().unwrap();
    assert!(redirect_uri.ends_with(&format!("/sso/oidc/{id}/callback")));
    // Asking again with the id gives the same values (a reloaded wizard); a made-up id is refused.
    let again = app
        .admin(
            Method::GET,
            &format!("/api/v1/organizations/acme/connection-endpoints?id={id}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(expect_status(again, 200).await, endpoints);
    let made_up = app
        .admin(
            Method::GET,
            &format!(
                "/api/v1/organizations/acme/connection-endpoints?id={}",
                uuid::Uuid::new_v4()
            ),
        )
        .send()
        .await
        .unwrap();
    expect_error(made_up, 400, "invalid_connection", Some("id")).await;
    // Handing out an id stores nothing.
    let listed = app
        .admin(Method::GET, "/api/v1/organizations/acme/connections")
        .send()
        .await
        .unwrap();
    assert_eq!(expect_status(listed, 200).await["data"], json!([]));

    let body = |id: &str| {
        json!({ "kind": "oidc", "id": id, "name": "Acme IdP", "issuer": idp.base,
                "client_id": "tessera", "client_secret": "s3cret" })
    };
    let create = |id: String| {
        app.admin(Method::POST, "/api/v1/organizations/acme/connections")
            .json(&body(&id))
            .send()
    };
    let created = expect_status(create(id.to_owned()).await.unwrap(), 201).await;
    assert_eq!(created["id"], id);
    assert_eq!(created["redirect_uri"], redirect_uri);

    // An id is used once, must be a recent one handed out here, and is checked first.
    let again = create(id.to_owned()).await.unwrap();
    expect_error(again, 400, "invalid_connection", Some("id")).await;
    let random = create(uuid::Uuid::new_v4().to_string()).await.unwrap();
    expect_error(random, 400, "invalid_connection", Some("id")).await;
    let sixty_days_ago = app.broker().now().timestamp() - 60 * 86_400;
    let old = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        sixty_days_ago as u64,
        0,
    ));
    let stale = create(old.to_string()).await.unwrap();
    expect_error(stale, 400, "invalid_connection", Some("id")).await;
    let listed = app
        .admin(Method::GET, "/api/v1/organizations/acme/connections")
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(listed, 200).await["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let saml = app
        .admin(
            Method::GET,
            "/api/v1/organizations/acme/connection-endpoints?kind=saml",
        )
        .send()
        .await
        .unwrap();
    // SAML: the SP entity ID and ACS URL the IdP asks for, and the connection created with the
    // same id has exactly those.
    let saml = expect_status(saml, 200).await;
    let saml_id = saml["id"].as_str().unwrap();
    assert!(saml["redirect_uri"].is_null());
    assert!(
        saml["sp_entity_id"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/sso/saml/{saml_id}"))
    );
    let created = app
        .admin(Method::POST, "/api/v1/organizations/acme/connections")
        .json(&json!({"kind": "saml", "name": "Acme SAML", "id": saml_id}))
        .send()
        .await
        .unwrap();
    let created = expect_status(created, 201).await;
    assert_eq!(created["id"], saml_id);
    assert_eq!(created["sp_entity_id"], saml["sp_entity_id"]);
    assert_eq!(created["acs_url"], saml["acs_url"]);
    let unknown = app
        .admin(
            Method::GET,
            "/api/v1/organizations/acme/connection-endpoints?kind=ldap",
        )
        .send()
        .await
        .unwrap();
    expect_error(unknown, 400, "invalid_query", Some("kind")).await;
}

#[tokio::test]
async fn role_rules_are_tried_on_claims_without_being_saved() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let claims = json!({
        "email": "alice@acme.test",
        "groups": ["acme-admins", "everyone"],
        "address": { "country": "NL" },
    });
    let preview = |mapping: serde_json::Value, claims: serde_json::Value| {
        app.admin(
            Method::POST,
            "/api/v1/organizations/acme/role-mappings/preview",
        )
        .json(&json!({ "mapping": mapping, "claims": claims }))
        .send()
    };
    let rules = json!({
        "rules": [
            { "claim": "groups", "op": "equals", "value": "acme-admins", "role": "admin" },
            { "claim": "groups", "op": "equals", "value": "finance", "role": "billing" },
            { "claim": "address.country", "op": "in", "value": ["NL", "BE"], "role": "benelux" },
            { "claim": "email", "op": "matches", "value": ".*@acme\\.test", "role": "staff" },
        ],
        "default_role": "member",
    });
    let decided = expect_status(preview(rules, claims.clone()).await.unwrap(), 200).await;
    assert_eq!(decided["decision"], "roles");
    assert_eq!(decided["roles"], json!(["admin", "benelux", "staff"]));
    assert_eq!(decided["matched_rules"], json!([0, 2, 3]));

    let unmatched = json!({
        "rules": [{ "claim": "groups", "op": "equals", "value": "finance", "role": "billing" }],
        "default_role": "member",
    });
    let fallback = expect_status(preview(unmatched, claims.clone()).await.unwrap(), 200).await;
    assert_eq!(fallback["roles"], json!(["member"]));
    assert_eq!(fallback["matched_rules"], json!([]));
    let strict = json!({
        "rules": [{ "claim": "groups", "op": "equals", "value": "finance", "role": "billing" }],
        "deny_unmatched": true,
    });
    let denied = expect_status(preview(strict, claims.clone()).await.unwrap(), 200).await;
    assert_eq!(denied["decision"], "denied");
    assert_eq!(denied["roles"], json!([]));

    // Mistakes are named where the editor shows them.
    let bad_pattern = json!({ "rules": [
        { "claim": "groups", "op": "equals", "value": "x", "role": "a" },
        { "claim": "email", "op": "matches", "value": "(unclosed", "role": "b" },
    ] });
    let response = preview(bad_pattern, claims.clone()).await.unwrap();
    expect_error(
        response,
        400,
        "invalid_role_mapping",
        Some("mapping.rules[1].value"),
    )
    .await;
    let bad_role = json!({ "rules": [{ "claim": "groups", "op": "equals", "value": "x", "role": "no spaces" }] });
    let response = preview(bad_role, claims.clone()).await.unwrap();
    expect_error(response, 400, "invalid_role", Some("mapping.rules[0].role")).await;
    let response = preview(json!({ "rules": [] }), json!(["not", "an", "object"]))
        .await
        .unwrap();
    expect_error(response, 400, "invalid_role_mapping", Some("claims")).await;

    // Nothing was saved.
    let saved = app
        .admin(Method::GET, "/api/v1/organizations/acme/role-mappings")
        .send()
        .await
        .unwrap();
    assert_eq!(expect_status(saved, 200).await["rules"], json!([]));
}
