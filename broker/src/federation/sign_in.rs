//! The round trip through an upstream IdP: start (a transaction in the ephemeral store, keyed
//! by the `state` sent upstream and bound to the browser that started it), then the callback
//! (taken once, so a replayed `state` fails), the protocol's validation, provisioning and the
//! session, or, for a test login, a recorded result and nothing written.

use std::time::Duration;

use entities::ConnectionId;
use entities::connection::{ConnectionKind, ConnectionStatus};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::Broker;
use crate::audit::{self, AuditAction, Entry, Target};
use crate::crypto::{random_token, secret_digest};
use crate::error::{Error, ErrorCode, Result};
use crate::federation::oidc::authorization_request;
use crate::federation::provision::AccountAction;
use crate::federation::test_login::{TestFailure, TestLogin, TestStatus};
use crate::federation::{Connection, UpstreamProfile};
use crate::login::{ClientInfo, Proof, SignedIn, acr};
use crate::rate_limit::SIGN_IN_TRANSACTIONS_PER_IP;
use crate::store::EphemeralStoreExt as _;
use crate::user::User;

/// How long the user has at the IdP.
const TRANSACTION_TTL: Duration = Duration::from_secs(10 * 60);

/// What the browser asked for when it set off to the IdP.
#[derive(Debug, Clone, Default)]
pub struct SsoStart {
    /// Where to go after signing in (a path on Tessera, already checked).
    pub return_to: Option<String>,
    /// The email typed, passed on as `login_hint`.
    pub login_hint: Option<String>,
    /// The browser's sign-in flow secret; the callback must come from the same browser.
    pub flow: String,
    /// A test login id: dry run, allowed on draft connections.
    pub test: Option<String>,
}

/// A sign-in waiting for the IdP's answer, under a digest of the `state` (OIDC) or RelayState
/// (SAML) sent upstream.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct UpstreamTransaction {
    pub(crate) connection_id: ConnectionId,
    /// OIDC: the nonce the ID token must carry.
    pub(crate) nonce: String,
    /// OIDC: the PKCE verifier.
    pub(crate) pkce_verifier: String,
    /// SAML: the AuthnRequest's ID, which the response must answer.
    #[serde(default)]
    pub(crate) saml_request_id: Option<String>,
    pub(crate) flow_digest: String,
    pub(crate) return_to: Option<String>,
    pub(crate) test: Option<String>,
}

/// What the IdP sent back to the OIDC callback.
#[derive(Debug, Clone, Default)]
pub struct OidcCallback {
    /// The authorization code.
    pub code: Option<String>,
    /// Our `state`.
    pub state: Option<String>,
    /// An OAuth error code from the IdP.
    pub error: Option<String>,
    /// Its description.
    pub error_description: Option<String>,
}

/// How a callback ended.
#[derive(Debug)]
pub enum SsoFinished {
    /// A session exists; continue at `return_to`.
    SignedIn {
        /// The session.
        signed_in: Box<SignedIn>,
        /// Where to go next.
        return_to: Option<String>,
    },
    /// A test login finished (successfully or not); nothing was created.
    Tested(Box<TestLogin>),
    /// Social sign-in met an existing account with the same verified email: the user signs
    /// in to it once (any usual way), then `/sso/link/{token}` links the identity.
    ConfirmLink {
        /// The pending link's token.
        token: String,
        /// The account's email, to prefill the sign-in page.
        email: String,
        /// The connection's display name.
        provider: String,
    },
}

/// A social identity waiting for its user to confirm by signing in.
#[derive(Debug, Serialize, Deserialize)]
struct PendingLink {
    connection_id: ConnectionId,
    user_id: entities::UserId,
    profile: UpstreamProfile,
    flow_digest: String,
    return_to: Option<String>,
}

/// How long a pending link waits for the confirming sign-in.
const LINK_TTL: Duration = Duration::from_secs(15 * 60);

/// What provisioning made of an upstream answer.
enum Provisioned {
    /// The user to sign in.
    Ready(User, UpstreamProfile),
    /// An existing account the user must first sign in to (social sign-in).
    NeedsConfirmation(User, UpstreamProfile),
}

