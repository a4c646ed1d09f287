//! Dynamic client registration (RFC 7591), off unless an operator enables it. With the `open`
//! policy anyone may register a public app (no secret, PKCE, authorization code), as MCP
//! clients do; confidential apps, and every app under the `token` policy, need an initial
//! access token: an API key with the admin scope. Registered apps are third party: users
//! consent before such an app gets a code.

use entities::client::ClientType;
use entities::signing_key::SigningAlg;
use serde::{Deserialize, Serialize};

use super::client::{CreatedClient, NewClient, list_of};
use crate::Broker;
use crate::actor::Actor;
use crate::error::{Error, ErrorCode, Result};
use crate::rate_limit::REGISTRATIONS_PER_IP;

/// Who may register apps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationPolicy {
    /// No registration endpoint.
    Off,
    /// Public apps may register without a token; confidential ones need one.
    Open,
    /// Every registration needs an initial access token.
    Token,
}

/// Client metadata as sent (RFC 7591 §2); unknown members are ignored, as §2 asks.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RegistrationRequest {
    /// Redirect URIs.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// `none`, `client_secret_basic` or `client_secret_post`.
    pub token_endpoint_auth_method: Option<String>,
    /// Grants; `authorization_code` when absent.
    pub grant_types: Option<Vec<String>>,
    /// Must be `["code"]` when present.
    pub response_types: Option<Vec<String>>,
    /// Display name.
    pub client_name: Option<String>,
    /// Space-separated scopes beyond the OpenID Connect ones.
    pub scope: Option<String>,
    /// Post-logout redirect URIs.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// ID token signing algorithm.
    pub id_token_signed_response_alg: Option<String>,
    /// Back-channel logout URI.
    pub backchannel_logout_uri: Option<String>,
}

/// The registered app (RFC 7591 §3.2.1). Its `Debug` never shows the secret.
#[derive(Clone, Serialize)]
pub struct RegistrationResponse {
    /// The new client_id.
    pub client_id: String,
    /// The secret, for confidential apps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// When the client_id was issued.
    pub client_id_issued_at: i64,
    /// 0: the secret does not expire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Registered grants.
    pub grant_types: Vec<String>,
    /// Always `["code"]`.
    pub response_types: Vec<&'static str>,
    /// How the app authenticates.
    pub token_endpoint_auth_method: String,
    /// Its name.
    pub client_name: String,
    /// Its extra scopes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Registered post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Back-channel logout URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// The algorithm that signs its ID tokens.
    pub id_token_signed_response_alg: &'static str,
}

impl std::fmt::Debug for RegistrationResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrationResponse")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("redirect_uris", &self.redirect_uris)
            .finish_non_exhaustive()
    }
}

fn metadata_error(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidClientMetadata, message)
}

impl Broker {
    /// Registers an app. `initial` is the actor behind the initial access token, if one was sent.
    pub async fn register_client(
        &self,
        request: RegistrationRequest,
        initial: Option<Actor>,
        ip: Option<&str>,
    ) -> Result<RegistrationResponse> {
        let policy = self.provider().registration;
        if initial.is_none() {
            match policy {
                RegistrationPolicy::Open => {}
                RegistrationPolicy::Token | RegistrationPolicy::Off => {
                    return Err(Error::new(
                        ErrorCode::InvalidToken,
                        "registration needs an initial access token",
                    ));
                }
            }
            self.count_against(REGISTRATIONS_PER_IP, ip.unwrap_or("unknown"))
                .await?;
        }
        if request
            .response_types
            .as_ref()
            .is_some_and(|r| r != &["code"])
        {
            return Err(metadata_error("response_types must be [\"code\"]"));
        }
        let auth_method = request
            .token_endpoint_auth_method
            .clone()
            .unwrap_or_else(|| "client_secret_basic".to_owned());
        let client_type = if auth_method == "none" {
            ClientType::Public
        } else {
            ClientType::Confidential
        };
        let grant_types = request
            .grant_types
            .clone()
            .unwrap_or_else(|| vec!["authorization_code".to_owned()]);
        if initial.is_none()
            && (client_type == ClientType::Confidential
                || grant_types
                    .iter()
                    .any(|g| g != "authorization_code" && g != "refresh_token"))
        {
            return Err(metadata_error(
                "without an initial access token only public apps using the authorization code \
                 flow (token_endpoint_auth_method none) may register",
            ));
        }
        if initial.is_none() {
            if request.backchannel_logout_uri.is_some() {
                return Err(metadata_error(
                    "backchannel_logout_uri needs an initial access token (Tessera would call it)",
                ));
            }
            let custom = request
                .scope
                .as_deref()
                .unwrap_or_default()
                .split(' ')
                .find(|s| !s.is_empty() && !super::scope::OIDC_SCOPES.contains(s));
            if let Some(scope) = custom {
                return Err(metadata_error(format!(
                    "scope '{scope}' needs an initial access token; self-registered apps get the OpenID Connect scopes"
                )));
            }
        }
        let signing_alg = match request.id_token_signed_response_alg.as_deref() {
            None | Some("RS256") => None,
            Some("ES256") => Some(SigningAlg::Es256),
            Some("EdDSA") => Some(SigningAlg::EdDsa),
            Some(other) => {
                return Err(metadata_error(format!(
                    "id_token_signed_response_alg {other} is not supported"
                )));
            }
        };
        let new = NewClient {
            name: request
                .client_name
                .clone()
                .unwrap_or_else(|| "Unnamed app".to_owned()),
            client_type: Some(client_type),
            redirect_uris: request.redirect_uris,
            post_logout_redirect_uris: request.post_logout_redirect_uris,
            grant_types: Some(grant_types),
            scopes: request.scope.as_deref().map(|s| {
                s.split(' ')
                    .filter(|s| !s.is_empty() && !super::scope::OIDC_SCOPES.contains(s))
                    .map(str::to_owned)
                    .collect()
            }),
            organization: None,
            token_endpoint_auth_method: Some(auth_method),
            signing_alg,
            require_pkce: None,
            custom_claims: None,
            backchannel_logout_uri: request.backchannel_logout_uri,
        };
        let actor = initial.unwrap_or_else(Actor::system);
        let CreatedClient { client, secret } = self
            .insert_client(&actor, new, false)
            .await
            .map_err(|e| match e.code() {
                ErrorCode::InvalidRedirectUri => {
                    Error::new(ErrorCode::InvalidRedirectUri, e.message().to_owned())
                }
                ErrorCode::InternalError | ErrorCode::ServiceUnavailable => e,
                _ => metadata_error(e.message().to_owned()),
            })?;
        let scope = list_of(&client.scopes).join(" ");
        let alg = super::jws::alg_name(super::token::signing_alg(&client));
        let response = RegistrationResponse {
            client_id: client.id.to_string(),
            client_secret: secret
                .as_ref()
                .map(|s| secrecy::ExposeSecret::expose_secret(s).to_owned()),
            client_id_issued_at: client.created_at.timestamp(),
            client_secret_expires_at: secret.as_ref().map(|_| 0),
            redirect_uris: list_of(&client.redirect_uris),
            grant_types: list_of(&client.grant_types),
            response_types: vec!["code"],
            token_endpoint_auth_method: client.token_endpoint_auth_method,
            client_name: client.name,
            scope: Some(scope).filter(|s| !s.is_empty()),
            post_logout_redirect_uris: list_of(&client.post_logout_redirect_uris),
            backchannel_logout_uri: client.backchannel_logout_uri.clone(),
            id_token_signed_response_alg: alg,
        };
        Ok(response)
    }
}
