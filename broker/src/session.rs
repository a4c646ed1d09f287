//! Browser sessions: created when a user signs in (by the login pages, any method), read by the
//! authorize endpoint, ended by sign-out or an admin. Server-side: the cookie carries a random
//! token whose SHA-256 is the only thing stored.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, Utc};
use entities::session;
use entities::{OrgId, SessionId, UserId, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbBackend, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect as _, QueryTrait as _, Statement, Value,
};
use secrecy::SecretString;
use serde_json::json;

use crate::Broker;
use crate::crypto::{hash_secret, random_token};
use crate::error::{Error, ErrorCode, Result};
use crate::user::User;

/// A session as stored.
pub type Session = session::Model;

/// Every session token starts with this.
pub const TOKEN_PREFIX: &str = "tss_";
/// A session ends after this long without use.
pub const IDLE_TIMEOUT: Duration = Duration::days(3);
/// A session ends this long after sign-in, however active.
pub const ABSOLUTE_TIMEOUT: Duration = Duration::days(14);
/// How stale `last_seen_at` may get before a request refreshes it (saves a write per request).
const TOUCH_AFTER: Duration = Duration::minutes(1);

/// A sign-in to record.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Who signed in.
    pub user: UserId,
    /// The organization they signed in through (federation), if any.
    pub org: Option<OrgId>,
    /// RFC 8176 methods used (`pwd`, `otp`, `hwk`, `swk`, `user`, `mfa`, `fed`…).
    pub amr: Vec<String>,
    /// The authentication context class reached, if any.
    pub acr: Option<String>,
    /// The browser's User-Agent.
    pub user_agent: Option<String>,
    /// The client IP.
    pub ip: Option<String>,
}

/// A live session with its user's only organization, read in one statement: what an
/// authorization request needs to know about the browser.
#[derive(Debug, Clone, FromQueryResult)]
pub struct AuthorizingSession {
    /// The session.
    #[sea_orm(nested)]
    pub session: Session,
    /// The organization the user is an active member of, when it is their only one: where a
    /// grant goes when neither the app nor the request names one.
    pub only_org_id: Option<OrgId>,
}

/// The user's organization when they are an active member of exactly one, as a column of a
/// query on `sessions` (a subquery, so that the authorize endpoint reads it with the session
/// instead of in a second round trip).
const ONLY_ORG_OF_SESSION_USER: &str = r#"(SELECT m."org_id" FROM "memberships" m
    WHERE m."user_id" = "sessions"."user_id" AND m."status" = 'active'
    AND NOT EXISTS (SELECT 1 FROM "memberships" o WHERE o."user_id" = m."user_id"
        AND o."status" = 'active' AND o."org_id" <> m."org_id")
    LIMIT 1)"#;

/// The read of a session by its token's hash, with the user's only organization. Building
/// it with sea-query on every authorization request cost more instructions in Tessera than
/// the rest of the read, so the text is built once per backend and only the hash changes.
fn authorizing_session_statement(backend: DbBackend, token_hash: Vec<u8>) -> Statement {
    let build = |hash| authorizing_session_select(backend, hash);
    static BUILT: [OnceLock<Statement>; 2] = [OnceLock::new(), OnceLock::new()];
    let built = match backend {
        DbBackend::Postgres => &BUILT[0],
        DbBackend::Sqlite => &BUILT[1],
        _ => return build(token_hash),
    };
    let mut statement = built.get_or_init(|| build(Vec::new())).clone();
    // The hash is the statement's first value (the select list has none; the limit follows).
    match statement.values.as_mut().and_then(|v| v.0.first_mut()) {
        Some(value @ Value::Bytes(_)) => *value = token_hash.into(),
        _ => return build(token_hash),
    }
    statement
}

/// [`authorizing_session_statement`] as sea-query builds it.
fn authorizing_session_select(backend: DbBackend, token_hash: Vec<u8>) -> Statement {
    session::Entity::find()
        .filter(session::Column::TokenHash.eq(token_hash))
        .expr_as(Expr::cust(ONLY_ORG_OF_SESSION_USER), "only_org_id")
        .limit(1)
        .build(backend)
}

/// The session's authentication methods.
pub fn amr_of(session: &Session) -> Vec<String> {
    serde_json::from_value(session.amr.clone()).unwrap_or_default()
}

impl Broker {
    /// Starts a session and returns it with the cookie token (shown once, stored as a hash).
    pub async fn create_session(&self, new: NewSession) -> Result<(Session, SecretString)> {
        let now = self.now();
        let token = format!("{TOKEN_PREFIX}{}", random_token::<32>());
        let session = session::ActiveModel {
            id: Set(SessionId::new()),
            user_id: Set(new.user),
            org_id: Set(new.org),
            token_hash: Set(hash_secret(&token)),
            amr: Set(json!(new.amr)),
            acr: Set(new.acr),
            auth_time: Set(now),
            created_at: Set(now),
            last_seen_at: Set(now),
            idle_expires_at: Set(now + IDLE_TIMEOUT),
            expires_at: Set(now + ABSOLUTE_TIMEOUT),
            user_agent: Set(new.user_agent),
            ip: Set(new.ip),
            revoked_at: Set(None),
        }
        .insert(self.db())
        .await?;
        Ok((session, SecretString::from(token)))
    }

