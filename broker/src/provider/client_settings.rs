//! The rules for an app's settings: grants that fit its type, redirect URIs, scopes, how it
//! authenticates, PKCE, custom claims and its back-channel logout URI.

use entities::client::ClientType;
use serde_json::{Value, json};

use super::client::{AUTH_METHODS, CLAIM_SOURCES, GrantType, NewClient, field_error};
use super::redirect;
use super::scope::Scopes;
use crate::error::{ErrorCode, Result};

/// Claims Tessera sets itself; custom claims may not replace them.
const RESERVED_CLAIMS: [&str; 22] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "nonce",
    "auth_time",
    "acr",
    "amr",
    "azp",
    "at_hash",
    "c_hash",
    "sid",
    "scope",
    "client_id",
    "org_id",
    "org_slug",
    "roles",
    "email",
    "email_verified",
];

fn validate_grants(raw: &[String], client_type: ClientType) -> Result<Vec<String>> {
    if raw.is_empty() {
        return Err(field_error(
            ErrorCode::InvalidGrantType,
            "grant_types",
            "give at least one grant type",
        ));
    }
    let mut grants = Vec::new();
    for (i, g) in raw.iter().enumerate() {
        let grant = GrantType::parse(g).ok_or_else(|| {
            let known: Vec<&str> = GrantType::ALL.iter().map(|g| g.as_str()).collect();
            field_error(
                ErrorCode::InvalidGrantType,
                &format!("grant_types[{i}]"),
                format!("'{g}' is not one of {}", known.join(", ")),
            )
        })?;
        if grant == GrantType::ClientCredentials && client_type == ClientType::Public {
            return Err(field_error(
                ErrorCode::InvalidGrantType,
                &format!("grant_types[{i}]"),
                "client_credentials needs a confidential app: a public app cannot keep a secret",
            ));
        }
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    }
    if grants.contains(&GrantType::RefreshToken)
        && !grants.contains(&GrantType::AuthorizationCode)
        && !grants.contains(&GrantType::DeviceCode)
    {
        return Err(field_error(
            ErrorCode::InvalidGrantType,
            "grant_types",
            "refresh_token needs authorization_code or the device grant to obtain the first token",
        ));
    }
    Ok(grants.iter().map(|g| g.as_str().to_owned()).collect())
}

fn validate_auth_method(raw: Option<&str>, client_type: ClientType) -> Result<String> {
    let method = raw.unwrap_or(match client_type {
        ClientType::Confidential => "client_secret_basic",
        ClientType::Public => "none",
    });
    let fits = match client_type {
        ClientType::Confidential => matches!(method, "client_secret_basic" | "client_secret_post"),
        ClientType::Public => method == "none",
    };
    if !AUTH_METHODS.contains(&method) || !fits {
        return Err(field_error(
            ErrorCode::InvalidAuthMethod,
            "token_endpoint_auth_method",
            "confidential apps use client_secret_basic or client_secret_post; public apps use none",
        ));
    }
    Ok(method.to_owned())
}

/// Checks custom claims: an object of `{"value": any}` or `{"from": source}` entries.
pub fn validate_custom_claims(raw: &Value) -> Result<Value> {
    let field = "custom_claims";
    let Some(claims) = raw.as_object() else {
        return Err(field_error(
            ErrorCode::InvalidCustomClaims,
            field,
            "custom_claims must be an object",
        ));
    };
    if claims.len() > 32 {
        return Err(field_error(
            ErrorCode::InvalidCustomClaims,
            field,
            "at most 32 custom claims",
        ));
    }
    for (name, spec) in claims {
        let at = format!("{field}.{name}");
        if RESERVED_CLAIMS.contains(&name.as_str()) || name.is_empty() || name.len() > 64 {
            return Err(field_error(
                ErrorCode::InvalidCustomClaims,
                &at,
                format!("'{name}' is a claim Tessera sets itself, or not a usable name"),
            ));
        }
        let valid = match spec.as_object() {
            Some(o) if o.len() == 1 && o.contains_key("value") => true,
            Some(o) if o.len() == 1 => o
                .get("from")
                .and_then(Value::as_str)
                .is_some_and(|from| CLAIM_SOURCES.contains(&from)),
            _ => false,
        };
        if !valid {
            return Err(field_error(
                ErrorCode::InvalidCustomClaims,
                &at,
                format!(
                    "use {{\"value\": …}} or {{\"from\": one of {}}}",
                    CLAIM_SOURCES.join(", ")
                ),
            ));
        }
    }
    Ok(raw.clone())
}

fn validate_backchannel_uri(raw: Option<&str>) -> Result<Option<String>> {
    raw.map(|uri| {
        let url = url::Url::parse(uri).ok().filter(|u| {
            u.fragment().is_none()
                && (u.scheme() == "https"
                    || (u.scheme() == "http"
                        && matches!(u.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"))))
        });
        url.map(|_| uri.to_owned()).ok_or_else(|| {
            field_error(
                ErrorCode::InvalidRedirectUri,
                "backchannel_logout_uri",
                "must be an https URL without a fragment (http only on loopback)",
            )
        })
    })
    .transpose()
}

/// An app's settings after validation.
pub(super) struct ValidSettings {
    pub(super) redirect_uris: Vec<String>,
    pub(super) post_logout_redirect_uris: Vec<String>,
    pub(super) grant_types: Vec<String>,
    pub(super) scopes: Vec<String>,
    pub(super) auth_method: String,
    pub(super) require_pkce: bool,
    pub(super) custom_claims: Value,
    pub(super) backchannel_logout_uri: Option<String>,
}

pub(super) fn validate_settings(new: &NewClient, client_type: ClientType) -> Result<ValidSettings> {
    let grant_types = validate_grants(
        new.grant_types
            .as_deref()
            .unwrap_or(&["authorization_code".to_owned(), "refresh_token".to_owned()]),
        client_type,
    )?;
    let redirect_uris = redirect::validate_all("redirect_uris", &new.redirect_uris)?;
    let needs_redirect = grant_types
        .iter()
        .any(|g| g == GrantType::AuthorizationCode.as_str());
    if needs_redirect && redirect_uris.is_empty() {
        return Err(field_error(
            ErrorCode::InvalidRedirectUri,
            "redirect_uris",
            "the authorization_code grant needs at least one redirect URI",
        ));
    }
    let scopes = Scopes::from_list(
        new.scopes.iter().flatten().map(String::as_str),
        ErrorCode::InvalidScopeName,
        "scopes",
    )?;
    let require_pkce = match (client_type, new.require_pkce) {
        (ClientType::Public, Some(false)) => {
            return Err(field_error(
                ErrorCode::InvalidPkceSetting,
                "require_pkce",
                "public apps always use PKCE",
            ));
        }
        (_, setting) => setting.unwrap_or(true),
    };
    Ok(ValidSettings {
        redirect_uris,
        post_logout_redirect_uris: redirect::validate_all(
            "post_logout_redirect_uris",
            &new.post_logout_redirect_uris,
        )?,
        grant_types,
        scopes: scopes.to_vec(),
        auth_method: validate_auth_method(new.token_endpoint_auth_method.as_deref(), client_type)?,
        require_pkce,
        custom_claims: validate_custom_claims(new.custom_claims.as_ref().unwrap_or(&json!({})))?,
        backchannel_logout_uri: validate_backchannel_uri(new.backchannel_logout_uri.as_deref())?,
    })
}
