//! openid-client (OpenID Certified relying-party library) against the real binary: discovery,
//! authorization code + PKCE, ID-token validation, userinfo and refresh, as a web app and as a
//! native app with a random loopback port.

use broker::Actor;
use broker::provider::client::NewClient;
use broker::session::NewSession;
use secrecy::ExposeSecret as _;
use tessera_tests::real::{RealServer, run_node};

#[tokio::test]
async fn openid_client_signs_in_as_web_and_native_app() {
    let server = RealServer::start(&[]).await;
    let broker = server.broker().await;
    let cli = Actor::cli();

    let org = broker
        .create_organization(
            &cli,
            broker::org::NewOrganization {
                name: "Acme".into(),
                slug: "acme".into(),
            },
        )
        .await
        .unwrap();
    let access = broker
        .access_organization(cli.clone(), "acme")
        .await
        .unwrap();
    let member = broker
        .add_membership(
            &access,
            broker::membership::MemberRef::Email("ada@acme.example".into()),
            &["admin".into()],
        )
        .await
        .unwrap();
    let web_redirect = "https://app.example.com/callback";
    let web = broker
        .create_client(
            &cli,
            NewClient {
                name: "web".into(),
                client_type: Some(broker::entities::client::ClientType::Confidential),
                redirect_uris: vec![web_redirect.into()],
                ..NewClient::default()
            },
        )
        .await
        .unwrap();
    let native = broker
        .create_client(
            &cli,
            NewClient {
                name: "desktop".into(),
                client_type: Some(broker::entities::client::ClientType::Public),
                redirect_uris: vec!["http://127.0.0.1/callback".into()],
                grant_types: Some(vec!["authorization_code".into()]),
                ..NewClient::default()
            },
        )
        .await
        .unwrap();
    // The sign-in pages do not exist yet: create the session they would create.
    let (_, token) = broker
        .create_session(NewSession {
            user: member.user.id,
            org: None,
            amr: vec!["hwk".into(), "user".into()],
            acr: None,
            user_agent: None,
            ip: None,
        })
        .await
        .unwrap();
    let cookie = format!(
        "{}={}",
        tessera::session::cookie_name(&server.config()),
        token.expose_secret()
    );

    let output = run_node(
        "openid-client.mjs",
        &[
            ("ISSUER", server.base.clone()),
            ("SESSION_COOKIE", cookie),
            ("EXPECTED_EMAIL", "ada@acme.example".into()),
            ("WEB_CLIENT_ID", web.client.id.to_string()),
            (
                "WEB_CLIENT_SECRET",
                web.secret.as_ref().unwrap().expose_secret().to_owned(),
            ),
            ("WEB_REDIRECT_URI", web_redirect.into()),
            ("NATIVE_CLIENT_ID", native.client.id.to_string()),
        ],
    );
    let result: serde_json::Value = serde_json::from_str(&output).unwrap();
    assert_eq!(result["web"]["sub"], member.user.id.to_string());
    assert_eq!(result["web"]["org_id"], org.id.to_string());
    assert_eq!(result["web"]["roles"], serde_json::json!(["admin"]));
    assert_eq!(result["web"]["amr"], serde_json::json!(["hwk", "user"]));
    assert_eq!(result["native"]["sub"], member.user.id.to_string());
    assert_ne!(result["native"]["port"], 80);
}
