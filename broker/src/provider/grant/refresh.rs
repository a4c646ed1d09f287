//! The refresh token grant (RFC 6749 §6) with rotation: every use returns a new refresh token
//! and retires the old one; presenting a retired token again means it leaked, so the whole
//! family is revoked (RFC 9700 §4.14.2).

use std::sync::OnceLock;

use entities::{refresh_token, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait as _, DbBackend, EntityTrait, QueryFilter, Statement, Value,
};

use super::TokenRequest;
use super::authorization_code::required;
use super::{insert_select_text, row_values};
use crate::Broker;
use crate::crypto::hash_secret;
use crate::error::{Error, ErrorCode, Result};
use crate::provider::client::Client;
use crate::provider::client::list_of;
use crate::provider::scope::Scopes;
use crate::provider::token::TokenResponse;
use crate::provider::user_tokens::{GrantSubject, UserGrant, active};
use crate::user::User;

pub(super) fn invalid_grant(message: &str) -> Error {
    Error::new(ErrorCode::InvalidGrant, message)
}

impl Broker {
    pub(super) async fn refresh(
        &self,
        client: &Client,
        request: &TokenRequest,
    ) -> Result<TokenResponse> {
        let presented = required(request.refresh_token.as_deref(), "refresh_token")?;
        // With the grant's full scope (almost every refresh), PostgreSQL retires and stores in
        // the statement that reads the token; the checks below run only when it retired none.
        if request.scope.is_none()
            && self.db().get_database_backend() == DbBackend::Postgres
            && let Some(response) = self.refresh_in_one_statement(client, presented).await?
        {
            return Ok(response);
        }
        let now = self.now();
        // The token with its user, in one statement.
        let (stored, user) = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(hash_secret(presented)))
            .find_also_related(user::Entity)
            .one(self.db())
            .await?
            .filter(|(t, _)| t.client_id == client.id)
            .ok_or_else(|| invalid_grant("the refresh token is unknown"))?;
        // Independent reads (the store and, for an org grant, the database): at once. The
        // subject is used only if every check below passes.
        let family = stored.family_id.to_string();
        let (revoked, subject) = tokio::join!(
            self.grant_revoked(&family),
            self.grant_subject_of(&stored, user)
        );
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
        let grant = grant_of(&stored, subject, scope);
        // RFC 6749 §6: a narrower scope narrows the tokens issued now; the new refresh token keeps
        // the grant's full scope.
        let full_scope = Scopes::parse(&stored.scope, ErrorCode::InvalidScope, "scope")?;
        let mut response = self.issue_user_tokens(client, &grant, None).await?;
        let (successor, row) = self.refresh_token_row(
            client,
            grant.refresh_record(),
            stored.absolute_expires_at,
            &full_scope,
        )?;
        if !self.rotate(&stored, row).await? {
            // Another request retired the token first: one of the two is a replay.
            return self.reuse_detected(&stored).await;
        }
        response.refresh_token = Some(successor);
        Ok(response)
    }

    /// Retires `stored` and stores its `successor`, unless `stored` was retired or revoked
    /// meanwhile; says whether it rotated. Never a transaction (BEGIN and COMMIT are two more
    /// round trips on the hottest write path):
    ///
    /// - PostgreSQL: one statement, the UPDATE in a CTE and the INSERT selecting from it, so
    ///   the successor exists exactly when the presented token was retired (one round trip,
    ///   one commit).
    /// - SQLite (no writing CTEs): the successor first, then the conditional UPDATE. If
    ///   retiring fails or the process dies in between, the presented token still works and the
    ///   successor is a row whose secret nobody saw (the sweep deletes it with the family); if
    ///   another request retired the token first, revoking the family revokes the successor.
    async fn rotate(
        &self,
        stored: &refresh_token::Model,
        successor: refresh_token::ActiveModel,
    ) -> Result<bool> {
        let now = self.now();
        if self.db().get_database_backend() == DbBackend::Postgres {
            let rotated = self
                .db()
                .execute_raw(rotation_statement(stored, &successor, now)?)
                .await?;
            return Ok(rotated.rows_affected() == 1);
        }
        refresh_token::Entity::insert(successor)
            .exec_without_returning(self.db())
            .await?;
        let retired = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RotatedAt, Expr::value(now))
            .filter(refresh_token::Column::Id.eq(stored.id))
            .filter(refresh_token::Column::RotatedAt.is_null())
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(self.db())
            .await?;
        Ok(retired.rows_affected == 1)
    }

    /// The grant's subject, from the `user` read with the token, or for an org grant from the
    /// membership (one statement: user, organization and roles).
    pub(super) async fn grant_subject_of(
        &self,
        stored: &refresh_token::Model,
        user: Option<User>,
    ) -> Result<GrantSubject> {
        let user_id = stored
            .user_id
            .ok_or_else(|| invalid_grant("the refresh token has no user"))?;
        match stored.org_id {
            None => Ok((active(user)?, None, Vec::new())),
            Some(org) => self.org_subject(org, user_id).await,
        }
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

/// PostgreSQL's rotation in one statement: retire `stored` if it is neither rotated nor revoked
/// and insert `successor` only then.
fn rotation_statement(
    stored: &refresh_token::Model,
    successor: &refresh_token::ActiveModel,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Statement> {
    static SQL: OnceLock<String> = OnceLock::new();
    let sql = SQL.get_or_init(|| {
        let (columns, placeholders) = insert_select_text(3);
        format!(
            "WITH retired AS (UPDATE refresh_tokens SET rotated_at = $1 \
             WHERE id = $2 AND rotated_at IS NULL AND revoked_at IS NULL RETURNING id) \
             INSERT INTO refresh_tokens ({columns}) SELECT {placeholders} FROM retired"
        )
    });
    let mut values: Vec<Value> = vec![now.into(), stored.id.into()];
    values.extend(row_values(successor)?);
    Ok(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql.as_str(),
        values,
    ))
}

/// The grant a stored refresh token carries, for `subject` and the `scope` issued now.
pub(super) fn grant_of(
    stored: &refresh_token::Model,
    (user, org, roles): GrantSubject,
    scope: Scopes,
) -> UserGrant {
    UserGrant {
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
    }
}
