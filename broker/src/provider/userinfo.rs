//! The UserInfo endpoint (OIDC Core §5.3): the signed-in user's claims, released by the scopes
//! of the access token presented.

use serde_json::{Map, Value, json};

use super::scope::Scopes;
use super::token::AccessTokenClaims;
use super::user_tokens::{UserGrant, custom_claims, identity_claims};
use crate::Broker;
use crate::error::{Error, ErrorCode, Result};

fn invalid_token(message: &str) -> Error {
    Error::new(ErrorCode::InvalidToken, message.to_owned())
}

impl Broker {
    /// Claims for the bearer of `access_token`: a token Tessera issued for its own userinfo
    /// audience, with the `openid` scope, for a user who can still sign in.
    pub async fn userinfo(&self, access_token: &str) -> Result<Map<String, Value>> {
        let issuer = self.provider().issuer.clone();
        let claims: AccessTokenClaims = self
            .verify_jwt(access_token, "at+jwt", Some(&[issuer.as_str()]))
            .await?;
        if claims.sid.is_none() || !self.access_token_live(&claims).await? {
            return Err(invalid_token("the token is not a live user token"));
        }
        let scope = Scopes::parse(&claims.scope, ErrorCode::InvalidScope, "scope")?;
        if !scope.contains("openid") {
            return Err(Error::new(
                ErrorCode::InsufficientScope,
                "userinfo needs a token with the openid scope",
            ));
        }
        let user = claims
            .sub
            .parse::<entities::UserId>()
            .map_err(|_| invalid_token("the token's subject is not a user"))?;
        let org = claims
            .org_id
            .as_deref()
            .map(|o| o.parse::<entities::OrgId>())
            .transpose()
            .map_err(|_| invalid_token("the token's organization is malformed"))?;
        let (user, org, roles) = self
            .grant_subject(user, org)
            .await
            .map_err(|_| invalid_token("the user can no longer sign in"))?;
        let client = self
            .find_client(&claims.client_id)
            .await?
            .ok_or_else(|| invalid_token("the app was removed"))?;
        let grant = UserGrant {
            grant_id: entities::TokenFamilyId::new(),
            user,
            org,
            roles,
            session_id: None,
            scope,
            nonce: None,
            auth_time: self.now(),
            amr: Vec::new(),
            acr: None,
            resources: Vec::new(),
        };
        let mut out = Map::new();
        out.insert("sub".into(), json!(grant.user.id.to_string()));
        out.extend(identity_claims(&grant));
        out.extend(custom_claims(&client, &grant.user, grant.org.as_ref()));
        Ok(out)
    }
}
