//! Every check the ACS makes, against responses the real IdP signed: each refusal names its
//! stable code, and no refused response ever leaves a session behind.

use broker::{Clock as _, SystemClock};
use chrono::Duration;
use serde_json::json;

use super::{Saml, refused, session_of};
use crate::login::browser::Browser;

const ALICE: &str = "alice@acme.test";

async fn answer_with_tags(saml: &Saml, tags: serde_json::Value) -> reqwest::Response {
    saml.idp.control(json!({ "tags": tags })).await;
    saml.idp.sign_in_as(ALICE, json!({"email": ALICE})).await;
    let mut browser = Browser::new(&saml.app);
    let answer = saml.idp_answer(&mut browser).await;
    saml.finish(&mut browser, &answer).await
}

#[tokio::test]
async fn responses_meant_for_another_sp_or_from_another_idp_are_refused() {
    let saml = Saml::start(json!({})).await;
    let cases = [
        (
            json!({"Audience": "https://other-sp.example"}),
            "saml_audience_mismatch",
        ),
        (
            json!({"Destination": "https://other-sp.example/acs"}),
            "saml_destination_mismatch",
        ),
        (
            json!({"SubjectRecipient": "https://other-sp.example/acs"}),
            "saml_recipient_mismatch",
        ),
        (
            json!({"Issuer": "https://other-idp.example"}),
            "saml_issuer_mismatch",
        ),
    ];
    for (tags, code) in cases {
        refused(answer_with_tags(&saml, tags).await, code).await;
    }
    assert!(saml.members().await.is_empty(), "nobody was provisioned");
    let ok = answer_with_tags(&saml, json!({})).await;
    assert_eq!(ok.status(), 303, "the untampered response still signs in");
}

#[tokio::test]
async fn responses_outside_their_time_window_are_refused() {
    let saml = Saml::start(json!({"clock_skew_seconds": 60})).await;
    let at = |minutes: i64| (SystemClock.now() + Duration::minutes(minutes)).to_rfc3339();
    let expired = json!({
        "ConditionsNotOnOrAfter": at(-2),
        "SubjectConfirmationDataNotOnOrAfter": at(-2),
    });
    refused(answer_with_tags(&saml, expired).await, "saml_expired").await;
    let confirmation_expired = json!({"SubjectConfirmationDataNotOnOrAfter": at(-2)});
    refused(
        answer_with_tags(&saml, confirmation_expired).await,
        "saml_expired",
    )
    .await;
    let stale = json!({"IssueInstant": at(-30), "ConditionsNotBefore": at(-30)});
    refused(answer_with_tags(&saml, stale).await, "saml_expired").await;
    let early = json!({"ConditionsNotBefore": at(10)});
    refused(answer_with_tags(&saml, early).await, "saml_not_yet_valid").await;
    // Within the allowed skew (60 s) both ways, the response is accepted.
    let skewed =
        json!({"ConditionsNotBefore": (SystemClock.now() + Duration::seconds(30)).to_rfc3339()});
    assert_eq!(answer_with_tags(&saml, skewed).await.status(), 303);
}

#[tokio::test]
async fn a_response_must_answer_the_request_of_this_sign_in_in_this_browser() {
    let saml = Saml::start(json!({})).await;
    refused(
        answer_with_tags(&saml, json!({"InResponseTo": "_not-our-request"})).await,
        "saml_in_response_to_mismatch",
    )
    .await;
    saml.idp.control(json!({"tags": {}})).await;
    saml.idp.sign_in_as(ALICE, json!({"email": ALICE})).await;

    // Two sign-ins: the first's response posted with the second's RelayState.
    let mut browser = Browser::new(&saml.app);
    let first = saml.idp_answer(&mut browser).await;
    let second = saml.idp_answer(&mut browser).await;
    let crossed = tessera_tests::saml_idp::IdpAnswer {
        relay_state: second.relay_state.clone(),
        ..first.clone()
    };
    refused(
        saml.post(&mut browser, &crossed).await,
        "saml_in_response_to_mismatch",
    )
    .await;
    // The first RelayState is still pending; posting it twice works once.
    assert_eq!(saml.post(&mut browser, &first).await.status(), 303);
    refused(saml.post(&mut browser, &first).await, "sso_state_invalid").await;

    // A verified response continues only in the browser that started the sign-in.
    let third = saml.idp_answer(&mut browser).await;
    let accepted = saml.post(&mut browser, &third).await;
    assert_eq!(accepted.status(), 303);
    let next = accepted.headers()["location"].to_str().unwrap().to_owned();
    let mut other = Browser::new(&saml.app);
    refused(other.get(&next).await, "sso_state_invalid").await;
    assert!(session_of(&other).is_none());
}

#[tokio::test]
async fn idp_error_statuses_end_on_a_page_with_their_meaning() {
    let saml = Saml::start(json!({})).await;
    let responder = json!({"StatusCode": "urn:oasis:names:tc:SAML:2.0:status:Responder"});
    let response = answer_with_tags(&saml, responder).await;
    let page = response.text().await.unwrap();
    assert!(page.contains("saml_status_error"), "{page}");
    assert!(
        page.contains("Responder"),
        "the IdP's status is shown: {page}"
    );
}

