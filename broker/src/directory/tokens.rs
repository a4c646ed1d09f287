//! SCIM tokens: created by an org admin (shown once, stored as a hash), listed, revoked, and
//! checked on every SCIM request. A token opens its own organization's directory only.

use chrono::{DateTime, Duration, Utc};
use entities::scim_token;
use entities::{OrgId, ScimTokenId};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, Order, QueryFilter};
use secrecy::SecretString;
use serde_json::json;

use crate::Broker;
use crate::actor::{Actor, ActorKind, Scope};
use crate::audit::{AuditAction, Target};
use crate::crypto::{hash_secret, random_token};
use crate::error::{Error, ErrorCode, Result, gone_or};
use crate::org::OrgAccess;
use crate::page::{self, Page, PageRequest};
use crate::rate_limit::{Limit, SCIM_TOKEN_FAILURES_PER_IP};
use crate::validate;

/// A SCIM token as stored (never the token itself).
pub type ScimToken = scim_token::Model;

/// Every SCIM token starts with this, so secret scanners and humans recognize one.
pub const TOKEN_PREFIX: &str = "tss_";
const DISPLAY_PREFIX_LEN: usize = 6;
const LAST_USED_GRANULARITY: Duration = Duration::seconds(60);

/// A token just created: the record, the secret (never shown again) and the base URL to give
/// the IdP.
#[derive(Debug)]
pub struct CreatedScimToken {
    /// The stored record.
    pub token: ScimToken,
    /// The bearer token, once.
    pub secret: SecretString,
    /// The directory's SCIM base URL.
    pub base_url: String,
}

/// The caller of a SCIM request: the org whose directory the token opens.
#[derive(Debug, Clone)]
pub struct ScimCaller {
    /// The organization.
    pub org_id: OrgId,
    /// The token used.
    pub token_id: ScimTokenId,
    /// The caller as the audit log sees it.
    pub actor: Actor,
}

fn not_found(id: ScimTokenId) -> Error {
    Error::new(
        ErrorCode::ScimTokenNotFound,
        format!("no SCIM token '{id}'"),
    )
}

impl Broker {
    /// The SCIM base URL of an organization's directory.
    pub fn scim_base_url(&self, org: OrgId) -> String {
        self.provider().url(&format!("/scim/v2/{org}"))
    }

    /// Creates a SCIM token for the organization.
    pub async fn create_scim_token(
        &self,
        access: &OrgAccess,
        name: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<CreatedScimToken> {
        let name = validate::name("name", name)?;
        let now = self.now();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(Error::invalid(
                ErrorCode::InvalidExpiry,
                "expires_at",
                "expires_at must be in the future",
            ));
        }
        let secret = format!("{TOKEN_PREFIX}{}", random_token::<32>());
        let display: String = secret
            .chars()
            .take(TOKEN_PREFIX.len() + DISPLAY_PREFIX_LEN)
            .collect();
        let txn = self.begin_write().await?;
        let token = scim_token::ActiveModel {
            id: Set(ScimTokenId::new()),
            org_id: Set(access.org_id()),
            name: Set(name),
            prefix: Set(display),
            token_hash: Set(hash_secret(&secret)),
            expires_at: Set(expires_at),
            last_used_at: Set(None),
            created_at: Set(now),
            revoked_at: Set(None),
        }
        .insert(&txn)
        .await?;
        access
            .audit(
                &txn,
                now,
                AuditAction::ScimTokenCreated,
                Target::new("scim_token", token.id),
                json!({ "name": token.name, "prefix": token.prefix }),
            )
            .await?;
        txn.commit().await?;
        Ok(CreatedScimToken {
            base_url: self.scim_base_url(access.org_id()),
            token,
            secret: SecretString::from(secret),
        })
    }

    /// Lists the organization's SCIM tokens (live and revoked), oldest first.
    pub async fn list_scim_tokens(
        &self,
        access: &OrgAccess,
        request: &PageRequest,
    ) -> Result<Page<ScimToken>> {
        let select =
            scim_token::Entity::find().filter(scim_token::Column::OrgId.eq(access.org_id()));
        page::fetch(
            self.db(),
            select,
            scim_token::Column::Id,
            Order::Asc,
            request,
            |t| t.id.as_uuid(),
        )
        .await
    }

    /// Revokes one of the organization's SCIM tokens; it stops working at once.
    pub async fn revoke_scim_token(
        &self,
        access: &OrgAccess,
        id: ScimTokenId,
    ) -> Result<ScimToken> {
        let now = self.now();
        let txn = self.begin_write().await?;
        let token = scim_token::Entity::find_by_id(id)
            .filter(scim_token::Column::OrgId.eq(access.org_id()))
            .one(&txn)
            .await?
            .ok_or_else(|| not_found(id))?;
        if token.revoked_at.is_some() {
            return Ok(token);
        }
        let mut model: scim_token::ActiveModel = token.into();
        model.revoked_at = Set(Some(now));
        let token = model
            .update(&txn)
            .await
            .map_err(|e| gone_or(e, || not_found(id)))?;
        access
            .audit(
                &txn,
                now,
                AuditAction::ScimTokenRevoked,
                Target::new("scim_token", token.id),
                json!({ "name": token.name }),
            )
            .await?;
        txn.commit().await?;
        Ok(token)
    }

    /// Checks the bearer token of a request to `org`'s SCIM endpoint. Unknown, revoked or
    /// expired tokens, and tokens of another org, all get the same 401 and count against a
    /// per-IP limit; live tokens count against the per-token request limit.
    pub async fn authenticate_scim_token(
        &self,
        org: &str,
        presented: &str,
        ip: Option<String>,
        request_id: Option<String>,
    ) -> Result<ScimCaller> {
        let now = self.now();
        let org_id = org.parse::<OrgId>().ok();
        let found = match (org_id, presented.starts_with(TOKEN_PREFIX)) {
            (Some(_), true) => {
                scim_token::Entity::find()
                    .filter(scim_token::Column::TokenHash.eq(hash_secret(presented)))
                    .one(self.db())
                    .await?
            }
            _ => None,
        };
        let live = found.filter(|t| {
            t.revoked_at.is_none()
                && t.expires_at.is_none_or(|at| at > now)
                && Some(t.org_id) == org_id
        });
        let Some(token) = live else {
            let subject = ip.as_deref().unwrap_or("unknown");
            self.count_against(SCIM_TOKEN_FAILURES_PER_IP, subject)
                .await?;
            return Err(Error::new(
                ErrorCode::InvalidScimToken,
                "the SCIM token is unknown, revoked, expired or not for this directory",
            ));
        };
        let limit = Limit {
            name: "scim_requests",
            max: self.directory_settings().requests_per_minute,
            window: std::time::Duration::from_secs(60),
        };
        if limit.max > 0 {
            self.count_against(limit, &token.id.to_string()).await?;
        }
        if token
            .last_used_at
            .is_none_or(|at| now - at > LAST_USED_GRANULARITY)
        {
            let update = scim_token::Entity::update_many()
                .col_expr(
                    scim_token::Column::LastUsedAt,
                    sea_orm::sea_query::Expr::value(now),
                )
                .filter(scim_token::Column::Id.eq(token.id))
                .exec(self.db())
                .await;
            if let Err(e) = update {
                tracing::warn!(error = %e, "could not record SCIM token use");
            }
        }
        Ok(ScimCaller {
            org_id: token.org_id,
            token_id: token.id,
            actor: Actor {
                kind: ActorKind::ScimToken(token.id),
                scope: Scope::Org(token.org_id),
                ip,
                request_id,
            },
        })
    }
}
