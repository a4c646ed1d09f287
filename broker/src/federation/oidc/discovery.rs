//! Reading an IdP's OpenID Connect discovery document and JWKS when a connection is created,
//! with an error for each way it can be wrong that says exactly what to fix.

use openidconnect::core::{CoreJsonWebKeySet, CoreProviderMetadata};
use serde_json::Value;
use url::Url;

use crate::error::{Error, ErrorCode, Result};
use crate::federation::Preset;
use crate::federation::http::{UpstreamHttp, check_url};

use super::settings::TokenAuth;

const WELL_KNOWN: &str = "/.well-known/openid-configuration";
const ENTRA_TEMPLATE: &str = "{tenantid}";

/// What discovery found.
#[derive(Debug, Clone)]
pub struct Discovered {
    /// The issuer as configured (without `/.well-known/…`).
    pub issuer: String,
    /// The issuer ID tokens carry.
    pub expected_issuer: String,
    /// Entra: the tenant every token must come from.
    pub tenant_id: Option<String>,
    pub(crate) authorization_endpoint: String,
    pub(crate) token_endpoint: String,
    pub(crate) userinfo_endpoint: Option<String>,
    pub(crate) jwks_uri: String,
    pub(crate) jwks: Value,
    pub(crate) token_auth: TokenAuth,
}

fn failed(code: ErrorCode, message: String) -> Error {
    Error::invalid(code, "issuer", message)
}

/// The issuer from what an admin pasted: an issuer URL or its `.well-known` address.
pub fn issuer_from_input(raw: &str) -> Result<String> {
    let trimmed = raw.trim();
    let issuer = trimmed
        .strip_suffix(WELL_KNOWN)
        .unwrap_or(trimmed)
        .trim_end_matches('/');
    check_url("issuer", issuer)?;
    Ok(issuer.to_owned())
}

fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.chars().enumerate().all(|(i, c)| {
            matches!(i, 8 | 13 | 18 | 23) == (c == '-') && (c == '-' || c.is_ascii_hexdigit())
        })
}

/// Entra ID: the tenant the connection is for, from the issuer path or the `tenant_id` given.
fn entra_tenant(issuer: &str, given: Option<&str>) -> Result<String> {
    let url =
        Url::parse(issuer).map_err(|e| failed(ErrorCode::InvalidUpstreamUrl, e.to_string()))?;
    let first = url
        .path_segments()
        .and_then(|mut s| s.next())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let given = given.map(|t| t.trim().to_ascii_lowercase());
    if let Some(t) = &given
        && !is_guid(t)
    {
        return Err(Error::invalid(
            ErrorCode::InvalidTenantId,
            "tenant_id",
            "tenant_id must be the directory (tenant) ID, a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47",
        ));
    }
    if is_guid(&first) {
        return match given {
            Some(t) if t != first => Err(Error::invalid(
                ErrorCode::InvalidTenantId,
                "tenant_id",
                format!("tenant_id {t} differs from the tenant in the issuer ({first})"),
            )),
            _ => Ok(first),
        };
    }
    given.ok_or_else(|| {
        Error::invalid(
            ErrorCode::InvalidTenantId,
            "tenant_id",
            format!(
                "'{first}' is Entra ID's multi-tenant endpoint: give tenant_id, the organization's directory (tenant) ID, so only its users can sign in"
            ),
        )
    })
}

