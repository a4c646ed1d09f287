//! Consent for third-party apps (those registered dynamically): before such an app gets a code,
//! the user sees what it asks for and allows or denies it; what was allowed is remembered per
//! user and app, and `prompt=consent` asks again.

use entities::{UserId, consent};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::authorize::{AuthorizationRequest, AuthorizeOutcome, transaction_key};
use super::client::list_of;
use crate::Broker;
use crate::crypto::random_token;
use crate::error::{Error, ErrorCode, Result};
use crate::session::{AuthorizingSession, Session};
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
    /// The APIs (resources) the tokens would be for.
    pub resources: Vec<String>,
    /// The organization the app would act in, by name.
    pub organization: Option<String>,
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
    /// Whether the user already allowed everything this request asks of the app: its scopes,
    /// its resources and its organization.
    pub(crate) async fn has_consent(
        &self,
        user: UserId,
        client: entities::ClientId,
        request: &AuthorizationRequest,
    ) -> Result<bool> {
        let Some(granted) = consent::Entity::find_by_id((user, client))
            .one(self.db())
            .await?
        else {
            return Ok(false);
        };
        let list = |v: Option<&serde_json::Value>| v.map(list_of).unwrap_or_default();
        let allows =
            |allowed: Vec<String>, asked: Vec<String>| asked.iter().all(|a| allowed.contains(a));
        let scopes: Vec<String> = request
            .scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let orgs: Vec<String> = request.organization.iter().map(|o| o.to_string()).collect();
        Ok(allows(list_of(&granted.scopes), scopes)
            && allows(list(granted.resources.as_ref()), request.resources.clone())
            && allows(list(granted.org_ids.as_ref()), orgs))
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
        let organization = match request.organization {
            Some(org) => entities::organization::Entity::find_by_id(org)
                .one(self.db())
                .await?
                .map(|o| o.name),
            None => None,
        };
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
            resources: request.resources.clone(),
            organization,
            confirmation,
        })
    }

    /// Records the answer and continues the authorization: a code when allowed, `access_denied`
    /// back to the app when not.
    pub async fn consent_answer(
        &self,
        confirmation: &str,
        signed_in: AuthorizingSession,
        allow: bool,
    ) -> Result<AuthorizeOutcome> {
        let pending: PendingConsent = self
            .store()
            .take_json(&confirmation_key(confirmation))
            .await?
            .filter(|p: &PendingConsent| p.session == signed_in.session.id)
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
        self.record_consent(signed_in.session.user_id, &request)
            .await?;
        self.resume_authorization_consented(&pending.transaction, Some(signed_in))
            .await
    }

    /// Adds what `request` asks for to what the user allowed the app.
    async fn record_consent(&self, user: UserId, request: &AuthorizationRequest) -> Result<()> {
        let now = self.now();
        let existing = consent::Entity::find_by_id((user, request.client_id))
            .one(self.db())
            .await?;
        let list = |v: Option<&serde_json::Value>| v.map(list_of).unwrap_or_default();
        let merge = |mut have: Vec<String>, add: &mut dyn Iterator<Item = String>| {
            for item in add {
                if !have.contains(&item) {
                    have.push(item);
                }
            }
            have
        };
        let scopes = merge(
            list(existing.as_ref().map(|c| &c.scopes)),
            &mut request
                .scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
        let resources = merge(
            list(existing.as_ref().and_then(|c| c.resources.as_ref())),
            &mut request.resources.iter().cloned(),
        );
        let orgs = merge(
            list(existing.as_ref().and_then(|c| c.org_ids.as_ref())),
            &mut request.organization.iter().map(|o| o.to_string()),
        );
        consent::Entity::insert(consent::ActiveModel {
            user_id: Set(user),
            client_id: Set(request.client_id),
            scopes: Set(json!(scopes)),
            resources: Set(Some(json!(resources))),
            org_ids: Set(Some(json!(orgs))),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([consent::Column::UserId, consent::Column::ClientId])
                .update_columns([
                    consent::Column::Scopes,
                    consent::Column::Resources,
                    consent::Column::OrgIds,
                    consent::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(self.db())
        .await?;
        Ok(())
    }
}
