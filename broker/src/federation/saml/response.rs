//! Validating what an IdP posts to the ACS, every check required: size, base64, no DTD, XML
//! signature (xmlsec, through samael) by one of the connection's certificates with SHA-2
//! algorithms only, then only the signed part is read: issuer, destination, recipient,
//! audience, time window with the connection's skew, `InResponseTo` against the pending
//! request, status, decryption of encrypted assertions. Blocking (xmlsec holds a global lock):
//! callers run it on a blocking thread.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use openssl::pkey::{PKey, Private};
use samael::crypto::{
    AllowedSignatureAlgorithm, CertificateDer, Crypto, CryptoProvider, ReduceMode,
};

use crate::error::{Error, ErrorCode, Result};
use crate::federation::saml::checks::{check_assertion, check_response};
use crate::federation::saml::decrypt;
use crate::federation::saml::settings::SamlSettings;
use crate::federation::saml::sp::SpUrls;
use crate::federation::saml::xml::{self, ASSERTION, DSIG, Element, Limits, PROTOCOL, XmlError};

/// The largest `SAMLResponse` form value accepted (base64).
pub const MAX_ENCODED_BYTES: usize = 1024 * 1024;
const LIMITS: Limits = Limits {
    max_bytes: 768 * 1024,
    max_depth: 48,
    max_elements: 50_000,
};
/// How old a response may be, whatever its conditions say.
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const ALLOWED_ALGORITHMS: &[AllowedSignatureAlgorithm] = &[
    AllowedSignatureAlgorithm::RsaSha256,
    AllowedSignatureAlgorithm::RsaSha384,
    AllowedSignatureAlgorithm::RsaSha512,
    AllowedSignatureAlgorithm::EcdsaSha256,
    AllowedSignatureAlgorithm::EcdsaSha384,
    AllowedSignatureAlgorithm::EcdsaSha512,
];

/// What the ACS must check a response against.
#[derive(Debug)]
pub struct Expectations<'a> {
    /// The connection's settings.
    pub settings: &'a SamlSettings,
    /// Our entity ID and ACS URL.
    pub sp: &'a SpUrls,
    /// The pending AuthnRequest's ID (`None`: an IdP-initiated response is being checked).
    pub request_id: Option<&'a str>,
    /// The broker's clock.
    pub now: DateTime<Utc>,
    /// The connection's encryption key.
    pub decryption_key: &'a PKey<Private>,
}

/// An assertion that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedAssertion {
    /// Its ID (for the replay cache).
    pub id: String,
    /// Until when it could be presented (the replay cache keeps its ID that long).
    pub valid_until: DateTime<Utc>,
    /// The subject's NameID.
    pub name_id: String,
    /// Its format, when given.
    pub name_id_format: Option<String>,
    /// The IdP session (AuthnStatement SessionIndex).
    pub session_index: Option<String>,
    /// The authentication context class.
    pub authn_context: Option<String>,
    /// Attributes by name, values in order.
    pub attributes: Vec<(String, Vec<String>)>,
    /// The signed XML that was read, for test logins.
    pub signed_xml: String,
}

pub(super) fn error(code: ErrorCode, message: impl Into<String>) -> Error {
    Error::new(code, message)
}

pub(super) fn malformed(message: impl Into<String>) -> Error {
    error(ErrorCode::SamlResponseMalformed, message)
}

fn xml_error(e: XmlError) -> Error {
    match e {
        XmlError::TooLarge(_) => error(
            ErrorCode::SamlResponseTooLarge,
            format!("the SAML response is too large: {e}"),
        ),
        XmlError::Dtd => {
            malformed("the SAML response has a DOCTYPE; DTDs and entities are refused")
        }
        XmlError::Malformed(_) => malformed(format!("the SAML response is not valid XML: {e}")),
    }
}

pub(super) fn instant(element: &Element, attribute: &str) -> Result<Option<DateTime<Utc>>> {
    element
        .attr(attribute)
        .map(|raw| {
            DateTime::parse_from_rfc3339(raw.trim())
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| malformed(format!("{} has an invalid {attribute}", element.name)))
        })
        .transpose()
}

/// The XML of the response, decoded and with comments removed (see [`xml::without_comments`]).
fn decode(encoded: &str) -> Result<String> {
    if encoded.len() > MAX_ENCODED_BYTES {
        return Err(error(
            ErrorCode::SamlResponseTooLarge,
            "the SAML response is larger than 1 MiB",
        ));
    }
    let compact: String = encoded.split_whitespace().collect();
    let bytes = STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| malformed("SAMLResponse is not valid base64"))?;
    let text = String::from_utf8(bytes).map_err(|_| malformed("SAMLResponse is not UTF-8 XML"))?;
    if xml::has_doctype(&text) {
        return Err(xml_error(XmlError::Dtd));
    }
    xml::without_comments(&text).map_err(xml_error)
}

