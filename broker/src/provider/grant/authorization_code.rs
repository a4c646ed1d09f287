//! The authorization code grant (RFC 6749 §4.1.3, RFC 7636): one redemption per code, by the
//! app it was issued to, with the same redirect URI and the PKCE verifier. A second redemption
//! revokes what the first one issued (RFC 6749 §4.1.2, RFC 9700 §4.5.3.1).

use std::sync::OnceLock;

use entities::refresh_token;
use sea_orm::{
    ConnectionTrait as _, DbBackend, EntityTrait as _, FromQueryResult as _, Statement, Value,
};
use sha2::{Digest, Sha256};

use super::{TokenRequest, insert_select_text, row_values};
use crate::Broker;
use crate::crypto::base64url;
use crate::error::{Error, ErrorCode, Result};
use crate::provider::authorize::CodeGrant;
use crate::provider::authorize::code_replay_key;
use crate::provider::authorize::is_pkce_value;
use crate::provider::client::{Client, GrantType, grants_of};
use crate::provider::scope::Scopes;
use crate::provider::token::TokenResponse;
use crate::provider::user_tokens::{RefreshRecord, UserGrant, active};
use crate::store::EphemeralStoreExt as _;
use crate::user::User;

fn invalid_grant(message: &str) -> Error {
    Error::new(ErrorCode::InvalidGrant, message)
}

impl Broker {
    pub(super) async fn authorization_code(
        &self,
        client: &Client,
        request: &TokenRequest,
    ) -> Result<TokenResponse> {
        let code = required(request.code.as_deref(), "code")?;
        let redirect_uri = required(request.redirect_uri.as_deref(), "redirect_uri")?;
        // The redemption is remembered for as long as a replay could matter.
        let remember = self.provider().access_token_ttl + self.provider().code_ttl;
        let Some(grant) = self.take_code(code, remember).await? else {
            if let Some(grant_id) = self.store().get_json(&code_replay_key(code)).await? {
                self.revoke_grant(grant_id).await?;
                return Err(invalid_grant(
                    "this code was already used; the tokens issued with it have been revoked",
                ));
            }
            return Err(invalid_grant("the code is unknown or expired"));
        };
        if grant.client_id != client.id {
            return Err(invalid_grant("the code was issued to another app"));
        }
        if grant.redirect_uri != redirect_uri {
            return Err(invalid_grant(
                "redirect_uri differs from the one in the authorization request",
            ));
        }
        match (&grant.code_challenge, request.code_verifier.as_deref()) {
            (Some(challenge), Some(verifier)) => {
                let computed = base64url(&Sha256::digest(verifier.as_bytes()));
                if !is_pkce_value(verifier) || &computed != challenge {
                    return Err(invalid_grant(
                        "code_verifier does not match the code_challenge",
                    ));
                }
            }
            (Some(_), None) => return Err(invalid_grant("code_verifier is required")),
            // PKCE downgrade: a verifier for a code issued without a challenge.
            (None, Some(_)) => {
                return Err(invalid_grant("code_verifier sent for a code without PKCE"));
            }
            (None, None) => {}
        }
        let scope = Scopes::parse(&grant.scope, ErrorCode::InvalidScope, "scope")?;
        let first_refresh = (scope.contains("offline_access")
            && grants_of(client).contains(&GrantType::RefreshToken))
        .then(|| {
            let absolute = self.refresh_family_expiry()?;
            self.refresh_token_row(client, refresh_record(&grant), absolute, &scope)
        })
        .transpose()?;
        // The session with its user (and on PostgreSQL the refresh token), and the membership
        // when the grant is for an org: one statement each, at once on two pooled connections.
        let (session_user, org_subject) = tokio::join!(
            self.redemption_subject(&grant, first_refresh.as_ref().map(|(_, row)| row)),
            async {
                match grant.org_id {
                    Some(org) => self.org_subject(org, grant.user_id).await.map(Some),
                    None => Ok(None),
                }
            }
        );
        let Some((session_user, first_refresh_stored)) = session_user? else {
            return Err(invalid_grant(
                "the sign-in session behind this code has ended",
            ));
        };
        let (user, org, roles) = match org_subject? {
            Some(subject) => subject,
            None => (active(Some(session_user))?, None, Vec::new()),
        };
        let user_grant = UserGrant {
            grant_id: grant.grant_id,
            user,
            org,
            roles,
            session_id: Some(grant.session_id),
            scope,
            nonce: grant.nonce,
            auth_time: grant.auth_time,
            amr: grant.amr,
            acr: grant.acr,
            resources: grant.resources,
        };
        if first_refresh_stored == FirstRefresh::Refused {
            // The membership or the user changed between the two reads.
            return Err(invalid_grant("the user can no longer sign in to this app"));
        }
        let mut response = self.issue_user_tokens(client, &user_grant, None).await?;
        if let Some((token, row)) = first_refresh {
            if first_refresh_stored == FirstRefresh::Later {
                refresh_token::Entity::insert(row)
                    .exec_without_returning(self.db())
                    .await?;
            }
            response.refresh_token = Some(token);
        }
        Ok(response)
    }

