//! Discovery: the OpenID Provider metadata and the RFC 8414 authorization server metadata,
//! listing exactly the endpoints, grants and methods Tessera implements.

use serde_json::{Value, json};

use super::ProviderSettings;
use super::client::{AUTH_METHODS, GrantType};
use super::keys::ALGORITHMS;
use super::scope::OIDC_SCOPES;

/// Paths of the provider's endpoints, under the issuer.
pub mod path {
    /// The sign-in page (the local-login issue serves it); it returns the browser to the
    /// same-origin path in its `return_to` parameter once a session exists.
    pub const SIGN_IN: &str = "/login";
    /// Authorization endpoint.
    pub const AUTHORIZE: &str = "/oauth2/authorize";
    /// Where the sign-in pages send the browser once a session exists.
    pub const AUTHORIZE_RESUME: &str = "/oauth2/authorize/resume";
    /// Token endpoint.
    pub const TOKEN: &str = "/oauth2/token";
    /// Device authorization (RFC 8628).
    pub const DEVICE_AUTHORIZATION: &str = "/oauth2/device_authorization";
    /// Dynamic client registration (RFC 7591), when enabled.
    pub const REGISTER: &str = "/oauth2/register";
    /// The consent page for third-party apps.
    pub const CONSENT: &str = "/oauth2/consent";
    /// RP-initiated logout.
    pub const END_SESSION: &str = "/oauth2/end_session";
    /// UserInfo endpoint.
    pub const USERINFO: &str = "/oauth2/userinfo";
    /// Token introspection (RFC 7662).
    pub const INTROSPECT: &str = "/oauth2/introspect";
    /// Token revocation (RFC 7009).
    pub const REVOKE: &str = "/oauth2/revoke";
    /// JWK Set.
    pub const JWKS: &str = "/oauth2/jwks";
    /// OpenID Provider metadata.
    pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
    /// RFC 8414 metadata.
    pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
}

/// The metadata document (the same content serves both well-known paths).
pub fn metadata(settings: &ProviderSettings) -> Value {
    let mut document = base_metadata(settings);
    if settings.registration != super::registration::RegistrationPolicy::Off
        && let Value::Object(members) = &mut document
    {
        members.insert(
            "registration_endpoint".into(),
            json!(settings.url(path::REGISTER)),
        );
    }
    document
}

fn base_metadata(settings: &ProviderSettings) -> Value {
    let algs: Vec<&str> = ALGORITHMS
        .iter()
        .map(|a| super::jws::alg_name(*a))
        .collect();
    let grants: Vec<&str> = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
        GrantType::DeviceCode,
    ]
    .iter()
    .map(|g| g.as_str())
    .collect();
    json!({
        "issuer": settings.issuer,
        "authorization_endpoint": settings.url(path::AUTHORIZE),
        "token_endpoint": settings.url(path::TOKEN),
        "userinfo_endpoint": settings.url(path::USERINFO),
        "end_session_endpoint": settings.url(path::END_SESSION),
        "device_authorization_endpoint": settings.url(path::DEVICE_AUTHORIZATION),
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "jwks_uri": settings.url(path::JWKS),
        "introspection_endpoint": settings.url(path::INTROSPECT),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint": settings.url(path::REVOKE),
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "scopes_supported": OIDC_SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "acr_values_supported": crate::login::acr::SUPPORTED,
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp",
            "at_hash", "sid", "email", "email_verified", "name", "given_name", "family_name",
            "org_id", "org_slug", "roles"
        ],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
        "grant_types_supported": grants,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
    })
}
