//! Setup links: an org admin hands one to the customer's IT person, who runs the SSO wizard for
//! that one organization without a Tessera account. A link is a bearer secret (`tsl_` + 256
//! bits, stored as a hash), works until it expires (at most 30 days) or is revoked, and acts
//! as its own audited actor. What a link may reach is decided by the API's extractors: only the
//! SSO set-up (domains, connections, role rules).

use chrono::{DateTime, Duration, Utc};
use entities::setup_link;
use entities::{OrgId, SetupLinkId};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, Order, QueryFilter};
use secrecy::SecretString;
use serde_json::json;

use crate::Broker;
use crate::actor::{Actor, ActorKind, Scope};
use crate::audit::{self, AuditAction, Entry, Target};
use crate::crypto::{hash_secret, random_token};
use crate::error::{Error, ErrorCode, Result, gone_or};
use crate::org::{OrgAccess, Organization};
use crate::page::{self, Page, PageRequest};
use crate::rate_limit::Limit;
use crate::validate;

/// A setup link as stored (never the token).
pub type SetupLink = setup_link::Model;

/// Every setup link's token starts with this.
pub const TOKEN_PREFIX: &str = "tsl_";
/// The path a setup link opens (followed by the token).
pub const LINK_PATH: &str = "/setup/";
/// How long a link works when the admin does not say.
pub const DEFAULT_VALIDITY: Duration = Duration::hours(72);
/// The longest a link may work.
pub const MAX_VALIDITY: Duration = Duration::days(30);

/// Failed setup-link checks allowed per client IP per minute.
pub const SETUP_LINK_FAILURES_PER_IP: Limit = Limit {
    name: "setup_link_failures",
    max: 20,
    window: std::time::Duration::from_secs(60),
};

/// A link to create.
#[derive(Debug, Clone, Default)]
pub struct NewSetupLink {
    /// Who it is for ("Jane, Acme IT").
    pub label: Option<String>,
    /// When it stops working; [`DEFAULT_VALIDITY`] from now when absent.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A link just created, with its URL (shown once).
#[derive(Debug)]
pub struct CreatedSetupLink {
    /// The stored record.
    pub link: SetupLink,
    /// The URL to hand over; never shown again.
    pub url: SecretString,
}

fn not_found(id: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::SetupLinkNotFound,
        format!("no setup link '{id}'"),
    )
}

fn invalid_link() -> Error {
    Error::new(
        ErrorCode::SetupLinkInvalid,
        "this setup link is unknown, revoked or expired; ask your contact for a new one",
    )
}

/// Whether the link works at `now`.
pub fn is_live(link: &SetupLink, now: DateTime<Utc>) -> bool {
    link.revoked_at.is_none() && link.expires_at > now
}

