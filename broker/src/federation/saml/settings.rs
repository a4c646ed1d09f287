//! What a SAML connection stores (the `config` JSON of its row): the IdP as its metadata
//! describes it, the checks Tessera applies to its responses, and where the profile and groups
//! are read from. The SP private keys are not here; they are encrypted in `secrets_encrypted`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::federation::Preset;

/// One of the IdP's signing certificates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpCertificate {
    /// The DER certificate, base64.
    pub der: String,
    /// Its subject, for people.
    pub subject: String,
    /// SHA-256 fingerprint, hex with colons (what IdP consoles show).
    pub sha256: String,
    /// Validity start.
    pub not_before: DateTime<Utc>,
    /// Validity end (Tessera warns before it; signatures by an expired certificate still verify,
    /// as SAML IdPs commonly keep self-signed certificates past their date).
    pub not_after: DateTime<Utc>,
}

/// Attribute names to read each profile field from; the first one present wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttributeNames {
    /// The email address (the NameID is used when none is present and it is an email).
    pub email: Vec<String>,
    /// The display name.
    pub name: Vec<String>,
    /// The given name.
    pub given_name: Vec<String>,
    /// The family name.
    pub family_name: Vec<String>,
    /// The groups (copied to the `groups` claim that role rules read).
    pub groups: Vec<String>,
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Microsoft's claim types (Entra ID, ADFS).
const MS_EMAIL: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress";
const MS_NAME: &str = "http://schemas.microsoft.com/identity/claims/displayname";
const MS_GIVEN: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname";
const MS_FAMILY: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname";
const MS_GROUPS: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups";
const MS_UPN: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name";
const MS_ROLES: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";

/// LDAP / eduPerson OIDs (Shibboleth, Google Workspace with OID names, many others).
const OID_MAIL: &str = "urn:oid:0.9.2342.19200300.100.1.3";
const OID_DISPLAY_NAME: &str = "urn:oid:2.16.840.1.113730.3.1.241";
const OID_GIVEN_NAME: &str = "urn:oid:2.5.4.42";
const OID_SURNAME: &str = "urn:oid:2.5.4.4";
const OID_IS_MEMBER_OF: &str = "urn:oid:1.3.6.1.4.1.5923.1.5.1.1";

impl AttributeNames {
    /// The names a preset's IdP sends (generic: the common plain, Microsoft and OID names).
    pub fn for_preset(preset: Option<Preset>) -> Self {
        match preset {
            Some(Preset::Entra) => Self {
                email: names(&[MS_EMAIL, MS_UPN]),
                name: names(&[MS_NAME]),
                given_name: names(&[MS_GIVEN]),
                family_name: names(&[MS_FAMILY]),
                groups: names(&[MS_GROUPS, MS_ROLES]),
            },
            Some(Preset::Okta) => Self {
                email: names(&["email", "Email"]),
                name: names(&["displayName", "name"]),
                given_name: names(&["firstName", "givenName"]),
                family_name: names(&["lastName", "familyName"]),
                groups: names(&["groups", "Groups"]),
            },
            Some(Preset::Google) | None => Self {
                email: names(&["email", "mail", MS_EMAIL, OID_MAIL]),
                name: names(&["name", "displayName", MS_NAME, OID_DISPLAY_NAME]),
                given_name: names(&[
                    "given_name",
                    "givenName",
                    "firstName",
                    MS_GIVEN,
                    OID_GIVEN_NAME,
                ]),
                family_name: names(&[
                    "family_name",
                    "surname",
                    "sn",
                    "lastName",
                    MS_FAMILY,
                    OID_SURNAME,
                ]),
                groups: names(&["groups", "memberOf", MS_GROUPS, OID_IS_MEMBER_OF]),
            },
        }
    }
}

impl Default for AttributeNames {
    fn default() -> Self {
        Self::for_preset(None)
    }
}

/// A SAML connection's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamlSettings {
    /// The IdP's entity ID: responses and assertions must name it as their issuer.
    pub idp_entity_id: String,
    /// Where AuthnRequests go (the IdP's HTTP-Redirect SingleSignOnService).
    pub sso_url: String,
    /// The IdP's signing certificates; a signature by any of them verifies (rotation).
    pub certificates: Vec<IdpCertificate>,
    /// NameID formats the IdP says it supports.
    pub name_id_formats: Vec<String>,
    /// The NameID format Tessera asks for (none: the IdP decides).
    pub name_id_format: Option<String>,
    /// The IdP asks for signed AuthnRequests (from its metadata).
    pub idp_wants_signed_requests: bool,
    /// Whether Tessera signs its AuthnRequests (default: when the IdP wants it).
    pub sign_requests: bool,
    /// Where the metadata came from, when it was given by URL (refetched on a schedule).
    pub metadata_url: Option<String>,
    /// When the metadata was last read.
    pub metadata_fetched_at: DateTime<Utc>,
    /// Hours between refetches of `metadata_url`.
    pub metadata_refresh_hours: u32,
    /// Why the last scheduled refetch failed, if it did (the previous metadata stays in use).
    pub metadata_refresh_error: Option<String>,
    /// Assertions must carry their own signature (a signed Response around an unsigned
    /// assertion is refused).
    pub require_signed_assertions: bool,
    /// Only encrypted assertions are accepted.
    pub require_encrypted_assertions: bool,
    /// Responses no AuthnRequest asked for (IdP-initiated sign-in) are accepted.
    pub allow_idp_initiated: bool,
    /// Allowed clock difference for the time checks, in seconds.
    pub clock_skew_seconds: u32,
    /// The IdP's email addresses count as verified (an organization's own IdP is the
    /// authority for its domains); linking to an existing account still needs the org's
    /// verified domain.
    pub trust_email: bool,
    /// Where the profile and groups are read from.
    pub attributes: AttributeNames,
    /// Tessera's signing certificate for this connection (DER, base64).
    pub sp_signing_certificate: String,
    /// Tessera's encryption certificate for this connection (DER, base64); IdPs encrypt
    /// assertions to it.
    pub sp_encryption_certificate: String,
}
