//! The authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1.2, RFC 9700): validates an app's
//! request, hands the user to the sign-in pages when there is no fitting session, and issues a
//! single-use code bound to the app, redirect URI, PKCE challenge and nonce.
//!
//! Until the client and redirect URI are known to be valid, failures are shown on Tessera's own
//! error page; after that, they go back to the app's redirect URI. Never to an unchecked URI.

use chrono::{DateTime, Utc};
use entities::client::ClientType;
use entities::{ClientId, OrgId, TokenFamilyId, organization};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use super::client::{Client, GrantType, allowed_scopes, grants_of, list_of};
use super::grant::resource_audiences;
use super::redirect;
use super::scope::Scopes;
use crate::Broker;
use crate::crypto::{random_token, secret_digest};
use crate::error::{Error, ErrorCode, Result};
use crate::session::{AuthorizingSession, Session, amr_of};
use crate::store::EphemeralStoreExt as _;

/// How long the sign-in pages have to finish a transaction.
const TRANSACTION_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);
/// Bounds on what apps may send.
const MAX_STATE: usize = 2048;
const MAX_NONCE: usize = 512;
const MAX_ACR_VALUES: usize = 512;

/// The parameters of an authorization request, as received.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeParams {
    /// `client_id`.
    pub client_id: Option<String>,
    /// `redirect_uri`.
    pub redirect_uri: Option<String>,
    /// `response_type`.
    pub response_type: Option<String>,
    /// `response_mode`.
    pub response_mode: Option<String>,
    /// `scope`.
    pub scope: Option<String>,
    /// `state`.
    pub state: Option<String>,
    /// `nonce`.
    pub nonce: Option<String>,
    /// `code_challenge`.
    pub code_challenge: Option<String>,
    /// `code_challenge_method`.
    pub code_challenge_method: Option<String>,
    /// `prompt`.
    pub prompt: Option<String>,
    /// `max_age`.
    pub max_age: Option<String>,
    /// `login_hint`.
    pub login_hint: Option<String>,
    /// `organization` (an org's slug or id).
    pub organization: Option<String>,
    /// `resource` (RFC 8707).
    pub resources: Vec<String>,
    /// `acr_values`.
    pub acr_values: Option<String>,
    /// `request` (request objects are not supported).
    pub request: Option<String>,
    /// `request_uri` (not supported).
    pub request_uri: Option<String>,
    /// The browser's address (not a parameter): limits how many sign-in transactions one
    /// client may open.
    pub client_ip: Option<String>,
}

/// A validated request, kept in the ephemeral store while the user signs in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    /// The app.
    pub client_id: ClientId,
    /// The checked redirect URI.
    pub redirect_uri: String,
    /// Granted scopes.
    pub scope: String,
    /// The app's `state`, returned unchanged.
    pub state: Option<String>,
    /// The app's `nonce`, copied into the ID token.
    pub nonce: Option<String>,
    /// The PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// `prompt` values.
    pub prompt: Vec<String>,
    /// `max_age` in seconds.
    pub max_age: Option<i64>,
    /// A hint for the sign-in page (an email address).
    pub login_hint: Option<String>,
    /// The organization the app asked for.
    pub organization: Option<OrgId>,
    /// Resource indicators (access-token audiences).
    pub resources: Vec<String>,
    /// Requested authentication context classes.
    pub acr_values: Option<String>,
    /// When the app sent the request (a `prompt=login` sign-in must be newer).
    pub received_at: DateTime<Utc>,
    /// The browser's address when the request arrived.
    #[serde(default)]
    pub client_ip: Option<String>,
}

/// A code's grant, kept in the ephemeral store until redeemed once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CodeGrant {
    pub grant_id: TokenFamilyId,
    pub client_id: ClientId,
    pub redirect_uri: String,
    pub user_id: entities::UserId,
    pub session_id: entities::SessionId,
    pub org_id: Option<OrgId>,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: DateTime<Utc>,
    pub amr: Vec<String>,
    pub acr: Option<String>,
    pub resources: Vec<String>,
}

