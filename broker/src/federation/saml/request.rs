//! The AuthnRequest Tessera sends over the HTTP-Redirect binding: deflated, base64, with the
//! RelayState that binds the answer to the pending sign-in, and signed (RSA-SHA256 over the
//! query, SAML bindings §3.4.4.1) when the connection signs requests.

use std::io::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, Utc};
use flate2::Compression;
use flate2::write::DeflateEncoder;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use quick_xml::escape::escape;
use url::Url;
use url::form_urlencoded::byte_serialize;

use crate::error::{Error, Result};
use crate::federation::saml::metadata::POST_BINDING;
use crate::federation::saml::settings::SamlSettings;
use crate::federation::saml::sp::SpUrls;

const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

/// An AuthnRequest ready to send.
#[derive(Debug, Clone)]
pub struct AuthnRequest {
    /// Its ID: the response's `InResponseTo` must repeat it.
    pub id: String,
    /// The IdP URL to send the browser to.
    pub url: String,
}

fn encode(value: &str) -> String {
    byte_serialize(value.as_bytes()).collect()
}

fn request_xml(id: &str, now: DateTime<Utc>, settings: &SamlSettings, sp: &SpUrls) -> String {
    let policy = match &settings.name_id_format {
        Some(format) => format!(
            r#"<samlp:NameIDPolicy Format="{}" AllowCreate="true"/>"#,
            escape(format)
        ),
        None => r#"<samlp:NameIDPolicy AllowCreate="true"/>"#.to_owned(),
    };
    format!(
        concat!(
            r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" "#,
            r#"ID="{id}" Version="2.0" IssueInstant="{instant}" Destination="{destination}" "#,
            r#"AssertionConsumerServiceURL="{acs}" ProtocolBinding="{binding}">"#,
            "<saml:Issuer>{issuer}</saml:Issuer>{policy}</samlp:AuthnRequest>"
        ),
        id = id,
        instant = now.to_rfc3339_opts(SecondsFormat::Secs, true),
        destination = escape(&settings.sso_url),
        acs = escape(&sp.acs_url),
        binding = POST_BINDING,
        issuer = escape(&sp.entity_id),
        policy = policy,
    )
}

/// Builds the redirect to the IdP. `signing_key` is given when requests are signed.
pub fn authn_request(
    settings: &SamlSettings,
    sp: &SpUrls,
    relay_state: &str,
    now: DateTime<Utc>,
    signing_key: Option<&PKey<Private>>,
) -> Result<AuthnRequest> {
    // An xs:ID must not start with a digit.
    let id = format!(
        "_{}",
        crate::crypto::random_bytes::<20>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let xml = request_xml(&id, now, settings, sp);
    let mut deflater = DeflateEncoder::new(Vec::new(), Compression::default());
    deflater
        .write_all(xml.as_bytes())
        .map_err(Error::internal)?;
    let deflated = deflater.finish().map_err(Error::internal)?;
    let mut query = format!(
        "SAMLRequest={}&RelayState={}",
        encode(&STANDARD.encode(deflated)),
        encode(relay_state)
    );
    if let Some(key) = signing_key {
        query.push_str(&format!("&SigAlg={}", encode(RSA_SHA256)));
        let mut signer = Signer::new(MessageDigest::sha256(), key).map_err(Error::internal)?;
        signer.update(query.as_bytes()).map_err(Error::internal)?;
        let signature = signer.sign_to_vec().map_err(Error::internal)?;
        query.push_str(&format!(
            "&Signature={}",
            encode(&STANDARD.encode(signature))
        ));
    }
    let mut url = Url::parse(&settings.sso_url).map_err(Error::internal)?;
    // Keep the IdP's own parameters (Google's idpid=…); ours follow them.
    let full = match url.query() {
        Some(existing) if !existing.is_empty() => format!("{existing}&{query}"),
        _ => query,
    };
    url.set_query(Some(&full));
    Ok(AuthnRequest {
        id,
        url: url.to_string(),
    })
}
