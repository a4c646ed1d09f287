//! Apps (OIDC clients): registration through the admin API or CLI, secrets shown once and
//! stored as hashes, and the settings the authorize and token endpoints enforce.

use entities::client::{self, ClientType};
use entities::signing_key::SigningAlg;
use entities::{ClientId, OrgId, organization};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order,
    QueryFilter,
};
use secrecy::SecretString;
use serde_json::{Value, json};

use super::client_settings::validate_settings;
use super::scope::{OIDC_SCOPES, Scopes};
use crate::Broker;
use crate::actor::{Actor, Scope};
use crate::audit::{self, AuditAction, Entry, Target};
use crate::crypto::{hash_secret, random_token};
use crate::error::{Error, ErrorCode, Result, gone_or};
use crate::page::{self, Page, PageRequest};
use crate::validate;

/// An app as stored.
pub type Client = client::Model;

/// Every client secret starts with this.
pub const SECRET_PREFIX: &str = "tcs_";

/// The grants an app may be allowed to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    /// Authorization code with PKCE (browser sign-in).
    AuthorizationCode,
    /// Refresh tokens.
    RefreshToken,
    /// Service-to-service tokens (confidential apps only).
    ClientCredentials,
    /// RFC 8628 device authorization (CLIs, TVs).
    DeviceCode,
}

impl GrantType {
    /// Every grant type.
    pub const ALL: [GrantType; 4] = [
        Self::AuthorizationCode,
        Self::RefreshToken,
        Self::ClientCredentials,
        Self::DeviceCode,
    ];

    /// The `grant_type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
        }
    }

    /// Parses a `grant_type` value.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == raw)
    }
}

/// How an app proves itself at the token endpoint.
pub const AUTH_METHODS: [&str; 3] = ["client_secret_basic", "client_secret_post", "none"];

/// Sources a custom claim may copy from.
pub const CLAIM_SOURCES: [&str; 8] = [
    "user.id",
    "user.email",
    "user.name",
    "user.given_name",
    "user.family_name",
    "org.id",
    "org.slug",
    "org.name",
];

/// An app to register. Absent optional fields take the defaults the admin API documents.
#[derive(Debug, Clone, Default)]
pub struct NewClient {
    /// Display name.
    pub name: String,
    /// Public (browser or native app, no secret) or confidential (has a secret).
    pub client_type: Option<ClientType>,
    /// Where codes may be sent.
    pub redirect_uris: Vec<String>,
    /// Where users may return after signing out.
    pub post_logout_redirect_uris: Vec<String>,
    /// Allowed grants; authorization code and refresh token when absent.
    pub grant_types: Option<Vec<String>>,
    /// Allowed scopes beyond the OpenID Connect ones.
    pub scopes: Option<Vec<String>>,
    /// Restrict the app to one organization (id or slug).
    pub organization: Option<String>,
    /// `client_secret_basic` (default for confidential apps), `client_secret_post` or `none`.
    pub token_endpoint_auth_method: Option<String>,
    /// The algorithm that signs this app's tokens; RS256 when absent.
    pub signing_alg: Option<SigningAlg>,
    /// Whether PKCE is required; always for public apps, on by default for confidential ones.
    pub require_pkce: Option<bool>,
    /// Extra claims: `{"name": {"value": …}}` or `{"name": {"from": "user.email"}}`.
    pub custom_claims: Option<Value>,
    /// Where back-channel logout notices go.
    pub backchannel_logout_uri: Option<String>,
}

/// An app just registered (or given a new secret), with the secret shown only now.
#[derive(Debug)]
pub struct CreatedClient {
    /// The stored app.
    pub client: Client,
    /// The secret, for confidential apps.
    pub secret: Option<SecretString>,
}

