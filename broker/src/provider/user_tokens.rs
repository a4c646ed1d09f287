//! Tokens on behalf of a user: the access token, the ID token (OIDC Core §2, §3.1.3.6) and the
//! refresh token, built from one grant so the code and refresh grants issue the same shapes.

use chrono::{DateTime, Utc};
use entities::signing_key::SigningAlg;
use entities::{OrgId, SessionId, TokenFamilyId, UserId, organization, refresh_token, user};
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256, Sha512};

use super::client::Client;
use super::introspect::REFRESH_PREFIX;
use super::scope::Scopes;
use super::token::{AccessTokenClaims, Audience, TokenResponse, signing_alg};
use crate::Broker;
use crate::crypto::{base64url, hash_secret, random_token};
use crate::error::{Error, ErrorCode, Result};
use crate::user::User;

/// Everything a user grant carries, whether it comes from a code or a refresh token.
#[derive(Debug, Clone)]
pub(crate) struct UserGrant {
    pub grant_id: TokenFamilyId,
    pub user: User,
    pub org: Option<organization::Model>,
    pub roles: Vec<String>,
    pub session_id: Option<SessionId>,
    pub scope: Scopes,
    pub nonce: Option<String>,
    pub auth_time: DateTime<Utc>,
    pub amr: Vec<String>,
    pub acr: Option<String>,
    pub resources: Vec<String>,
}

/// What a refresh token's row records of its grant (the subject by id: a code's first refresh
/// token is stored in the statement that reads the user).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RefreshRecord<'a> {
    pub grant_id: TokenFamilyId,
    pub user_id: UserId,
    pub org_id: Option<OrgId>,
    pub session_id: Option<SessionId>,
    pub auth_time: DateTime<Utc>,
    pub amr: &'a [String],
    pub acr: Option<&'a str>,
    pub resources: &'a [String],
}

impl UserGrant {
    pub(crate) fn refresh_record(&self) -> RefreshRecord<'_> {
        RefreshRecord {
            grant_id: self.grant_id,
            user_id: self.user.id,
            org_id: self.org.as_ref().map(|o| o.id),
            session_id: self.session_id,
            auth_time: self.auth_time,
            amr: &self.amr,
            acr: self.acr.as_deref(),
            resources: &self.resources,
        }
    }
}

/// The claims of an ID token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdTokenClaims {
    /// Issuer.
    pub iss: String,
    /// The user.
    pub sub: String,
    /// The app.
    pub aud: String,
    /// Expiry.
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// When the user authenticated.
    pub auth_time: i64,
    /// The app's nonce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Authentication context class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// Authentication methods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// The app the token was issued to.
    pub azp: String,
    /// Half of the access token's hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// The browser session (for logout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Profile, email and organization claims, per scope, and the app's custom claims.
    #[serde(flatten)]
    pub claims: Map<String, Value>,
}

/// `at_hash`: the left half of the access token's hash with the ID token's algorithm's hash
/// function (SHA-256 for RS256 and ES256, SHA-512 for Ed25519), base64url.
pub(crate) fn at_hash(alg: SigningAlg, access_token: &str) -> String {
    match alg {
        SigningAlg::EdDsa => {
            let digest = Sha512::digest(access_token.as_bytes());
            base64url(&digest[..32])
        }
        SigningAlg::Rs256 | SigningAlg::Es256 => {
            let digest = Sha256::digest(access_token.as_bytes());
            base64url(&digest[..16])
        }
    }
}

/// The user and organization claims that `scope` releases (for ID tokens and userinfo).
pub(crate) fn identity_claims(grant: &UserGrant) -> Map<String, Value> {
    let mut claims = Map::new();
    let user = &grant.user;
    if grant.scope.contains("email")
        && let Some(email) = &user.email
    {
        claims.insert("email".into(), json!(email));
        claims.insert("email_verified".into(), json!(user.email_verified));
    }
    if grant.scope.contains("profile") {
        for (name, value) in [
            ("name", &user.name),
            ("given_name", &user.given_name),
            ("family_name", &user.family_name),
        ] {
            if let Some(value) = value {
                claims.insert(name.into(), json!(value));
            }
        }
    }
    if let Some(org) = &grant.org {
        claims.insert("org_id".into(), json!(org.id.to_string()));
        claims.insert("org_slug".into(), json!(org.slug));
        claims.insert("roles".into(), json!(grant.roles));
    }
    claims
}