impl Broker {
    /// Creates a setup link for the organization. A setup link cannot make another one.
    pub async fn create_setup_link(
        &self,
        access: &OrgAccess,
        new: NewSetupLink,
    ) -> Result<CreatedSetupLink> {
        if matches!(access.actor().kind, ActorKind::SetupLink(_)) {
            return Err(Error::new(
                ErrorCode::SetupLinkNotAllowed,
                "a setup link cannot create setup links",
            ));
        }
        let label = new
            .label
            .as_deref()
            .map(|l| validate::name("label", l))
            .transpose()?;
        let now = self.now();
        let expires_at = new.expires_at.unwrap_or(now + DEFAULT_VALIDITY);
        if expires_at <= now || expires_at > now + MAX_VALIDITY {
            return Err(Error::invalid(
                ErrorCode::InvalidExpiry,
                "expires_at",
                "expires_at must be in the future and at most 30 days away",
            ));
        }
        let token = format!("{TOKEN_PREFIX}{}", random_token::<32>());
        let created_by = match access.actor().kind {
            ActorKind::User(user) => Some(user),
            _ => None,
        };
        let txn = self.begin_write().await?;
        let link = setup_link::ActiveModel {
            id: Set(SetupLinkId::new()),
            org_id: Set(access.org_id()),
            token_hash: Set(hash_secret(&token)),
            created_by: Set(created_by),
            label: Set(label),
            expires_at: Set(expires_at),
            used_at: Set(None),
            revoked_at: Set(None),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        access
            .audit(
                &txn,
                now,
                AuditAction::SetupLinkCreated,
                Target::new("setup_link", link.id),
                json!({ "label": link.label, "expires_at": link.expires_at }),
            )
            .await?;
        txn.commit().await?;
        let url = self.login_settings().url_of(&format!("{LINK_PATH}{token}"));
        Ok(CreatedSetupLink {
            link,
            url: SecretString::from(url),
        })
    }

    /// The organization's setup links (live, expired and revoked), newest first.
    pub async fn list_setup_links(
        &self,
        access: &OrgAccess,
        request: &PageRequest,
    ) -> Result<Page<SetupLink>> {
        let select =
            setup_link::Entity::find().filter(setup_link::Column::OrgId.eq(access.org_id()));
        page::fetch(
            self.db(),
            select,
            setup_link::Column::Id,
            Order::Desc,
            request,
            |l| l.id.as_uuid(),
        )
        .await
    }

    /// Revokes one of the organization's setup links; it stops working at once.
    pub async fn revoke_setup_link(
        &self,
        access: &OrgAccess,
        id: SetupLinkId,
    ) -> Result<SetupLink> {
        let now = self.now();
        let txn = self.begin_write().await?;
        let link = setup_link::Entity::find_by_id(id)
            .filter(setup_link::Column::OrgId.eq(access.org_id()))
            .one(&txn)
            .await?
            .ok_or_else(|| not_found(id))?;
        if link.revoked_at.is_some() {
            return Ok(link);
        }
        let mut model: setup_link::ActiveModel = link.into();
        model.revoked_at = Set(Some(now));
        let link = model
            .update(&txn)
            .await
            .map_err(|e| gone_or(e, || not_found(id)))?;
        access
            .audit(
                &txn,
                now,
                AuditAction::SetupLinkRevoked,
                Target::new("setup_link", link.id),
                json!({ "label": link.label }),
            )
            .await?;
        txn.commit().await?;
        Ok(link)
    }

    /// The live link a token stands for and its organization (for the wizard page), counting
    /// failures against the client's IP. The first use is recorded and audited.
    pub async fn open_setup_link(
        &self,
        token: &str,
        ip: Option<String>,
        request_id: Option<String>,
    ) -> Result<(SetupLink, Organization, Actor)> {
        let now = self.now();
        let found = if token.starts_with(TOKEN_PREFIX) {
            setup_link::Entity::find()
                .filter(setup_link::Column::TokenHash.eq(hash_secret(token)))
                .find_also_related(entities::organization::Entity)
                .one(self.db())
                .await?
        } else {
            None
        };
        let Some((link, Some(org))) = found.filter(|(l, _)| is_live(l, now)) else {
            let subject = ip.as_deref().unwrap_or("unknown");
            self.count_against(SETUP_LINK_FAILURES_PER_IP, subject)
                .await?;
            return Err(invalid_link());
        };
        let actor = Actor {
            kind: ActorKind::SetupLink(link.id),
            scope: Scope::Org(org.id),
            ip,
            request_id,
        };
        if link.used_at.is_none() {
            self.record_first_use(&link, &actor, now).await?;
        }
        Ok((link, org, actor))
    }

    /// The actor a setup link stands for on the admin API, for `org` (id or slug) only: a
    /// link for another organization is "not found" there.
    pub async fn authenticate_setup_link(
        &self,
        org: &str,
        token: &str,
        ip: Option<String>,
        request_id: Option<String>,
    ) -> Result<Actor> {
        let (_, linked, actor) = self.open_setup_link(token, ip, request_id).await?;
        if org != linked.slug && org.parse::<OrgId>().ok() != Some(linked.id) {
            return Err(Error::new(
                ErrorCode::OrganizationNotFound,
                format!("no organization '{org}'"),
            ));
        }
        Ok(actor)
    }

    async fn record_first_use(
        &self,
        link: &SetupLink,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let txn = self.begin_write().await?;
        let first = setup_link::Entity::update_many()
            .col_expr(setup_link::Column::UsedAt, Expr::value(now))
            .filter(setup_link::Column::Id.eq(link.id))
            .filter(setup_link::Column::UsedAt.is_null())
            .exec(&txn)
            .await?;
        if first.rows_affected == 1 {
            audit::record(
                &txn,
                now,
                Entry {
                    actor,
                    org: Some(link.org_id),
                    action: AuditAction::SetupLinkUsed,
                    target: Target::new("setup_link", link.id),
                    data: json!({ "label": link.label }),
                },
            )
            .await?;
        }
        txn.commit().await?;
        Ok(())
    }
}