/// What the endpoint does next.
#[derive(Debug)]
pub enum AuthorizeOutcome {
    /// Send the browser back to the app with a code.
    Code {
        /// The app's redirect URI.
        redirect_uri: String,
        /// The single-use code.
        code: String,
        /// The app's `state`.
        state: Option<String>,
    },
    /// Send the browser back to the app with an OAuth error.
    Denied {
        /// The app's redirect URI.
        redirect_uri: String,
        /// What went wrong (rendered as `error` and `error_description`).
        error: Error,
        /// The app's `state`.
        state: Option<String>,
    },
    /// A third-party app needs the user's consent: show the consent page for this transaction.
    Consent {
        /// The waiting request.
        transaction: String,
    },
    /// The user must sign in first: show the sign-in pages for this transaction.
    SignIn {
        /// Resume with `/oauth2/authorize/resume?transaction=…` once a session exists.
        transaction: String,
        /// Pre-fill for the email field.
        login_hint: Option<String>,
        /// The authentication level the app asked for (`acr_values`), if any.
        acr: Option<&'static str>,
        /// The organization's SSO connection, when the app named an organization that signs
        /// in through one: go there instead of the sign-in page.
        sso: Option<entities::ConnectionId>,
    },
}

fn code_key(code: &str) -> String {
    format!("code:{}", secret_digest(code))
}

/// Where a redeemed code's grant id is remembered, to revoke it if the code comes back.
pub(crate) fn code_replay_key(code: &str) -> String {
    format!("code-used:{}", secret_digest(code))
}

pub(crate) fn transaction_key(id: &str) -> String {
    format!("authz:{id}")
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidRequest, message)
}

