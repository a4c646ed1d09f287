//! SAML connections as admins manage them: create from pasted metadata or a metadata URL,
//! change settings or replace the metadata, refetch it (now, or on each connection's schedule),
//! and the warnings an admin should act on (certificates about to expire, failed refetches).

use chrono::{DateTime, Duration, Utc};
use entities::ConnectionId;
use entities::connection::{self, ConnectionKind, ConnectionStatus};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use serde_json::json;

use crate::Broker;
use crate::actor::Actor;
use crate::audit::{self, AuditAction, Entry, Target};
use crate::error::{Error, ErrorCode, Result};
use crate::federation::connections::{DEFAULT_SKEW, checked_skew, invalid};
use crate::federation::saml::metadata::{self, IdpMetadata};
use crate::federation::saml::settings::{AttributeNames, SamlSettings};
use crate::federation::saml::sp::sp_metadata;
use crate::federation::{Connection, ConnectionOwner, Preset};
use crate::validate;

const DEFAULT_REFRESH_HOURS: u32 = 24;
const MAX_REFRESH_HOURS: u32 = 24 * 30;
/// Certificates expiring within this are warned about.
const EXPIRY_WARNING: Duration = Duration::days(30);

/// Settings an admin may choose; `None` keeps the current (or default) value.
#[derive(Debug, Clone, Default)]
pub struct SamlOptions {
    /// The NameID format to ask for (empty: let the IdP decide).
    pub name_id_format: Option<String>,
    /// Sign AuthnRequests (default: when the IdP's metadata asks for it).
    pub sign_requests: Option<bool>,
    /// Assertions must be signed themselves (default true).
    pub require_signed_assertions: Option<bool>,
    /// Only encrypted assertions (default false).
    pub require_encrypted_assertions: Option<bool>,
    /// Accept IdP-initiated sign-in (default false).
    pub allow_idp_initiated: Option<bool>,
    /// Allowed clock difference in seconds (default 120, at most 600).
    pub clock_skew_seconds: Option<u32>,
    /// Treat the IdP's email addresses as verified (default true).
    pub trust_email: Option<bool>,
    /// Attribute names for the profile and groups (default: the preset's).
    pub attributes: Option<AttributeNames>,
    /// Hours between metadata refetches when it came from a URL (default 24).
    pub metadata_refresh_hours: Option<u32>,
}

/// A SAML connection to create: a name and the IdP's metadata (pasted, or a URL).
#[derive(Debug, Clone, Default)]
pub struct NewSamlConnection {
    /// The id handed out with the SP values ([`Broker::connection_endpoints`]), when the IdP
    /// was set up with them first; a new id when absent.
    pub id: Option<ConnectionId>,
    /// Display name.
    pub name: String,
    /// The IdP's metadata document.
    pub metadata_xml: Option<String>,
    /// Where to fetch the IdP's metadata (refetched on a schedule).
    pub metadata_url: Option<String>,
    /// Entra ID, Okta or Google Workspace: their attribute names.
    pub preset: Option<Preset>,
    /// Everything else.
    pub options: SamlOptions,
}

/// Changes to a SAML connection.
#[derive(Debug, Clone, Default)]
pub struct SamlChanges {
    /// New metadata document (replaces certificates and endpoints).
    pub metadata_xml: Option<String>,
    /// New metadata URL (fetched now).
    pub metadata_url: Option<String>,
    /// Settings.
    pub options: SamlOptions,
}

impl SamlChanges {
    /// Whether nothing SAML-specific is asked for.
    pub fn is_empty(&self) -> bool {
        self.metadata_xml.is_none()
            && self.metadata_url.is_none()
            && self.options.name_id_format.is_none()
            && self.options.sign_requests.is_none()
            && self.options.require_signed_assertions.is_none()
            && self.options.require_encrypted_assertions.is_none()
            && self.options.allow_idp_initiated.is_none()
            && self.options.clock_skew_seconds.is_none()
            && self.options.trust_email.is_none()
            && self.options.attributes.is_none()
            && self.options.metadata_refresh_hours.is_none()
    }
}

/// Something about a connection an admin should act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Stable code: `saml_certificate_expiring`, `saml_certificate_expired`,
    /// `saml_metadata_refresh_failed`.
    pub code: &'static str,
    /// What to do.
    pub message: String,
}