/// A non-success status, as a clear error (the message carries the IdP's own words).
fn check_status(response: &Element) -> Result<()> {
    let status = response
        .child(PROTOCOL, "Status")
        .ok_or_else(|| malformed("the SAML response has no Status"))?;
    let code = status
        .child(PROTOCOL, "StatusCode")
        .ok_or_else(|| malformed("the SAML response has no StatusCode"))?;
    let top = code.attr("Value").unwrap_or_default();
    if top == SUCCESS {
        return Ok(());
    }
    let second = code
        .child(PROTOCOL, "StatusCode")
        .and_then(|c| c.attr("Value"))
        .unwrap_or_default();
    let message: String = status
        .child(PROTOCOL, "StatusMessage")
        .map(|m| m.text().trim().chars().take(300).collect())
        .unwrap_or_default();
    let short = |urn: &str| urn.rsplit(':').next().unwrap_or_default().to_owned();
    let detail = [short(top), short(second), message]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    if matches!(short(second).as_str(), "RequestDenied" | "AuthnFailed") {
        return Err(error(
            ErrorCode::UpstreamAccessDenied,
            format!("your identity provider did not let you sign in ({detail})"),
        ));
    }
    Err(error(
        ErrorCode::SamlStatusError,
        format!("your identity provider answered with an error ({detail})"),
    ))
}

fn certificates(settings: &SamlSettings) -> Result<Vec<CertificateDer>> {
    settings
        .certificates
        .iter()
        .map(|c| {
            STANDARD
                .decode(&c.der)
                .map(CertificateDer::from)
                .map_err(Error::internal)
        })
        .collect()
}

/// Verifies every signature in `document` and returns only the signed part.
fn signed_part(document: &str, settings: &SamlSettings) -> Result<String> {
    let certs = certificates(settings)?;
    Crypto::reduce_xml_to_signed_with_allowed_algorithms(
        document,
        &certs,
        ReduceMode::ValidateAndMarkNoAncestors,
        Some(ALLOWED_ALGORITHMS),
    )
    .map_err(|e| {
        tracing::debug!(error = %e, "SAML signature verification failed");
        error(
            ErrorCode::SamlSignatureInvalid,
            "the SAML response's signature does not verify with the connection's certificates (a new IdP certificate? refresh the metadata), or uses SHA-1",
        )
    })
}

/// Whether `assertion` carries its own signature over itself (all signatures in the document
/// were verified already; this checks that one of them is the assertion's).
fn signs_itself(assertion: &Element) -> bool {
    let Some(id) = assertion.attr("ID") else {
        return false;
    };
    assertion
        .children_named(DSIG, "Signature")
        .any(|signature| {
            signature
                .child(DSIG, "SignedInfo")
                .into_iter()
                .flat_map(|info| info.children_named(DSIG, "Reference"))
                .any(|reference| reference.attr("URI") == Some(&format!("#{id}")))
        })
}

fn has_signature(element: &Element) -> bool {
    element.child(DSIG, "Signature").is_some()
}

/// The one assertion (plain or encrypted) a response may carry.
fn only_child<'a>(response: &'a Element, name: &'a str) -> Result<Option<&'a Element>> {
    let mut found = response.children_named(ASSERTION, name);
    let first = found.next();
    if found.next().is_some() {
        return Err(malformed(format!(
            "the SAML response carries more than one {name}"
        )));
    }
    Ok(first)
}

/// The checked assertion element and the response fields that were signed (if any).
struct Located {
    assertion: Element,
    signed_response: Option<Element>,
    signed_xml: String,
}

fn locate(outer: &Element, document: &str, expect: &Expectations<'_>) -> Result<Located> {
    let settings = expect.settings;
    let plain = only_child(outer, "Assertion")?;
    let encrypted = only_child(outer, "EncryptedAssertion")?;
    match (plain, encrypted) {
        (Some(_), Some(_)) => Err(malformed(
            "the SAML response carries both a plain and an encrypted assertion",
        )),
        (None, None) => Err(malformed("the SAML response carries no assertion")),
        (Some(_), None) if settings.require_encrypted_assertions => Err(error(
            ErrorCode::SamlAssertionNotEncrypted,
            "this connection accepts only encrypted assertions; turn on assertion encryption at the IdP",
        )),
        (Some(plain), None) => {
            let signed_xml = signed_part(document, settings)?;
            let signed = xml::parse(&signed_xml, LIMITS).map_err(xml_error)?;
            if signed.is(ASSERTION, "Assertion") {
                // The signed assertion must be the one the response carries, not one moved
                // elsewhere in the document (signature wrapping).
                if signed.attr("ID").is_none() || signed.attr("ID") != plain.attr("ID") {
                    return Err(error(
                        ErrorCode::SamlSignatureInvalid,
                        "the signed assertion is not the assertion the response carries",
                    ));
                }
                return Ok(Located {
                    assertion: signed,
                    signed_response: None,
                    signed_xml,
                });
            }
            if !signed.is(PROTOCOL, "Response") {
                return Err(error(
                    ErrorCode::SamlSignatureInvalid,
                    "the signature covers neither the response nor the assertion",
                ));
            }
            let assertion = only_child(&signed, "Assertion")?
                .cloned()
                .ok_or_else(|| malformed("the signed response carries no assertion"))?;
            if settings.require_signed_assertions && !signs_itself(&assertion) {
                return Err(error(
                    ErrorCode::SamlAssertionUnsigned,
                    "the response is signed but the assertion in it is not; have the IdP sign the assertion (or both)",
                ));
            }
            Ok(Located {
                assertion,
                signed_response: Some(signed),
                signed_xml,
            })
        }
        (None, Some(encrypted)) => locate_encrypted(outer, encrypted, document, expect),
    }
}