    /// The user of the grant's session while the session stands; `None` once it has ended.
    /// With `first_refresh`, PostgreSQL also stores it in the same statement (one round trip
    /// fewer) when the session stands, the user is active and, for an org grant, still a
    /// member; on SQLite (no writing CTEs) the caller stores it after signing.
    async fn redemption_subject(
        &self,
        grant: &CodeGrant,
        first_refresh: Option<&refresh_token::ActiveModel>,
    ) -> Result<Option<(User, FirstRefresh)>> {
        let postgres = self.db().get_database_backend() == DbBackend::Postgres;
        let Some(row) = first_refresh.filter(|_| postgres) else {
            let user = self.live_session_user(grant.session_id).await?;
            return Ok(user.map(|u| (u, FirstRefresh::Later)));
        };
        let found = self
            .db()
            .query_one_raw(redemption_statement(grant, row, self.now())?)
            .await?;
        Ok(match found {
            Some(found) => Some((
                User::from_query_result(&found, "")?,
                if found.try_get::<bool>("", "refresh_stored")? {
                    FirstRefresh::Stored
                } else {
                    FirstRefresh::Refused
                },
            )),
            None => None,
        })
    }

    /// When a refresh-token family started now must end.
    fn refresh_family_expiry(&self) -> Result<chrono::DateTime<chrono::Utc>> {
        let absolute = chrono::Duration::from_std(self.provider().refresh_absolute_ttl)
            .map_err(Error::internal)?;
        Ok(self.now() + absolute)
    }
}

/// What became of a redemption's first refresh token in the statement that read the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FirstRefresh {
    /// Stored with the read.
    Stored,
    /// Not stored: the user is disabled or no longer a member.
    Refused,
    /// For the caller to store (none asked for, or SQLite).
    Later,
}

/// The refresh-token row's view of a code's grant.
fn refresh_record(grant: &CodeGrant) -> RefreshRecord<'_> {
    RefreshRecord {
        grant_id: grant.grant_id,
        user_id: grant.user_id,
        org_id: grant.org_id,
        session_id: Some(grant.session_id),
        auth_time: grant.auth_time,
        amr: &grant.amr,
        acr: grant.acr.as_deref(),
        resources: &grant.resources,
    }
}

/// PostgreSQL's redemption read in one statement: the session's user while the session
/// stands, and the grant's first refresh token stored only when the user is active and, for
/// an org grant, an active member (so a token is never stored for a redemption that fails).
fn redemption_statement(
    grant: &CodeGrant,
    first_refresh: &refresh_token::ActiveModel,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Statement> {
    let mut values: Vec<Value> = vec![grant.session_id.into(), now.into()];
    if let Some(org) = grant.org_id {
        values.push(org.into());
    }
    values.extend(row_values(first_refresh)?);
    let sql = redemption_sql(grant.org_id.is_some());
    Ok(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        values,
    ))
}

/// The redemption statement's text, for an org grant (`$3` the org) or not: the same for
/// every redemption, so each is written once.
fn redemption_sql(org_grant: bool) -> &'static str {
    static SQL: [OnceLock<String>; 2] = [OnceLock::new(), OnceLock::new()];
    SQL[usize::from(org_grant)].get_or_init(|| {
        let (membership, first_column) = if org_grant {
            (
                " AND EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = $3 \
                 AND m.user_id = subject.id AND m.status = 'active')",
                4,
            )
        } else {
            ("", 3)
        };
        let (columns, placeholders) = insert_select_text(first_column);
        format!(
            "WITH subject AS (SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id = $1 AND s.revoked_at IS NULL AND s.idle_expires_at > $2 \
             AND s.expires_at > $2), \
             stored AS (INSERT INTO refresh_tokens ({columns}) SELECT {placeholders} FROM subject \
             WHERE subject.status = 'active'{membership} RETURNING 1) \
             SELECT subject.*, EXISTS (SELECT 1 FROM stored) AS refresh_stored FROM subject"
        )
    })
}

pub(super) fn required<'a>(value: Option<&'a str>, name: &str) -> Result<&'a str> {
    value.ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidRequest,
            format!("parameter '{name}' is required"),
        )
    })
}