fn checked_attributes(names: AttributeNames) -> Result<AttributeNames> {
    for (field, list) in [
        ("attributes.email", &names.email),
        ("attributes.name", &names.name),
        ("attributes.given_name", &names.given_name),
        ("attributes.family_name", &names.family_name),
        ("attributes.groups", &names.groups),
    ] {
        if list.len() > 10 || list.iter().any(|n| n.trim().is_empty() || n.len() > 512) {
            return Err(invalid(
                field,
                "up to 10 attribute names of 1-512 characters each",
            ));
        }
    }
    Ok(names)
}

fn apply(settings: &mut SamlSettings, options: SamlOptions) -> Result<()> {
    if let Some(format) = options.name_id_format {
        let format = format.trim().to_owned();
        settings.name_id_format = match format.as_str() {
            "" => None,
            f if f.starts_with("urn:") && f.len() <= 256 => Some(format),
            _ => {
                return Err(invalid(
                    "name_id_format",
                    "a NameID format URN such as urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
                ));
            }
        };
    }
    if let Some(sign) = options.sign_requests {
        if !sign && settings.idp_wants_signed_requests {
            return Err(invalid(
                "sign_requests",
                "the IdP's metadata asks for signed AuthnRequests",
            ));
        }
        settings.sign_requests = sign;
    }
    if let Some(v) = options.require_signed_assertions {
        settings.require_signed_assertions = v;
    }
    if let Some(v) = options.require_encrypted_assertions {
        settings.require_encrypted_assertions = v;
    }
    if let Some(v) = options.allow_idp_initiated {
        settings.allow_idp_initiated = v;
    }
    if let Some(skew) = options.clock_skew_seconds {
        settings.clock_skew_seconds = checked_skew(skew)?;
    }
    if let Some(v) = options.trust_email {
        settings.trust_email = v;
    }
    if let Some(names) = options.attributes {
        settings.attributes = checked_attributes(names)?;
    }
    if let Some(hours) = options.metadata_refresh_hours {
        if hours == 0 || hours > MAX_REFRESH_HOURS {
            return Err(invalid(
                "metadata_refresh_hours",
                format!("between 1 and {MAX_REFRESH_HOURS} hours"),
            ));
        }
        settings.metadata_refresh_hours = hours;
    }
    Ok(())
}

fn adopt(settings: &mut SamlSettings, found: IdpMetadata, now: DateTime<Utc>) {
    if found.wants_signed_requests && !settings.idp_wants_signed_requests {
        settings.sign_requests = true;
    }
    settings.idp_entity_id = found.entity_id;
    settings.sso_url = found.sso_url;
    settings.certificates = found.certificates;
    settings.name_id_formats = found.name_id_formats;
    settings.idp_wants_signed_requests = found.wants_signed_requests;
    settings.metadata_fetched_at = now;
    settings.metadata_refresh_error = None;
}

impl Broker {
    /// The SAML settings of a connection.
    pub fn saml_settings(connection: &Connection) -> Result<SamlSettings> {
        serde_json::from_value(connection.config.clone()).map_err(Error::internal)
    }

    /// The IdP metadata given as a document or a URL (exactly one).
    async fn read_metadata(
        &self,
        document: Option<&str>,
        url: Option<&str>,
    ) -> Result<(Option<String>, IdpMetadata)> {
        match (document, url) {
            (Some(doc), None) => Ok((None, metadata::parse("metadata_xml", doc)?)),
            (None, Some(url)) => {
                let (url, found) =
                    metadata::fetch(&self.upstream_http()?, "metadata_url", url).await?;
                Ok((Some(url), found))
            }
            _ => Err(Error::invalid(
                ErrorCode::MissingField,
                "metadata_xml",
                "give the IdP's metadata as metadata_xml (the document) or metadata_url (where to fetch it), not both",
            )),
        }
    }

