//! Signing out (OIDC RP-Initiated Logout 1.0) and telling the apps (OIDC Back-Channel Logout
//! 1.0): the session ends server-side, every app the session signed in to that registered a
//! back-channel URI receives a signed logout token, and the browser returns to a registered
//! post-logout URI, never an unregistered one.

use std::time::Duration;

use entities::{SessionId, client, session_client};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::client::{Client, list_of};
use super::token::signing_alg;
use crate::Broker;
use crate::crypto::random_token;
use crate::error::{Error, ErrorCode, Result};
use crate::session::Session;
use crate::store::EphemeralStoreExt as _;

/// How long a sign-out confirmation stays valid.
const CONFIRMATION_TTL: Duration = Duration::from_secs(600);
/// How long an app has to accept a back-channel logout notice.
const NOTICE_TIMEOUT: Duration = Duration::from_secs(5);
/// The event a logout token carries.
const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// An end-session request as received.
#[derive(Debug, Clone, Default)]
pub struct EndSessionParams {
    /// A previously issued ID token (may be expired).
    pub id_token_hint: Option<String>,
    /// The app asking.
    pub client_id: Option<String>,
    /// Where to send the browser afterwards (must be registered for the app).
    pub post_logout_redirect_uri: Option<String>,
    /// Returned to the app with the redirect.
    pub state: Option<String>,
}

