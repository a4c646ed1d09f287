//! Connections as admins manage them: create (OIDC from an issuer; SAML in its own module),
//! list, read, activate, deactivate, delete. An org's connections are reached only through
//! its [`OrgAccess`]; instance-level ones (social sign-in) only by instance admins.

use entities::connection::{self, ConnectionKind, ConnectionStatus};
use entities::{ConnectionId, OrgId};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order,
    QueryFilter, QueryOrder, Select,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::Broker;
use crate::actor::Actor;
use crate::audit::{self, AuditAction, Entry, Target};
use crate::error::{Error, ErrorCode, Result};
use crate::federation::Preset;
use crate::federation::oidc::discovery::{discover, issuer_from_input};
use crate::federation::oidc::settings::{ClaimNames, OidcSettings, default_scopes};
use crate::federation::saml::SamlChanges;
use crate::org::{OrgAccess, require_instance_admin};
use crate::page::{self, Page, PageRequest};
use crate::validate;

/// A connection as stored.
pub type Connection = connection::Model;

/// Whose connections: an organization's, or the instance's (social sign-in buttons).
#[derive(Debug, Clone, Copy)]
pub enum ConnectionOwner<'a> {
    /// An organization's, through the caller's access to it.
    Org(&'a OrgAccess),
    /// The instance's; the actor must be an instance admin.
    Instance(&'a Actor),
}

impl ConnectionOwner<'_> {
    pub(crate) fn org_id(&self) -> Option<OrgId> {
        match self {
            Self::Org(access) => Some(access.org_id()),
            Self::Instance(_) => None,
        }
    }

    pub(crate) fn actor(&self) -> &Actor {
        match self {
            Self::Org(access) => access.actor(),
            Self::Instance(actor) => actor,
        }
    }

    pub(crate) fn check(&self) -> Result<()> {
        match self {
            Self::Org(_) => Ok(()),
            Self::Instance(actor) => require_instance_admin(actor),
        }
    }

    pub(crate) fn scope(&self, select: Select<connection::Entity>) -> Select<connection::Entity> {
        match self.org_id() {
            Some(org) => select.filter(connection::Column::OrgId.eq(org)),
            None => select.filter(connection::Column::OrgId.is_null()),
        }
    }

    pub(crate) async fn audit(
        &self,
        db: &impl ConnectionTrait,
        now: chrono::DateTime<chrono::Utc>,
        action: AuditAction,
        id: ConnectionId,
        data: Value,
    ) -> Result<()> {
        audit::record(
            db,
            now,
            Entry {
                actor: self.actor(),
                org: self.org_id(),
                action,
                target: Target::new("connection", id),
                data,
            },
        )
        .await
    }
}

/// An OIDC connection to create.
#[derive(Debug, Clone)]
pub struct NewOidcConnection {
    /// The id handed out with the redirect URI ([`Broker::connection_endpoints`]), when the
    /// admin registered that URI at the IdP first; a new id when absent.
    pub id: Option<ConnectionId>,
    /// Display name (shown on "Continue with …" buttons for instance connections).
    pub name: String,
    /// The issuer, or its `.well-known/openid-configuration` URL.
    pub issuer: String,
    /// Tessera's client id at the IdP.
    pub client_id: String,
    /// Tessera's client secret at the IdP.
    pub client_secret: SecretString,
    /// A preset for a well-known IdP.
    pub preset: Option<Preset>,
    /// Entra ID: the directory (tenant) id (required for the multi-tenant issuers).
    pub tenant_id: Option<String>,
    /// Scopes to request (default `openid email profile`, plus `groups` for Okta).
    pub scopes: Option<Vec<String>>,
    /// Read the userinfo endpoint at each sign-in (default: when the IdP has one, except for
    /// Entra ID, whose userinfo lacks most claims).
    pub use_userinfo: Option<bool>,
    /// Claim names for the profile and groups.
    pub claims: Option<ClaimNames>,
    /// Allowed clock difference in seconds (default 120, at most 600).
    pub clock_skew_seconds: Option<u32>,
}

/// Changes to a connection; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct ConnectionChanges {
    /// New display name.
    pub name: Option<String>,
    /// A new client secret (for a rotation at the IdP).
    pub client_secret: Option<SecretString>,
    /// New scopes.
    pub scopes: Option<Vec<String>>,
    /// Whether to read userinfo.
    pub use_userinfo: Option<bool>,
    /// New claim names.
    pub claims: Option<ClaimNames>,
    /// New allowed clock skew.
    pub clock_skew_seconds: Option<u32>,
    /// SAML connections: new metadata and settings.
    pub saml: SamlChanges,
}

