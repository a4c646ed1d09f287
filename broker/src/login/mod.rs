//! Local sign-in for public users: email links and codes, passkeys, and optional passwords with
//! a second factor. Every method ends in [`Broker::complete_sign_in`], which starts the session.

pub mod acr;
pub mod email_link;
mod hashing;
pub mod limits;
pub mod passkey;
pub mod password;
pub mod routing;
pub mod second_factor;

use std::sync::Arc;
use std::time::Duration;

use entities::user::{self, UserStatus};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use secrecy::SecretString;
use serde_json::json;
use url::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::Broker;
use crate::actor::Actor;
use crate::audit::{self, AuditAction, Entry, Target};
use crate::error::{Error, ErrorCode, Result};
use crate::session::{NewSession, Session};
use crate::user::User;

pub use self::password::PasswordParams;

/// How local sign-in behaves on this instance.
#[derive(Clone)]
pub struct LoginSettings {
    /// The public base URL: the WebAuthn origin and the base of links in mail.
    pub public_url: Url,
    /// How long an emailed link or code stays valid.
    pub email_link_ttl: Duration,
    /// Whether passwords may be set and used (`TESSERA_PASSWORD_LOGIN`).
    pub password_login: bool,
    /// Whether an unknown email may create an account (`TESSERA_SIGNUP`).
    pub signup: bool,
    /// Argon2id cost.
    pub password_params: PasswordParams,
    webauthn: Option<Arc<Webauthn>>,
    /// See [`Broker::dummy_hash`](crate::Broker).
    pub(crate) dummy_hash: Arc<tokio::sync::OnceCell<String>>,
    /// Where password hashes run: one thread per core.
    pub(crate) hashing: Arc<hashing::HashPool>,
}

impl std::fmt::Debug for LoginSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginSettings")
            .field("public_url", &self.public_url.as_str())
            .field("email_link_ttl", &self.email_link_ttl)
            .field("password_login", &self.password_login)
            .field("signup", &self.signup)
            .field("password_params", &self.password_params)
            .finish_non_exhaustive()
    }
}

impl LoginSettings {
    /// Settings for a deployment at `public_url`: the WebAuthn relying party is its host. An IP
    /// address is never a valid RP ID, so at such a URL passkeys are off (with a warning) and
    /// everything else works.
    pub fn new(public_url: Url) -> Result<Self> {
        let rp_id = public_url
            .host_str()
            .ok_or_else(|| Error::internal("the public URL has no host"))?
            .to_owned();
        let webauthn = match WebauthnBuilder::new(&rp_id, &public_url)
            .and_then(|b| b.rp_name("Tessera").build())
        {
            Ok(webauthn) => Some(Arc::new(webauthn)),
            Err(e) => {
                tracing::warn!(
                    public_url = %public_url,
                    "passkeys are off: TESSERA_PUBLIC_URL needs a host name, not an IP address ({e})"
                );
                None
            }
        };
        Ok(Self {
            public_url,
            email_link_ttl: Duration::from_secs(15 * 60),
            password_login: false,
            signup: true,
            password_params: PasswordParams::default(),
            webauthn,
            dummy_hash: Arc::default(),
            hashing: Arc::new(hashing::HashPool::start()?),
        })
    }

    pub(crate) fn webauthn(&self) -> Result<&Webauthn> {
        self.webauthn.as_deref().ok_or_else(|| {
            Error::new(
                ErrorCode::PasskeysUnavailable,
                "passkeys need Tessera to be served at a host name, not an IP address",
            )
        })
    }

    /// The public URL of a path on Tessera (`/login/link?...`).
    pub fn url_of(&self, path_and_query: &str) -> String {
        format!(
            "{}{path_and_query}",
            self.public_url.as_str().trim_end_matches('/')
        )
    }
}

/// Who is at the browser, for sessions and the audit log.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// Client IP address.
    pub ip: Option<String>,
    /// The browser's User-Agent.
    pub user_agent: Option<String>,
    /// The request id, joining audit events with log lines.
    pub request_id: Option<String>,
}

