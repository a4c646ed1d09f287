//! The IdP's SAML metadata, pasted or fetched from a URL: entity ID, the HTTP-Redirect
//! SingleSignOnService, signing certificates (several, for rotation), NameID formats and
//! whether it wants signed AuthnRequests. Metadata without a signing certificate is refused:
//! responses could not be verified.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use openssl::asn1::Asn1TimeRef;
use openssl::hash::MessageDigest;
use openssl::x509::X509;

use crate::error::{Error, ErrorCode, Result};
use crate::federation::http::{UpstreamHttp, check_url};
use crate::federation::saml::settings::IdpCertificate;
use crate::federation::saml::xml::{self, DSIG, Element, Limits, METADATA, XmlError};

/// The HTTP-Redirect binding.
pub const REDIRECT_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// The HTTP-POST binding.
pub const POST_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const SAML2_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";

/// Metadata documents are small; a whole federation's aggregate is not accepted.
const LIMITS: Limits = Limits {
    max_bytes: 512 * 1024,
    max_depth: 32,
    max_elements: 20_000,
};

/// What the metadata says about the IdP.
#[derive(Debug, Clone, PartialEq)]
pub struct IdpMetadata {
    /// Its entity ID.
    pub entity_id: String,
    /// Its HTTP-Redirect SingleSignOnService.
    pub sso_url: String,
    /// Its signing certificates.
    pub certificates: Vec<IdpCertificate>,
    /// The NameID formats it lists.
    pub name_id_formats: Vec<String>,
    /// Whether it asks for signed AuthnRequests.
    pub wants_signed_requests: bool,
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::invalid(ErrorCode::SamlMetadataInvalid, field, message)
}

fn time(t: &Asn1TimeRef) -> Option<DateTime<Utc>> {
    let epoch = openssl::asn1::Asn1Time::from_unix(0).ok()?;
    let diff = epoch.diff(t).ok()?;
    DateTime::from_timestamp(i64::from(diff.days) * 86_400 + i64::from(diff.secs), 0)
}

/// A certificate from its base64 DER (whitespace allowed, as metadata wraps lines).
pub fn certificate(field: &str, base64_der: &str) -> Result<IdpCertificate> {
    let compact: String = base64_der.split_whitespace().collect();
    let der = STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| invalid(field, "a signing certificate is not valid base64"))?;
    let cert = X509::from_der(&der).map_err(|_| {
        invalid(
            field,
            "a signing certificate is not a valid X.509 certificate",
        )
    })?;
    let key = cert
        .public_key()
        .map_err(|_| invalid(field, "a signing certificate has no usable public key"))?;
    let strong = match key.id() {
        openssl::pkey::Id::RSA => key.bits() >= 2048,
        openssl::pkey::Id::EC => key.bits() >= 256,
        _ => false,
    };
    if !strong {
        return Err(invalid(
            field,
            "a signing certificate's key must be RSA (2048 bits or more) or ECDSA (P-256 or stronger)",
        ));
    }
    let subject = cert
        .subject_name()
        .entries()
        .filter_map(|entry| {
            let name = entry.object().nid().short_name().ok()?;
            let value = String::from_utf8_lossy(entry.data().as_slice()).into_owned();
            Some(format!("{name}={value}"))
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sha256 = cert
        .digest(MessageDigest::sha256())
        .map_err(Error::internal)?
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let (Some(not_before), Some(not_after)) = (time(cert.not_before()), time(cert.not_after()))
    else {
        return Err(invalid(
            field,
            "a signing certificate has unreadable validity dates",
        ));
    };
    Ok(IdpCertificate {
        der: STANDARD.encode(&der),
        subject,
        sha256,
        not_before,
        not_after,
    })
}

fn xml_error(field: &str, error: XmlError) -> Error {
    invalid(field, format!("the metadata is not usable XML: {error}"))
}

/// The one IdP entity of the document (an EntitiesDescriptor may wrap it).
fn idp_entity<'a>(field: &str, root: &'a Element) -> Result<&'a Element> {
    let has_idp = |e: &&Element| e.child(METADATA, "IDPSSODescriptor").is_some();
    if root.is(METADATA, "EntityDescriptor") {
        return Some(root).filter(has_idp).ok_or_else(|| {
            invalid(
                field,
                "the metadata describes no identity provider (IDPSSODescriptor)",
            )
        });
    }
    if !root.is(METADATA, "EntitiesDescriptor") {
        return Err(invalid(
            field,
            "this is not SAML 2.0 metadata (the root must be md:EntityDescriptor)",
        ));
    }
    let idps: Vec<&Element> = root
        .children_named(METADATA, "EntityDescriptor")
        .filter(has_idp)
        .collect();
    match idps.as_slice() {
        [one] => Ok(one),
        [] => Err(invalid(
            field,
            "the metadata describes no identity provider",
        )),
        many => Err(invalid(
            field,
            format!(
                "the metadata describes {} identity providers; give the metadata of just one",
                many.len()
            ),
        )),
    }
}