    /// Creates a SAML connection in `draft`, with fresh SP keys; the IdP's metadata may follow
    /// later (`update_connection`), before any sign-in or activation.
    pub async fn create_saml_connection(
        &self,
        owner: ConnectionOwner<'_>,
        new: NewSamlConnection,
    ) -> Result<Connection> {
        owner.check()?;
        let name = validate::name("name", &new.name)?;
        // Without metadata the connection waits for it (the admin first needs Tessera's SP
        // values to set up the IdP, whose metadata comes after).
        let read = match (&new.metadata_xml, &new.metadata_url) {
            (None, None) => None,
            (xml, url) => Some(self.read_metadata(xml.as_deref(), url.as_deref()).await?),
        };
        let id = match new.id {
            Some(chosen) => crate::federation::endpoints::chosen_id(chosen, self.now())?,
            None => ConnectionId::new(),
        };
        let keys = self.generate_sp_keys(id).await?;
        let now = self.now();
        let mut settings = SamlSettings {
            idp_entity_id: String::new(),
            sso_url: String::new(),
            certificates: Vec::new(),
            name_id_formats: Vec::new(),
            name_id_format: None,
            idp_wants_signed_requests: false,
            sign_requests: false,
            metadata_url: None,
            metadata_fetched_at: now,
            metadata_refresh_hours: DEFAULT_REFRESH_HOURS,
            metadata_refresh_error: None,
            require_signed_assertions: true,
            require_encrypted_assertions: false,
            allow_idp_initiated: false,
            clock_skew_seconds: DEFAULT_SKEW,
            trust_email: true,
            attributes: AttributeNames::for_preset(new.preset),
            sp_signing_certificate: keys.signing_certificate,
            sp_encryption_certificate: keys.encryption_certificate,
        };
        if let Some((metadata_url, found)) = read {
            settings.metadata_url = metadata_url;
            adopt(&mut settings, found, now);
        }
        apply(&mut settings, new.options)?;
        let txn = self.begin_write().await?;
        let created = connection::ActiveModel {
            id: Set(id),
            org_id: Set(owner.org_id()),
            kind: Set(ConnectionKind::Saml),
            name: Set(name),
            preset: Set(new.preset.map(|p| p.as_str().to_owned())),
            status: Set(ConnectionStatus::Draft),
            config: Set(json!(settings)),
            secrets_encrypted: Set(Some(keys.sealed)),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        owner
            .audit(
                &txn,
                now,
                AuditAction::ConnectionCreated,
                id,
                json!({
                    "kind": "saml",
                    "preset": created.preset,
                    "idp_entity_id": settings.idp_entity_id,
                    "metadata_url": settings.metadata_url,
                }),
            )
            .await?;
        txn.commit().await?;
        Ok(created)
    }

    /// Applies SAML changes to `current` (already checked to be the owner's).
    pub(crate) async fn update_saml_connection(
        &self,
        owner: ConnectionOwner<'_>,
        current: Connection,
        name: Option<String>,
        changes: SamlChanges,
    ) -> Result<Connection> {
        let mut settings = Self::saml_settings(&current)?;
        let metadata_changed = changes.metadata_xml.is_some() || changes.metadata_url.is_some();
        if metadata_changed {
            let (url, found) = self
                .read_metadata(
                    changes.metadata_xml.as_deref(),
                    changes.metadata_url.as_deref(),
                )
                .await?;
            settings.metadata_url = url;
            adopt(&mut settings, found, self.now());
        }
        apply(&mut settings, changes.options)?;
        let data = json!({ "metadata_replaced": metadata_changed });
        self.save_saml_settings(owner.actor(), current, name, &settings, data)
            .await
    }

    async fn save_saml_settings(
        &self,
        actor: &Actor,
        current: Connection,
        name: Option<String>,
        settings: &SamlSettings,
        data: serde_json::Value,
    ) -> Result<Connection> {
        let (id, org) = (current.id, current.org_id);
        let now = self.now();
        let txn = self.begin_write().await?;
        let mut model: connection::ActiveModel = current.into();
        if let Some(name) = name {
            model.name = Set(name);
        }
        model.config = Set(json!(settings));
        model.updated_at = Set(now);
        let updated = model.update(&txn).await?;
        audit::record(
            &txn,
            now,
            Entry {
                actor,
                org,
                action: AuditAction::ConnectionUpdated,
                target: Target::new("connection", id),
                data,
            },
        )
        .await?;
        txn.commit().await?;
        Ok(updated)
    }

    /// Refetches a SAML connection's metadata from its URL now (after the IdP rotated its
    /// certificate, say).
    pub async fn refresh_saml_metadata(
        &self,
        owner: ConnectionOwner<'_>,
        id: ConnectionId,
    ) -> Result<Connection> {
        let current = self.get_connection(owner, id).await?;
        if current.kind != ConnectionKind::Saml {
            return Err(invalid(
                "kind",
                "only SAML connections have metadata to refresh",
            ));
        }
        let settings = Self::saml_settings(&current)?;
        let url = settings.metadata_url.clone().ok_or_else(|| {
            invalid(
                "metadata_url",
                "this connection's metadata was pasted, not fetched; paste the new metadata instead",
            )
        })?;
        let changes = SamlChanges {
            metadata_url: Some(url),
            ..SamlChanges::default()
        };
        self.update_saml_connection(owner, current, None, changes)
            .await
    }

    /// Refetches the metadata of every SAML connection whose schedule is due; a failure keeps
    /// the previous metadata and is recorded on the connection (an admin sees a warning).
    /// Returns how many connections were refreshed.
    pub async fn refresh_due_saml_metadata(&self) -> Result<usize> {
        let connections = connection::Entity::find()
            .filter(connection::Column::Kind.eq(ConnectionKind::Saml))
            .all(self.db())
            .await?;
        let now = self.now();
        let mut refreshed = 0;
        for current in connections {
            let mut settings = Self::saml_settings(&current)?;
            let Some(url) = settings.metadata_url.clone() else {
                continue;
            };
            let due = settings.metadata_fetched_at
                + Duration::hours(i64::from(settings.metadata_refresh_hours));
            if due > now {
                continue;
            }
            match metadata::fetch(&self.upstream_http()?, "metadata_url", &url).await {
                Ok((_, found)) => {
                    adopt(&mut settings, found, now);
                    refreshed += 1;
                }
                Err(error) => {
                    tracing::warn!(connection = %current.id, %error, "SAML metadata refresh failed");
                    settings.metadata_fetched_at = now;
                    settings.metadata_refresh_error = Some(error.message().to_owned());
                }
            }
            let data = json!({ "metadata_refreshed": settings.metadata_refresh_error.is_none() });
            self.save_saml_settings(&Actor::system(), current, None, &settings, data)
                .await?;
        }
        Ok(refreshed)
    }

    /// The SP metadata document of a SAML connection (public: IdPs and admins download it).
    pub async fn saml_sp_metadata(&self, id: ConnectionId) -> Result<String> {
        let connection = self.connection_by_id(id).await?;
        if connection.kind != ConnectionKind::Saml {
            return Err(Error::new(
                ErrorCode::ConnectionNotFound,
                format!("no SAML connection '{id}'"),
            ));
        }
        let settings = Self::saml_settings(&connection)?;
        Ok(sp_metadata(&self.saml_sp_urls(id), &settings))
    }

    /// What an admin should act on for this connection.
    pub fn saml_warnings(&self, settings: &SamlSettings) -> Vec<Warning> {
        let now = self.now();
        let mut warnings: Vec<Warning> = settings
            .certificates
            .iter()
            .filter_map(|cert| {
                if cert.not_after <= now {
                    Some(Warning {
                        code: "saml_certificate_expired",
                        message: format!(
                            "the IdP certificate {} ({}) expired on {}; have the IdP sign with a current certificate and refresh the metadata",
                            cert.sha256, cert.subject, cert.not_after.date_naive()
                        ),
                    })
                } else if cert.not_after - now <= EXPIRY_WARNING {
                    Some(Warning {
                        code: "saml_certificate_expiring",
                        message: format!(
                            "the IdP certificate {} ({}) expires on {}; add its successor at the IdP and refresh the metadata before then",
                            cert.sha256, cert.subject, cert.not_after.date_naive()
                        ),
                    })
                } else {
                    None
                }
            })
            .collect();
        if settings.certificates.is_empty() {
            warnings.push(Warning {
                code: "saml_metadata_missing",
                message: "the IdP's metadata is not set yet: set up the IdP with the SP entity ID and ACS URL, then add its metadata (metadata_url or metadata_xml)".into(),
            });
        }
        if let Some(error) = &settings.metadata_refresh_error {
            warnings.push(Warning {
                code: "saml_metadata_refresh_failed",
                message: format!("the last scheduled metadata refresh failed: {error}"),
            });
        }
        warnings
    }
}