impl ConnectionChanges {
    /// The first OIDC-only setting asked for, if any (for refusing it on a SAML connection).
    fn oidc_field(&self) -> Option<&'static str> {
        [
            ("client_secret", self.client_secret.is_some()),
            ("scopes", self.scopes.is_some()),
            ("use_userinfo", self.use_userinfo.is_some()),
            ("claims", self.claims.is_some()),
        ]
        .into_iter()
        .find_map(|(field, set)| set.then_some(field))
    }
}

pub(crate) const DEFAULT_SKEW: u32 = 120;
const MAX_SKEW: u32 = 600;

fn not_found(id: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::ConnectionNotFound,
        format!("no connection '{id}'"),
    )
}

/// A connection id from a path: anything that is not one names no connection.
pub fn connection_id(raw: &str) -> Result<ConnectionId> {
    raw.parse().map_err(|_| not_found(raw))
}

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::invalid(ErrorCode::InvalidConnection, field, message)
}

fn checked_scopes(scopes: Vec<String>) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for (i, scope) in scopes.iter().enumerate() {
        let ok = !scope.is_empty()
            && scope.len() <= 128
            && scope
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
        if !ok {
            return Err(invalid(&format!("scopes[{i}]"), "not a valid scope token"));
        }
        if !out.contains(scope) {
            out.push(scope.clone());
        }
    }
    if !out.iter().any(|s| s == "openid") {
        return Err(invalid("scopes", "the scopes must include openid"));
    }
    Ok(out)
}

pub(crate) fn checked_skew(skew: u32) -> Result<u32> {
    if skew > MAX_SKEW {
        return Err(invalid(
            "clock_skew_seconds",
            format!("at most {MAX_SKEW} seconds"),
        ));
    }
    Ok(skew)
}

/// The trimmed client secret, sealed for connection `id`.
fn sealed_secret(broker: &Broker, id: ConnectionId, secret: &SecretString) -> Result<Vec<u8>> {
    let secret = secret.expose_secret().trim();
    if secret.is_empty() || secret.len() > 2048 {
        return Err(invalid(
            "client_secret",
            "client_secret is required (at most 2048 characters)",
        ));
    }
    broker
        .master_key()
        .encrypt(&secret_context(id), secret.as_bytes())
        .map_err(Error::internal)
}

fn checked_claims(claims: ClaimNames) -> Result<ClaimNames> {
    for (field, value) in [
        ("claims.email", &claims.email),
        ("claims.name", &claims.name),
        ("claims.given_name", &claims.given_name),
        ("claims.family_name", &claims.family_name),
        ("claims.groups", &claims.groups),
    ] {
        if value.is_empty() || value.len() > 256 {
            return Err(invalid(field, "a claim name is 1-256 characters"));
        }
    }
    Ok(claims)
}

impl Broker {
    /// The redirect URI to register at the IdP for an OIDC connection.
    pub fn oidc_redirect_uri(&self, id: ConnectionId) -> String {
        self.login_settings()
            .url_of(&format!("/sso/oidc/{id}/callback"))
    }

    /// The OIDC settings of a connection.
    pub fn oidc_settings(connection: &Connection) -> Result<OidcSettings> {
        serde_json::from_value(connection.config.clone()).map_err(Error::internal)
    }

