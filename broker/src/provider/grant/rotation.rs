//! PostgreSQL's refresh in one statement: retire the presented token when it is this app's,
//! live and unused, store its successor with the same grant, and read the token with its user,
//! all at once. Only when nothing was retired does the refresh grant read the token to say why
//! (unknown, revoked, expired, or used before: a reuse that revokes the grant).

use std::sync::OnceLock;

use entities::{ClientId, RefreshTokenId, refresh_token, user};
use sea_orm::{
    ConnectionTrait as _, DbBackend, FromQueryResult as _, IdenStatic as _, Iterable as _,
    Statement, Value,
};

use super::quoted_columns;
use super::refresh::{grant_of, invalid_grant};
use crate::Broker;
use crate::crypto::hash_secret;
use crate::error::{ErrorCode, Result};
use crate::provider::client::Client;
use crate::provider::scope::Scopes;
use crate::provider::token::TokenResponse;
use crate::provider::user_tokens::new_refresh_token;

impl Broker {
    /// Refreshes with `presented` in one statement (PostgreSQL, the grant's full scope);
    /// `None` when it retired nothing. The grant's revocation (the store) and, for an org
    /// grant, the membership are checked after: when either fails, the grant is revoked, and
    /// the successor with it. As with a rotation whose answer was lost, a failure after the
    /// statement leaves the presented token used and a successor whose secret nobody saw.
    pub(super) async fn refresh_in_one_statement(
        &self,
        client: &Client,
        presented: &str,
    ) -> Result<Option<TokenResponse>> {
        let now = self.now();
        let successor = new_refresh_token();
        let statement = retire_and_succeed(Successor {
            presented_hash: hash_secret(presented),
            client: client.id,
            id: RefreshTokenId::new(),
            hash: hash_secret(&successor),
            now,
            idle_until: self.refresh_idle_until(now)?,
        });
        let Some(found) = self.db().query_one_raw(statement).await? else {
            return Ok(None);
        };
        let stored = refresh_token::Model::from_query_result(&found, "A_")?;
        let user = user::Model::from_query_result_optional(&found, "B_")?;
        let family = stored.family_id.to_string();
        let (revoked, subject) = tokio::join!(
            self.grant_revoked(&family),
            self.grant_subject_of(&stored, user)
        );
        if revoked? {
            // Revoked between the statement and now: the successor goes too.
            self.revoke_grant(stored.family_id).await?;
            return Err(invalid_grant("the refresh token was revoked"));
        }
        let subject = match subject {
            Ok(subject) => subject,
            Err(e) => {
                self.revoke_grant(stored.family_id).await?;
                return Err(e);
            }
        };
        let scope = Scopes::parse(&stored.scope, ErrorCode::InvalidScope, "scope")?;
        let grant = grant_of(&stored, subject, scope);
        let mut response = self.issue_user_tokens(client, &grant, None).await?;
        response.refresh_token = Some(successor);
        Ok(Some(response))
    }
}

/// The values of one rotation.
struct Successor {
    presented_hash: Vec<u8>,
    client: ClientId,
    id: RefreshTokenId,
    hash: Vec<u8>,
    now: chrono::DateTime<chrono::Utc>,
    idle_until: chrono::DateTime<chrono::Utc>,
}

/// The statement: the UPDATE retires the presented token only if it is the app's, neither
/// rotated nor revoked, and not expired; the INSERT copies the grant from what it retired
/// (every column, so new ones follow), with the successor's id, hash, times and no
/// retirement; the SELECT returns the retired token and its user with sea-orm's prefixes.
fn retire_and_succeed(successor: Successor) -> Statement {
    let values: Vec<Value> = vec![
        successor.now.into(),
        successor.presented_hash.into(),
        successor.client.into(),
        successor.id.into(),
        successor.hash.into(),
        successor.idle_until.into(),
    ];
    Statement::from_sql_and_values(DbBackend::Postgres, retire_and_succeed_sql(), values)
}

/// The statement's text: the same for every refresh, so it is written once.
fn retire_and_succeed_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        let columns: Vec<_> = refresh_token::Column::iter().collect();
        let inserted = quoted_columns();
        let copied = columns
            .iter()
            .map(|column| match column {
                refresh_token::Column::Id => "$4".to_owned(),
                refresh_token::Column::TokenHash => "$5".to_owned(),
                refresh_token::Column::CreatedAt => "$1".to_owned(),
                refresh_token::Column::ExpiresAt => "LEAST($6, old.absolute_expires_at)".to_owned(),
                refresh_token::Column::RotatedAt | refresh_token::Column::RevokedAt => {
                    "NULL".to_owned()
                }
                other => format!("old.\"{}\"", other.as_str()),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let token_columns = columns
            .iter()
            .map(|c| format!("old.\"{0}\" AS \"A_{0}\"", c.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let user_columns = user::Column::iter()
            .map(|c| format!("u.\"{0}\" AS \"B_{0}\"", c.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "WITH old AS (UPDATE refresh_tokens SET rotated_at = $1 \
             WHERE token_hash = $2 AND client_id = $3 AND rotated_at IS NULL \
             AND revoked_at IS NULL AND expires_at > $1 AND absolute_expires_at > $1 \
             RETURNING *), \
             new AS (INSERT INTO refresh_tokens ({inserted}) SELECT {copied} FROM old) \
             SELECT {token_columns}, {user_columns} \
             FROM old LEFT JOIN users u ON u.id = old.user_id"
        )
    })
}
