//! Tessera as a SAML service provider for one connection: its entity ID and URLs, its signing
//! and encryption keys (RSA-2048 with self-signed certificates, generated per connection and
//! sealed under the master key), and the SP metadata document admins hand to their IdP.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use entities::ConnectionId;
use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509NameBuilder};
use quick_xml::escape::escape;
use secrecy::{ExposeSecret as _, SecretBox};
use serde::{Deserialize, Serialize};

use crate::Broker;
use crate::error::{Error, Result};
use crate::federation::saml::decrypt::{DATA_ALGORITHMS, KEY_ALGORITHMS};
use crate::federation::saml::metadata::POST_BINDING;
use crate::federation::saml::settings::SamlSettings;

/// How long the generated SP certificates are valid (IdPs pin them; rotation is a new
/// connection or a key roll by the operator).
const CERTIFICATE_YEARS: i64 = 10;

/// Where an IdP finds this connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpUrls {
    /// The SP entity ID (the Audience of every assertion).
    pub entity_id: String,
    /// The AssertionConsumerService (HTTP-POST).
    pub acs_url: String,
    /// Where the SP metadata is served.
    pub metadata_url: String,
}

/// The connection's private keys, as sealed in `secrets_encrypted` (PKCS#8 DER, base64).
#[derive(Serialize, Deserialize)]
struct SealedKeys {
    signing: String,
    encryption: String,
}

/// The connection's SP private keys.
pub struct SpKeys {
    /// Signs AuthnRequests.
    pub signing: PKey<Private>,
    /// Decrypts assertions.
    pub encryption: PKey<Private>,
}

impl std::fmt::Debug for SpKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SpKeys(redacted)")
    }
}

/// Fresh keys and their certificates (DER, base64).
pub(crate) struct GeneratedKeys {
    pub sealed: Vec<u8>,
    pub signing_certificate: String,
    pub encryption_certificate: String,
}

fn key_and_certificate(
    common_name: &str,
    now: DateTime<Utc>,
) -> std::result::Result<(PKey<Private>, String), openssl::error::ErrorStack> {
    let key = PKey::from_rsa(Rsa::generate(2048)?)?;
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("CN", common_name)?;
    let name = name.build();
    let mut builder = X509::builder()?;
    builder.set_version(2)?;
    let serial = BigNum::from_slice(&crate::crypto::random_bytes::<16>())?;
    let serial = Asn1Integer::from_bn(&serial)?;
    builder.set_serial_number(&serial)?;
    builder.set_subject_name(&name)?;
    builder.set_issuer_name(&name)?;
    builder.set_pubkey(&key)?;
    let from = Asn1Time::from_unix(now.timestamp() - 60)?;
    builder.set_not_before(&from)?;
    let until = Asn1Time::from_unix(now.timestamp() + CERTIFICATE_YEARS * 365 * 86_400)?;
    builder.set_not_after(&until)?;
    builder.sign(&key, MessageDigest::sha256())?;
    Ok((key, STANDARD.encode(builder.build().to_der()?)))
}

fn keys_context(id: ConnectionId) -> String {
    format!("connection:{id}:saml_keys")
}

impl Broker {
    /// The SP URLs of a SAML connection.
    pub fn saml_sp_urls(&self, id: ConnectionId) -> SpUrls {
        let settings = self.login_settings();
        SpUrls {
            entity_id: settings.url_of(&format!("/sso/saml/{id}")),
            acs_url: settings.url_of(&format!("/sso/saml/{id}/acs")),
            metadata_url: settings.url_of(&format!("/sso/saml/{id}/metadata")),
        }
    }