/// Whether `value` is a PKCE value: 43-128 characters of `A-Z a-z 0-9 - . _ ~` (RFC 7636 §4.1).
pub(crate) fn is_pkce_value(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

impl Broker {
    /// Checks `client_id` and `redirect_uri`. Errors here are shown on Tessera's page, never
    /// sent to a URI that has not been proven to belong to the app.
    async fn trusted_redirect(&self, params: &AuthorizeParams) -> Result<(Client, String)> {
        let unknown = || {
            Error::new(
                ErrorCode::UnknownClient,
                "this sign-in link names an app Tessera does not know",
            )
        };
        let client_id = params.client_id.as_deref().ok_or_else(unknown)?;
        let redirect_uri = params.redirect_uri.as_deref().ok_or_else(|| {
            Error::new(
                ErrorCode::RedirectUriMismatch,
                "the sign-in link has no redirect_uri",
            )
        })?;
        let registered = |client: &Client| {
            let native = client.client_type == ClientType::Public;
            redirect::matches(&list_of(&client.redirect_uris), redirect_uri, native)
        };
        let mut client = self.find_client(client_id).await?.ok_or_else(unknown)?;
        if !registered(&client) {
            // This replica's copy may predate a redirect URI added through another replica.
            client = self.reload_client(client_id).await?.ok_or_else(unknown)?;
        }
        if !registered(&client) {
            return Err(Error::new(
                ErrorCode::RedirectUriMismatch,
                "the app sent a redirect_uri that is not registered for it",
            ));
        }
        Ok((client, redirect_uri.to_owned()))
    }

    /// Validates the rest of the request (errors go back to the app).
    async fn validate_request(
        &self,
        client: &Client,
        redirect_uri: String,
        params: AuthorizeParams,
    ) -> Result<AuthorizationRequest> {
        if params.request.is_some() {
            return Err(Error::new(
                ErrorCode::RequestNotSupported,
                "request objects are not supported",
            ));
        }
        if params.request_uri.is_some() {
            return Err(Error::new(
                ErrorCode::RequestUriNotSupported,
                "request_uri is not supported",
            ));
        }
        match params.response_type.as_deref() {
            Some("code") => {}
            Some(_) => {
                return Err(Error::new(
                    ErrorCode::UnsupportedResponseType,
                    "only response_type=code is supported",
                ));
            }
            None => return Err(invalid("response_type is required")),
        }
        if params
            .response_mode
            .as_deref()
            .is_some_and(|m| m != "query")
        {
            return Err(invalid("only response_mode=query is supported"));
        }
        if !grants_of(client).contains(&GrantType::AuthorizationCode) {
            return Err(Error::new(
                ErrorCode::UnauthorizedClient,
                "this app may not use the authorization code flow",
            ));
        }
        let raw_scope = params.scope.as_deref().ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidScope,
                "scope is required (OpenID Connect needs openid)",
            )
        })?;
        let scope = Scopes::parse(raw_scope, ErrorCode::InvalidScope, "scope")?;
        if let Some(extra) = scope.not_in(&allowed_scopes(client)).next() {
            return Err(Error::new(
                ErrorCode::InvalidScope,
                format!("scope '{extra}' is not allowed for this app"),
            ));
        }
        let code_challenge = match (
            params.code_challenge,
            params.code_challenge_method.as_deref(),
        ) {
            (Some(challenge), Some("S256")) if is_pkce_value(&challenge) => Some(challenge),
            (Some(_), Some("S256")) => {
                return Err(invalid("code_challenge is not a valid S256 challenge"));
            }
            (Some(_), _) => {
                return Err(invalid(
                    "code_challenge_method must be S256 (plain is not accepted)",
                ));
            }
            (None, Some(_)) => return Err(invalid("code_challenge_method without code_challenge")),
            (None, None) if client.require_pkce => {
                return Err(invalid(
                    "this app must use PKCE: send code_challenge with method S256",
                ));
            }
            (None, None) => None,
        };
        let prompt: Vec<String> = params
            .prompt
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(unknown) = prompt
            .iter()
            .find(|p| !matches!(p.as_str(), "none" | "login" | "consent" | "select_account"))
        {
            return Err(invalid(format!("prompt '{unknown}' is not supported")));
        }
        if prompt.iter().any(|p| p == "none") && prompt.len() > 1 {
            return Err(invalid("prompt=none cannot be combined with other values"));
        }
        let max_age = params
            .max_age
            .as_deref()
            .map(|raw| {
                raw.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| invalid("max_age must be a non-negative number of seconds"))
            })
            .transpose()?;
        if params.state.as_ref().is_some_and(|s| s.len() > MAX_STATE) {
            return Err(invalid("state is too long"));
        }
        if params.nonce.as_ref().is_some_and(|n| n.len() > MAX_NONCE) {
            return Err(invalid("nonce is too long"));
        }
        if params
            .acr_values
            .as_ref()
            .is_some_and(|a| a.len() > MAX_ACR_VALUES)
        {
            return Err(invalid("acr_values is too long"));
        }
        let organization = match params.organization.as_deref() {
            None => None,
            Some(key) => Some(
                self.org_by_key(key)
                    .await?
                    .ok_or_else(|| invalid(format!("organization '{key}' does not exist")))?,
            ),
        };
        Ok(AuthorizationRequest {
            client_id: client.id,
            redirect_uri,
            scope: scope.to_string(),
            state: params.state,
            nonce: params.nonce,
            code_challenge,
            prompt,
            max_age,
            login_hint: params.login_hint.filter(|h| h.len() <= 256),
            organization,
            resources: resource_audiences(&params.resources)?,
            acr_values: params.acr_values,
            received_at: self.now(),
            client_ip: params.client_ip,
        })
    }

    async fn org_by_key(&self, key: &str) -> Result<Option<OrgId>> {
        let by = match key.parse::<OrgId>() {
            Ok(id) => organization::Column::Id.eq(id),
            Err(_) => organization::Column::Slug.eq(key),
        };
        Ok(organization::Entity::find()
            .filter(by)
            .one(self.db())
            .await?
            .map(|o| o.id))
    }

    /// Serves an authorization request from a browser that may have a `session`.
    pub async fn authorize(
        &self,
        params: AuthorizeParams,
        session: Option<AuthorizingSession>,
    ) -> Result<AuthorizeOutcome> {
        let (client, redirect_uri) = self.trusted_redirect(&params).await?;
        let state = params.state.clone();
        let outcome = match self
            .validate_request(&client, redirect_uri.clone(), params)
            .await
        {
            Ok(request) => self.decide(&client, request, session, false).await?,
            Err(error) => AuthorizeOutcome::Denied {
                redirect_uri,
                error,
                state,
            },
        };
        // A self-registered app may have registered any URI: before the user has interacted
        // (signed in or consented), errors stay on Tessera's page instead of redirecting there
        // (RFC 9700 §4.11.2).
        match outcome {
            AuthorizeOutcome::Denied { error, .. } if !client.first_party => Err(error),
            other => Ok(other),
        }
    }

    /// Picks up a request after the sign-in pages created a session.
    pub async fn resume_authorization(
        &self,
        transaction: &str,
        session: Option<AuthorizingSession>,
    ) -> Result<AuthorizeOutcome> {
        self.resume(transaction, session, false).await
    }

    /// Continues a request the user has just consented to.
    pub(crate) async fn resume_authorization_consented(
        &self,
        transaction: &str,
        session: Option<AuthorizingSession>,
    ) -> Result<AuthorizeOutcome> {
        self.resume(transaction, session, true).await
    }

    async fn resume(
        &self,
        transaction: &str,
        session: Option<AuthorizingSession>,
        consented: bool,
    ) -> Result<AuthorizeOutcome> {
        let request: AuthorizationRequest = self
            .store()
            .take_json(&transaction_key(transaction))
            .await?
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::SignInExpired,
                    "this sign-in took too long or was already used; start again from the app",
                )
            })?;
        let client = self
            .find_client(&request.client_id.to_string())
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownClient, "the app was removed"))?;
        self.decide(&client, request, session, consented).await
    }

    /// Session checks (prompt, max_age), the organization, then a code or a trip to sign-in.
    async fn decide(
        &self,
        client: &Client,
        mut request: AuthorizationRequest,
        session: Option<AuthorizingSession>,
        consented: bool,
    ) -> Result<AuthorizeOutcome> {
        let now = self.now();
        let fresh_enough = |s: &Session| {
            let logged_in_after_request = s.auth_time >= request.received_at;
            let login_ok = !request
                .prompt
                .iter()
                .any(|p| p == "login" || p == "select_account")
                || logged_in_after_request;
            // A sign-in after the request satisfies max_age however long it took (max_age=0
            // must not send the user round in circles).
            let age_ok = logged_in_after_request
                || request
                    .max_age
                    .is_none_or(|max| (now - s.auth_time).num_seconds() <= max);
            login_ok && age_ok
        };
        let required_acr = crate::login::acr::requirement(request.acr_values.as_deref());
        if let (Some(required), Some(AuthorizingSession { session: s, .. })) =
            (required_acr, &session)
        {
            let reached = crate::login::acr::satisfies(s.acr.as_deref(), required);
            if !reached && s.auth_time >= request.received_at {
                // The user signed in for this request and still did not reach the level:
                // tell the app instead of sending the user round in circles.
                return Ok(self.denied(
                    request,
                    Error::new(
                        ErrorCode::UnmetAuthenticationRequirements,
                        format!("the sign-in did not reach {required}"),
                    ),
                ));
            }
        }
        let strong_enough = |s: &Session| {
            required_acr.is_none_or(|r| crate::login::acr::satisfies(s.acr.as_deref(), r))
        };
        let Some(signed_in) =
            session.filter(|s| fresh_enough(&s.session) && strong_enough(&s.session))
        else {
            if request.prompt.iter().any(|p| p == "none") {
                return Ok(self.denied(
                    request,
                    Error::new(ErrorCode::LoginRequired, "the user must sign in"),
                ));
            }
            let sso = match request.organization {
                Some(org) => self.active_connection_of(org).await?,
                None => None,
            };
            return self.to_sign_in(request, required_acr, sso).await;
        };
        let session = &signed_in.session;
        if let Some(org) = request.organization
            && session.org_id != Some(org)
            && self.active_roles(org, session.user_id).await?.is_none()
            && let Some(connection) = self.active_connection_of(org).await?
        {
            // The app wants an organization the user is not in yet: its IdP decides.
            return self
                .to_sign_in(request, required_acr, Some(connection))
                .await;
        }
        let org = match self
            .grant_org(client, request.organization, &signed_in)
            .await
        {
            Ok(org) => org,
            Err(error) => return Ok(self.denied(request, error)),
        };
        if !client.first_party && !consented {
            // Consent is for this organization: record the one the grant resolved to.
            request.organization = org;
            let asked_again = request.prompt.iter().any(|p| p == "consent");
            if asked_again
                || !self
                    .has_consent(session.user_id, client.id, &request)
                    .await?
            {
                if request.prompt.iter().any(|p| p == "none") {
                    return Ok(self.denied(
                        request,
                        Error::new(
                            ErrorCode::ConsentRequired,
                            "the user must allow this app first",
                        ),
                    ));
                }
                self.count_transaction(&request).await?;
                let transaction = random_token::<24>();
                self.store()
                    .put_json(&transaction_key(&transaction), &request, TRANSACTION_TTL)
                    .await?;
                return Ok(AuthorizeOutcome::Consent { transaction });
            }
        }
        let code = format!("tac_{}", random_token::<32>());
        let grant = CodeGrant {
            grant_id: TokenFamilyId::new(),
            client_id: client.id,
            redirect_uri: request.redirect_uri.clone(),
            user_id: session.user_id,
            session_id: session.id,
            org_id: org,
            scope: request.scope,
            nonce: request.nonce,
            code_challenge: request.code_challenge,
            auth_time: session.auth_time,
            amr: amr_of(session),
            acr: session.acr.clone(),
            resources: request.resources,
        };
        self.store()
            .put_json(&code_key(&code), &grant, self.provider().code_ttl)
            .await?;
        self.remember_session_client(session.id, client.id).await?;
        Ok(AuthorizeOutcome::Code {
            redirect_uri: request.redirect_uri,
            code,
            state: request.state,
        })
    }

    /// Parks the request and sends the user to sign in (at the org's IdP when `sso` is set).
    async fn to_sign_in(
        &self,
        request: AuthorizationRequest,
        acr: Option<&'static str>,
        sso: Option<entities::ConnectionId>,
    ) -> Result<AuthorizeOutcome> {
        self.count_transaction(&request).await?;
        let transaction = random_token::<24>();
        let login_hint = request.login_hint.clone();
        self.store()
            .put_json(&transaction_key(&transaction), &request, TRANSACTION_TTL)
            .await?;
        Ok(AuthorizeOutcome::SignIn {
            transaction,
            login_hint,
            acr,
            sso,
        })
    }

    /// Every waiting transaction costs store space for fifteen minutes: limit them per client.
    async fn count_transaction(&self, request: &AuthorizationRequest) -> Result<()> {
        let subject = request.client_ip.as_deref().unwrap_or("unknown");
        self.count_against(crate::rate_limit::SIGN_IN_TRANSACTIONS_PER_IP, subject)
            .await
    }

    fn denied(&self, request: AuthorizationRequest, error: Error) -> AuthorizeOutcome {
        AuthorizeOutcome::Denied {
            redirect_uri: request.redirect_uri,
            error,
            state: request.state,
        }
    }

    /// Takes a code once: the grant it stands for, or `None` when unknown, used or expired.
    /// In the same atomic step the grant's id is kept under [`code_replay_key`] for `remember`,
    /// so a replay arriving at any moment after finds it and revokes the grant.
    pub(crate) async fn take_code(
        &self,
        code: &str,
        remember: std::time::Duration,
    ) -> Result<Option<CodeGrant>> {
        Ok(self
            .store()
            .take_json_keeping_field(
                &code_key(code),
                "grant_id",
                &code_replay_key(code),
                remember,
            )
            .await?)
    }
}