fn link_key(token: &str) -> String {
    format!("sso-link:{}", secret_digest(token))
}

pub(crate) fn key(state: &str) -> String {
    format!("sso:{}", secret_digest(state))
}

pub(crate) fn inactive() -> Error {
    Error::new(
        ErrorCode::ConnectionInactive,
        "this sign-in connection is not active; ask your administrator",
    )
}

/// The IdP's own error, as one of ours.
fn upstream_error(error: &str, description: Option<&str>) -> Error {
    let detail = description
        .map(|d| format!(" ({})", d.chars().take(300).collect::<String>()))
        .unwrap_or_default();
    match error {
        "access_denied" => Error::new(
            ErrorCode::UpstreamAccessDenied,
            format!(
                "your identity provider did not let you sign in{detail}; if you cancelled, start again, otherwise ask your IT team to assign you to this application"
            ),
        ),
        "consent_required" | "interaction_required" => Error::new(
            ErrorCode::UpstreamConsentRequired,
            format!(
                "your identity provider needs an administrator to approve this application first{detail}"
            ),
        ),
        other => Error::new(
            ErrorCode::UpstreamError,
            format!(
                "your identity provider answered '{}'{detail}",
                other.chars().take(64).collect::<String>()
            ),
        ),
    }
}

impl Broker {
    /// Starts signing in through `connection`: the URL at the IdP to send the browser to.
    pub async fn start_sso(
        &self,
        connection: ConnectionId,
        start: SsoStart,
        client: &ClientInfo,
    ) -> Result<String> {
        let connection = self.connection_by_id(connection).await?;
        match &start.test {
            Some(test) => {
                let pending = self.pending_test(test).await?;
                if !pending.is_some_and(|t| {
                    t.connection_id == connection.id && t.status == TestStatus::Pending
                }) {
                    return Err(Error::new(
                        ErrorCode::TestLoginNotFound,
                        "this test login is unknown, finished or expired; start a new one from the console",
                    ));
                }
            }
            None if connection.status != ConnectionStatus::Active => return Err(inactive()),
            None => {}
        }
        self.count_against(SIGN_IN_TRANSACTIONS_PER_IP, client.ip_subject())
            .await?;
        let state = random_token::<32>();
        let mut transaction = UpstreamTransaction {
            connection_id: connection.id,
            nonce: String::new(),
            pkce_verifier: String::new(),
            saml_request_id: None,
            flow_digest: secret_digest(&start.flow),
            return_to: start.return_to,
            test: start.test,
        };
        let url = match connection.kind {
            ConnectionKind::Oidc => {
                let settings = Self::oidc_settings(&connection)?;
                let started = authorization_request(
                    &settings,
                    &self.oidc_redirect_uri(connection.id),
                    &state,
                    start.login_hint.as_deref(),
                )?;
                transaction.nonce = started.nonce;
                transaction.pkce_verifier = started.pkce_verifier;
                started.url.to_string()
            }
            ConnectionKind::Saml => {
                let request = self.saml_authn_request(&connection, &state)?;
                transaction.saml_request_id = Some(request.id);
                request.url
            }
        };
        self.store()
            .put_json(&key(&state), &transaction, TRANSACTION_TTL)
            .await?;
        Ok(url)
    }

    /// Finishes an OIDC round trip.
    pub async fn finish_oidc_sso(
        &self,
        connection: ConnectionId,
        callback: OidcCallback,
        flow: Option<&str>,
        client: &ClientInfo,
    ) -> Result<SsoFinished> {
        let stale = || {
            Error::new(
                ErrorCode::SsoStateInvalid,
                "this sign-in link is expired, was already used, or was started in another browser; start again",
            )
        };
        let state = callback.state.as_deref().ok_or_else(stale)?;
        let transaction: UpstreamTransaction = self
            .store()
            .take_json(&key(state))
            .await?
            .ok_or_else(stale)?;
        let same_browser = flow.is_some_and(|f| secret_digest(f) == transaction.flow_digest);
        if transaction.connection_id != connection || !same_browser {
            return Err(stale());
        }
        let connection = self.connection_by_id(connection).await?;
        let outcome = self
            .oidc_outcome(&connection, &callback, &transaction)
            .await;
        match transaction.test {
            Some(test) => self.finish_test(&connection, test.as_str(), outcome).await,
            None => {
                self.finish_sign_in(
                    &connection,
                    transaction.return_to,
                    &transaction.flow_digest,
                    outcome,
                    client,
                )
                .await
            }
        }
    }