    /// New signing and encryption keys for connection `id`, sealed under the master key.
    /// Generating two RSA keys takes up to a few hundred milliseconds of one core: it runs on
    /// the blocking pool, not on the async worker, which serves other requests meanwhile.
    pub(crate) async fn generate_sp_keys(&self, id: ConnectionId) -> Result<GeneratedKeys> {
        let now = self.now();
        let ((signing, signing_certificate), (encryption, encryption_certificate)) =
            tokio::task::spawn_blocking(move || {
                Ok::<_, openssl::error::ErrorStack>((
                    key_and_certificate(&format!("Tessera SP {id} signing"), now)?,
                    key_and_certificate(&format!("Tessera SP {id} encryption"), now)?,
                ))
            })
            .await
            .map_err(Error::internal)?
            .map_err(Error::internal)?;
        let der = |key: &PKey<Private>| {
            key.private_key_to_pkcs8()
                .map(|d| STANDARD.encode(d))
                .map_err(Error::internal)
        };
        let keys = SealedKeys {
            signing: der(&signing)?,
            encryption: der(&encryption)?,
        };
        let plain = SecretBox::new(Box::new(
            serde_json::to_vec(&keys).map_err(Error::internal)?,
        ));
        let sealed = self
            .master_key()
            .encrypt(&keys_context(id), plain.expose_secret())
            .map_err(Error::internal)?;
        Ok(GeneratedKeys {
            sealed,
            signing_certificate,
            encryption_certificate,
        })
    }

    /// The SP private keys of a SAML connection.
    pub(crate) fn sp_keys(&self, id: ConnectionId, sealed: Option<&[u8]>) -> Result<SpKeys> {
        let sealed = sealed.ok_or_else(|| Error::internal("SAML connection has no keys"))?;
        let plain = SecretBox::new(Box::new(
            self.master_key()
                .decrypt(&keys_context(id), sealed)
                .map_err(Error::internal)?,
        ));
        let keys: SealedKeys =
            serde_json::from_slice(plain.expose_secret()).map_err(Error::internal)?;
        let load = |b64: &str| -> Result<PKey<Private>> {
            let der = STANDARD.decode(b64).map_err(Error::internal)?;
            PKey::private_key_from_pkcs8(&der).map_err(Error::internal)
        };
        Ok(SpKeys {
            signing: load(&keys.signing)?,
            encryption: load(&keys.encryption)?,
        })
    }
}

fn key_descriptor(usage: &str, certificate: &str, methods: &[&str]) -> String {
    let methods: String = methods
        .iter()
        .map(|m| format!(r#"<md:EncryptionMethod Algorithm="{m}"/>"#))
        .collect();
    format!(
        r#"<md:KeyDescriptor use="{usage}"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>{methods}</md:KeyDescriptor>"#
    )
}

/// The SP metadata document for a connection.
pub fn sp_metadata(urls: &SpUrls, settings: &SamlSettings) -> String {
    let mut encryption_methods: Vec<&str> = DATA_ALGORITHMS.to_vec();
    encryption_methods.extend_from_slice(KEY_ALGORITHMS);
    let name_id = settings
        .name_id_format
        .as_deref()
        .map(|f| format!("<md:NameIDFormat>{}</md:NameIDFormat>", escape(f)))
        .unwrap_or_default();
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity}">"#,
            r#"<md:SPSSODescriptor AuthnRequestsSigned="{signed}" WantAssertionsSigned="{want_signed}" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">"#,
            "{signing}{encryption}{name_id}",
            r#"<md:AssertionConsumerService Binding="{binding}" Location="{acs}" index="0" isDefault="true"/>"#,
            "</md:SPSSODescriptor></md:EntityDescriptor>"
        ),
        entity = escape(&urls.entity_id),
        signed = settings.sign_requests,
        want_signed = settings.require_signed_assertions,
        signing = key_descriptor("signing", &settings.sp_signing_certificate, &[]),
        encryption = key_descriptor(
            "encryption",
            &settings.sp_encryption_certificate,
            &encryption_methods
        ),
        name_id = name_id,
        binding = POST_BINDING,
        acs = escape(&urls.acs_url),
    )
}