impl ClientInfo {
    pub(crate) fn actor(&self, user: Option<entities::UserId>) -> Actor {
        Actor::end_user(user, self.ip.clone(), self.request_id.clone())
    }

    /// The rate-limit subject for this client.
    pub(crate) fn ip_subject(&self) -> &str {
        self.ip.as_deref().unwrap_or("unknown")
    }
}

/// A finished sign-in: the session and its cookie token.
#[derive(Debug)]
pub struct SignedIn {
    /// The new session.
    pub session: Session,
    /// The cookie value (shown once).
    pub token: SecretString,
    /// Who signed in.
    pub user: User,
}

/// How the user proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The method's name in audit events (`email_link`, `passkey`, `password+totp`…).
    pub method: &'static str,
    /// RFC 8176 `amr` values.
    pub amr: Vec<String>,
    /// The authentication context class reached ([`acr`]).
    pub acr: &'static str,
}

impl Broker {
    /// The local-login settings.
    pub fn login_settings(&self) -> &LoginSettings {
        &self.inner.parts.login
    }

    /// Starts a session for `user` after a successful `proof`, records the sign-in and resets
    /// the account's failure counter.
    pub async fn complete_sign_in(
        &self,
        user: User,
        proof: Proof,
        client: &ClientInfo,
    ) -> Result<SignedIn> {
        if let Some(email) = &user.email
            && self.sso_required_for(email).await?.is_some()
        {
            self.record_sign_in_failure(Some(&user), proof.method, "sso_required", client)
                .await?;
            return Err(Error::new(
                ErrorCode::SsoRequired,
                "your organization requires you to sign in through its identity provider: enter your work email on the sign-in page",
            ));
        }
        self.complete_sign_in_to(user, proof, None, client).await
    }

    /// [`Self::complete_sign_in`] for a session bound to the organization whose IdP the user
    /// signed in through.
    pub(crate) async fn complete_sign_in_to(
        &self,
        user: User,
        proof: Proof,
        org: Option<entities::OrgId>,
        client: &ClientInfo,
    ) -> Result<SignedIn> {
        if user.status != UserStatus::Active {
            self.record_sign_in_failure(Some(&user), proof.method, "user_disabled", client)
                .await?;
            return Err(Error::new(
                ErrorCode::AccessDenied,
                "this account is disabled; ask the administrator",
            ));
        }
        let now = self.now();
        let (session, token) = self
            .create_session(NewSession {
                user: user.id,
                org,
                amr: proof.amr.clone(),
                acr: Some(proof.acr.to_owned()),
                user_agent: client.user_agent.clone(),
                ip: client.ip.clone(),
            })
            .await?;
        user::Entity::update_many()
            .col_expr(user::Column::LastLoginAt, Expr::value(now))
            .filter(user::Column::Id.eq(user.id))
            .exec(self.db())
            .await?;
        audit::record(
            self.db(),
            now,
            Entry {
                actor: &client.actor(Some(user.id)),
                org,
                action: AuditAction::UserSignedIn,
                target: Target::new("user", user.id),
                data: json!({ "method": proof.method, "amr": proof.amr, "session_id": session.id }),
            },
        )
        .await?;
        self.clear_failures(user.id).await?;
        Ok(SignedIn {
            session,
            token,
            user,
        })
    }

    /// Records a failed attempt (audit event, and the account's failure count when known).
    pub(crate) async fn record_sign_in_failure(
        &self,
        user: Option<&User>,
        method: &str,
        reason: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        let target = match user {
            Some(u) => Target::new("user", u.id),
            None => Target::new("user", "unknown"),
        };
        audit::record(
            self.db(),
            self.now(),
            Entry {
                actor: &client.actor(None),
                org: None,
                action: AuditAction::UserSignInFailed,
                target,
                data: json!({ "method": method, "reason": reason }),
            },
        )
        .await?;
        if let Some(user) = user {
            self.count_failure(user.id).await?;
        }
        Ok(())
    }
}
