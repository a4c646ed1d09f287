//! The checks on the signed part of a response, after the signature was verified: response
//! version, Destination, Issuer and InResponseTo; the assertion's issuer, age, conditions
//! (time window, audience), subject (NameID, a bearer confirmation for our ACS and request)
//! and authentication statement; then its attributes. Each failure has its own code.

use chrono::{DateTime, Duration, Utc};

use crate::error::{ErrorCode, Result};
use crate::federation::saml::response::{
    Expectations, VerifiedAssertion, error, instant, malformed,
};
use crate::federation::saml::xml::{ASSERTION, Element};

/// How old a response may be, whatever its conditions say.
const MAX_RESPONSE_AGE: Duration = Duration::minutes(10);
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

pub(super) fn check_response(
    response: &Element,
    signed: bool,
    expect: &Expectations<'_>,
) -> Result<()> {
    if response.attr("Version") != Some("2.0") {
        return Err(malformed("the SAML response is not version 2.0"));
    }
    match response.attr("Destination") {
        Some(d) if d == expect.sp.acs_url => {}
        None if !signed => {}
        other => {
            return Err(error(
                ErrorCode::SamlDestinationMismatch,
                format!(
                    "the response's Destination is {}, not this connection's ACS URL {}",
                    other.unwrap_or("missing"),
                    expect.sp.acs_url
                ),
            ));
        }
    }
    if let Some(issuer) = response.child(ASSERTION, "Issuer") {
        check_issuer(issuer, expect)?;
    }
    if let Some(in_response_to) = response.attr("InResponseTo") {
        check_in_response_to(Some(in_response_to), expect)?;
    }
    Ok(())
}

fn check_issuer(issuer: &Element, expect: &Expectations<'_>) -> Result<()> {
    let value = issuer.text().trim();
    if value != expect.settings.idp_entity_id {
        return Err(error(
            ErrorCode::SamlIssuerMismatch,
            format!(
                "the issuer is '{}', not the connection's IdP '{}'",
                value.chars().take(200).collect::<String>(),
                expect.settings.idp_entity_id
            ),
        ));
    }
    Ok(())
}

fn check_in_response_to(value: Option<&str>, expect: &Expectations<'_>) -> Result<()> {
    match (expect.request_id, value) {
        (Some(expected), Some(got)) if expected == got => Ok(()),
        (None, None) => Ok(()),
        (None, Some(_)) => Err(error(
            ErrorCode::SamlInResponseToMismatch,
            "the response answers a request this sign-in did not send (or one already answered)",
        )),
        (Some(_), _) => Err(error(
            ErrorCode::SamlInResponseToMismatch,
            "the response does not answer the request this sign-in sent",
        )),
    }
}

fn check_window(
    not_before: Option<DateTime<Utc>>,
    not_on_or_after: Option<DateTime<Utc>>,
    what: &str,
    expect: &Expectations<'_>,
) -> Result<()> {
    let skew = Duration::seconds(i64::from(expect.settings.clock_skew_seconds));
    if let Some(start) = not_before
        && expect.now + skew < start
    {
        return Err(error(
            ErrorCode::SamlNotYetValid,
            format!("the {what} is not valid before {start} (check the IdP's clock)"),
        ));
    }
    if let Some(end) = not_on_or_after
        && expect.now - skew >= end
    {
        return Err(error(
            ErrorCode::SamlExpired,
            format!("the {what} expired at {end}"),
        ));
    }
    Ok(())
}

pub(super) fn check_assertion(
    assertion: &Element,
    expect: &Expectations<'_>,
) -> Result<VerifiedAssertion> {
    let id = assertion
        .attr("ID")
        .filter(|id| !id.is_empty() && id.len() <= 256)
        .ok_or_else(|| malformed("the assertion has no ID"))?
        .to_owned();
    if assertion.attr("Version") != Some("2.0") {
        return Err(malformed("the assertion is not version 2.0"));
    }
    let issuer = assertion
        .child(ASSERTION, "Issuer")
        .ok_or_else(|| malformed("the assertion has no Issuer"))?;
    check_issuer(issuer, expect)?;
    let issued = instant(assertion, "IssueInstant")?
        .ok_or_else(|| malformed("the assertion has no IssueInstant"))?;
    check_window(
        Some(issued),
        Some(issued + MAX_RESPONSE_AGE),
        "assertion",
        expect,
    )?;
    let conditions_end = check_conditions(assertion, expect)?;
    let (name_id, name_id_format, confirmation_end) = check_subject(assertion, expect)?;
    let statement = assertion
        .child(ASSERTION, "AuthnStatement")
        .ok_or_else(|| malformed("the assertion has no AuthnStatement"))?;
    let authn_context = statement
        .child(ASSERTION, "AuthnContext")
        .and_then(|c| c.child(ASSERTION, "AuthnContextClassRef"))
        .map(|r| r.text().trim().to_owned());
    let valid_until = [Some(confirmation_end), conditions_end]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(confirmation_end);
    Ok(VerifiedAssertion {
        id,
        valid_until,
        name_id,
        name_id_format,
        session_index: statement.attr("SessionIndex").map(str::to_owned),
        authn_context,
        attributes: attributes(assertion),
        signed_xml: String::new(),
    })
}

