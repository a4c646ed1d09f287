//! SAML connections through the admin API: created from the IdP's metadata (pasted or by URL),
//! what admins copy into their IdP, bad metadata and settings refused field by field, signed
//! AuthnRequests, certificate rotation followed through the metadata (now or on schedule),
//! expiry warnings, and dry-run test logins.

use std::sync::Arc;

use broker::{Clock as _, SystemClock};
use chrono::Duration;
use reqwest::Method;
use serde_json::{Value, json};
use tessera_tests::saml_idp::SamlIdp;
use tessera_tests::{Options, TestApp, expect_error, expect_status};

use super::{Saml, refused};
use crate::login::browser::Browser;

const CONNECTIONS: &str = "/api/v1/organizations/acme/connections";

async fn create(app: &TestApp, body: Value) -> reqwest::Response {
    app.admin(Method::POST, CONNECTIONS)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_saml_connection_from_pasted_metadata_shows_what_to_copy_into_the_idp() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let idp = SamlIdp::start();
    let created = create(
        &app,
        json!({"kind": "saml", "name": "Acme ADFS", "metadata_xml": idp.metadata().await,
               "preset": "entra"}),
    )
    .await;
    let connection = expect_status(created, 201).await;
    let id = connection["id"].as_str().unwrap();
    assert_eq!(connection["kind"], "saml");
    assert_eq!(connection["status"], "draft");
    let public = app.config.public_url.as_str().trim_end_matches('/');
    assert_eq!(
        connection["sp_entity_id"],
        format!("{public}/sso/saml/{id}")
    );
    assert_eq!(connection["acs_url"], format!("{public}/sso/saml/{id}/acs"));
    assert_eq!(
        connection["sp_metadata_url"],
        format!("{public}/sso/saml/{id}/metadata")
    );
    let saml = &connection["saml"];
    assert_eq!(saml["idp_entity_id"], idp.entity_id);
    assert_eq!(saml["sso_url"], format!("{}/sso", idp.base));
    assert_eq!(saml["certificates"].as_array().unwrap().len(), 1);
    assert_eq!(saml["require_signed_assertions"], true);
    assert_eq!(saml["allow_idp_initiated"], false);
    assert_eq!(
        saml["attributes"]["email"][0],
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "the Entra ID preset's claim names"
    );
    assert!(connection.get("warnings").is_none(), "{connection}");
    assert!(!connection.to_string().contains("PRIVATE"), "no keys leak");

    let metadata = app
        .client
        .get(app.url(&format!("/sso/saml/{id}/metadata")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        metadata.headers()["content-type"],
        "application/samlmetadata+xml"
    );
    let metadata = metadata.text().await.unwrap();
    for expected in [
        format!("entityID=\"{public}/sso/saml/{id}\""),
        format!("Location=\"{public}/sso/saml/{id}/acs\""),
        "WantAssertionsSigned=\"true\"".to_owned(),
        "use=\"signing\"".to_owned(),
        "use=\"encryption\"".to_owned(),
    ] {
        assert!(metadata.contains(&expected), "{expected} in {metadata}");
    }
    // The IdP library accepts it as SP metadata (registration parses it).
    idp.register_sp(&metadata).await;
}

#[tokio::test]
async fn bad_metadata_and_settings_are_refused_field_by_field_and_nothing_is_created() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let idp = SamlIdp::start();
    let good = idp.metadata().await;
    let unsigned = {
        let start = good.find("<KeyDescriptor").unwrap();
        let end = good.rfind("</KeyDescriptor>").unwrap() + "</KeyDescriptor>".len();
        format!("{}{}", &good[..start], &good[end..])
    };
    let saml = |extra: Value| {
        let mut body = json!({"kind": "saml", "name": "x"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let cases = [
        (
            json!({"metadata_xml": unsigned}),
            "saml_metadata_unsigned",
            "metadata_xml",
        ),
        (
            json!({"metadata_xml": "<html/>"}),
            "saml_metadata_invalid",
            "metadata_xml",
        ),
        (
            json!({"metadata_xml": format!("<!DOCTYPE x>{good}")}),
            "saml_metadata_invalid",
            "metadata_xml",
        ),
        (
            json!({"metadata_xml": good, "metadata_url": idp.metadata_url()}),
            "missing_field",
            "metadata_xml",
        ),
        (
            json!({"metadata_url": "http://idp.example.com/metadata"}),
            "invalid_upstream_url",
            "metadata_url",
        ),
        (
            json!({"metadata_url": format!("{}/nope", idp.base)}),
            "saml_metadata_fetch_failed",
            "metadata_url",
        ),
        (
            json!({"metadata_xml": good, "issuer": "https://x"}),
            "invalid_connection",
            "issuer",
        ),
        (
            json!({"metadata_xml": good, "clock_skew_seconds": 601}),
            "invalid_connection",
            "clock_skew_seconds",
        ),
        (
            json!({"metadata_xml": good, "metadata_refresh_hours": 0}),
            "invalid_connection",
            "metadata_refresh_hours",
        ),
        (
            json!({"metadata_xml": good, "name_id_format": "email"}),
            "invalid_connection",
            "name_id_format",
        ),
        (
            json!({"metadata_xml": good, "attributes": {"groups": [""]}}),
            "invalid_connection",
            "attributes.groups",
        ),
    ];
    for (extra, code, field) in cases {
        let response = create(&app, saml(extra)).await;
        let status = if code == "saml_metadata_fetch_failed" {
            422
        } else {
            400
        };
        expect_error(response, status, code, Some(field)).await;
    }
    let oidc_with_metadata = create(
        &app,
        json!({"kind": "oidc", "name": "x", "metadata_xml": good}),
    )
    .await;
    expect_error(
        oidc_with_metadata,
        400,
        "invalid_connection",
        Some("metadata_xml"),
    )
    .await;

    let listed = app.admin(Method::GET, CONNECTIONS).send().await.unwrap();
    assert_eq!(expect_status(listed, 200).await["data"], json!([]));
}

#[tokio::test]
async fn a_connection_made_before_the_idp_app_waits_for_its_metadata() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    // Okta and Entra need Tessera's SP values to create their app, whose metadata comes after.
    let created = create(
        &app,
        json!({"kind": "saml", "name": "Acme Okta", "preset": "okta"}),
    )
    .await;
    let connection = expect_status(created, 201).await;
    let id = connection["id"].as_str().unwrap();
    assert!(connection["acs_url"].as_str().unwrap().ends_with("/acs"));
    assert_eq!(connection["warnings"][0]["code"], "saml_metadata_missing");
    let activate = app
        .admin(Method::POST, &format!("{CONNECTIONS}/{id}/activate"))
        .send()
        .await
        .unwrap();
    expect_error(activate, 409, "saml_metadata_missing", None).await;
    let mut browser = Browser::new(&app);
    let test = app
        .admin(Method::POST, &format!("{CONNECTIONS}/{id}/test-logins"))
        .send()
        .await
        .unwrap();
    let test = expect_status(test, 201).await;
    let url = url::Url::parse(test["url"].as_str().unwrap()).unwrap();
    let start = browser
        .get(&format!("{}?{}", url.path(), url.query().unwrap()))
        .await;
    refused(start, "saml_metadata_missing").await;

    let idp = SamlIdp::start();
    let patched = app
        .admin(Method::PATCH, &format!("{CONNECTIONS}/{id}"))
        .json(&json!({"metadata_url": idp.metadata_url()}))
        .send()
        .await
        .unwrap();
    let patched = expect_status(patched, 200).await;
    assert_eq!(patched["saml"]["idp_entity_id"], idp.entity_id);
    assert_eq!(patched["saml"]["metadata_url"], idp.metadata_url());
    assert!(patched.get("warnings").is_none(), "{patched}");
    let activate = app
        .admin(Method::POST, &format!("{CONNECTIONS}/{id}/activate"))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_status(activate, 200).await["status"], "active");
}

#[tokio::test]
async fn authn_requests_are_signed_when_the_idp_asks_for_it() {
    let saml = Saml::start_with(Options::default(), json!({}), |idp| {
        idp["wantSignedRequests"] = json!(true);
    })
    .await;
    assert_eq!(saml.connection["saml"]["idp_wants_signed_requests"], true);
    assert_eq!(saml.connection["saml"]["sign_requests"], true);
    let (_, done) = saml
        .sign_in("alice@acme.test", json!({"email": "alice@acme.test"}))
        .await;
    assert_eq!(done.status(), 303);
    // samlify verified the signature with the certificate from Tessera's SP metadata.
    assert_eq!(saml.idp.requests().await[0]["signed"], true);
    let refused_off = saml.patch(json!({"sign_requests": false})).await;
    expect_error(
        refused_off,
        400,
        "invalid_connection",
        Some("sign_requests"),
    )
    .await;
    let oidc_setting = saml.patch(json!({"client_secret": "s"})).await;
    expect_error(
        oidc_setting,
        400,
        "invalid_connection",
        Some("client_secret"),
    )
    .await;
}

#[tokio::test]
async fn a_rotated_idp_certificate_is_picked_up_by_refreshing_the_metadata() {
    let saml = Saml::start(json!({})).await;
    // The IdP publishes its next certificate and starts signing with it.
    saml.idp
        .control(json!({"publish": ["a", "b"], "signWith": "b"}))
        .await;
    let (_, before) = saml
        .sign_in("alice@acme.test", json!({"email": "alice@acme.test"}))
        .await;
    refused(before, "saml_signature_invalid").await;
    let path = format!("{CONNECTIONS}/{}/refresh-metadata", saml.id);
    let refreshed = saml.app.admin(Method::POST, &path).send().await.unwrap();
    let refreshed = expect_status(refreshed, 200).await;
    assert_eq!(
        refreshed["saml"]["certificates"].as_array().unwrap().len(),
        2
    );
    let (_, after) = saml
        .sign_in("alice@acme.test", json!({"email": "alice@acme.test"}))
        .await;
    assert_eq!(after.status(), 303);
    // The old certificate is retired at the IdP; the next refresh drops it.
    saml.idp.control(json!({"publish": ["b"]})).await;
    let refreshed = saml.app.admin(Method::POST, &path).send().await.unwrap();
    let refreshed = expect_status(refreshed, 200).await;
    assert_eq!(
        refreshed["saml"]["certificates"].as_array().unwrap().len(),
        1
    );
}

#[tokio::test]
async fn the_metadata_is_refetched_on_schedule_and_expiring_certificates_are_warned_about() {
    let clock = Arc::new(broker::ManualClock::new(SystemClock.now()));
    let options = Options {
        clock: Some(clock.clone()),
        ..Options::default()
    };
    let saml = Saml::start_with(options, json!({"metadata_refresh_hours": 6}), |_| {}).await;
    let broker = saml.app.broker().clone();
    assert_eq!(
        broker.refresh_due_saml_metadata().await.unwrap(),
        0,
        "not due"
    );
    saml.idp
        .control(json!({"publish": ["a", "b"], "signWith": "b"}))
        .await;
    clock.advance(Duration::hours(7));
    // Due now: refetched by this call, or just before it by the server's own schedule (its first
    // run is a minute after start, which a busy machine can reach during the set-up above).
    assert!(broker.refresh_due_saml_metadata().await.unwrap() <= 1);
    let read = saml
        .app
        .admin(Method::GET, &format!("{CONNECTIONS}/{}", saml.id));
    let connection = expect_status(read.send().await.unwrap(), 200).await;
    assert_eq!(
        connection["saml"]["certificates"].as_array().unwrap().len(),
        2,
        "the refetched metadata publishes both certificates: {connection}"
    );
    clock.advance(Duration::hours(-7));
    let (_, after) = saml
        .sign_in("alice@acme.test", json!({"email": "alice@acme.test"}))
        .await;
    assert_eq!(
        after.status(),
        303,
        "signed with the certificate found on schedule"
    );

    // The IdP's certificates are valid for a year: eleven months on, an admin is warned.
    clock.advance(Duration::days(340));
    let path = format!("{CONNECTIONS}/{}", saml.id);
    let read = saml.app.admin(Method::GET, &path).send().await.unwrap();
    let connection = expect_status(read, 200).await;
    let codes: Vec<&str> = connection["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["saml_certificate_expiring", "saml_certificate_expiring"]
    );
    // A refresh that fails keeps the metadata and says so.
    drop(saml.idp);
    clock.advance(Duration::hours(7));
    assert_eq!(broker.refresh_due_saml_metadata().await.unwrap(), 0);
    let read = saml.app.admin(Method::GET, &path).send().await.unwrap();
    let connection = expect_status(read, 200).await;
    assert_eq!(
        connection["saml"]["certificates"].as_array().unwrap().len(),
        2
    );
    assert!(
        connection["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["code"] == "saml_metadata_refresh_failed"),
        "{connection}"
    );
}

#[tokio::test]
async fn test_logins_show_the_signed_assertion_mapped_roles_and_failed_checks() {
    let saml = Saml::start(json!({})).await;
    saml.rules(json!({"rules": [
        {"claim": "groups", "op": "in", "value": ["it", "ops"], "role": "operator"}
    ]}))
    .await;
    saml.set_status("deactivate").await;
    let mut browser = Browser::new(&saml.app);
    let inactive = browser.get(&format!("/sso/{}/start", saml.id)).await;
    refused(inactive, "connection_inactive").await;

    let run = |tags: Value| {
        let saml = &saml;
        async move {
            saml.idp.control(json!({"tags": tags})).await;
            let path = format!("{CONNECTIONS}/{}/test-logins", saml.id);
            let test = saml.app.admin(Method::POST, &path).send().await.unwrap();
            let test = expect_status(test, 201).await;
            let url = url::Url::parse(test["url"].as_str().unwrap()).unwrap();
            saml.idp
                .sign_in_as(
                    "ivy@acme.test",
                    json!({"email": "ivy@acme.test", "groups": ["ops"]}),
                )
                .await;
            let mut browser = Browser::new(&saml.app);
            let start = format!("{}?{}", url.path(), url.query().unwrap());
            let answer = saml.idp_answer_from(&mut browser, &start).await;
            let page = saml.post(&mut browser, &answer).await;
            assert_eq!(page.status(), 200);
            let page = page.text().await.unwrap();
            let read = saml
                .app
                .admin(
                    Method::GET,
                    &format!("{path}/{}", test["id"].as_str().unwrap()),
                )
                .send()
                .await
                .unwrap();
            (page, expect_status(read, 200).await)
        }
    };
    let (page, ok) = run(json!({})).await;
    assert_eq!(ok["status"], "succeeded");
    assert_eq!(ok["roles"], json!(["operator"]));
    assert_eq!(ok["account_action"], "create");
    assert_eq!(ok["profile"]["email"], "ivy@acme.test");
    let xml = ok["assertion_xml"].as_str().unwrap();
    assert!(
        xml.contains("Assertion") && xml.contains("ivy@acme.test"),
        "{xml}"
    );
    assert!(
        page.contains("The signed SAML the identity provider sent"),
        "{page}"
    );
    assert!(page.contains("ivy@acme.test"));
    let (page, failed) = run(json!({"Audience": "https://someone-else"})).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["code"], "saml_audience_mismatch");
    assert!(page.contains("saml_audience_mismatch"));
    assert!(saml.members().await.is_empty(), "a dry run creates nobody");
}