    async fn oidc_outcome(
        &self,
        connection: &Connection,
        callback: &OidcCallback,
        transaction: &UpstreamTransaction,
    ) -> Result<UpstreamProfile> {
        if let Some(error) = &callback.error {
            return Err(upstream_error(error, callback.error_description.as_deref()));
        }
        let code = callback.code.as_deref().ok_or_else(|| {
            Error::new(
                ErrorCode::UpstreamError,
                "your identity provider sent neither a code nor an error",
            )
        })?;
        self.oidc_profile(
            connection,
            code,
            &transaction.nonce,
            &transaction.pkce_verifier,
        )
        .await
    }

    pub(crate) async fn finish_sign_in(
        &self,
        connection: &Connection,
        return_to: Option<String>,
        flow_digest: &str,
        outcome: Result<UpstreamProfile>,
        client: &ClientInfo,
    ) -> Result<SsoFinished> {
        if connection.status != ConnectionStatus::Active {
            return Err(inactive());
        }
        let provisioned = match self.provision(connection, outcome, client).await {
            Ok(provisioned) => provisioned,
            Err(error) => {
                self.record_sso_failure(connection, &error, client).await?;
                return Err(error);
            }
        };
        let (user, profile) = match provisioned {
            Provisioned::Ready(user, profile) => (user, profile),
            Provisioned::NeedsConfirmation(existing, profile) => {
                return self
                    .park_link(connection, existing, profile, flow_digest, return_to)
                    .await;
            }
        };
        let mut amr = vec!["fed".to_owned()];
        amr.extend(
            profile
                .amr
                .iter()
                .filter(|m| m.len() <= 16 && m.bytes().all(|b| b.is_ascii_alphanumeric()))
                .cloned(),
        );
        let level = if profile.amr.iter().any(|m| m == "mfa") {
            acr::MULTI_FACTOR
        } else {
            acr::SINGLE_FACTOR
        };
        let proof = Proof {
            method: "sso",
            amr,
            acr: level,
        };
        let signed_in = self
            .complete_sign_in_to(user, proof, connection.org_id, client)
            .await?;
        Ok(SsoFinished::SignedIn {
            signed_in: Box::new(signed_in),
            return_to,
        })
    }

    /// Plans and applies provisioning for the IdP's answer; a social identity that would take
    /// over an existing account is not applied but handed back for confirmation.
    async fn provision(
        &self,
        connection: &Connection,
        outcome: Result<UpstreamProfile>,
        client: &ClientInfo,
    ) -> Result<Provisioned> {
        let profile = outcome?;
        let plan = self.plan_provisioning(connection, &profile).await?;
        if plan.action == AccountAction::ConfirmLink
            && let Some(existing) = plan.user
        {
            return Ok(Provisioned::NeedsConfirmation(existing, profile));
        }
        let actor = client.actor(plan.user.as_ref().map(|u| u.id));
        let user = self
            .apply_provisioning(connection, &profile, plan, &actor)
            .await?;
        Ok(Provisioned::Ready(user, profile))
    }

    async fn park_link(
        &self,
        connection: &Connection,
        existing: User,
        profile: UpstreamProfile,
        flow_digest: &str,
        return_to: Option<String>,
    ) -> Result<SsoFinished> {
        let token = random_token::<32>();
        let email = existing.email.clone().unwrap_or_default();
        let pending = PendingLink {
            connection_id: connection.id,
            user_id: existing.id,
            profile,
            flow_digest: flow_digest.to_owned(),
            return_to,
        };
        self.store()
            .put_json(&link_key(&token), &pending, LINK_TTL)
            .await?;
        Ok(SsoFinished::ConfirmLink {
            token,
            email,
            provider: connection.name.clone(),
        })
    }