    /// The live session a cookie token stands for, sliding its idle expiry forward; `None` when
    /// the token is unknown, revoked or expired.
    pub async fn session_from_token(&self, token: &str) -> Result<Option<Session>> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let found = session::Entity::find()
            .filter(session::Column::TokenHash.eq(hash_secret(token)))
            .one(self.db())
            .await?;
        self.live_and_touched(found).await
    }

    /// [`Self::session_from_token`] with the user's only organization, for the authorize
    /// endpoint (one statement).
    pub async fn authorizing_session(&self, token: &str) -> Result<Option<AuthorizingSession>> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let statement =
            authorizing_session_statement(self.db().get_database_backend(), hash_secret(token));
        let found = AuthorizingSession::find_by_statement(statement)
            .one(self.db())
            .await?;
        let Some(found) = found else {
            return Ok(None);
        };
        Ok(self
            .live_and_touched(Some(found.session))
            .await?
            .map(|session| AuthorizingSession { session, ..found }))
    }

    /// `found` if it is live, its use recorded (at most once a minute: a write saved per
    /// request).
    async fn live_and_touched(&self, found: Option<Session>) -> Result<Option<Session>> {
        let now = self.now();
        let Some(session) = found.filter(|s| is_live(s, now)) else {
            return Ok(None);
        };
        if now - session.last_seen_at > TOUCH_AFTER {
            let idle_until = (now + IDLE_TIMEOUT).min(session.expires_at);
            session::Entity::update_many()
                .col_expr(session::Column::LastSeenAt, Expr::value(now))
                .col_expr(session::Column::IdleExpiresAt, Expr::value(idle_until))
                .filter(session::Column::Id.eq(session.id))
                .exec(self.db())
                .await?;
        }
        Ok(Some(session))
    }

    /// The user of session `id` while the session stands (for tokens minted from it), read
    /// with the session in one statement; `None` once it has ended. The user may be disabled:
    /// the caller decides what that means.
    pub(crate) async fn live_session_user(&self, id: SessionId) -> Result<Option<User>> {
        let now = self.now();
        let found = session::Entity::find_by_id(id)
            .find_also_related(user::Entity)
            .one(self.db())
            .await?;
        Ok(match found {
            Some((session, user)) if is_live(&session, now) => user,
            _ => None,
        })
    }

    /// The user's live sessions, most recently used first.
    pub async fn sessions_of(&self, user: UserId) -> Result<Vec<Session>> {
        let now = self.now();
        Ok(session::Entity::find()
            .filter(session::Column::UserId.eq(user))
            .filter(session::Column::RevokedAt.is_null())
            .filter(session::Column::ExpiresAt.gt(now))
            .filter(session::Column::IdleExpiresAt.gt(now))
            .order_by_desc(session::Column::LastSeenAt)
            .all(self.db())
            .await?)
    }

    /// Ends one of the user's own sessions (the account page); other users' sessions are
    /// invisible here.
    pub async fn revoke_own_session(
        &self,
        user: UserId,
        id: SessionId,
        client: &crate::login::ClientInfo,
    ) -> Result<()> {
        let revoked = session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(self.now()))
            .filter(session::Column::Id.eq(id))
            .filter(session::Column::UserId.eq(user))
            .filter(session::Column::RevokedAt.is_null())
            .exec(self.db())
            .await?;
        if revoked.rows_affected == 0 {
            return Err(Error::new(
                ErrorCode::SessionNotFound,
                format!("no session '{id}'"),
            ));
        }
        crate::audit::record(
            self.db(),
            self.now(),
            crate::audit::Entry {
                actor: &client.actor(Some(user)),
                org: None,
                action: crate::audit::AuditAction::UserSignedOut,
                target: crate::audit::Target::new("session", id),
                data: json!({}),
            },
        )
        .await?;
        Ok(())
    }

    /// Ends a session.
    pub async fn revoke_session(&self, id: SessionId) -> Result<()> {
        session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(self.now()))
            .filter(session::Column::Id.eq(id))
            .filter(session::Column::RevokedAt.is_null())
            .exec(self.db())
            .await?;
        Ok(())
    }
}

fn is_live(session: &Session, now: DateTime<Utc>) -> bool {
    session.revoked_at.is_none() && session.idle_expires_at > now && session.expires_at > now
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kept_authorizing_statement_is_the_one_sea_query_builds() {
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            for hash in [vec![1, 2, 3], vec![9; 32]] {
                let built = authorizing_session_select(backend, hash.clone());
                let kept = authorizing_session_statement(backend, hash);
                assert_eq!(kept.sql, built.sql);
                assert_eq!(format!("{:?}", kept.values), format!("{:?}", built.values));
            }
        }
    }
}
