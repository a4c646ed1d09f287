//! API keys for Tessera's admin API: created by the CLI (instance keys) or by an admin for one
//! organization, shown once, stored as a hash, revocable, optionally expiring.

use chrono::{DateTime, Duration, Utc};
use entities::ApiKeyId;
use entities::api_key::{self, ApiKeyOwner};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, Order, QueryFilter};
use secrecy::SecretString;
use serde_json::json;

use crate::Broker;
use crate::actor::{Actor, ActorKind, Scope};
use crate::audit::{self, AuditAction, Entry, Target};
use crate::crypto::{hash_secret, random_token};
use crate::error::{Error, ErrorCode, Result, gone_or};
use crate::org::{OrgAccess, require_instance_admin};
use crate::page::{self, Page, PageRequest};
use crate::rate_limit::API_KEY_FAILURES_PER_IP;
use crate::validate;

/// An API key as stored (never the key itself).
pub type ApiKey = api_key::Model;

/// Every key starts with this, so secret scanners and humans recognize one.
pub const KEY_PREFIX: &str = "tsk_";
/// Characters of the key kept in clear (after the prefix) to tell keys apart in listings.
const DISPLAY_PREFIX_LEN: usize = 6;
/// How stale `last_used_at` may get before a request refreshes it (saves a write per call).
const LAST_USED_GRANULARITY: Duration = Duration::seconds(60);

/// What is needed to create a key.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// A label for humans ("terraform", "ci").
    pub name: String,
    /// When the key stops working; never when `None`.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key just created: the stored record and the secret, which is never shown again.
#[derive(Debug)]
pub struct CreatedApiKey {
    /// The stored record.
    pub api_key: ApiKey,
    /// The key to hand to the caller, once.
    pub secret: SecretString,
}

fn not_found(id: ApiKeyId) -> Error {
    Error::new(ErrorCode::ApiKeyNotFound, format!("no API key '{id}'"))
}

fn invalid_credentials() -> Error {
    Error::new(
        ErrorCode::InvalidCredentials,
        "the API key is unknown, revoked or expired",
    )
}

impl Broker {
    /// Creates an instance-admin key (full authority over every organization).
    pub async fn create_instance_api_key(
        &self,
        actor: &Actor,
        new: NewApiKey,
    ) -> Result<CreatedApiKey> {
        require_instance_admin(actor)?;
        self.insert_api_key(actor, None, new).await
    }

    /// Creates a key whose authority is limited to one organization.
    pub async fn create_org_api_key(
        &self,
        access: &OrgAccess,
        new: NewApiKey,
    ) -> Result<CreatedApiKey> {
        self.insert_api_key(access.actor(), Some(access), new).await
    }

