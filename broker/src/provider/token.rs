//! The tokens Tessera issues: RFC 9068 JWT access tokens, OIDC ID tokens, and the token
//! endpoint's response.

use chrono::{DateTime, Utc};
use entities::signing_key::SigningAlg;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::client::Client;
use crate::Broker;
use crate::error::Result;

/// `aud`: one audience or several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

impl Audience {
    /// One audience when there is one, an array otherwise.
    pub fn from_list(mut list: Vec<String>) -> Self {
        if list.len() == 1 {
            Self::One(list.remove(0))
        } else {
            Self::Many(list)
        }
    }

    /// Whether `value` is among the audiences.
    pub fn contains(&self, value: &str) -> bool {
        match self {
            Self::One(one) => one == value,
            Self::Many(many) => many.iter().any(|a| a == value),
        }
    }
}

/// The claims of an access token (RFC 9068 §2.2, plus Tessera's org context).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// The issuer.
    pub iss: String,
    /// The user, or the app itself for client credentials.
    pub sub: String,
    /// The resource servers the token is for.
    pub aud: Audience,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// Unique token id.
    pub jti: String,
    /// The app the token was issued to.
    pub client_id: String,
    /// Granted scopes, space-separated.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// The organization the token acts in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// The user's roles in that organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// When the user authenticated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// Authentication context class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// Authentication methods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// The browser session the grant came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The app's custom claims.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What the token endpoint returns.
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    /// The access token (a JWT).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Granted scopes, when they differ from what was asked or always for clarity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// A refresh token, when the grant allows one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The ID token, for OpenID Connect requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// The algorithm that signs an app's tokens.
pub fn signing_alg(client: &Client) -> SigningAlg {
    client
        .id_token_signed_response_alg
        .unwrap_or(SigningAlg::Rs256)
}

impl Broker {
    /// Signs access-token claims for `client` (header `typ: at+jwt`, RFC 9068 §2.1).
    pub(crate) async fn sign_access_token(
        &self,
        client: &Client,
        claims: &AccessTokenClaims,
    ) -> Result<String> {
        self.sign_jwt(signing_alg(client), "at+jwt", claims).await
    }

    /// Seconds since the epoch, by the broker's clock.
    pub(crate) fn epoch(&self, at: DateTime<Utc>) -> i64 {
        at.timestamp()
    }
}
