//! Token introspection (RFC 7662) and revocation (RFC 7009) for apps' resource servers.

use entities::client::ClientType;
use entities::refresh_token;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use super::client::Client;
use super::token::AccessTokenClaims;
use crate::Broker;
use crate::crypto::hash_secret;
use crate::error::{Error, ErrorCode, Result};

/// Refresh tokens start with this; access tokens are JWTs.
pub const REFRESH_PREFIX: &str = "trt_";

fn inactive() -> Value {
    json!({ "active": false })
}

/// Whether an app restricted to one organization may learn about a token of `org`.
fn same_tenant(caller: &Client, org: Option<&str>) -> bool {
    match caller.org_id {
        None => true,
        Some(own) => org == Some(own.to_string().as_str()),
    }
}

impl Broker {
    /// Describes a token for a resource server. Only confidential apps may ask, and an app
    /// restricted to one organization learns nothing about other organizations' tokens.
    pub async fn introspect(&self, caller: &Client, token: &str) -> Result<Value> {
        if caller.client_type != ClientType::Confidential {
            return Err(Error::new(
                ErrorCode::UnauthorizedClient,
                "only confidential apps may introspect tokens",
            ));
        }
        if token.starts_with(REFRESH_PREFIX) {
            return self.introspect_refresh_token(caller, token).await;
        }
        let Ok(claims) = self
            .verify_jwt::<AccessTokenClaims>(token, "at+jwt", None)
            .await
        else {
            return Ok(inactive());
        };
        if !same_tenant(caller, claims.org_id.as_deref())
            || !self.access_token_live(&claims).await?
        {
            return Ok(inactive());
        }
        let mut body = serde_json::to_value(&claims).map_err(Error::internal)?;
        if let Value::Object(members) = &mut body {
            members.insert("active".into(), json!(true));
            members.insert("token_type".into(), json!("Bearer"));
        }
        Ok(body)
    }

    async fn introspect_refresh_token(&self, caller: &Client, token: &str) -> Result<Value> {
        let now = self.now();
        let stored = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(hash_secret(token)))
            .one(self.db())
            .await?;
        let Some(stored) = stored.filter(|t| {
            t.revoked_at.is_none()
                && t.rotated_at.is_none()
                && t.expires_at > now
                && t.absolute_expires_at > now
        }) else {
            return Ok(inactive());
        };
        let org = stored.org_id.map(|o| o.to_string());
        if stored.client_id != caller.id && !same_tenant(caller, org.as_deref()) {
            return Ok(inactive());
        }
        Ok(json!({
            "active": true,
            "token_type": "refresh_token",
            "client_id": stored.client_id.to_string(),
            "sub": stored.user_id.map(|u| u.to_string()),
            "scope": stored.scope,
            "org_id": org,
            "iat": stored.created_at.timestamp(),
            "exp": stored.expires_at.min(stored.absolute_expires_at).timestamp(),
            "iss": self.provider().issuer,
        }))
    }

    /// Whether a verified access token still stands: its grant not revoked, and for tokens on
    /// a user's behalf, the user still active.
    pub(crate) async fn access_token_live(&self, claims: &AccessTokenClaims) -> Result<bool> {
        if let Some(grant) = claims.extra.get("grant_id").and_then(Value::as_str)
            && self.grant_revoked(grant).await?
        {
            return Ok(false);
        }
        if claims.sid.is_none() {
            return Ok(true); // an app's own token (client credentials)
        }
        let Ok(user) = claims.sub.parse::<entities::UserId>() else {
            return Ok(false);
        };
        Ok(entities::user::Entity::find_by_id(user)
            .one(self.db())
            .await?
            .is_some_and(|u| u.status == entities::user::UserStatus::Active))
    }

    /// Revokes a refresh token (and with it its whole grant) issued to `caller`.
    /// Unknown tokens, other apps' tokens and access tokens (short-lived JWTs, which cannot be
    /// recalled) are accepted silently, as RFC 7009 §2.2 asks.
    pub async fn revoke(&self, caller: &Client, token: &str) -> Result<()> {
        if !token.starts_with(REFRESH_PREFIX) {
            return Ok(());
        }
        let stored = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(hash_secret(token)))
            .filter(refresh_token::Column::ClientId.eq(caller.id))
            .one(self.db())
            .await?;
        if let Some(stored) = stored {
            self.revoke_grant(stored.family_id).await?;
        }
        Ok(())
    }
}