    async fn insert_api_key(
        &self,
        actor: &Actor,
        org: Option<&OrgAccess>,
        new: NewApiKey,
    ) -> Result<CreatedApiKey> {
        let name = validate::name("name", &new.name)?;
        let now = self.now();
        if new.expires_at.is_some_and(|at| at <= now) {
            return Err(Error::invalid(
                ErrorCode::InvalidExpiry,
                "expires_at",
                "expires_at must be in the future",
            ));
        }
        let secret = format!("{KEY_PREFIX}{}", random_token::<32>());
        let display: String = secret
            .chars()
            .take(KEY_PREFIX.len() + DISPLAY_PREFIX_LEN)
            .collect();
        let org_id = org.map(OrgAccess::org_id);
        let txn = self.begin_write().await?;
        let api_key = api_key::ActiveModel {
            id: Set(ApiKeyId::new()),
            name: Set(name),
            prefix: Set(display),
            key_hash: Set(hash_secret(&secret)),
            owner_kind: Set(if org_id.is_some() {
                ApiKeyOwner::Org
            } else {
                ApiKeyOwner::Instance
            }),
            org_id: Set(org_id),
            user_id: Set(None),
            scopes: Set(json!(["admin"])),
            expires_at: Set(new.expires_at),
            last_used_at: Set(None),
            created_at: Set(now),
            revoked_at: Set(None),
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            now,
            Entry {
                actor,
                org: org_id,
                action: AuditAction::ApiKeyCreated,
                target: Target::new("api_key", api_key.id),
                data: json!({ "name": api_key.name, "prefix": api_key.prefix }),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(CreatedApiKey {
            api_key,
            secret: SecretString::from(secret),
        })
    }

    /// Lists an organization's keys (live and revoked), oldest first.
    pub async fn list_org_api_keys(
        &self,
        access: &OrgAccess,
        request: &PageRequest,
    ) -> Result<Page<ApiKey>> {
        let select = api_key::Entity::find().filter(api_key::Column::OrgId.eq(access.org_id()));
        page::fetch(
            self.db(),
            select,
            api_key::Column::Id,
            Order::Asc,
            request,
            |k| k.id.as_uuid(),
        )
        .await
    }

    /// Revokes one of the organization's keys; it stops working at once.
    pub async fn revoke_org_api_key(&self, access: &OrgAccess, id: ApiKeyId) -> Result<ApiKey> {
        let now = self.now();
        let txn = self.begin_write().await?;
        let key = api_key::Entity::find_by_id(id)
            .filter(api_key::Column::OrgId.eq(access.org_id()))
            .one(&txn)
            .await?
            .ok_or_else(|| not_found(id))?;
        if key.revoked_at.is_some() {
            return Ok(key);
        }
        let mut model: api_key::ActiveModel = key.into();
        model.revoked_at = Set(Some(now));
        let key = model
            .update(&txn)
            .await
            .map_err(|e| gone_or(e, || not_found(id)))?;
        access
            .audit(
                &txn,
                now,
                AuditAction::ApiKeyRevoked,
                Target::new("api_key", key.id),
                json!({ "name": key.name }),
            )
            .await?;
        txn.commit().await?;
        Ok(key)
    }

    /// Checks a presented key and returns the actor it stands for. Failed checks count against
    /// a per-IP limit; past it, callers get `rate_limited` instead of `invalid_credentials`.
    pub async fn authenticate_api_key(
        &self,
        presented: &str,
        ip: Option<String>,
        request_id: Option<String>,
    ) -> Result<Actor> {
        let now = self.now();
        let found = if presented.starts_with(KEY_PREFIX) {
            api_key::Entity::find()
                .filter(api_key::Column::KeyHash.eq(hash_secret(presented)))
                .one(self.db())
                .await?
        } else {
            None
        };
        let live =
            found.filter(|k| k.revoked_at.is_none() && k.expires_at.is_none_or(|at| at > now));
        let Some(key) = live else {
            let subject = ip.as_deref().unwrap_or("unknown");
            self.count_against(API_KEY_FAILURES_PER_IP, subject).await?;
            return Err(invalid_credentials());
        };
        let scope = match (key.owner_kind, key.org_id) {
            (ApiKeyOwner::Instance, _) => Scope::Instance,
            (ApiKeyOwner::Org, Some(org)) => Scope::Org(org),
            // User keys authenticate on user-facing APIs, not the admin API.
            _ => return Err(invalid_credentials()),
        };
        if key
            .last_used_at
            .is_none_or(|at| now - at > LAST_USED_GRANULARITY)
        {
            let update = api_key::Entity::update_many()
                .col_expr(
                    api_key::Column::LastUsedAt,
                    sea_orm::sea_query::Expr::value(now),
                )
                .filter(api_key::Column::Id.eq(key.id))
                .exec(self.db())
                .await;
            if let Err(e) = update {
                tracing::warn!(error = %e, "could not record API key use");
            }
        }
        Ok(Actor {
            kind: ActorKind::ApiKey(key.id),
            scope,
            ip,
            request_id,
        })
    }
}
