//! The classic SAML SP breakages, tried on responses the real IdP signed: signature wrapping
//! (XSW) in its common shapes, comment injection into NameID and attributes, stripped
//! signatures, DTDs and entities, and bad input of every kind. Each ends on an error page with
//! its code, no session, and an audit event; none is a 500.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use serde_json::{Value, json};
use tessera_tests::expect_status;
use tessera_tests::saml_idp::IdpAnswer;

use super::{Saml, refused};
use crate::login::browser::Browser;

/// A connection whose IdP signs only the assertion: the shape wrapping attacks go after.
async fn assertion_signed() -> Saml {
    let saml = Saml::start(json!({})).await;
    saml.idp
        .control(json!({"signResponse": false, "signAssertion": true}))
        .await;
    saml
}

async fn fresh_answer(saml: &Saml, browser: &mut Browser, name_id: &str) -> IdpAnswer {
    saml.idp
        .sign_in_as(name_id, json!({"email": name_id}))
        .await;
    saml.idp_answer(browser).await
}

/// The first `<…:Assertion …>…</…:Assertion>` element of `xml` and its prefix.
fn assertion_of(xml: &str) -> (usize, usize) {
    let start = xml
        .find(":Assertion ")
        .map(|i| xml[..i].rfind('<').unwrap())
        .unwrap();
    let close = xml.find(":Assertion>").unwrap();
    let end = close + ":Assertion>".len();
    (start, end)
}

/// The response with the signed assertion moved into `samlp:Extensions` and `visible` in its
/// place (Issuer, Extensions, Status, Assertion is the schema's order).
fn hide_in_extensions(xml: &str, signed: &str, visible: &str) -> String {
    let status_start = xml.find("<samlp:Status").unwrap();
    let status_end = xml.find("</samlp:Status>").unwrap() + "</samlp:Status>".len();
    let after = xml.find(signed).unwrap() + signed.len();
    format!(
        "{}<samlp:Extensions>{signed}</samlp:Extensions>{}{visible}{}",
        &xml[..status_start],
        &xml[status_start..status_end],
        &xml[after..]
    )
}

fn without_signatures(fragment: &str) -> String {
    let mut out = fragment.to_owned();
    while let Some(start) = out.find("<ds:Signature") {
        let end = out.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
        out.replace_range(start..end, "");
    }
    out
}

#[tokio::test]
async fn signature_wrapping_never_gets_an_unsigned_assertion_read() {
    let saml = assertion_signed().await;
    let mut browser = Browser::new(&saml.app);
    let evil_user = "mallory@acme.test";

    // XSW: an unsigned evil assertion placed before the signed one.
    let answer = fresh_answer(&saml, &mut browser, "alice@acme.test").await;
    let xml = answer.xml();
    let (start, end) = assertion_of(&xml);
    let signed = &xml[start..end];
    let evil = without_signatures(signed)
        .replace("alice@acme.test", evil_user)
        .replacen("ID=\"_", "ID=\"_evil", 1);
    let before = format!("{}{evil}{}", &xml[..start], &xml[start..]);
    refused(
        saml.post(&mut browser, &answer.with_xml(&before)).await,
        "saml_response_malformed",
    )
    .await;

    // XSW: the signed assertion hidden in Extensions, the evil one where it was.
    let answer = fresh_answer(&saml, &mut browser, "alice@acme.test").await;
    let xml = answer.xml();
    let (start, end) = assertion_of(&xml);
    let signed = xml[start..end].to_owned();
    let evil = without_signatures(&signed)
        .replace("alice@acme.test", evil_user)
        .replacen("ID=\"_", "ID=\"_evil", 1);
    let hidden = hide_in_extensions(&xml, &signed, &evil);
    refused(
        saml.post(&mut browser, &answer.with_xml(&hidden)).await,
        "saml_signature_invalid",
    )
    .await;

    // XSW: the evil assertion takes the signed one's ID (the signature then resolves to it).
    let answer = fresh_answer(&saml, &mut browser, "alice@acme.test").await;
    let xml = answer.xml();
    let (start, end) = assertion_of(&xml);
    let signed = xml[start..end].to_owned();
    let twin = without_signatures(&signed).replace("alice@acme.test", evil_user);
    let twins = hide_in_extensions(&xml, &signed, &twin);
    refused(
        saml.post(&mut browser, &answer.with_xml(&twins)).await,
        "saml_signature_invalid",
    )
    .await;

    // The signed assertion edited in place, or its signature removed.
    let answer = fresh_answer(&saml, &mut browser, "alice@acme.test").await;
    let xml = answer.xml();
    refused(
        saml.post(
            &mut browser,
            &answer.with_xml(&xml.replacen("alice@acme.test", evil_user, 1)),
        )
        .await,
        "saml_signature_invalid",
    )
    .await;
    let answer = fresh_answer(&saml, &mut browser, "alice@acme.test").await;
    refused(
        saml.post(
            &mut browser,
            &answer.with_xml(&without_signatures(&answer.xml())),
        )
        .await,
        "saml_signature_invalid",
    )
    .await;

    assert!(saml.members().await.is_empty(), "nobody signed in");
    let failures = saml
        .app
        .admin(
            Method::GET,
            "/api/v1/audit-events?action=sso.sign_in_failed",
        )
        .send()
        .await
        .unwrap();
    let failures = expect_status(failures, 200).await;
    assert_eq!(
        failures["data"].as_array().unwrap().len(),
        5,
        "each refusal is audited"
    );
}