/// Fetches and checks the discovery document and the JWKS at `issuer`.
pub async fn discover(
    http: &UpstreamHttp,
    issuer: &str,
    preset: Option<Preset>,
    tenant_id: Option<&str>,
) -> Result<Discovered> {
    let tenant_id = match preset {
        Some(Preset::Entra) => Some(entra_tenant(issuer, tenant_id)?),
        _ => None,
    };
    let address = check_url("issuer", &format!("{issuer}{WELL_KNOWN}"))?;
    let (status, body) = http.get_json(&address, None).await.map_err(|e| {
        failed(
            ErrorCode::OidcDiscoveryFailed,
            format!("{e}; check the issuer URL"),
        )
    })?;
    if status != 200 {
        return Err(failed(
            ErrorCode::OidcDiscoveryFailed,
            format!("{address} answered HTTP {status}; check the issuer URL"),
        ));
    }
    let mut raw: Value = serde_json::from_slice(&body).map_err(|e| {
        failed(
            ErrorCode::OidcDiscoveryInvalid,
            format!("{address} did not return a JSON discovery document ({e})"),
        )
    })?;
    let advertised = raw
        .get("issuer")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let expected_issuer = match &tenant_id {
        Some(tenant) if advertised.contains(ENTRA_TEMPLATE) => {
            advertised.replace(ENTRA_TEMPLATE, tenant)
        }
        _ if advertised.trim_end_matches('/') == issuer => advertised.clone(),
        _ => {
            return Err(failed(
                ErrorCode::OidcIssuerMismatch,
                format!(
                    "the discovery document at {address} names its issuer '{advertised}', not '{issuer}'; use exactly the issuer it names"
                ),
            ));
        }
    };
    // openidconnect parses and type-checks the document (URLs, algorithm names).
    raw["issuer"] = Value::String(expected_issuer.clone());
    let metadata: CoreProviderMetadata = serde_json::from_value(raw.clone()).map_err(|e| {
        failed(
            ErrorCode::OidcDiscoveryInvalid,
            format!("the discovery document at {address} is incomplete or malformed: {e}"),
        )
    })?;
    let endpoint = |name: &str, url: &str| -> Result<String> {
        check_url("issuer", url).map_err(|_| {
            failed(
                ErrorCode::InvalidUpstreamUrl,
                format!("the IdP's {name} '{url}' must use https (plain http only on loopback addresses)"),
            )
        })?;
        Ok(url.to_owned())
    };
    let authorization_endpoint = endpoint(
        "authorization_endpoint",
        metadata.authorization_endpoint().as_str(),
    )?;
    let token_endpoint = endpoint(
        "token_endpoint",
        metadata
            .token_endpoint()
            .ok_or_else(|| {
                failed(
                    ErrorCode::OidcDiscoveryInvalid,
                    format!("the discovery document at {address} has no token_endpoint"),
                )
            })?
            .as_str(),
    )?;
    let userinfo_endpoint = metadata
        .userinfo_endpoint()
        .map(|u| endpoint("userinfo_endpoint", u.as_str()))
        .transpose()?;
    let jwks_uri = endpoint("jwks_uri", metadata.jwks_uri().as_str())?;
    let supports_code = metadata.response_types_supported().iter().any(
        |r: &openidconnect::ResponseTypes<openidconnect::core::CoreResponseType>| {
            r.iter()
                .all(|t| matches!(t, openidconnect::core::CoreResponseType::Code))
        },
    );
    if !supports_code {
        return Err(failed(
            ErrorCode::OidcDiscoveryInvalid,
            "the IdP does not offer the authorization code flow (response_types_supported lacks \"code\")".into(),
        ));
    }
    let methods: Vec<String> = raw
        .get("token_endpoint_auth_methods_supported")
        .and_then(Value::as_array)
        .map(|m| {
            m.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let token_auth = if methods.is_empty() || methods.iter().any(|m| m == "client_secret_basic") {
        TokenAuth::ClientSecretBasic
    } else if methods.iter().any(|m| m == "client_secret_post") {
        TokenAuth::ClientSecretPost
    } else {
        return Err(failed(
            ErrorCode::OidcDiscoveryInvalid,
            format!(
                "the IdP accepts neither client_secret_basic nor client_secret_post at its token endpoint (it offers {})",
                methods.join(", ")
            ),
        ));
    };
    let jwks = fetch_jwks(http, &jwks_uri).await?;
    Ok(Discovered {
        issuer: issuer.to_owned(),
        expected_issuer,
        tenant_id,
        authorization_endpoint,
        token_endpoint,
        userinfo_endpoint,
        jwks_uri,
        jwks,
        token_auth,
    })
}

/// Fetches a JWKS and checks it has at least one key that can verify ID tokens.
pub(crate) async fn fetch_jwks(http: &UpstreamHttp, jwks_uri: &str) -> Result<Value> {
    let unusable = |why: String| failed(ErrorCode::OidcJwksUnusable, why);
    let url = check_url("issuer", jwks_uri)?;
    let (status, body) = http
        .get_json(&url, None)
        .await
        .map_err(|e| unusable(format!("{e}")))?;
    if status != 200 {
        return Err(unusable(format!(
            "the JWKS at {jwks_uri} answered HTTP {status}"
        )));
    }
    let jwks: Value = serde_json::from_slice(&body)
        .map_err(|e| unusable(format!("the JWKS at {jwks_uri} is not JSON ({e})")))?;
    let parsed: CoreJsonWebKeySet = serde_json::from_value(jwks.clone())
        .map_err(|e| unusable(format!("the JWKS at {jwks_uri} is malformed ({e})")))?;
    let usable = jwks
        .get("keys")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter(|k| {
                    let signing = k
                        .get("use")
                        .and_then(Value::as_str)
                        .is_none_or(|u| u == "sig");
                    let kty = k.get("kty").and_then(Value::as_str).unwrap_or_default();
                    signing && matches!(kty, "RSA" | "EC" | "OKP")
                })
                .count()
        })
        .unwrap_or(0);
    if usable == 0 || parsed.keys().is_empty() {
        return Err(unusable(format!(
            "the JWKS at {jwks_uri} has no public signing keys (RSA, EC or OKP with use \"sig\")"
        )));
    }
    Ok(jwks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuer_may_be_pasted_as_its_well_known_address() {
        assert_eq!(
            issuer_from_input(" https://idp.example.com/tenant/.well-known/openid-configuration ")
                .unwrap(),
            "https://idp.example.com/tenant"
        );
        assert_eq!(
            issuer_from_input("https://idp.example.com/").unwrap(),
            "https://idp.example.com"
        );
        assert!(issuer_from_input("http://idp.example.com").is_err());
    }

    #[test]
    fn entra_needs_a_tenant() {
        let guid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        assert_eq!(
            entra_tenant(
                &format!("https://login.microsoftonline.com/{guid}/v2.0"),
                None
            )
            .unwrap(),
            guid
        );
        let multi = "https://login.microsoftonline.com/organizations/v2.0";
        assert_eq!(entra_tenant(multi, Some(guid)).unwrap(), guid);
        assert_eq!(
            entra_tenant(multi, None).unwrap_err().field(),
            Some("tenant_id")
        );
        assert_eq!(
            entra_tenant(multi, Some("contoso")).unwrap_err().field(),
            Some("tenant_id")
        );
        let other = "8f4a7e1c-0000-4000-8000-000000000000";
        assert!(
            entra_tenant(
                &format!("https://login.microsoftonline.com/{guid}/v2.0"),
                Some(other)
            )
            .is_err()
        );
    }
}