/// Reads an app's JSON list column.
pub fn list_of(value: &Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

/// An app's allowed grants.
pub fn grants_of(client: &Client) -> Vec<GrantType> {
    list_of(&client.grant_types)
        .iter()
        .filter_map(|g| GrantType::parse(g))
        .collect()
}

/// The scopes an app may request: the OIDC ones and those registered for it.
pub fn allowed_scopes(client: &Client) -> Scopes {
    let registered = list_of(&client.scopes);
    let all = OIDC_SCOPES
        .iter()
        .copied()
        .chain(registered.iter().map(String::as_str));
    Scopes::from_list(all, ErrorCode::InvalidScopeName, "scopes").unwrap_or_default()
}

fn not_found(id: &str) -> Error {
    Error::new(
        ErrorCode::ClientNotFound,
        format!("no app with client_id '{id}'"),
    )
}

pub(super) fn field_error(code: ErrorCode, field: &str, message: impl Into<String>) -> Error {
    Error::invalid(code, field, message)
}

fn new_secret() -> (String, Vec<u8>) {
    let secret = format!("{SECRET_PREFIX}{}", random_token::<32>());
    let hash = hash_secret(&secret);
    (secret, hash)
}

/// Resolves the organization an app is restricted to, within the actor's reach.
async fn restriction(
    db: &impl ConnectionTrait,
    actor: &Actor,
    organization: Option<&str>,
) -> Result<Option<OrgId>> {
    let wanted = match organization {
        None => None,
        Some(key) => {
            let by = match key.parse::<OrgId>() {
                Ok(id) => organization::Column::Id.eq(id),
                Err(_) => organization::Column::Slug.eq(key),
            };
            let org = organization::Entity::find().filter(by).one(db).await?;
            match org {
                Some(org) if actor.can_access(org.id) => Some(org.id),
                _ => {
                    return Err(Error::invalid(
                        ErrorCode::OrganizationNotFound,
                        "organization",
                        format!("no organization '{key}'"),
                    ));
                }
            }
        }
    };
    // A key limited to one org can only register apps limited to that org.
    Ok(match actor.scope {
        Scope::Instance => wanted,
        Scope::Org(own) => Some(own),
    })
}

impl Broker {
    /// Registers an app. Confidential apps get a secret, returned once.
    pub async fn create_client(&self, actor: &Actor, new: NewClient) -> Result<CreatedClient> {
        self.insert_client(actor, new, true).await
    }

    /// Registers an app; `first_party` apps skip the consent screen.
    pub(crate) async fn insert_client(
        &self,
        actor: &Actor,
        new: NewClient,
        first_party: bool,
    ) -> Result<CreatedClient> {
        let name = validate::name("name", &new.name)?;
        let client_type = new.client_type.ok_or_else(|| {
            field_error(
                ErrorCode::MissingField,
                "type",
                "type is confidential or public",
            )
        })?;
        let settings = validate_settings(&new, client_type)?;
        let now = self.now();
        let txn = self.begin_write().await?;
        let org_id = restriction(&txn, actor, new.organization.as_deref()).await?;
        let (secret, secret_hash) = match client_type {
            ClientType::Confidential => {
                let (secret, hash) = new_secret();
                (Some(secret), Some(hash))
            }
            ClientType::Public => (None, None),
        };
        let client = client::ActiveModel {
            id: Set(ClientId::new()),
            org_id: Set(org_id),
            name: Set(name),
            client_type: Set(client_type),
            secret_hash: Set(secret_hash),
            redirect_uris: Set(json!(settings.redirect_uris)),
            post_logout_redirect_uris: Set(json!(settings.post_logout_redirect_uris)),
            grant_types: Set(json!(settings.grant_types)),
            scopes: Set(json!(settings.scopes)),
            token_endpoint_auth_method: Set(settings.auth_method),
            id_token_signed_response_alg: Set(new.signing_alg),
            require_pkce: Set(settings.require_pkce),
            first_party: Set(first_party),
            custom_claims: Set(settings.custom_claims),
            backchannel_logout_uri: Set(settings.backchannel_logout_uri),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            now,
            Entry {
                actor,
                org: client.org_id,
                action: AuditAction::ClientCreated,
                target: Target::new("client", client.id),
                data: json!({ "name": client.name, "grant_types": client.grant_types }),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(CreatedClient {
            client,
            secret: secret.map(SecretString::from),
        })
    }

    /// Lists the apps the actor can see, oldest first.
    pub async fn list_clients(&self, actor: &Actor, request: &PageRequest) -> Result<Page<Client>> {
        let mut select = client::Entity::find();
        if let Scope::Org(own) = actor.scope {
            select = select.filter(client::Column::OrgId.eq(own));
        }
        page::fetch(
            self.db(),
            select,
            client::Column::Id,
            Order::Asc,
            request,
            |c| c.id.as_uuid(),
        )
        .await
    }

    /// One app the actor can see.
    pub async fn get_client(&self, actor: &Actor, client_id: &str) -> Result<Client> {
        let client = self
            .find_client(client_id)
            .await?
            .ok_or_else(|| not_found(client_id))?;
        let visible = match actor.scope {
            Scope::Instance => true,
            Scope::Org(own) => client.org_id == Some(own),
        };
        if visible {
            Ok(client)
        } else {
            Err(not_found(client_id))
        }
    }

    /// Looks an app up by its public `client_id` (no visibility rules: protocol endpoints).
    /// Served from this replica's cache for up to five seconds (see `client_cache`).
    pub async fn find_client(&self, client_id: &str) -> Result<Option<Client>> {
        let Ok(id) = client_id.parse::<ClientId>() else {
            return Ok(None);
        };
        if let Some(cached) = self.client_cache().get(id, self.now()) {
            return Ok(Some(Client::clone(&cached)));
        }
        self.reload_client(client_id).await
    }

    /// Reads an app from the database (refreshing this replica's cache). Used before refusing
    /// a request that a cached copy would refuse: the app may have just been given a new
    /// secret or redirect URI through another replica.
    pub(crate) async fn reload_client(&self, client_id: &str) -> Result<Option<Client>> {
        let Ok(id) = client_id.parse::<ClientId>() else {
            return Ok(None);
        };
        let now = self.now();
        let found = client::Entity::find_by_id(id).one(self.db()).await?;
        if let Some(client) = &found {
            self.client_cache()
                .put(std::sync::Arc::new(client.clone()), now);
        }
        Ok(found)
    }

    /// Replaces an app's settings (its type, id and secret stay).
    pub async fn update_client(
        &self,
        actor: &Actor,
        client_id: &str,
        new: NewClient,
    ) -> Result<Client> {
        let current = self.get_client(actor, client_id).await?;
        let name = validate::name("name", &new.name)?;
        if new.client_type.is_some_and(|t| t != current.client_type) {
            return Err(field_error(
                ErrorCode::InvalidField,
                "type",
                "an app's type cannot change; register a new app",
            ));
        }
        let settings = validate_settings(&new, current.client_type)?;
        let now = self.now();
        let txn = self.begin_write().await?;
        let org_id = restriction(&txn, actor, new.organization.as_deref()).await?;
        let mut model: client::ActiveModel = current.into();
        model.name = Set(name);
        model.org_id = Set(org_id);
        model.redirect_uris = Set(json!(settings.redirect_uris));
        model.post_logout_redirect_uris = Set(json!(settings.post_logout_redirect_uris));
        model.grant_types = Set(json!(settings.grant_types));
        model.scopes = Set(json!(settings.scopes));
        model.token_endpoint_auth_method = Set(settings.auth_method);
        model.id_token_signed_response_alg = Set(new.signing_alg);
        model.require_pkce = Set(settings.require_pkce);
        model.custom_claims = Set(settings.custom_claims);
        model.backchannel_logout_uri = Set(settings.backchannel_logout_uri);
        model.updated_at = Set(now);
        let client = model
            .update(&txn)
            .await
            .map_err(|e| gone_or(e, || not_found(client_id)))?;
        audit::record(
            &txn,
            now,
            Entry {
                actor,
                org: client.org_id,
                action: AuditAction::ClientUpdated,
                target: Target::new("client", client.id),
                data: json!({ "grant_types": client.grant_types, "redirect_uris": client.redirect_uris }),
            },
        )
        .await?;
        txn.commit().await?;
        self.client_cache().forget(client.id);
        Ok(client)
    }

    /// Replaces a confidential app's secret; the old one stops working at once on this
    /// replica, and within five seconds on the others.
    pub async fn rotate_client_secret(
        &self,
        actor: &Actor,
        client_id: &str,
    ) -> Result<CreatedClient> {
        let current = self.get_client(actor, client_id).await?;
        if current.client_type == ClientType::Public {
            return Err(Error::new(
                ErrorCode::PublicClientHasNoSecret,
                "public apps have no secret",
            ));
        }
        let (secret, hash) = new_secret();
        let now = self.now();
        let txn = self.begin_write().await?;
        let mut model: client::ActiveModel = current.into();
        model.secret_hash = Set(Some(hash));
        model.updated_at = Set(now);
        let client = model
            .update(&txn)
            .await
            .map_err(|e| gone_or(e, || not_found(client_id)))?;
        audit::record(
            &txn,
            now,
            Entry {
                actor,
                org: client.org_id,
                action: AuditAction::ClientSecretRotated,
                target: Target::new("client", client.id),
                data: json!({}),
            },
        )
        .await?;
        txn.commit().await?;
        self.client_cache().forget(client.id);
        Ok(CreatedClient {
            client,
            secret: Some(SecretString::from(secret)),
        })
    }

    /// Deletes an app; its refresh tokens go with it.
    pub async fn delete_client(&self, actor: &Actor, client_id: &str) -> Result<()> {
        let current = self.get_client(actor, client_id).await?;
        let now = self.now();
        let txn = self.begin_write().await?;
        let deleted = client::Entity::delete_by_id(current.id).exec(&txn).await?;
        if deleted.rows_affected == 0 {
            return Err(not_found(client_id));
        }
        audit::record(
            &txn,
            now,
            Entry {
                actor,
                org: current.org_id,
                action: AuditAction::ClientDeleted,
                target: Target::new("client", current.id),
                data: json!({ "name": current.name }),
            },
        )
        .await?;
        txn.commit().await?;
        self.client_cache().forget(current.id);
        Ok(())
    }
}
