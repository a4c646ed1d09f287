//! The token endpoint: client authentication and the grants (RFC 6749 §4, RFC 8628).

mod authorization_code;
mod client_credentials;
mod device_code;
mod refresh;
mod rotation;

use entities::client::ClientType;
use entities::refresh_token;
use sea_orm::{ActiveModelTrait as _, ActiveValue, IdenStatic as _, Iterable as _, Value};
use secrecy::{ExposeSecret, SecretString};

use super::client::{Client, GrantType, grants_of};
use super::token::TokenResponse;
use crate::Broker;
use crate::error::{Error, ErrorCode, Result};
use crate::rate_limit::CLIENT_AUTH_FAILURES_PER_IP;

/// How the app identified itself at the token endpoint.
#[derive(Debug)]
pub enum ClientAuth {
    /// HTTP Basic with the client id and secret (`client_secret_basic`).
    Basic {
        /// The client id.
        client_id: String,
        /// The secret.
        secret: SecretString,
    },
    /// `client_id` and `client_secret` in the form body (`client_secret_post`).
    Post {
        /// The client id.
        client_id: String,
        /// The secret.
        secret: SecretString,
    },
    /// Only `client_id` (public apps, `none`).
    Public {
        /// The client id.
        client_id: String,
    },
}

impl ClientAuth {
    fn client_id(&self) -> &str {
        match self {
            Self::Basic { client_id, .. }
            | Self::Post { client_id, .. }
            | Self::Public { client_id } => client_id,
        }
    }

    fn method(&self) -> &'static str {
        match self {
            Self::Basic { .. } => "client_secret_basic",
            Self::Post { .. } => "client_secret_post",
            Self::Public { .. } => "none",
        }
    }
}

/// A token request after the HTTP layer parsed the form.
#[derive(Debug, Default)]
pub struct TokenRequest {
    /// `grant_type`.
    pub grant_type: String,
    /// `scope`.
    pub scope: Option<String>,
    /// `resource` (RFC 8707), possibly several.
    pub resources: Vec<String>,
    /// `code` (authorization code grant).
    pub code: Option<String>,
    /// `redirect_uri` (authorization code grant).
    pub redirect_uri: Option<String>,
    /// `code_verifier` (PKCE).
    pub code_verifier: Option<String>,
    /// `refresh_token` (refresh grant).
    pub refresh_token: Option<String>,
    /// `device_code` (device grant).
    pub device_code: Option<String>,
}

/// The generic failure for a client that cannot be authenticated: the same answer whether the
/// id is unknown or the secret is wrong, so ids cannot be probed.
fn invalid_client() -> Error {
    Error::new(ErrorCode::InvalidClient, "client authentication failed")
}

fn secrets_match(presented: &SecretString, stored: Option<&[u8]>) -> bool {
    let Some(stored) = stored else {
        return false;
    };
    let presented = crate::crypto::hash_secret(presented.expose_secret());
    aws_lc_rs::constant_time::verify_slices_are_equal(&presented, stored).is_ok()
}

/// Whether `auth` proves to be `client`: the method it registered, and its secret (or, for a
/// public app, none).
fn authenticates(client: &Client, auth: &ClientAuth) -> bool {
    let method_fits = client.token_endpoint_auth_method == auth.method();
    let secret_fits = match auth {
        ClientAuth::Basic { secret, .. } | ClientAuth::Post { secret, .. } => {
            secrets_match(secret, client.secret_hash.as_deref())
        }
        ClientAuth::Public { .. } => client.client_type == ClientType::Public,
    };
    method_fits && secret_fits
}

impl Broker {
    /// Authenticates the app making a token, introspection or revocation request. Failures
    /// count against a per-IP limit.
    pub async fn authenticate_client(&self, auth: &ClientAuth, ip: Option<&str>) -> Result<Client> {
        let mut authenticated = self
            .find_client(auth.client_id())
            .await?
            .filter(|client| authenticates(client, auth));
        if authenticated.is_none() {
            // This replica's copy may predate a secret set through another replica.
            authenticated = self
                .reload_client(auth.client_id())
                .await?
                .filter(|client| authenticates(client, auth));
        }
        match authenticated {
            Some(client) => Ok(client),
            None => {
                self.count_against(CLIENT_AUTH_FAILURES_PER_IP, ip.unwrap_or("unknown"))
                    .await?;
                Err(invalid_client())
            }
        }
    }