/// Conditions: time window and audience; returns their end.
fn check_conditions(
    assertion: &Element,
    expect: &Expectations<'_>,
) -> Result<Option<DateTime<Utc>>> {
    let conditions = assertion.child(ASSERTION, "Conditions").ok_or_else(|| {
        error(
            ErrorCode::SamlAudienceMismatch,
            "the assertion has no Conditions, so no audience restriction for this connection",
        )
    })?;
    let end = instant(conditions, "NotOnOrAfter")?;
    check_window(instant(conditions, "NotBefore")?, end, "assertion", expect)?;
    let restrictions: Vec<&Element> = conditions
        .children_named(ASSERTION, "AudienceRestriction")
        .collect();
    let ours = |r: &&Element| {
        r.children_named(ASSERTION, "Audience")
            .any(|a| a.text().trim() == expect.sp.entity_id)
    };
    if restrictions.is_empty() || !restrictions.iter().all(ours) {
        return Err(error(
            ErrorCode::SamlAudienceMismatch,
            format!(
                "the assertion is not for this connection: its audience must be {} (the SP entity ID)",
                expect.sp.entity_id
            ),
        ));
    }
    Ok(end)
}

/// Subject: the NameID and a valid bearer confirmation for our ACS; returns its end.
fn check_subject(
    assertion: &Element,
    expect: &Expectations<'_>,
) -> Result<(String, Option<String>, DateTime<Utc>)> {
    let subject = assertion
        .child(ASSERTION, "Subject")
        .ok_or_else(|| malformed("the assertion has no Subject"))?;
    let name_id = subject
        .child(ASSERTION, "NameID")
        .ok_or_else(|| malformed("the assertion's Subject has no NameID"))?;
    let value = name_id.text().trim().to_owned();
    if value.is_empty() || value.len() > 512 {
        return Err(malformed("the assertion's NameID is empty or too long"));
    }
    let mut first_error = None;
    for confirmation in subject.children_named(ASSERTION, "SubjectConfirmation") {
        if confirmation.attr("Method") != Some(BEARER) {
            continue;
        }
        match check_confirmation(confirmation, expect) {
            Ok(end) => return Ok((value, name_id.attr("Format").map(str::to_owned), end)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| malformed("the assertion has no bearer SubjectConfirmation")))
}

fn check_confirmation(confirmation: &Element, expect: &Expectations<'_>) -> Result<DateTime<Utc>> {
    let data = confirmation
        .child(ASSERTION, "SubjectConfirmationData")
        .ok_or_else(|| malformed("the bearer SubjectConfirmation has no data"))?;
    let end = instant(data, "NotOnOrAfter")?
        .ok_or_else(|| malformed("the bearer SubjectConfirmationData has no NotOnOrAfter"))?;
    check_window(instant(data, "NotBefore")?, Some(end), "assertion", expect)?;
    if data.attr("Recipient") != Some(expect.sp.acs_url.as_str()) {
        return Err(error(
            ErrorCode::SamlRecipientMismatch,
            format!(
                "the assertion's Recipient is {}, not this connection's ACS URL {}",
                data.attr("Recipient").unwrap_or("missing"),
                expect.sp.acs_url
            ),
        ));
    }
    check_in_response_to(data.attr("InResponseTo"), expect)?;
    Ok(end)
}

fn attributes(assertion: &Element) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for attribute in assertion
        .children_named(ASSERTION, "AttributeStatement")
        .flat_map(|s| s.children_named(ASSERTION, "Attribute"))
    {
        let Some(name) = attribute
            .attr("Name")
            .filter(|n| !n.is_empty() && n.len() <= 512)
        else {
            continue;
        };
        let values = attribute
            .children_named(ASSERTION, "AttributeValue")
            .filter(|v| v.attr_ns(XSI, "nil") != Some("true"))
            .map(|v| v.text().trim().chars().take(2048).collect::<String>());
        match out.iter_mut().find(|(n, _)| n == name) {
            Some((_, existing)) => existing.extend(values),
            None => out.push((name.to_owned(), values.collect())),
        }
    }
    out
}
