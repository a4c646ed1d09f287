//! API keys: created by the CLI (instance keys) or by an admin for one organization or one of
//! its members; shown once, stored as a hash, revocable, optionally expiring, with scopes. Keys
//! with the `admin` scope work on Tessera's admin API; any key can be checked by an app's
//! backend at the verification endpoint (scripts calling the app's API with a key).

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

/// The scope that opens Tessera's admin API.
pub const ADMIN_SCOPE: &str = "admin";

/// What is needed to create a key.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// A label for humans ("terraform", "ci").
    pub name: String,
    /// When the key stops working; never when `None`.
    pub expires_at: Option<DateTime<Utc>>,
    /// What the key may do; `["admin"]` when empty.
    pub scopes: Vec<String>,
    /// The member the key acts for (organization keys only); the organization when `None`.
    pub user: Option<entities::UserId>,
}

impl NewApiKey {
    /// An admin key with a name and no expiry.
    pub fn admin(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            expires_at: None,
            scopes: Vec::new(),
            user: None,
        }
    }
}

/// The scopes a key carries.
pub fn scopes_of(key: &ApiKey) -> Vec<String> {
    serde_json::from_value(key.scopes.clone()).unwrap_or_default()
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
    /// Notes that a key was used (to the minute: most uses cost no write).
    async fn record_key_use(&self, key: &ApiKey) {
        let now = self.now();
        if key
            .last_used_at
            .is_some_and(|at| now - at <= LAST_USED_GRANULARITY)
        {
            return;
        }
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

    /// Checks a key for an app's backend (the verification endpoint): `active` with its owner,
    /// scopes and expiry when live; `active: false` when unknown, revoked, expired, or outside
    /// the organization the asking app is restricted to. Inactive answers count against the
    /// app's limit, so a leaked app credential cannot be used to guess keys.
    pub async fn verify_api_key(
        &self,
        caller: &crate::provider::client::Client,
        presented: &str,
    ) -> Result<serde_json::Value> {
        if caller.client_type != entities::client::ClientType::Confidential {
            return Err(Error::new(
                ErrorCode::UnauthorizedClient,
                "only confidential apps may verify API keys",
            ));
        }
        let now = self.now();
        let found = if presented.starts_with(KEY_PREFIX) {
            api_key::Entity::find()
                .filter(api_key::Column::KeyHash.eq(hash_secret(presented)))
                .one(self.db())
                .await?
        } else {
            None
        };
        let visible = found.filter(|k| {
            k.revoked_at.is_none()
                && k.expires_at.is_none_or(|at| at > now)
                && caller.org_id.is_none_or(|own| k.org_id == Some(own))
        });
        let Some(key) = visible else {
            self.count_against(
                crate::rate_limit::API_KEY_CHECKS_PER_CLIENT,
                &caller.id.to_string(),
            )
            .await?;
            return Ok(json!({ "active": false }));
        };
        self.record_key_use(&key).await;
        Ok(json!({
            "active": true,
            "key_id": key.id.to_string(),
            "name": key.name,
            "scopes": scopes_of(&key),
            "organization_id": key.org_id.map(|o| o.to_string()),
            "user_id": key.user_id.map(|u| u.to_string()),
            "expires_at": key.expires_at,
        }))
    }

    /// Creates an instance-admin key (full authority over every organization).
    pub async fn create_instance_api_key(
        &self,
        actor: &Actor,
        new: NewApiKey,
    ) -> Result<CreatedApiKey> {
        require_instance_admin(actor)?;
        if new.user.is_some() {
            return Err(Error::invalid(
                ErrorCode::InvalidField,
                "user_id",
                "instance keys cannot act for a user",
            ));
        }
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
        let scopes = if new.scopes.is_empty() {
            vec![ADMIN_SCOPE.to_owned()]
        } else {
            crate::provider::scope::Scopes::from_list(
                new.scopes.iter().map(String::as_str),
                ErrorCode::InvalidScopeName,
                "scopes",
            )?
            .to_vec()
        };
        if new.user.is_some() && scopes.iter().any(|s| s == ADMIN_SCOPE) {
            return Err(Error::invalid(
                ErrorCode::InvalidScopeName,
                "scopes",
                "a key acting for a user cannot carry the admin scope",
            ));
        }
        if let (Some(user), Some(access)) = (new.user, org)
            && self.active_roles(access.org_id(), user).await?.is_none()
        {
            return Err(Error::invalid(
                ErrorCode::UserNotFound,
                "user_id",
                format!("user '{user}' is not a member of this organization"),
            ));
        }
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
            owner_kind: Set(match (org_id, new.user) {
                (_, Some(_)) => ApiKeyOwner::User,
                (Some(_), None) => ApiKeyOwner::Org,
                (None, None) => ApiKeyOwner::Instance,
            }),
            org_id: Set(org_id),
            user_id: Set(new.user),
            scopes: Set(json!(scopes)),
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
                data: json!({ "name": api_key.name, "prefix": api_key.prefix, "scopes": api_key.scopes }),
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
            (ApiKeyOwner::Org, Some(org)) if scopes_of(&key).iter().any(|s| s == ADMIN_SCOPE) => {
                Scope::Org(org)
            }
            // Keys for apps' APIs (and user keys) are not admin keys.
            _ => {
                return Err(Error::new(
                    ErrorCode::InsufficientKeyScope,
                    "this API key does not carry the admin scope",
                ));
            }
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