/// Reads IdP metadata; `field` names the input in errors (`metadata_xml` or `metadata_url`).
pub fn parse(field: &str, document: &str) -> Result<IdpMetadata> {
    let root = xml::parse(document, LIMITS).map_err(|e| xml_error(field, e))?;
    let entity = idp_entity(field, &root)?;
    let entity_id = entity
        .attr("entityID")
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.len() <= 1024)
        .ok_or_else(|| invalid(field, "the metadata has no entityID"))?
        .to_owned();
    let descriptor = entity
        .children_named(METADATA, "IDPSSODescriptor")
        .find(|d| {
            d.attr("protocolSupportEnumeration")
                .is_some_and(|p| p.split_whitespace().any(|p| p == SAML2_PROTOCOL))
        })
        .ok_or_else(|| invalid(field, "the identity provider does not support SAML 2.0"))?;
    let sso = descriptor
        .children_named(METADATA, "SingleSignOnService")
        .find(|s| s.attr("Binding") == Some(REDIRECT_BINDING))
        .and_then(|s| s.attr("Location"))
        .ok_or_else(|| {
            invalid(
                field,
                "the identity provider offers no SingleSignOnService with the HTTP-Redirect binding",
            )
        })?;
    let sso_url = check_url(field, sso.trim())?.to_string();
    let mut certificates: Vec<IdpCertificate> = Vec::new();
    for key in descriptor.children_named(METADATA, "KeyDescriptor") {
        if !matches!(key.attr("use"), None | Some("signing") | Some("")) {
            continue;
        }
        let encoded = key
            .child(DSIG, "KeyInfo")
            .into_iter()
            .flat_map(|info| info.children_named(DSIG, "X509Data"))
            .flat_map(|data| data.children_named(DSIG, "X509Certificate"));
        for cert in encoded {
            let parsed = certificate(field, cert.text())?;
            if !certificates.iter().any(|c| c.sha256 == parsed.sha256) {
                certificates.push(parsed);
            }
        }
    }
    if certificates.is_empty() {
        return Err(Error::invalid(
            ErrorCode::SamlMetadataUnsigned,
            field,
            "the metadata has no signing certificate, so the identity provider's responses could not be verified; export the metadata with its signing certificate",
        ));
    }
    let name_id_formats = descriptor
        .children_named(METADATA, "NameIDFormat")
        .map(|f| f.text().trim().to_owned())
        .filter(|f| !f.is_empty())
        .collect();
    let wants_signed_requests = descriptor
        .attr("WantAuthnRequestsSigned")
        .is_some_and(|v| v == "true" || v == "1");
    Ok(IdpMetadata {
        entity_id,
        sso_url,
        certificates,
        name_id_formats,
        wants_signed_requests,
    })
}

/// Fetches and reads metadata from `url`.
pub async fn fetch(http: &UpstreamHttp, field: &str, url: &str) -> Result<(String, IdpMetadata)> {
    let url = check_url(field, url.trim())?;
    let failed = |why: String| {
        Error::invalid(
            ErrorCode::SamlMetadataFetchFailed,
            field,
            format!("could not read the metadata at {url}: {why}"),
        )
    };
    let (status, body) = http
        .get_xml(&url)
        .await
        .map_err(|e| failed(e.to_string()))?;
    if status != 200 {
        return Err(failed(format!("HTTP {status}")));
    }
    let document = String::from_utf8(body).map_err(|_| failed("not UTF-8 text".into()))?;
    let metadata = parse(field, &document)?;
    Ok((url.to_string(), metadata))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_without_a_signing_certificate_is_refused() {
        let doc = format!(
            r#"<md:EntityDescriptor xmlns:md="{METADATA}" entityID="https://idp.test/e">
  <md:IDPSSODescriptor protocolSupportEnumeration="{SAML2_PROTOCOL}">
    <md:SingleSignOnService Binding="{REDIRECT_BINDING}" Location="https://idp.test/sso"/>
  </md:IDPSSODescriptor></md:EntityDescriptor>"#
        );
        let error = parse("metadata_xml", &doc).unwrap_err();
        assert_eq!(error.code(), ErrorCode::SamlMetadataUnsigned);
        assert_eq!(error.field(), Some("metadata_xml"));
    }

    #[test]
    fn non_metadata_and_dtds_are_refused_with_the_field() {
        for doc in [
            "<html/>",
            "not xml",
            r#"<!DOCTYPE x [<!ENTITY e "x">]><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>"#,
            r#"<EntityDescriptor entityID="x"><IDPSSODescriptor/></EntityDescriptor>"#,
        ] {
            let error = parse("metadata_xml", doc).unwrap_err();
            assert_eq!(error.code(), ErrorCode::SamlMetadataInvalid, "{doc}");
            assert_eq!(error.field(), Some("metadata_xml"));
        }
    }

    #[test]
    fn plain_http_sso_urls_are_refused_outside_loopback() {
        let doc = format!(
            r#"<md:EntityDescriptor xmlns:md="{METADATA}" entityID="e">
  <md:IDPSSODescriptor protocolSupportEnumeration="{SAML2_PROTOCOL}">
    <md:SingleSignOnService Binding="{REDIRECT_BINDING}" Location="http://idp.example.com/sso"/>
  </md:IDPSSODescriptor></md:EntityDescriptor>"#
        );
        assert_eq!(
            parse("metadata_xml", &doc).unwrap_err().code(),
            ErrorCode::InvalidUpstreamUrl
        );
    }
}