#[tokio::test]
async fn only_signatures_by_the_idps_certificates_with_sha2_are_accepted() {
    let saml = Saml::start(json!({})).await;
    saml.idp.control(json!({"signWith": "rogue"})).await;
    refused(
        answer_with_tags(&saml, json!({})).await,
        "saml_signature_invalid",
    )
    .await;
    saml.idp
        .control(json!({"signWith": "a", "sha1": true}))
        .await;
    refused(
        answer_with_tags(&saml, json!({})).await,
        "saml_signature_invalid",
    )
    .await;
    saml.idp
        .control(json!({"sha1": false, "signResponse": false, "signAssertion": true}))
        .await;
    assert_eq!(
        answer_with_tags(&saml, json!({})).await.status(),
        303,
        "an assertion-only signature is enough"
    );
}

#[tokio::test]
async fn a_signed_response_around_an_unsigned_assertion_is_refused_unless_allowed() {
    let saml = Saml::start(json!({})).await;
    saml.idp
        .control(json!({"signResponse": true, "signAssertion": false}))
        .await;
    refused(
        answer_with_tags(&saml, json!({})).await,
        "saml_assertion_unsigned",
    )
    .await;
    let patched = saml
        .patch(json!({"require_signed_assertions": false}))
        .await;
    assert_eq!(patched.status(), 200);
    assert_eq!(answer_with_tags(&saml, json!({})).await.status(), 303);
}

#[tokio::test]
async fn idp_initiated_sign_in_is_refused_until_allowed_and_each_assertion_counts_once() {
    let saml = Saml::start(json!({})).await;
    saml.idp.sign_in_as(ALICE, json!({"email": ALICE})).await;
    let entity = saml.connection["sp_entity_id"].as_str().unwrap().to_owned();
    let unsolicited = saml.idp.unsolicited(&entity).await;
    let mut browser = Browser::new(&saml.app);
    refused(
        saml.post(&mut browser, &unsolicited).await,
        "saml_unsolicited_response",
    )
    .await;

    assert_eq!(
        saml.patch(json!({"allow_idp_initiated": true}))
            .await
            .status(),
        200
    );
    let answer = saml.idp.unsolicited(&entity).await;
    let done = saml.finish(&mut browser, &answer).await;
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], "/account");
    assert!(session_of(&browser).is_some());
    // The same assertion again (a stolen form, a double submit): refused.
    let mut thief = Browser::new(&saml.app);
    refused(saml.post(&mut thief, &answer).await, "saml_replayed").await;
    // An SP-initiated answer cannot be replayed as an unsolicited one either.
    let mut third = Browser::new(&saml.app);
    let solicited = saml.idp_answer(&mut third).await;
    let stripped = tessera_tests::saml_idp::IdpAnswer {
        relay_state: None,
        ..solicited
    };
    refused(
        saml.post(&mut third, &stripped).await,
        "saml_in_response_to_mismatch",
    )
    .await;
}

#[tokio::test]
async fn encrypted_assertions_are_decrypted_with_the_connection_key() {
    let saml = Saml::start(json!({"require_encrypted_assertions": true})).await;
    // As ADFS does by default: the assertion is signed, then encrypted; the response is not
    // signed, so nothing vouches for the ciphertext but the assertion's own signature inside.
    saml.idp.control(json!({"signResponse": false})).await;
    refused(
        answer_with_tags(&saml, json!({})).await,
        "saml_assertion_not_encrypted",
    )
    .await;
    for data in [
        "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
        "http://www.w3.org/2009/xmlenc11#aes128-gcm",
        "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
    ] {
        saml.idp
            .control(json!({"encrypt": {"data": data,
                "key": "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"}}))
            .await;
        saml.idp
            .sign_in_as(ALICE, json!({"email": ALICE, "groups": ["g"]}))
            .await;
        let mut browser = Browser::new(&saml.app);
        let answer = saml.idp_answer(&mut browser).await;
        assert!(answer.xml().contains("EncryptedAssertion"), "{data}");
        assert!(
            !answer.xml().contains(ALICE),
            "the assertion is not readable"
        );
        let done = saml.finish(&mut browser, &answer).await;
        assert_eq!(done.status(), 303, "{data}: {}", done.text().await.unwrap());
    }
    // Ciphertext altered in transit: one error, whatever broke.
    let mut browser = Browser::new(&saml.app);
    let answer = saml.idp_answer(&mut browser).await;
    let xml = answer.xml();
    let at = xml.find("<xenc:CipherValue>").unwrap() + "<xenc:CipherValue>".len() + 40;
    let flipped = if &xml[at..=at] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &xml[..at], &xml[at + 1..]);
    refused(
        saml.post(&mut browser, &answer.with_xml(&tampered)).await,
        "saml_decryption_failed",
    )
    .await;
}
