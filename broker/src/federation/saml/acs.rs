//! The SAML round trip: the AuthnRequest for a pending sign-in, then the ACS. The IdP's POST
//! comes from another site, so the browser's SameSite=Lax flow cookie is not on it: the ACS
//! verifies the response, then hands the verified profile to a one-time continuation that the
//! browser follows with a GET (top-level navigation carries Lax cookies), where the flow cookie
//! is checked as in the OIDC callback before anything is provisioned.

use std::time::Duration;

use entities::ConnectionId;
use entities::connection::{ConnectionKind, ConnectionStatus};
use serde::{Deserialize, Serialize};

use crate::Broker;
use crate::crypto::{random_token, secret_digest};
use crate::error::{Error, ErrorCode, Result};
use crate::federation::saml::profile::profile;
use crate::federation::saml::request::{AuthnRequest, authn_request};
use crate::federation::saml::response::{Expectations, Received, VerifiedAssertion, read, verify};
use crate::federation::sign_in::{SsoFinished, UpstreamTransaction, inactive, key};
use crate::federation::{Connection, UpstreamProfile};
use crate::login::ClientInfo;
use crate::rate_limit::SIGN_IN_TRANSACTIONS_PER_IP;
use crate::store::EphemeralStoreExt as _;

/// How long the browser has to follow the ACS's redirect.
const CONTINUE_TTL: Duration = Duration::from_secs(2 * 60);

/// What the IdP posted to the ACS.
#[derive(Debug, Clone, Default)]
pub struct SamlPost {
    /// The base64 `SAMLResponse` form field.
    pub saml_response: Option<String>,
    /// The `RelayState` form field (our transaction, for SP-initiated sign-in).
    pub relay_state: Option<String>,
}

/// How the ACS ended.
#[derive(Debug)]
pub enum SamlAccepted {
    /// The response is valid: continue at `/sso/saml/{connection}/continue?token=…` in the
    /// browser.
    Continue {
        /// The one-time continuation token.
        token: String,
    },
    /// A test login finished (successfully or not); nothing was created.
    Tested(SsoFinished),
}

/// A verified sign-in waiting for its browser.
#[derive(Debug, Serialize, Deserialize)]
struct Continuation {
    connection_id: ConnectionId,
    profile: UpstreamProfile,
    /// The browser that started (none for IdP-initiated sign-in).
    flow_digest: Option<String>,
    return_to: Option<String>,
}

fn continuation_key(token: &str) -> String {
    format!("saml-continue:{}", secret_digest(token))
}

/// A SAML connection whose IdP metadata was never given.
pub(crate) fn metadata_missing() -> Error {
    Error::new(
        ErrorCode::SamlMetadataMissing,
        "this SAML connection has no IdP metadata yet; add it (metadata_url or metadata_xml) first",
    )
}

fn stale() -> Error {
    Error::new(
        ErrorCode::SsoStateInvalid,
        "this sign-in is expired, was already used, or was started in another browser; start again",
    )
}

impl Broker {
    /// The AuthnRequest for a sign-in through `connection` with `relay_state`.
    pub(crate) fn saml_authn_request(
        &self,
        connection: &Connection,
        relay_state: &str,
    ) -> Result<AuthnRequest> {
        let settings = Self::saml_settings(connection)?;
        if settings.certificates.is_empty() {
            return Err(metadata_missing());
        }
        let keys = settings
            .sign_requests
            .then(|| self.sp_keys(connection.id, connection.secrets_encrypted.as_deref()))
            .transpose()?;
        authn_request(
            &settings,
            &self.saml_sp_urls(connection.id),
            relay_state,
            self.now(),
            keys.as_ref().map(|k| &k.signing),
        )
    }

    /// The ACS: verifies what the IdP posted. A real sign-in continues in the browser
    /// ([`Self::continue_saml_sign_in`]); a test login is recorded here. Every refusal is
    /// audited (`sso.sign_in_failed` with its code).
    pub async fn accept_saml_response(
        &self,
        connection: ConnectionId,
        post: SamlPost,
        client: &ClientInfo,
    ) -> Result<SamlAccepted> {
        self.count_against(SIGN_IN_TRANSACTIONS_PER_IP, client.ip_subject())
            .await?;
        let connection = self.connection_by_id(connection).await?;
        if connection.kind != ConnectionKind::Saml {
            return Err(Error::new(
                ErrorCode::ConnectionNotFound,
                format!("no SAML connection '{}'", connection.id),
            ));
        }
        match self.accept(&connection, post).await {
            Err(error) => {
                self.record_sso_failure(&connection, &error, client).await?;
                Err(error)
            }
            accepted => accepted,
        }
    }

