//! Consent for third-party apps (those registered dynamically): before such an app gets a code,
//! the user sees what it asks for and allows or denies it; what was allowed is remembered per
//! user and app, and `prompt=consent` asks again.

use entities::{ClientId, UserId, consent};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::authorize::{AuthorizationRequest, AuthorizeOutcome, transaction_key};
use super::client::list_of;
use super::scope::Scopes;
use crate::Broker;
use crate::crypto::random_token;
use crate::error::{Error, ErrorCode, Result};
use crate::session::Session;
use crate::store::EphemeralStoreExt as _;

/// How long the consent question stays answerable.
const CONFIRMATION_TTL: std::time::Duration = std::time::Duration::from_secs(600);

/// What the consent page shows.
#[derive(Debug, Clone)]
pub struct ConsentPrompt {
    /// The app's name.
    pub client_name: String,
    /// Where the app will receive the answer (its redirect URI's host).
    pub redirect_host: String,
    /// The scopes asked for.
    pub scopes: Vec<String>,
    /// Post it back as `confirm`; single use, bound to the session.
    pub confirmation: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct PendingConsent {
    session: entities::SessionId,
    transaction: String,
}

fn confirmation_key(token: &str) -> String {
    format!("consent:{token}")
}

fn expired() -> Error {
    Error::new(
        ErrorCode::SignInExpired,
        "this request took too long or was already answered; start again from the app",
    )
}

impl Broker {
    /// Whether the user already allowed everything `scope` asks of the app.
    pub(crate) async fn has_consent(
        &self,
        user: UserId,
        client: ClientId,
        scope: &Scopes,
    ) -> Result<bool> {
        let granted = consent::Entity::find_by_id((user, client))
            .one(self.db())
            .await?;
        Ok(granted.is_some_and(|g| {
            let granted = list_of(&g.scopes);
            scope.iter().all(|s| granted.iter().any(|g| g == s))
        }))
    }

    /// The question for a transaction waiting on consent, bound to `session`.
    pub async fn consent_prompt(
        &self,
        transaction: &str,
        session: &Session,
    ) -> Result<ConsentPrompt> {
        let request: AuthorizationRequest = self
            .store()
            .get_json(&transaction_key(transaction))
            .await?
            .ok_or_else(expired)?;
        let client = self
            .find_client(&request.client_id.to_string())
            .await?
            .ok_or_else(expired)?;
        let confirmation = random_token::<24>();
        let pending = PendingConsent {
            session: session.id,
            transaction: transaction.to_owned(),
        };
        self.store()
            .put_json(&confirmation_key(&confirmation), &pending, CONFIRMATION_TTL)
            .await?;
        Ok(ConsentPrompt {
            client_name: client.name,
            redirect_host: url::Url::parse(&request.redirect_uri)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default(),
            scopes: request.scope.split(' ').map(str::to_owned).collect(),
            confirmation,
        })
    }

    /// Records the answer and continues the authorization: a code when allowed, `access_denied`
    /// back to the app when not.
    pub async fn consent_answer(
        &self,
        confirmation: &str,
        session: Session,
        allow: bool,
    ) -> Result<AuthorizeOutcome> {
        let pending: PendingConsent = self
            .store()
            .take_json(&confirmation_key(confirmation))
            .await?
            .filter(|p: &PendingConsent| p.session == session.id)
            .ok_or_else(expired)?;
        if !allow {
            let request: AuthorizationRequest = self
                .store()
                .take_json(&transaction_key(&pending.transaction))
                .await?
                .ok_or_else(expired)?;
            return Ok(AuthorizeOutcome::Denied {
                redirect_uri: request.redirect_uri,
                error: Error::new(ErrorCode::AccessDenied, "the user did not allow this app"),
                state: request.state,
            });
        }
        let request: AuthorizationRequest = self
            .store()
            .get_json(&transaction_key(&pending.transaction))
            .await?
            .ok_or_else(expired)?;
        self.record_consent(session.user_id, request.client_id, &request.scope)
            .await?;
        self.resume_authorization_consented(&pending.transaction, Some(session))
            .await
    }

    async fn record_consent(&self, user: UserId, client: ClientId, scope: &str) -> Result<()> {
        let now = self.now();
        let mut scopes: Vec<String> = consent::Entity::find_by_id((user, client))
            .one(self.db())
            .await?
            .map(|c| list_of(&c.scopes))
            .unwrap_or_default();
        for s in scope.split(' ').filter(|s| !s.is_empty()) {
            if !scopes.iter().any(|g| g == s) {
                scopes.push(s.to_owned());
            }
        }
        consent::Entity::insert(consent::ActiveModel {
            user_id: Set(user),
            client_id: Set(client),
            scopes: Set(json!(scopes)),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([consent::Column::UserId, consent::Column::ClientId])
                .update_columns([consent::Column::Scopes, consent::Column::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(self.db())
        .await?;
        Ok(())
    }
}
