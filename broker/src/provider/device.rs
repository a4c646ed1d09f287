//! The device authorization grant (RFC 8628), for CLIs and devices without a browser: the
//! device shows a short user code, the user approves it on Tessera's `/device` page from any
//! browser where they are signed in, and the device polls the token endpoint meanwhile.

use chrono::{DateTime, Utc};
use entities::{ClientId, OrgId, SessionId, UserId};
use serde::{Deserialize, Serialize};

use super::client::{Client, GrantType, allowed_scopes, grants_of};
use super::grant::resource_audiences;
use super::scope::Scopes;
use crate::Broker;
use crate::crypto::{random_bytes, random_token, secret_digest};
use crate::error::{Error, ErrorCode, Result};
use crate::session::{AuthorizingSession, Session, amr_of};
use crate::store::EphemeralStoreExt as _;

/// User codes use consonants only (no vowels: no words; no look-alike digits), RFC 8628 §6.1.
const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LEN: usize = 8;
/// How long the user has to approve.
const DEVICE_CODE_TTL: std::time::Duration = std::time::Duration::from_secs(600);
/// Seconds between polls; `slow_down` adds five.
const POLL_INTERVAL: u64 = 5;
/// Path of the page where users enter the code.
pub const VERIFICATION_PATH: &str = "/device";

/// What the device gets back (RFC 8628 §3.2).
#[derive(Debug, Clone, Serialize)]
pub struct DeviceAuthorization {
    /// The device's secret for polling.
    pub device_code: String,
    /// What the user types (XXXX-XXXX).
    pub user_code: String,
    /// Where the user types it.
    pub verification_uri: String,
    /// The same, with the code filled in (for a QR code or a link).
    pub verification_uri_complete: String,
    /// Seconds until the codes expire.
    pub expires_in: u64,
    /// Seconds to wait between polls.
    pub interval: u64,
}

/// The user's answer, once given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Decision {
    Pending,
    Denied,
    Approved {
        user_id: UserId,
        session_id: SessionId,
        org_id: Option<OrgId>,
        auth_time: DateTime<Utc>,
        amr: Vec<String>,
        acr: Option<String>,
    },
}

/// A pending device grant, in the ephemeral store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DeviceGrant {
    pub client_id: ClientId,
    pub scope: String,
    pub resources: Vec<String>,
    pub user_code: String,
    pub interval: u64,
    pub decision: Decision,
    pub expires_at: DateTime<Utc>,
}

/// What the approval page shows.
#[derive(Debug, Clone)]
pub struct DevicePrompt {
    /// The code, formatted.
    pub user_code: String,
    /// The app asking.
    pub client_name: String,
    /// The scopes it asks for.
    pub scope: String,
    /// Post it back as `confirm` with the answer; single use, bound to the session.
    pub confirmation: String,
}

/// A question shown to one session about one code.
#[derive(Debug, Serialize, Deserialize)]
struct PendingAnswer {
    session: SessionId,
    user_code: String,
}

fn answer_key(confirmation: &str) -> String {
    format!("device-answer:{confirmation}")
}

pub(crate) fn device_key(device_code: &str) -> String {
    format!("device:{}", secret_digest(device_code))
}

fn user_code_key(user_code: &str) -> String {
    format!("user-code:{user_code}")
}