/// Runs a test login with the IdP's answer changed by `tamper`; returns the result.
async fn test_login(saml: &Saml, name_id: &str, tamper: impl Fn(&str) -> String) -> Value {
    let path = format!(
        "/api/v1/organizations/acme/connections/{}/test-logins",
        saml.id
    );
    let created = saml.app.admin(Method::POST, &path).send().await.unwrap();
    let test = expect_status(created, 201).await;
    let start = url::Url::parse(test["url"].as_str().unwrap()).unwrap();
    let start = format!("{}?{}", start.path(), start.query().unwrap());
    saml.idp
        .sign_in_as(name_id, json!({"email": name_id, "groups": [name_id]}))
        .await;
    let mut browser = Browser::new(&saml.app);
    let answer = saml.idp_answer_from(&mut browser, &start).await;
    let page = saml
        .post(&mut browser, &answer.with_xml(&tamper(&answer.xml())))
        .await;
    assert_eq!(page.status(), 200, "the result page");
    let read = saml
        .app
        .admin(
            Method::GET,
            &format!("{path}/{}", test["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    expect_status(read, 200).await
}

#[tokio::test]
async fn comments_inside_signed_values_cannot_truncate_them() {
    let saml = assertion_signed().await;
    // The attacker owns "alice@acme.test.evil.test" at the IdP and splits the signed values
    // with a comment (which the signature ignores), hoping Tessera reads "alice@acme.test".
    let owned = "alice@acme.test.evil.test";
    let result = test_login(&saml, owned, |xml| {
        let injected = xml.replace(
            "alice@acme.test.evil.test",
            "alice@acme.test<!---->.evil.test",
        );
        assert_eq!(
            injected.matches("<!---->").count(),
            3,
            "NameID, email, groups"
        );
        injected
    })
    .await;
    assert_eq!(result["status"], "succeeded", "{result}");
    assert_eq!(result["profile"]["subject"], owned);
    assert_eq!(result["claims"]["email"], owned);
    assert_eq!(result["claims"]["groups"], json!([owned]));
}

#[tokio::test]
async fn bad_input_at_the_acs_is_a_clear_error_never_a_crash_or_a_session() {
    let saml = assertion_signed().await;
    let mut browser = Browser::new(&saml.app);
    let acs = format!("/sso/saml/{}/acs", saml.id);
    let answer = fresh_answer(&saml, &mut browser, "alice@acme.test").await;
    let xml = answer.xml();
    let relay = answer.relay_state.clone().unwrap();
    let encode = |x: &str| STANDARD.encode(x);
    let dtd = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>{}",
        xml.trim_start_matches(|c| c != '<')
            .split_once("?>")
            .map_or(xml.as_str(), |(_, rest)| rest)
    );
    let cases: Vec<(String, &str)> = vec![
        ("@@not base64@@".into(), "saml_response_malformed"),
        (encode(&xml[..xml.len() / 2]), "saml_response_malformed"),
        (encode(&dtd), "saml_response_malformed"),
        (
            encode(&xml.replace("urn:oasis:names:tc:SAML:2.0:protocol", "urn:evil")),
            "saml_response_malformed",
        ),
        (encode("<Response/>"), "saml_response_malformed"),
        (
            STANDARD.encode([0xff, 0xfe, 0x00, 0x3c]),
            "saml_response_malformed",
        ),
        (String::new(), "saml_response_missing"),
    ];
    for (value, code) in cases {
        // Each attempt with a fresh pending sign-in, so the check itself is what refuses.
        let _ = fresh_answer(&saml, &mut browser, "alice@acme.test").await;
        refused(
            browser
                .post(&acs, &[("SAMLResponse", &value), ("RelayState", &relay)])
                .await,
            code,
        )
        .await;
    }
    let huge = "A".repeat(2 * 1024 * 1024);
    let response = browser.post(&acs, &[("SAMLResponse", &huge)]).await;
    assert_eq!(response.status(), 413);
    refused(response, "saml_response_too_large").await;
    let nested = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
    refused(
        browser
            .post(&acs, &[("SAMLResponse", &encode(&nested))])
            .await,
        "saml_response_too_large",
    )
    .await;
    // Not a SAML connection, or none at all.
    let unknown = browser
        .post(
            "/sso/saml/00000000-0000-0000-0000-000000000000/acs",
            &[("SAMLResponse", &encode(&xml))],
        )
        .await;
    refused(unknown, "connection_not_found").await;
    assert!(saml.members().await.is_empty());
}