    async fn accept(&self, connection: &Connection, post: SamlPost) -> Result<SamlAccepted> {
        let encoded = post
            .saml_response
            .filter(|r| !r.trim().is_empty())
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::SamlResponseMissing,
                    "the identity provider posted no SAMLResponse",
                )
            })?;
        let received = read(&encoded)?;
        let transaction = self
            .saml_transaction(connection, post.relay_state.as_deref())
            .await?;
        let is_test = transaction.as_ref().is_some_and(|t| t.test.is_some());
        if !is_test && connection.status != ConnectionStatus::Active {
            return Err(inactive());
        }
        let request_id = transaction.as_ref().and_then(|t| t.saml_request_id.clone());
        let verified = self.verify_saml(connection, received, request_id).await;
        let assertion_xml = verified.as_ref().ok().map(|v| v.signed_xml.clone());
        let outcome = match verified {
            Ok(assertion) => self.saml_profile(connection, assertion).await,
            Err(error) => Err(error),
        };
        match transaction {
            Some(UpstreamTransaction {
                test: Some(test), ..
            }) => Ok(SamlAccepted::Tested(
                self.finish_test_with(connection, &test, outcome, assertion_xml)
                    .await?,
            )),
            transaction => {
                let profile = outcome?;
                let (flow_digest, return_to) = match transaction {
                    Some(t) => (Some(t.flow_digest), t.return_to),
                    None => (None, None),
                };
                let token = random_token::<32>();
                let pending = Continuation {
                    connection_id: connection.id,
                    profile,
                    flow_digest,
                    return_to,
                };
                self.store()
                    .put_json(&continuation_key(&token), &pending, CONTINUE_TTL)
                    .await?;
                Ok(SamlAccepted::Continue { token })
            }
        }
    }

    /// The pending sign-in the RelayState names, taken once; `None` for an IdP-initiated
    /// response (refused unless the connection allows them).
    async fn saml_transaction(
        &self,
        connection: &Connection,
        relay_state: Option<&str>,
    ) -> Result<Option<UpstreamTransaction>> {
        let settings = Self::saml_settings(connection)?;
        let taken = match relay_state.filter(|r| !r.is_empty() && r.len() <= 256) {
            Some(relay) => self
                .store()
                .take_json::<UpstreamTransaction>(&key(relay))
                .await?
                .filter(|t| t.connection_id == connection.id && t.saml_request_id.is_some()),
            None => None,
        };
        match taken {
            Some(transaction) => Ok(Some(transaction)),
            None if settings.allow_idp_initiated => Ok(None),
            None if relay_state.is_some() => Err(stale()),
            None => Err(Error::new(
                ErrorCode::SamlUnsolicitedResponse,
                "this connection does not accept IdP-initiated sign-in; start from the application or Tessera's sign-in page",
            )),
        }
    }

    /// Runs the checks on a blocking thread (xmlsec blocks and holds a global lock), then
    /// the replay cache.
    async fn verify_saml(
        &self,
        connection: &Connection,
        received: Received,
        request_id: Option<String>,
    ) -> Result<VerifiedAssertion> {
        let settings = Self::saml_settings(connection)?;
        let sp = self.saml_sp_urls(connection.id);
        let keys = self.sp_keys(connection.id, connection.secrets_encrypted.as_deref())?;
        let now = self.now();
        let skew = settings.clock_skew_seconds;
        let checked = tokio::task::spawn_blocking(move || {
            verify(
                &received,
                &Expectations {
                    settings: &settings,
                    sp: &sp,
                    request_id: request_id.as_deref(),
                    now,
                    decryption_key: &keys.encryption,
                },
            )
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "SAML response verification panicked");
            Error::new(
                ErrorCode::SamlResponseMalformed,
                "the SAML response could not be read",
            )
        })??;
        let ttl = (checked.valid_until - now).num_seconds().max(0) as u64 + u64::from(skew) + 1;
        let replay_key = format!(
            "saml-replay:{}:{}",
            connection.id,
            secret_digest(&checked.id)
        );
        if !self
            .store()
            .put_new(&replay_key, b"1", Duration::from_secs(ttl))
            .await?
        {
            return Err(Error::new(
                ErrorCode::SamlReplayed,
                "this SAML assertion was already used; sign in again",
            ));
        }
        Ok(checked)
    }

    async fn saml_profile(
        &self,
        connection: &Connection,
        assertion: VerifiedAssertion,
    ) -> Result<UpstreamProfile> {
        let settings = Self::saml_settings(connection)?;
        Ok(profile(&assertion, &settings))
    }

    /// Finishes a verified SAML sign-in in the browser that started it.
    pub async fn continue_saml_sign_in(
        &self,
        connection: ConnectionId,
        token: &str,
        flow: Option<&str>,
        client: &ClientInfo,
    ) -> Result<SsoFinished> {
        let pending: Continuation = self
            .store()
            .take_json(&continuation_key(token))
            .await?
            .ok_or_else(stale)?;
        let same_browser = match &pending.flow_digest {
            Some(digest) => flow.is_some_and(|f| &secret_digest(f) == digest),
            None => true,
        };
        if pending.connection_id != connection || !same_browser {
            return Err(stale());
        }
        let connection = self.connection_by_id(connection).await?;
        let flow_digest = pending.flow_digest.unwrap_or_default();
        self.finish_sign_in(
            &connection,
            pending.return_to,
            &flow_digest,
            Ok(pending.profile),
            client,
        )
        .await
    }
}