/// The app's custom claims resolved for this user and organization; sources without a value
/// are left out.
pub(crate) fn custom_claims(
    client: &Client,
    user: &user::Model,
    org: Option<&organization::Model>,
) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(specs) = client.custom_claims.as_object() else {
        return out;
    };
    for (name, spec) in specs {
        let value = if let Some(value) = spec.get("value") {
            Some(value.clone())
        } else {
            match spec.get("from").and_then(Value::as_str) {
                Some("user.id") => Some(json!(user.id.to_string())),
                Some("user.email") => user.email.as_ref().map(|v| json!(v)),
                Some("user.name") => user.name.as_ref().map(|v| json!(v)),
                Some("user.given_name") => user.given_name.as_ref().map(|v| json!(v)),
                Some("user.family_name") => user.family_name.as_ref().map(|v| json!(v)),
                Some("org.id") => org.map(|o| json!(o.id.to_string())),
                Some("org.slug") => org.map(|o| json!(o.slug)),
                Some("org.name") => org.map(|o| json!(o.name)),
                _ => None,
            }
        };
        if let Some(value) = value {
            out.insert(name.clone(), value);
        }
    }
    out
}

/// A new refresh token: the prefix introspection and revocation recognise, and 256 random bits.
pub(crate) fn new_refresh_token() -> String {
    format!("{REFRESH_PREFIX}{}", random_token::<32>())
}

/// Whom a grant's tokens are about: the user, the organization (if any) and the user's roles
/// in it.
pub(crate) type GrantSubject = (User, Option<organization::Model>, Vec<String>);

fn subject_gone() -> Error {
    Error::new(
        ErrorCode::InvalidGrant,
        "the user can no longer sign in to this app",
    )
}

/// `user` when it exists and may sign in; `invalid_grant` otherwise.
pub(crate) fn active(user: Option<User>) -> Result<User> {
    user.filter(|u| u.status == user::UserStatus::Active)
        .ok_or_else(subject_gone)
}

impl Broker {
    /// Loads the user and organization a grant refers to, with the user's current roles.
    /// Fails with `invalid_grant` when the user is gone or disabled, or no longer a member.
    pub(crate) async fn grant_subject(
        &self,
        user_id: entities::UserId,
        org_id: Option<OrgId>,
    ) -> Result<GrantSubject> {
        match org_id {
            Some(org) => self.org_subject(org, user_id).await,
            None => {
                let user = user::Entity::find_by_id(user_id).one(self.db()).await?;
                Ok((active(user)?, None, Vec::new()))
            }
        }
    }

    /// The subject of a grant for `org`: user, organization and roles in one statement.
    pub(crate) async fn org_subject(
        &self,
        org: OrgId,
        user_id: entities::UserId,
    ) -> Result<GrantSubject> {
        let (user, org, roles) = self
            .active_member(org, user_id)
            .await?
            .ok_or_else(subject_gone)?;
        Ok((user, Some(org), roles))
    }