fn locate_encrypted(
    outer: &Element,
    encrypted: &Element,
    document: &str,
    expect: &Expectations<'_>,
) -> Result<Located> {
    let settings = expect.settings;
    let failed = || {
        error(
            ErrorCode::SamlDecryptionFailed,
            "the encrypted assertion could not be decrypted and verified: check that the IdP encrypts to this connection's encryption certificate (from the SP metadata) and signs the assertion",
        )
    };
    // A signed response vouches for the ciphertext: verify it before decrypting anything.
    let (encrypted, signed_response) = if has_signature(outer) {
        let signed = xml::parse(&signed_part(document, settings)?, LIMITS).map_err(xml_error)?;
        if !signed.is(PROTOCOL, "Response") {
            return Err(error(
                ErrorCode::SamlSignatureInvalid,
                "the response's signature does not cover the response",
            ));
        }
        let inner = only_child(&signed, "EncryptedAssertion")?
            .cloned()
            .ok_or_else(|| malformed("the signed response carries no assertion"))?;
        (inner, Some(signed))
    } else {
        (encrypted.clone(), None)
    };
    let plain = decrypt::decrypt(&encrypted, expect.decryption_key).map_err(|_| failed())?;
    if xml::has_doctype(&plain) {
        return Err(failed());
    }
    let plain = xml::without_comments(&plain).map_err(|_| failed())?;
    let parsed = xml::parse(&plain, LIMITS).map_err(|_| failed())?;
    if !parsed.is(ASSERTION, "Assertion") {
        return Err(failed());
    }
    let must_verify = settings.require_signed_assertions || signed_response.is_none();
    if !must_verify {
        return Ok(Located {
            assertion: parsed,
            signed_response,
            signed_xml: plain,
        });
    }
    // Unsigned ciphertext could have been altered: any failure from here on is the same
    // error, so the answers cannot serve as a padding oracle.
    let signed_xml = signed_part(&plain, settings).map_err(|_| failed())?;
    let assertion = xml::parse(&signed_xml, LIMITS).map_err(|_| failed())?;
    if !assertion.is(ASSERTION, "Assertion") {
        return Err(failed());
    }
    Ok(Located {
        assertion,
        signed_response,
        signed_xml,
    })
}

/// A posted response that is well-formed, a SAML 2.0 Response, and reports success: nothing
/// in it is trusted yet.
#[derive(Debug)]
pub struct Received {
    document: String,
    outer: Element,
}

/// Reads a posted `SAMLResponse` (size, base64, no DTD, well-formed, a successful SAML 2.0
/// Response), before any pending sign-in is looked up or any signature checked.
pub fn read(encoded: &str) -> Result<Received> {
    let document = decode(encoded)?;
    let outer = xml::parse(&document, LIMITS).map_err(xml_error)?;
    if !outer.is(PROTOCOL, "Response") {
        return Err(malformed(
            "this is not a SAML 2.0 Response (samlp:Response in the SAML protocol namespace)",
        ));
    }
    check_status(&outer)?;
    Ok(Received { document, outer })
}

/// Checks a received response against `expect`.
pub fn verify(received: &Received, expect: &Expectations<'_>) -> Result<VerifiedAssertion> {
    let Received { document, outer } = received;
    let located = locate(outer, document, expect)?;
    // Response-level fields count only from the signed response; an unsigned wrapper's are
    // still checked when present, so a misdirected response fails with a clear reason.
    let response = located.signed_response.as_ref().unwrap_or(outer);
    check_response(response, located.signed_response.is_some(), expect)?;
    let assertion = check_assertion(&located.assertion, expect)?;
    Ok(VerifiedAssertion {
        signed_xml: located.signed_xml.chars().take(64 * 1024).collect(),
        ..assertion
    })
}