fn new_user_code() -> String {
    let bytes = random_bytes::<USER_CODE_LEN>();
    // 256 is not a multiple of 20: the tiny bias over 8 characters (~34 bits) is harmless for
    // a code that lives ten minutes and is rate limited.
    let chars: String = bytes
        .iter()
        .map(|b| USER_CODE_ALPHABET[usize::from(*b) % USER_CODE_ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// Normalizes what a user typed (`bcdf ghjk`, `BCDF-GHJK`) to the stored form, if it can be one.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    let chars: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid =
        chars.len() == USER_CODE_LEN && chars.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
    valid.then(|| format!("{}-{}", &chars[..4], &chars[4..]))
}

fn unknown_code() -> Error {
    Error::new(
        ErrorCode::DeviceCodeInvalid,
        "that code is not valid: check it on your device, it may have expired",
    )
}

impl Broker {
    /// Starts a device grant for `client` (RFC 8628 §3.1).
    pub async fn device_authorization(
        &self,
        client: &Client,
        scope: Option<&str>,
        resources: &[String],
        ip: Option<&str>,
    ) -> Result<DeviceAuthorization> {
        if !grants_of(client).contains(&GrantType::DeviceCode) {
            return Err(Error::new(
                ErrorCode::UnauthorizedClient,
                "this app may not use the device grant",
            ));
        }
        self.count_against(
            crate::rate_limit::SIGN_IN_TRANSACTIONS_PER_IP,
            ip.unwrap_or("unknown"),
        )
        .await?;
        let scope = Scopes::parse(scope.unwrap_or("openid"), ErrorCode::InvalidScope, "scope")?;
        if let Some(extra) = scope.not_in(&allowed_scopes(client)).next() {
            return Err(Error::new(
                ErrorCode::InvalidScope,
                format!("scope '{extra}' is not allowed for this app"),
            ));
        }
        let device_code = format!("tdc_{}", random_token::<32>());
        let expires_at =
            self.now() + chrono::Duration::from_std(DEVICE_CODE_TTL).map_err(Error::internal)?;
        // A fresh user code that is not in use (collisions are rare; retry a few times).
        let mut user_code = None;
        for _ in 0..5 {
            let candidate = new_user_code();
            let key = user_code_key(&candidate);
            if self
                .store()
                .put_new(&key, device_key(&device_code).as_bytes(), DEVICE_CODE_TTL)
                .await?
            {
                user_code = Some(candidate);
                break;
            }
        }
        let user_code = user_code.ok_or_else(|| Error::unavailable("no free user code"))?;
        let grant = DeviceGrant {
            client_id: client.id,
            scope: scope.to_string(),
            resources: resource_audiences(resources)?,
            user_code: user_code.clone(),
            interval: POLL_INTERVAL,
            decision: Decision::Pending,
            expires_at,
        };
        self.store()
            .put_json(&device_key(&device_code), &grant, DEVICE_CODE_TTL)
            .await?;
        let verification_uri = self.provider().url(VERIFICATION_PATH);
        Ok(DeviceAuthorization {
            verification_uri_complete: format!("{verification_uri}?user_code={user_code}"),
            verification_uri,
            device_code,
            user_code,
            expires_in: DEVICE_CODE_TTL.as_secs(),
            interval: POLL_INTERVAL,
        })
    }

    async fn pending_device_grant(&self, typed: &str) -> Result<(String, DeviceGrant)> {
        let user_code = normalize_user_code(typed).ok_or_else(unknown_code)?;
        let device_key = self
            .store()
            .get(&user_code_key(&user_code))
            .await?
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(unknown_code)?;
        let grant: DeviceGrant = self
            .store()
            .get_json(&device_key)
            .await?
            .ok_or_else(unknown_code)?;
        if !matches!(grant.decision, Decision::Pending) {
            return Err(unknown_code());
        }
        Ok((device_key, grant))
    }

    /// What the approval page shows `session` for a typed user code, with a confirmation that
    /// only this session can post back.
    pub async fn device_prompt(&self, typed: &str, session: &Session) -> Result<DevicePrompt> {
        let (_, grant) = self.pending_device_grant(typed).await?;
        let client = self
            .find_client(&grant.client_id.to_string())
            .await?
            .ok_or_else(unknown_code)?;
        let confirmation = random_token::<24>();
        let pending = PendingAnswer {
            session: session.id,
            user_code: grant.user_code.clone(),
        };
        self.store()
            .put_json(&answer_key(&confirmation), &pending, DEVICE_CODE_TTL)
            .await?;
        Ok(DevicePrompt {
            user_code: grant.user_code,
            client_name: client.name,
            scope: grant.scope,
            confirmation,
        })
    }

    /// Records the signed-in user's answer to the question they were shown.
    pub async fn device_answer(
        &self,
        confirmation: &str,
        signed_in: &AuthorizingSession,
        approve: bool,
    ) -> Result<()> {
        let pending: PendingAnswer = self
            .store()
            .take_json(&answer_key(confirmation))
            .await?
            .filter(|p: &PendingAnswer| p.session == signed_in.session.id)
            .ok_or_else(unknown_code)?;
        self.device_decide(&pending.user_code, signed_in, approve)
            .await
    }

    /// Records the answer for a code. A code is answered once.
    async fn device_decide(
        &self,
        typed: &str,
        signed_in: &AuthorizingSession,
        approve: bool,
    ) -> Result<()> {
        let session = &signed_in.session;
        let (device_key, mut grant) = self.pending_device_grant(typed).await?;
        // The code is spent: it cannot be answered again.
        self.store()
            .delete(&user_code_key(&grant.user_code))
            .await?;
        let client = self
            .find_client(&grant.client_id.to_string())
            .await?
            .ok_or_else(unknown_code)?;
        grant.decision = if approve {
            match self.grant_org(&client, None, signed_in).await {
                Ok(org_id) => {
                    self.remember_session_client(session.id, client.id).await?;
                    Decision::Approved {
                        user_id: session.user_id,
                        session_id: session.id,
                        org_id,
                        auth_time: session.auth_time,
                        amr: amr_of(session),
                        acr: session.acr.clone(),
                    }
                }
                Err(e) if e.code() == ErrorCode::AccessDenied => Decision::Denied,
                Err(e) => return Err(e),
            }
        } else {
            Decision::Denied
        };
        let remaining = (grant.expires_at - self.now()).to_std().unwrap_or_default();
        if remaining.is_zero() {
            return Err(unknown_code());
        }
        self.store()
            .put_json(&device_key, &grant, remaining)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_consonants_in_two_groups() {
        for _ in 0..100 {
            let code = new_user_code();
            assert_eq!(code.len(), 9);
            assert_eq!(&code[4..5], "-");
            assert!(
                code.bytes()
                    .filter(|b| *b != b'-')
                    .all(|b| USER_CODE_ALPHABET.contains(&b))
            );
        }
    }

    #[test]
    fn typed_codes_are_normalized() {
        assert_eq!(
            normalize_user_code("bcdf ghjk").as_deref(),
            Some("BCDF-GHJK")
        );
        assert_eq!(
            normalize_user_code("BCDF-GHJK").as_deref(),
            Some("BCDF-GHJK")
        );
        assert_eq!(normalize_user_code("BCDF-GHJ"), None);
        assert_eq!(
            normalize_user_code("BCDF-GHJA"),
            None,
            "vowels are never issued"
        );
    }
}