    /// Links a parked social identity once its user has signed in to the existing account in
    /// the same browser; where to go next.
    pub async fn confirm_identity_link(
        &self,
        token: &str,
        signed_in_user: entities::UserId,
        flow: Option<&str>,
        client: &ClientInfo,
    ) -> Result<Option<String>> {
        let expired = || {
            Error::new(
                ErrorCode::SsoStateInvalid,
                "this account link expired or was already used; sign in with the provider again",
            )
        };
        let pending: PendingLink = self
            .store()
            .take_json(&link_key(token))
            .await?
            .ok_or_else(expired)?;
        let same_browser = flow.is_some_and(|f| secret_digest(f) == pending.flow_digest);
        if !same_browser {
            return Err(expired());
        }
        if pending.user_id != signed_in_user {
            return Err(Error::new(
                ErrorCode::IdentityLinkRefused,
                "you signed in to a different account than the one with this email; nothing was linked",
            ));
        }
        let connection = self.connection_by_id(pending.connection_id).await?;
        let actor = client.actor(Some(signed_in_user));
        self.link_identity(
            self.db(),
            &connection,
            &pending.profile,
            signed_in_user,
            "confirmed",
            &actor,
        )
        .await?;
        Ok(pending.return_to)
    }

    pub(crate) async fn record_sso_failure(
        &self,
        connection: &Connection,
        error: &Error,
        client: &ClientInfo,
    ) -> Result<()> {
        if error.kind() == crate::error::ErrorKind::Internal {
            return Ok(());
        }
        audit::record(
            self.db(),
            self.now(),
            Entry {
                actor: &client.actor(None),
                org: connection.org_id,
                action: AuditAction::SsoSignInFailed,
                target: Target::new("connection", connection.id),
                data: json!({ "code": error.code().as_str(), "message": error.message() }),
            },
        )
        .await
    }

    pub(crate) async fn finish_test(
        &self,
        connection: &Connection,
        test: &str,
        outcome: Result<UpstreamProfile>,
    ) -> Result<SsoFinished> {
        self.finish_test_with(connection, test, outcome, None).await
    }

    /// Records a test login's outcome; `assertion` is the signed SAML the IdP sent, if any.
    pub(crate) async fn finish_test_with(
        &self,
        connection: &Connection,
        test: &str,
        outcome: Result<UpstreamProfile>,
        assertion: Option<String>,
    ) -> Result<SsoFinished> {
        let mut result = self
            .pending_test(test)
            .await?
            .filter(|t| t.connection_id == connection.id)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::TestLoginNotFound,
                    "this test login expired; start a new one from the console",
                )
            })?;
        result.assertion_xml = assertion;
        let planned = match outcome {
            Ok(profile) => {
                result.claims = Some(profile.claims.clone());
                let plan = self.plan_provisioning(connection, &profile).await;
                result.profile = Some(profile);
                plan
            }
            Err(error) => Err(error),
        };
        match planned {
            Ok(plan) => {
                result.status = TestStatus::Succeeded;
                result.roles = plan.roles;
                result.account_action = Some(plan.action);
            }
            Err(error) if error.kind() == crate::error::ErrorKind::Internal => return Err(error),
            Err(error) => {
                result.status = TestStatus::Failed;
                result.error = Some(TestFailure {
                    code: error.code().as_str().to_owned(),
                    message: error.message().to_owned(),
                });
            }
        }
        result.finished_at = Some(self.now());
        self.save_test(&result).await?;
        audit::record(
            self.db(),
            self.now(),
            Entry {
                actor: &crate::actor::Actor::system(),
                org: connection.org_id,
                action: AuditAction::SsoTestCompleted,
                target: Target::new("connection", connection.id),
                data: json!({
                    "ok": result.status == TestStatus::Succeeded,
                    "code": result.error.as_ref().map(|e| e.code.clone()),
                }),
            },
        )
        .await?;
        Ok(SsoFinished::Tested(Box::new(result)))
    }
}