    /// Serves a token request from an authenticated app.
    pub async fn token(&self, client: &Client, request: TokenRequest) -> Result<TokenResponse> {
        let Some(grant) = GrantType::parse(&request.grant_type) else {
            return Err(Error::new(
                ErrorCode::UnsupportedGrantType,
                format!("grant_type '{}' is not supported", request.grant_type),
            ));
        };
        if !grants_of(client).contains(&grant) {
            return Err(Error::new(
                ErrorCode::UnauthorizedClient,
                format!("this app may not use the {} grant", grant.as_str()),
            ));
        }
        match grant {
            GrantType::ClientCredentials => self.client_credentials(client, &request).await,
            GrantType::AuthorizationCode => self.authorization_code(client, &request).await,
            GrantType::RefreshToken => self.refresh(client, &request).await,
            GrantType::DeviceCode => self.device_code(client, &request).await,
        }
    }
}

/// The most resource indicators one request may carry.
const MAX_RESOURCES: usize = 8;

/// Validates RFC 8707 resource indicators: absolute URIs without a fragment, at most eight.
pub(crate) fn resource_audiences(resources: &[String]) -> Result<Vec<String>> {
    if resources.len() > MAX_RESOURCES {
        return Err(Error::new(
            ErrorCode::InvalidTarget,
            format!("at most {MAX_RESOURCES} resource indicators"),
        ));
    }
    resources
        .iter()
        .map(|r| {
            let valid =
                url::Url::parse(r).is_ok_and(|u| u.fragment().is_none() && !u.cannot_be_a_base());
            if valid {
                Ok(r.clone())
            } else {
                Err(Error::new(
                    ErrorCode::InvalidTarget,
                    format!("resource '{r}' must be an absolute URI without a fragment"),
                ))
            }
        })
        .collect()
}

/// The value of every column of `row`, in the entity's column order, for an `INSERT … SELECT`
/// written out by hand (sea-query builds no INSERT that selects from a CTE) with
/// [`insert_select_text`]. `refresh_token_row` sets every column; one not set is a bug.
fn row_values(row: &refresh_token::ActiveModel) -> Result<Vec<Value>> {
    refresh_token::Column::iter()
        .map(|column| match row.get(column) {
            ActiveValue::Set(value) | ActiveValue::Unchanged(value) => Ok(value),
            ActiveValue::NotSet => Err(Error::internal(format!(
                "refresh token column {} not set",
                column.as_str()
            ))),
        })
        .collect()
}

/// The quoted column list of `refresh_tokens` and a placeholder for each, numbered from
/// `first`: the text around [`row_values`]. The columns come from the entity, so statements
/// follow the schema; callers write their statement's text once (it is the same for every
/// token) instead of formatting some forty pieces per request.
fn insert_select_text(first: usize) -> (String, String) {
    let count = refresh_token::Column::iter().count();
    let placeholders = (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ");
    (quoted_columns(), placeholders)
}

/// Every column of `refresh_tokens`, quoted, in the entity's order: an INSERT's column list.
fn quoted_columns() -> String {
    refresh_token::Column::iter()
        .map(|c| format!("\"{}\"", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_select_text_numbers_a_placeholder_for_every_column_it_lists() {
        let (columns, placeholders) = insert_select_text(4);
        let count = refresh_token::Column::iter().count();
        assert_eq!(columns.split(", ").count(), count);
        let numbers: Vec<_> = placeholders.split(", ").collect();
        assert_eq!(numbers.first(), Some(&"$4"));
        assert_eq!(
            numbers.last().copied(),
            Some(format!("${}", 3 + count).as_str())
        );
        assert!(columns.starts_with("\"id\", \"token_hash\""), "{columns}");
    }
}
