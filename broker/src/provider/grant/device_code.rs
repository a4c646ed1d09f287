//! The device code grant at the token endpoint (RFC 8628 §3.4-3.5): pending, slow down,
//! denied, expired, or tokens exactly once.

use super::TokenRequest;
use super::authorization_code::required;
use crate::Broker;
use crate::error::{Error, ErrorCode, Result};
use crate::provider::client::{Client, GrantType, grants_of};
use crate::provider::device::{Decision, DeviceGrant, device_key};
use crate::provider::scope::Scopes;
use crate::provider::token::TokenResponse;
use crate::provider::user_tokens::UserGrant;
use crate::store::EphemeralStoreExt as _;

impl Broker {
    pub(super) async fn device_code(
        &self,
        client: &Client,
        request: &TokenRequest,
    ) -> Result<TokenResponse> {
        let device_code = required(request.device_code.as_deref(), "device_code")?;
        let key = device_key(device_code);
        let expired = || {
            Error::new(
                ErrorCode::ExpiredToken,
                "the device code expired; start again",
            )
        };
        let grant: DeviceGrant = self.store().get_json(&key).await?.ok_or_else(expired)?;
        if grant.client_id != client.id {
            return Err(Error::new(
                ErrorCode::InvalidGrant,
                "the device code was issued to another app",
            ));
        }
        // At most one poll per interval (RFC 8628 §3.5): a marker that lives one interval.
        let interval = std::time::Duration::from_secs(grant.interval);
        if !self
            .store()
            .put_new(&format!("{key}:poll"), b"1", interval)
            .await?
        {
            let mut slower = grant.clone();
            slower.interval += 5;
            let remaining = (grant.expires_at - self.now()).to_std().unwrap_or_default();
            if !remaining.is_zero() {
                self.store().put_json(&key, &slower, remaining).await?;
            }
            return Err(Error::new(
                ErrorCode::SlowDown,
                format!("poll at most every {} seconds", slower.interval),
            ));
        }
        match grant.decision {
            Decision::Pending => Err(Error::new(
                ErrorCode::AuthorizationPending,
                "the user has not approved the request yet",
            )),
            Decision::Denied => {
                self.store().delete(&key).await?;
                Err(Error::new(
                    ErrorCode::AccessDenied,
                    "the user denied the request",
                ))
            }
            Decision::Approved { .. } => {
                // Take it: of several concurrent polls, exactly one gets the tokens.
                let taken: Option<DeviceGrant> = self.store().take_json(&key).await?;
                let Some(DeviceGrant {
                    scope,
                    resources,
                    decision:
                        Decision::Approved {
                            user_id,
                            session_id,
                            org_id,
                            auth_time,
                            amr,
                            acr,
                        },
                    ..
                }) = taken
                else {
                    return Err(expired());
                };
                let (user, org, roles) = self.grant_subject(user_id, org_id).await?;
                let scope = Scopes::parse(&scope, ErrorCode::InvalidScope, "scope")?;
                let refresh = (scope.contains("offline_access")
                    && grants_of(client).contains(&GrantType::RefreshToken))
                .then(|| {
                    chrono::Duration::from_std(self.provider().refresh_absolute_ttl)
                        .map(|ttl| self.now() + ttl)
                        .map_err(Error::internal)
                })
                .transpose()?;
                let grant = UserGrant {
                    grant_id: entities::TokenFamilyId::new(),
                    user,
                    org,
                    roles,
                    session_id: Some(session_id),
                    scope,
                    nonce: None,
                    auth_time,
                    amr,
                    acr,
                    resources,
                };
                self.issue_user_tokens(client, &grant, refresh.map(|at| (at, grant.scope.clone())))
                    .await
            }
        }
    }
}
