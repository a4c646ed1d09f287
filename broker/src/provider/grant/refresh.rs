//! The refresh token grant (RFC 6749 §6) with rotation: every use returns a new refresh token
//! and retires the old one; presenting a retired token again means it leaked, so the whole
//! family is revoked (RFC 9700 §4.14.2).

use entities::refresh_token;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::TokenRequest;
use super::authorization_code::required;
use crate::Broker;
use crate::crypto::hash_secret;
use crate::error::{Error, ErrorCode, Result};
use crate::provider::client::Client;
use crate::provider::client::list_of;
use crate::provider::scope::Scopes;
use crate::provider::token::TokenResponse;
use crate::provider::user_tokens::{GrantSubject, UserGrant};

fn invalid_grant(message: &str) -> Error {
    Error::new(ErrorCode::InvalidGrant, message)
}

impl Broker {
    pub(super) async fn refresh(
        &self,
        client: &Client,
        request: &TokenRequest,
    ) -> Result<TokenResponse> {
        let presented = required(request.refresh_token.as_deref(), "refresh_token")?;
        let now = self.now();
        let stored = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(hash_secret(presented)))
            .one(self.db())
            .await?
            .filter(|t| t.client_id == client.id)
            .ok_or_else(|| invalid_grant("the refresh token is unknown"))?;
        // Independent reads (the store and the database): at once. The subject is used only
        // if every check below passes.
        let family = stored.family_id.to_string();
        let (revoked, subject) =
            tokio::join!(self.grant_revoked(&family), self.grant_subject_of(&stored));
        if stored.revoked_at.is_some() || revoked? {
            return Err(invalid_grant("the refresh token was revoked"));
        }
        if stored.rotated_at.is_some() {
            return self.reuse_detected(&stored).await;
        }
        if stored.expires_at <= now || stored.absolute_expires_at <= now {
            return Err(invalid_grant("the refresh token has expired"));
        }
        let scope = match request.scope.as_deref() {
            None => Scopes::parse(&stored.scope, ErrorCode::InvalidScope, "scope")?,
            Some(raw) => {
                let asked = Scopes::parse(raw, ErrorCode::InvalidScope, "scope")?;
                let granted = Scopes::parse(&stored.scope, ErrorCode::InvalidScope, "scope")?;
                if let Some(extra) = asked.not_in(&granted).next() {
                    return Err(Error::new(
                        ErrorCode::InvalidScope,
                        format!("scope '{extra}' was not part of the original grant"),
                    ));
                }
                asked
            }
        };
        let subject = match subject {
            Ok(subject) => subject,
            Err(e) => {
                self.revoke_grant(stored.family_id).await?;
                return Err(e);
            }
        };
        let (user, org, roles) = subject;
        let grant = UserGrant {
            grant_id: stored.family_id,
            user,
            org,
            roles,
            session_id: stored.session_id,
            scope,
            nonce: None,
            auth_time: stored.auth_time.unwrap_or(stored.created_at),
            amr: stored.amr.as_ref().map(list_of).unwrap_or_default(),
            acr: stored.acr.clone(),
            resources: stored.resources.as_ref().map(list_of).unwrap_or_default(),
        };
        // RFC 6749 §6: a narrower scope narrows the tokens issued now; the new refresh token keeps
        // the grant's full scope.
        let full_scope = Scopes::parse(&stored.scope, ErrorCode::InvalidScope, "scope")?;
        // Two single-statement writes in this order instead of a transaction (which costs two
        // more round trips, BEGIN and COMMIT, on the hottest write path). The successor is
        // stored first and handed out only once the presented token is retired, so no outcome
        // is half-written for the app: if retiring fails or the process dies in between, the
        // presented token still works and the successor is a row whose secret nobody ever saw
        // (the sweep deletes it with the family); if another request retired the token first,
        // this is a reuse and revoking the family revokes the successor with it.
        let response = self
            .issue_user_tokens(
                client,
                &grant,
                Some((stored.absolute_expires_at, full_scope)),
            )
            .await?;
        let retired = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RotatedAt, Expr::value(now))
            .filter(refresh_token::Column::Id.eq(stored.id))
            .filter(refresh_token::Column::RotatedAt.is_null())
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(self.db())
            .await?;
        if retired.rows_affected != 1 {
            return self.reuse_detected(&stored).await;
        }
        Ok(response)
    }

    async fn grant_subject_of(&self, stored: &refresh_token::Model) -> Result<GrantSubject> {
        let user = stored
            .user_id
            .ok_or_else(|| invalid_grant("the refresh token has no user"))?;
        self.grant_subject(user, stored.org_id).await
    }

    async fn reuse_detected(&self, stored: &refresh_token::Model) -> Result<TokenResponse> {
        tracing::warn!(family = %stored.family_id, client = %stored.client_id,
            "refresh token reused; revoking its family");
        self.revoke_grant(stored.family_id).await?;
        Err(invalid_grant(
            "this refresh token was already used; the grant has been revoked",
        ))
    }
}
