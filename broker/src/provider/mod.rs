//! The OpenID Connect provider: apps (clients), signing keys and the key ring, tokens and the
//! grants that issue them, discovery. Standards: OAuth 2.0 (RFC 6749) with the Security BCP
//! (RFC 9700), OIDC Core, RFC 9068 access tokens, RFC 8707 resource indicators.

pub mod authorize;
pub mod client;
pub mod client_cache;
mod client_settings;
pub mod consent;
pub mod device;
pub mod discovery;
pub mod grant;
pub(crate) mod grant_context;
pub mod introspect;
pub mod jws;
pub mod keyring;
pub mod keys;
pub mod logout;
pub mod redirect;
pub mod registration;
mod revocation;
pub mod scope;
pub mod token;
pub mod user_tokens;
pub mod userinfo;

use std::time::Duration;

/// How the provider behaves; built from configuration at start.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    /// The issuer (`iss`), the public URL without a trailing slash.
    pub issuer: String,
    /// Lifetime of access tokens.
    pub access_token_ttl: Duration,
    /// Lifetime of ID tokens.
    pub id_token_ttl: Duration,
    /// Lifetime of authorization codes.
    pub code_ttl: Duration,
    /// A refresh token dies if unused for this long (each rotation starts it again).
    pub refresh_idle_ttl: Duration,
    /// A refresh-token family dies this long after the first grant, however often it rotates.
    pub refresh_absolute_ttl: Duration,
    /// How long a key signs before the scheduled rotation replaces it; `None` never.
    pub key_rotation_interval: Option<Duration>,
    /// Who may register apps through dynamic client registration.
    pub registration: registration::RegistrationPolicy,
}

/// Clock skew tolerated when a retired key's publication window is computed.
const SKEW: Duration = Duration::from_secs(60);

impl ProviderSettings {
    /// Defaults for an issuer: 10-minute access and ID tokens, 60-second codes, refresh tokens
    /// that die after 14 idle days or 90 days in all, keys rotated every 90 days.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into().trim_end_matches('/').to_owned(),
            access_token_ttl: Duration::from_secs(600),
            id_token_ttl: Duration::from_secs(600),
            code_ttl: Duration::from_secs(60),
            refresh_idle_ttl: Duration::from_secs(14 * 24 * 3600),
            refresh_absolute_ttl: Duration::from_secs(90 * 24 * 3600),
            key_rotation_interval: Some(Duration::from_secs(90 * 24 * 3600)),
            registration: registration::RegistrationPolicy::Off,
        }
    }

    /// The longest a signed token lives, plus skew: how long a retired key stays published.
    pub fn longest_token_lifetime(&self) -> chrono::Duration {
        let longest = self.access_token_ttl.max(self.id_token_ttl) + SKEW;
        chrono::Duration::from_std(longest).unwrap_or(chrono::Duration::hours(1))
    }

    /// An absolute URL under the issuer.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}
