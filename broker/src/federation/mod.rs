//! Federation: organizations (and the instance, for social sign-in) connect upstream IdPs;
//! their people sign in there and come back as Tessera users with the org's roles. The
//! protocol halves (OIDC here, SAML later) turn an upstream answer into an
//! [`UpstreamProfile`]; everything after that (role rules, just-in-time provisioning, the
//! session, dry-run test logins) is shared.

pub mod connections;
pub mod endpoints;
pub mod http;
pub mod oidc;
pub mod provision;
pub mod rules;
pub mod saml;
pub mod sign_in;
pub mod test_login;

use serde::{Deserialize, Serialize};

pub use self::connections::{Connection, ConnectionOwner};
pub use self::provision::UpstreamProfile;

/// IdP presets: settings and checks a well-known IdP needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Preset {
    /// Microsoft Entra ID: tenant-bound issuer, `tid` check, groups overage.
    Entra,
    /// Okta: the `groups` scope and claim.
    Okta,
    /// Google Workspace: `hd` must be one of the org's verified domains.
    Google,
}

impl Preset {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Entra => "entra",
            Self::Okta => "okta",
            Self::Google => "google",
        }
    }
}
