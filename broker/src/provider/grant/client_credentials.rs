//! The client credentials grant (RFC 6749 §4.4): a confidential app gets an access token for
//! itself, with the scopes registered for it and an optional RFC 8707 audience.

use super::{TokenRequest, resource_audiences};
use crate::Broker;
use crate::error::{Error, ErrorCode, Result};
use crate::provider::client::{Client, list_of};
use crate::provider::scope::Scopes;
use crate::provider::token::{AccessTokenClaims, Audience, TokenResponse};

impl Broker {
    pub(super) async fn client_credentials(
        &self,
        client: &Client,
        request: &TokenRequest,
    ) -> Result<TokenResponse> {
        let registered = Scopes::from_list(
            list_of(&client.scopes).iter().map(String::as_str),
            ErrorCode::InvalidScope,
            "scope",
        )?;
        let scope = match request.scope.as_deref() {
            None => registered,
            Some(raw) => {
                let asked = Scopes::parse(raw, ErrorCode::InvalidScope, "scope")?;
                if let Some(extra) = asked.not_in(&registered).next() {
                    return Err(Error::new(
                        ErrorCode::InvalidScope,
                        format!("scope '{extra}' is not registered for this app"),
                    ));
                }
                asked
            }
        };
        let audiences = resource_audiences(&request.resources)?;
        let settings = self.provider();
        let aud = if audiences.is_empty() {
            Audience::One(settings.issuer.clone())
        } else {
            Audience::from_list(audiences)
        };
        let now = self.epoch(self.now());
        let ttl = settings.access_token_ttl.as_secs();
        let claims = AccessTokenClaims {
            iss: settings.issuer.clone(),
            sub: client.id.to_string(),
            aud,
            exp: now + ttl as i64,
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
            client_id: client.id.to_string(),
            scope: scope.to_string(),
            org_id: client.org_id.map(|o| o.to_string()),
            roles: None,
            auth_time: None,
            acr: None,
            amr: None,
            sid: None,
            extra: serde_json::Map::new(),
        };
        let access_token = self.sign_access_token(client, &claims).await?;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: ttl,
            scope: Some(claims.scope).filter(|s| !s.is_empty()),
            refresh_token: None,
            id_token: None,
        })
    }
}