/// What the browser sees next.
#[derive(Debug)]
pub enum EndSessionOutcome {
    /// Signed out: go to the app's post-logout URI, or show the signed-out page.
    SignedOut {
        /// The app's URI with `state`, when it asked for one.
        redirect: Option<String>,
    },
    /// Ask the user to confirm (the request could come from any site).
    Confirm {
        /// Post it back as `confirm` to sign out.
        confirmation: String,
        /// The app's name, to show.
        client_name: Option<String>,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct PendingSignOut {
    session: SessionId,
    redirect: Option<String>,
}

/// The claims of an ID token used as a hint (only those logout needs).
#[derive(Debug, Deserialize)]
struct HintClaims {
    aud: String,
    sub: String,
    #[serde(default)]
    sid: Option<String>,
}

fn invalid(message: &str) -> Error {
    Error::new(ErrorCode::InvalidRequest, message.to_owned())
}

fn confirmation_key(token: &str) -> String {
    format!("logout:{token}")
}

impl Broker {
    /// Serves an end-session request from a browser that may have a `session`.
    pub async fn end_session(
        &self,
        params: EndSessionParams,
        session: Option<Session>,
    ) -> Result<EndSessionOutcome> {
        let hint = match params.id_token_hint.as_deref() {
            Some(token) => Some(
                self.verify_jwt_allow_expired::<HintClaims>(token, "JWT")
                    .await
                    .map_err(|_| invalid("id_token_hint is not an ID token Tessera issued"))?,
            ),
            None => None,
        };
        let client_id = match (&hint, params.client_id.as_deref()) {
            (Some(hint), Some(id)) if hint.aud != id => {
                return Err(invalid("client_id does not match the id_token_hint"));
            }
            (Some(hint), _) => Some(hint.aud.clone()),
            (None, id) => id.map(str::to_owned),
        };
        let client = match client_id.as_deref() {
            Some(id) => Some(
                self.find_client(id)
                    .await?
                    .ok_or_else(|| invalid("unknown client_id"))?,
            ),
            None => None,
        };
        let redirect = self.post_logout_redirect(client.as_ref(), &params)?;
        let Some(session) = session else {
            return Ok(EndSessionOutcome::SignedOut { redirect });
        };
        let hint_is_this_session = hint.as_ref().is_some_and(|h| {
            h.sub == session.user_id.to_string()
                && h.sid
                    .as_deref()
                    .is_none_or(|sid| sid == session.id.to_string())
        });
        if hint_is_this_session {
            self.sign_out(&session).await?;
            return Ok(EndSessionOutcome::SignedOut { redirect });
        }
        let confirmation = random_token::<24>();
        let pending = PendingSignOut {
            session: session.id,
            redirect,
        };
        self.store()
            .put_json(&confirmation_key(&confirmation), &pending, CONFIRMATION_TTL)
            .await?;
        Ok(EndSessionOutcome::Confirm {
            confirmation,
            client_name: client.map(|c| c.name),
        })
    }

    /// Signs out after the user confirmed. The confirmation is single use and bound to the
    /// session that was shown the question, so another site cannot post it.
    pub async fn confirm_end_session(
        &self,
        confirmation: &str,
        session: Option<Session>,
    ) -> Result<EndSessionOutcome> {
        let pending: PendingSignOut = self
            .store()
            .take_json(&confirmation_key(confirmation))
            .await?
            .ok_or_else(|| invalid("this sign-out confirmation expired or was already used"))?;
        if let Some(session) = session.filter(|s| s.id == pending.session) {
            self.sign_out(&session).await?;
        }
        Ok(EndSessionOutcome::SignedOut {
            redirect: pending.redirect,
        })
    }

    fn post_logout_redirect(
        &self,
        client: Option<&Client>,
        params: &EndSessionParams,
    ) -> Result<Option<String>> {
        let Some(uri) = params.post_logout_redirect_uri.as_deref() else {
            return Ok(None);
        };
        let client = client.ok_or_else(|| {
            invalid("post_logout_redirect_uri needs client_id or id_token_hint to check it against")
        })?;
        // A self-registered app could register any URI: redirect only for a proven sign-in.
        if !client.first_party && params.id_token_hint.is_none() {
            return Err(invalid(
                "this app must send id_token_hint to be redirected after logout",
            ));
        }
        if !list_of(&client.post_logout_redirect_uris)
            .iter()
            .any(|r| r == uri)
        {
            return Err(invalid(
                "post_logout_redirect_uri is not registered for this app",
            ));
        }
        let mut url = url::Url::parse(uri).map_err(Error::internal)?;
        if let Some(state) = &params.state {
            url.query_pairs_mut().append_pair("state", state);
        }
        Ok(Some(url.to_string()))
    }

    /// Ends the session and notifies the apps it signed in to (in the background: a slow app
    /// must not hold the user's browser).
    pub async fn sign_out(&self, session: &Session) -> Result<()> {
        self.revoke_session(session.id).await?;
        let signed_in_to: Vec<entities::ClientId> = session_client::Entity::find()
            .filter(session_client::Column::SessionId.eq(session.id))
            .all(self.db())
            .await?
            .into_iter()
            .map(|row| row.client_id)
            .collect();
        let apps: Vec<Client> = client::Entity::find()
            .filter(client::Column::Id.is_in(signed_in_to))
            .filter(client::Column::BackchannelLogoutUri.is_not_null())
            .all(self.db())
            .await?;
        for app in apps {
            let Some(uri) = app.backchannel_logout_uri.clone() else {
                continue;
            };
            let token = self.logout_token(&app, session).await?;
            let public_only = !app.first_party;
            tokio::spawn(async move {
                if let Err(e) = deliver_logout_token(&uri, &token, public_only).await {
                    tracing::warn!(app = %app.id, error = %e, "back-channel logout notice failed");
                }
            });
        }
        Ok(())
    }

    async fn logout_token(&self, app: &Client, session: &Session) -> Result<String> {
        let iat = self.now().timestamp();
        let claims = json!({
            "iss": self.provider().issuer,
            "aud": app.id.to_string(),
            "iat": iat,
            "exp": iat + 120,
            "jti": uuid::Uuid::new_v4().to_string(),
            "sub": session.user_id.to_string(),
            "sid": session.id.to_string(),
            "events": { BACKCHANNEL_EVENT: {} },
        });
        self.sign_jwt(signing_alg(app), "logout+jwt", &claims).await
    }
}

/// Whether an address is one a notice must never reach for a third-party app (Tessera's own
/// network: loopback, private, link-local, unique-local, unspecified, multicast).
fn is_internal(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64 // 100.64/10, CGNAT
        }
        std::net::IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xfe00) == 0xfc00 // fc00::/7, unique local
                || (v6.segments()[0] & 0xffc0) == 0xfe80 // fe80::/10, link local
                || v6.to_ipv4_mapped().is_some_and(|v4| is_internal(v4.into()))
        }
    }
}

/// Posts the logout token. For third-party apps the host is resolved here, refused when it is
/// internal, and the connection pinned to the checked address, so DNS cannot swap it later.
async fn deliver_logout_token(
    uri: &str,
    token: &str,
    public_only: bool,
) -> std::result::Result<(), String> {
    let url = url::Url::parse(uri).map_err(|e| e.to_string())?;
    let mut builder = reqwest::Client::builder()
        .timeout(NOTICE_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none());
    if public_only {
        let host = url.host_str().ok_or("no host")?.to_owned();
        let port = url.port_or_known_default().ok_or("no port")?;
        let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| e.to_string())?
            .collect();
        let Some(addr) = addrs.iter().copied().find(|a| !is_internal(a.ip())) else {
            return Err(format!(
                "{host} resolves only to internal addresses; not calling it"
            ));
        };
        if addrs.iter().any(|a| is_internal(a.ip())) {
            return Err(format!(
                "{host} resolves to internal addresses; not calling it"
            ));
        }
        builder = builder.resolve(&host, addr);
    }
    builder
        .build()
        .map_err(|e| e.to_string())?
        .post(url)
        .form(&[("logout_token", token)])
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_internal;

    #[test]
    fn internal_addresses_are_recognized() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }
}
