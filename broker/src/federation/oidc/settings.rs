//! What an OIDC connection stores (the `config` JSON of its row): the upstream's endpoints and
//! keys as discovered, the client id, and how claims are read. The client secret is not here;
//! it is encrypted in `secrets_encrypted`.

use serde::{Deserialize, Serialize};

use crate::federation::Preset;

/// How Tessera authenticates at the upstream token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuth {
    /// HTTP Basic (the default of OAuth 2.0).
    ClientSecretBasic,
    /// Form fields in the body.
    ClientSecretPost,
}

/// Which claims hold the profile and groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClaimNames {
    /// The email address.
    pub email: String,
    /// The display name.
    pub name: String,
    /// The given name.
    pub given_name: String,
    /// The family name.
    pub family_name: String,
    /// The groups (for role rules; also available to rules by their own claim names).
    pub groups: String,
}

impl Default for ClaimNames {
    fn default() -> Self {
        Self {
            email: "email".into(),
            name: "name".into(),
            given_name: "given_name".into(),
            family_name: "family_name".into(),
            groups: "groups".into(),
        }
    }
}

/// An OIDC connection's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OidcSettings {
    /// The issuer as configured (for Entra's multi-tenant endpoints, the `organizations` or
    /// `common` form).
    pub issuer: String,
    /// The issuer ID tokens must carry (the configured one, or Entra's `{tenantid}` template
    /// filled with `tenant_id`).
    pub expected_issuer: String,
    /// Our client id at the IdP.
    pub client_id: String,
    /// Upstream authorization endpoint.
    pub authorization_endpoint: String,
    /// Upstream token endpoint.
    pub token_endpoint: String,
    /// Upstream userinfo endpoint, if it has one.
    pub userinfo_endpoint: Option<String>,
    /// Upstream JWKS URL.
    pub jwks_uri: String,
    /// The JWKS as last fetched (refetched when an ID token names an unknown `kid`).
    pub jwks: serde_json::Value,
    /// How we authenticate at the token endpoint.
    pub token_auth: TokenAuth,
    /// Scopes requested upstream.
    pub scopes: Vec<String>,
    /// Whether to read the userinfo endpoint at each sign-in and merge its claims.
    pub use_userinfo: bool,
    /// Entra ID: the directory (tenant) id every ID token's `tid` must equal.
    pub tenant_id: Option<String>,
    /// Claim names.
    pub claims: ClaimNames,
    /// Allowed clock difference for `exp` and `iat`, in seconds.
    pub clock_skew_seconds: u32,
    /// Entra ID: where to read a user's groups when the ID token carries the "groups overage"
    /// marker instead of the list (Microsoft Graph `/me/transitiveMemberOf`).
    pub groups_endpoint: Option<String>,
}

/// Default scopes for a preset.
pub fn default_scopes(preset: Option<Preset>) -> Vec<String> {
    let mut scopes: Vec<String> = ["openid", "email", "profile"]
        .into_iter()
        .map(String::from)
        .collect();
    if preset == Some(Preset::Okta) {
        // Okta returns the groups claim only when asked for.
        scopes.push("groups".into());
    }
    scopes
}

/// Microsoft Graph's list of a user's groups (ids), read when the ID token overflows.
pub const ENTRA_GROUPS_ENDPOINT: &str =
    "https://graph.microsoft.com/v1.0/me/transitiveMemberOf/microsoft.graph.group?$select=id";