    /// Creates an OIDC connection in `draft`: discovery and the JWKS are fetched and checked
    /// now, so a typo surfaces here rather than at someone's first sign-in.
    pub async fn create_oidc_connection(
        &self,
        owner: ConnectionOwner<'_>,
        new: NewOidcConnection,
    ) -> Result<Connection> {
        owner.check()?;
        let name = validate::name("name", &new.name)?;
        let issuer = issuer_from_input(&new.issuer)?;
        let client_id = new.client_id.trim().to_owned();
        if client_id.is_empty() || client_id.len() > 512 {
            return Err(invalid(
                "client_id",
                "client_id is required (at most 512 characters)",
            ));
        }
        let id = match new.id {
            Some(chosen) => crate::federation::endpoints::chosen_id(chosen, self.now())?,
            None => ConnectionId::new(),
        };
        let secrets = sealed_secret(self, id, &new.client_secret)?;
        let scopes = checked_scopes(new.scopes.unwrap_or_else(|| default_scopes(new.preset)))?;
        let claims = checked_claims(new.claims.unwrap_or_default())?;
        let skew = checked_skew(new.clock_skew_seconds.unwrap_or(DEFAULT_SKEW))?;
        let found = discover(
            &self.upstream_http()?,
            &issuer,
            new.preset,
            new.tenant_id.as_deref(),
        )
        .await?;
        let use_userinfo = new
            .use_userinfo
            .unwrap_or(found.userinfo_endpoint.is_some() && new.preset != Some(Preset::Entra));
        if use_userinfo && found.userinfo_endpoint.is_none() {
            return Err(invalid(
                "use_userinfo",
                "the IdP's discovery document has no userinfo_endpoint",
            ));
        }
        let settings = OidcSettings {
            issuer: found.issuer.clone(),
            expected_issuer: found.expected_issuer,
            client_id,
            authorization_endpoint: found.authorization_endpoint,
            token_endpoint: found.token_endpoint,
            userinfo_endpoint: found.userinfo_endpoint,
            jwks_uri: found.jwks_uri,
            jwks: found.jwks,
            token_auth: found.token_auth,
            scopes,
            use_userinfo,
            tenant_id: found.tenant_id,
            claims,
            clock_skew_seconds: skew,
            groups_endpoint: (new.preset == Some(Preset::Entra))
                .then(|| crate::federation::oidc::settings::ENTRA_GROUPS_ENDPOINT.to_owned()),
        };
        let now = self.now();
        let txn = self.begin_write().await?;
        let created = connection::ActiveModel {
            id: Set(id),
            org_id: Set(owner.org_id()),
            kind: Set(ConnectionKind::Oidc),
            name: Set(name),
            preset: Set(new.preset.map(|p| p.as_str().to_owned())),
            status: Set(ConnectionStatus::Draft),
            config: Set(json!(settings)),
            secrets_encrypted: Set(Some(secrets)),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            crate::error::unique_or(e, || {
                invalid("id", "a connection with this id exists; ask for a new id")
            })
        })?;
        owner
            .audit(
                &txn,
                now,
                AuditAction::ConnectionCreated,
                id,
                json!({ "kind": "oidc", "preset": created.preset, "issuer": issuer }),
            )
            .await?;
        txn.commit().await?;
        Ok(created)
    }

    /// The owner's connections, oldest first.
    pub async fn list_connections(
        &self,
        owner: ConnectionOwner<'_>,
        request: &PageRequest,
    ) -> Result<Page<Connection>> {
        owner.check()?;
        let select = owner.scope(connection::Entity::find());
        page::fetch(
            self.db(),
            select,
            connection::Column::Id,
            Order::Asc,
            request,
            |c| c.id.as_uuid(),
        )
        .await
    }

    /// One of the owner's connections.
    pub async fn get_connection(
        &self,
        owner: ConnectionOwner<'_>,
        id: ConnectionId,
    ) -> Result<Connection> {
        owner.check()?;
        owner
            .scope(connection::Entity::find_by_id(id))
            .one(self.db())
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// Changes a connection's name and settings: for OIDC its secret or claim settings (the
    /// issuer is fixed: a different IdP is a new connection); for SAML its metadata or settings.
    pub async fn update_connection(
        &self,
        owner: ConnectionOwner<'_>,
        id: ConnectionId,
        changes: ConnectionChanges,
    ) -> Result<Connection> {
        let current = self.get_connection(owner, id).await?;
        let name = changes
            .name
            .as_deref()
            .map(|n| validate::name("name", n))
            .transpose()?;
        if current.kind == ConnectionKind::Saml {
            if let Some(field) = changes.oidc_field() {
                return Err(invalid(
                    field,
                    "this is an OIDC setting; the connection is SAML",
                ));
            }
            let mut saml = changes.saml;
            if saml.options.clock_skew_seconds.is_none() {
                saml.options.clock_skew_seconds = changes.clock_skew_seconds;
            }
            return self
                .update_saml_connection(owner, current, name, saml)
                .await;
        }
        if !changes.saml.is_empty() {
            return Err(invalid(
                "kind",
                "metadata and SAML settings apply only to SAML connections",
            ));
        }
        let mut settings = Self::oidc_settings(&current)?;
        if let Some(scopes) = changes.scopes {
            settings.scopes = checked_scopes(scopes)?;
        }
        if let Some(claims) = changes.claims {
            settings.claims = checked_claims(claims)?;
        }
        if let Some(use_userinfo) = changes.use_userinfo {
            if use_userinfo && settings.userinfo_endpoint.is_none() {
                return Err(invalid(
                    "use_userinfo",
                    "the IdP's discovery document has no userinfo_endpoint",
                ));
            }
            settings.use_userinfo = use_userinfo;
        }
        if let Some(skew) = changes.clock_skew_seconds {
            settings.clock_skew_seconds = checked_skew(skew)?;
        }
        let secret = changes
            .client_secret
            .as_ref()
            .map(|s| sealed_secret(self, id, s))
            .transpose()?;
        let now = self.now();
        let txn = self.begin_write().await?;
        let mut model: connection::ActiveModel = current.into();
        if let Some(name) = name {
            model.name = Set(name);
        }
        if let Some(sealed) = secret.clone() {
            model.secrets_encrypted = Set(Some(sealed));
        }
        model.config = Set(json!(settings));
        model.updated_at = Set(now);
        let updated = model.update(&txn).await?;
        owner
            .audit(
                &txn,
                now,
                AuditAction::ConnectionUpdated,
                id,
                json!({ "secret_rotated": secret.is_some() }),
            )
            .await?;
        txn.commit().await?;
        Ok(updated)
    }

    /// Makes a connection usable for sign-in (or stops it, with `Disabled`).
    pub async fn set_connection_status(
        &self,
        owner: ConnectionOwner<'_>,
        id: ConnectionId,
        status: ConnectionStatus,
    ) -> Result<Connection> {
        let current = self.get_connection(owner, id).await?;
        if current.status == status {
            return Ok(current);
        }
        if status == ConnectionStatus::Active
            && current.kind == ConnectionKind::Saml
            && Self::saml_settings(&current)?.certificates.is_empty()
        {
            return Err(crate::federation::saml::metadata_missing());
        }
        let now = self.now();
        let txn = self.begin_write().await?;
        let mut model: connection::ActiveModel = current.into();
        model.status = Set(status);
        model.updated_at = Set(now);
        let updated = model.update(&txn).await?;
        let action = match status {
            ConnectionStatus::Active => AuditAction::ConnectionActivated,
            _ => AuditAction::ConnectionDeactivated,
        };
        owner.audit(&txn, now, action, id, json!({})).await?;
        txn.commit().await?;
        Ok(updated)
    }

    /// Deletes a connection and the identities linked through it (users stay).
    pub async fn delete_connection(
        &self,
        owner: ConnectionOwner<'_>,
        id: ConnectionId,
    ) -> Result<()> {
        let current = self.get_connection(owner, id).await?;
        let now = self.now();
        let txn = self.begin_write().await?;
        entities::identity::Entity::delete_many()
            .filter(entities::identity::Column::ConnectionId.eq(id))
            .exec(&txn)
            .await?;
        connection::Entity::delete_by_id(current.id)
            .exec(&txn)
            .await?;
        owner
            .audit(
                &txn,
                now,
                AuditAction::ConnectionDeleted,
                id,
                json!({ "name": current.name }),
            )
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The decrypted client secret of a connection.
    pub(crate) fn connection_secret(&self, connection: &Connection) -> Result<SecretString> {
        let sealed = connection
            .secrets_encrypted
            .as_deref()
            .ok_or_else(|| Error::internal("connection has no secret"))?;
        let plain = self
            .master_key()
            .decrypt(&secret_context(connection.id), sealed)
            .map_err(Error::internal)?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(Error::internal)
    }

    /// A connection by id, whoever owns it (for the sign-in flow, not for admins).
    pub(crate) async fn connection_by_id(&self, id: ConnectionId) -> Result<Connection> {
        connection::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// The instance's active social sign-in connections, for the sign-in page's buttons.
    pub async fn social_connections(&self) -> Result<Vec<Connection>> {
        Ok(connection::Entity::find()
            .filter(connection::Column::OrgId.is_null())
            .filter(connection::Column::Status.eq(ConnectionStatus::Active))
            .order_by_asc(connection::Column::CreatedAt)
            .all(self.db())
            .await?)
    }
}

/// The encryption context binds a sealed secret to its connection.
fn secret_context(id: ConnectionId) -> String {
    format!("connection:{id}:client_secret")
}