    /// Issues the access token, the ID token (for `openid`) and, when `refresh` gives the
    /// family's absolute expiry and scope, a refresh token.
    pub(crate) async fn issue_user_tokens(
        &self,
        client: &Client,
        grant: &UserGrant,
        refresh: Option<(DateTime<Utc>, Scopes)>,
    ) -> Result<TokenResponse> {
        let settings = self.provider();
        let now = self.now();
        let iat = now.timestamp();
        let custom = custom_claims(client, &grant.user, grant.org.as_ref());
        let mut extra = custom.clone();
        extra.insert("grant_id".into(), json!(grant.grant_id.to_string()));
        let aud = if grant.resources.is_empty() {
            Audience::One(settings.issuer.clone())
        } else {
            Audience::from_list(grant.resources.clone())
        };
        let access = AccessTokenClaims {
            iss: settings.issuer.clone(),
            sub: grant.user.id.to_string(),
            aud,
            exp: iat + settings.access_token_ttl.as_secs() as i64,
            iat,
            jti: uuid::Uuid::new_v4().to_string(),
            client_id: client.id.to_string(),
            scope: grant.scope.to_string(),
            org_id: grant.org.as_ref().map(|o| o.id.to_string()),
            roles: grant.org.as_ref().map(|_| grant.roles.clone()),
            auth_time: Some(grant.auth_time.timestamp()),
            acr: grant.acr.clone(),
            amr: Some(grant.amr.clone()).filter(|a| !a.is_empty()),
            sid: grant.session_id.map(|s| s.to_string()),
            extra,
        };
        let access_token = self.sign_access_token(client, &access).await?;
        let id_token = if grant.scope.contains("openid") {
            let alg = signing_alg(client);
            let mut claims = identity_claims(grant);
            claims.extend(custom);
            let id = IdTokenClaims {
                iss: settings.issuer.clone(),
                sub: grant.user.id.to_string(),
                aud: client.id.to_string(),
                exp: iat + settings.id_token_ttl.as_secs() as i64,
                iat,
                auth_time: grant.auth_time.timestamp(),
                nonce: grant.nonce.clone(),
                acr: grant.acr.clone(),
                amr: grant.amr.clone(),
                azp: client.id.to_string(),
                at_hash: Some(at_hash(alg, &access_token)),
                sid: grant.session_id.map(|s| s.to_string()),
                claims,
            };
            Some(self.sign_jwt(alg, "JWT", &id).await?)
        } else {
            None
        };
        let refresh_token = match refresh {
            Some((absolute, scope)) => Some(
                self.store_refresh_token(client, grant, absolute, &scope)
                    .await?,
            ),
            None => None,
        };
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: settings.access_token_ttl.as_secs(),
            scope: Some(grant.scope.to_string()),
            refresh_token,
            id_token,
        })
    }

    async fn store_refresh_token(
        &self,
        client: &Client,
        grant: &UserGrant,
        absolute: DateTime<Utc>,
        scope: &Scopes,
    ) -> Result<String> {
        let (token, row) =
            self.refresh_token_row(client, grant.refresh_record(), absolute, scope)?;
        // Nothing to read back: no RETURNING (a hot path).
        refresh_token::Entity::insert(row)
            .exec_without_returning(self.db())
            .await?;
        Ok(token)
    }

    /// When a refresh token issued `now` ends if left unused (its family's absolute end may
    /// come first).
    pub(crate) fn refresh_idle_until(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
        let idle = chrono::Duration::from_std(self.provider().refresh_idle_ttl)
            .map_err(Error::internal)?;
        Ok(now + idle)
    }

    /// A new refresh token for `grant`, and the row that stores its hash.
    pub(crate) fn refresh_token_row(
        &self,
        client: &Client,
        grant: RefreshRecord<'_>,
        absolute: DateTime<Utc>,
        scope: &Scopes,
    ) -> Result<(String, refresh_token::ActiveModel)> {
        let now = self.now();
        let idle_until = self.refresh_idle_until(now)?;
        let token = new_refresh_token();
        let row = refresh_token::ActiveModel {
            id: Set(entities::RefreshTokenId::new()),
            token_hash: Set(hash_secret(&token)),
            family_id: Set(grant.grant_id),
            client_id: Set(client.id),
            user_id: Set(Some(grant.user_id)),
            org_id: Set(grant.org_id),
            session_id: Set(grant.session_id),
            scope: Set(scope.to_string()),
            created_at: Set(now),
            expires_at: Set(idle_until.min(absolute)),
            absolute_expires_at: Set(absolute),
            rotated_at: Set(None),
            revoked_at: Set(None),
            auth_time: Set(Some(grant.auth_time)),
            amr: Set(Some(json!(grant.amr))),
            acr: Set(grant.acr.map(str::to_owned)),
            resources: Set(Some(json!(grant.resources))),
        };
        Ok((token, row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_published_vectors() {
        // OIDC Core 1.0, §3.1.3.6 / Appendix A.3 (RS256: SHA-256, left 128 bits).
        assert_eq!(
            at_hash(
                SigningAlg::Rs256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        // Ed25519 uses SHA-512 (OpenID Connect issue 1125), left 256 bits.
        assert_eq!(
            at_hash(SigningAlg::EdDsa, "dNZX1hEZ9wBCzNL40Upu646bdzQA"),
            "8xltSlOGYrWy8W9yNvRlEth1i_bXW-JROWPLvCv5zog"
        );
    }
}
