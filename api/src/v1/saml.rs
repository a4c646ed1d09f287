//! The SAML parts of `/api/v1/…/connections`: the settings an admin may send, and what a
//! SAML connection shows (the SP values to copy into the IdP, the IdP as its metadata
//! describes it, and warnings such as expiring certificates).

use broker::federation::Connection;
use broker::federation::saml::{AttributeNames, SamlOptions, Warning};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::server::AppState;

/// Attribute names for the profile and groups; for each field the first attribute present
/// wins. Defaults come from the preset (Entra ID claim URIs, Okta names) or, without one,
/// the common plain, Microsoft and LDAP OID names.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeNamesBody {
    /// Email attributes (the NameID is used when none is present and it is an address).
    pub email: Option<Vec<String>>,
    /// Display name attributes.
    pub name: Option<Vec<String>>,
    /// Given name attributes.
    pub given_name: Option<Vec<String>>,
    /// Family name attributes.
    pub family_name: Option<Vec<String>>,
    /// Group attributes (copied to the `groups` claim that role rules read).
    pub groups: Option<Vec<String>>,
}

impl AttributeNamesBody {
    /// Fills the absent fields from `base`.
    pub fn over(self, base: AttributeNames) -> AttributeNames {
        AttributeNames {
            email: self.email.unwrap_or(base.email),
            name: self.name.unwrap_or(base.name),
            given_name: self.given_name.unwrap_or(base.given_name),
            family_name: self.family_name.unwrap_or(base.family_name),
            groups: self.groups.unwrap_or(base.groups),
        }
    }
}

impl From<AttributeNames> for AttributeNamesBody {
    fn from(a: AttributeNames) -> Self {
        Self {
            email: Some(a.email),
            name: Some(a.name),
            given_name: Some(a.given_name),
            family_name: Some(a.family_name),
            groups: Some(a.groups),
        }
    }
}

/// The SAML settings of a create or update request, as the broker takes them.
#[derive(Debug, Default)]
pub struct SamlOptionFields {
    pub name_id_format: Option<String>,
    pub sign_requests: Option<bool>,
    pub require_signed_assertions: Option<bool>,
    pub require_encrypted_assertions: Option<bool>,
    pub allow_idp_initiated: Option<bool>,
    pub clock_skew_seconds: Option<u32>,
    pub trust_email: Option<bool>,
    pub attributes: Option<AttributeNamesBody>,
    pub metadata_refresh_hours: Option<u32>,
}

impl SamlOptionFields {
    /// The options; absent attribute names are taken from `base`.
    pub fn options(self, base: AttributeNames) -> SamlOptions {
        SamlOptions {
            name_id_format: self.name_id_format,
            sign_requests: self.sign_requests,
            require_signed_assertions: self.require_signed_assertions,
            require_encrypted_assertions: self.require_encrypted_assertions,
            allow_idp_initiated: self.allow_idp_initiated,
            clock_skew_seconds: self.clock_skew_seconds,
            trust_email: self.trust_email,
            attributes: self.attributes.map(|a| a.over(base)),
            metadata_refresh_hours: self.metadata_refresh_hours,
        }
    }
}

/// One of the IdP's signing certificates.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateView {
    /// Subject.
    pub subject: String,
    /// SHA-256 fingerprint (hex, colon separated), as IdP consoles show it.
    pub sha256: String,
    /// Valid from.
    pub not_before: DateTime<Utc>,
    /// Valid until.
    pub not_after: DateTime<Utc>,
}

/// Something an admin should act on.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarningView {
    /// `saml_certificate_expiring`, `saml_certificate_expired` or
    /// `saml_metadata_refresh_failed`.
    pub code: String,
    /// What to do.
    pub message: String,
}

impl From<Warning> for WarningView {
    fn from(w: Warning) -> Self {
        Self {
            code: w.code.to_owned(),
            message: w.message,
        }
    }
}

/// A SAML connection's IdP and settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct SamlView {
    /// The IdP's entity ID (the Issuer of its responses).
    pub idp_entity_id: String,
    /// Where AuthnRequests go (HTTP-Redirect).
    pub sso_url: String,
    /// The IdP's signing certificates (any of them may sign).
    pub certificates: Vec<CertificateView>,
    /// NameID formats the IdP lists.
    pub name_id_formats: Vec<String>,
    /// The NameID format requested, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_id_format: Option<String>,
    /// Where the metadata is fetched from (refetched every `metadata_refresh_hours`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata_url: Option<String>,
    /// When the metadata was last read.
    pub metadata_fetched_at: DateTime<Utc>,
    /// Hours between refetches.
    pub metadata_refresh_hours: u32,
    /// The IdP's metadata asks for signed AuthnRequests.
    pub idp_wants_signed_requests: bool,
    /// Tessera signs its AuthnRequests.
    pub sign_requests: bool,
    /// Assertions must be signed themselves.
    pub require_signed_assertions: bool,
    /// Only encrypted assertions are accepted.
    pub require_encrypted_assertions: bool,
    /// IdP-initiated sign-in is accepted.
    pub allow_idp_initiated: bool,
    /// Allowed clock difference in seconds.
    pub clock_skew_seconds: u32,
    /// The IdP's email addresses count as verified.
    pub trust_email: bool,
    /// Attribute names.
    pub attributes: AttributeNamesBody,
}

/// The SP values to copy into the IdP, and the SAML view, for a SAML connection.
#[derive(Debug)]
pub struct SamlParts {
    pub sp_entity_id: String,
    pub acs_url: String,
    pub sp_metadata_url: String,
    pub saml: SamlView,
    pub warnings: Vec<WarningView>,
}

/// The SAML parts of a connection's view (`None` for OIDC or unreadable settings).
pub fn parts(state: &AppState, c: &Connection) -> Option<SamlParts> {
    if c.kind != broker::entities::ConnectionKind::Saml {
        return None;
    }
    let s = broker::Broker::saml_settings(c).ok()?;
    let urls = state.broker.saml_sp_urls(c.id);
    let warnings = state
        .broker
        .saml_warnings(&s)
        .into_iter()
        .map(Into::into)
        .collect();
    Some(SamlParts {
        sp_entity_id: urls.entity_id,
        acs_url: urls.acs_url,
        sp_metadata_url: urls.metadata_url,
        warnings,
        saml: SamlView {
            idp_entity_id: s.idp_entity_id,
            sso_url: s.sso_url,
            certificates: s
                .certificates
                .into_iter()
                .map(|c| CertificateView {
                    subject: c.subject,
                    sha256: c.sha256,
                    not_before: c.not_before,
                    not_after: c.not_after,
                })
                .collect(),
            name_id_formats: s.name_id_formats,
            name_id_format: s.name_id_format,
            metadata_url: s.metadata_url,
            metadata_fetched_at: s.metadata_fetched_at,
            metadata_refresh_hours: s.metadata_refresh_hours,
            idp_wants_signed_requests: s.idp_wants_signed_requests,
            sign_requests: s.sign_requests,
            require_signed_assertions: s.require_signed_assertions,
            require_encrypted_assertions: s.require_encrypted_assertions,
            allow_idp_initiated: s.allow_idp_initiated,
            clock_skew_seconds: s.clock_skew_seconds,
            trust_email: s.trust_email,
            attributes: s.attributes.into(),
        },
    })
}
