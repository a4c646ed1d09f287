//! The authorization code grant (RFC 6749 §4.1.3, RFC 7636): one redemption per code, by the
//! app it was issued to, with the same redirect URI and the PKCE verifier. A second redemption
//! revokes what the first one issued (RFC 6749 §4.1.2, RFC 9700 §4.5.3.1).

use sha2::{Digest, Sha256};

use super::TokenRequest;
use crate::Broker;
use crate::crypto::base64url;
use crate::error::{Error, ErrorCode, Result};
use crate::provider::authorize::code_replay_key;
use crate::provider::authorize::is_pkce_value;
use crate::provider::client::{Client, GrantType, grants_of};
use crate::provider::scope::Scopes;
use crate::provider::token::TokenResponse;
use crate::provider::user_tokens::{UserGrant, active};
use crate::store::EphemeralStoreExt as _;

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
        // The session with its user, and the membership when the grant is for an org: one
        // statement each, at once on two pooled connections.
        let (session_user, org_subject) =
            tokio::join!(self.live_session_user(grant.session_id), async {
                match grant.org_id {
                    Some(org) => self.org_subject(org, grant.user_id).await.map(Some),
                    None => Ok(None),
                }
            });
        let Some(session_user) = session_user? else {
            return Err(invalid_grant(
                "the sign-in session behind this code has ended",
            ));
        };
        let (user, org, roles) = match org_subject? {
            Some(subject) => subject,
            None => (active(Some(session_user))?, None, Vec::new()),
        };
        let scope = Scopes::parse(&grant.scope, ErrorCode::InvalidScope, "scope")?;
        let refresh = (scope.contains("offline_access")
            && grants_of(client).contains(&GrantType::RefreshToken))
        .then(|| self.refresh_family_expiry())
        .transpose()?;
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
        self.issue_user_tokens(
            client,
            &user_grant,
            refresh.map(|at| (at, user_grant.scope.clone())),
        )
        .await
    }

    /// When a refresh-token family started now must end.
    fn refresh_family_expiry(&self) -> Result<chrono::DateTime<chrono::Utc>> {
        let absolute = chrono::Duration::from_std(self.provider().refresh_absolute_ttl)
            .map_err(Error::internal)?;
        Ok(self.now() + absolute)
    }
}

pub(super) fn required<'a>(value: Option<&'a str>, name: &str) -> Result<&'a str> {
    value.ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidRequest,
            format!("parameter '{name}' is required"),
        )
    })
}
