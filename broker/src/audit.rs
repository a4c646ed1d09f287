//! The audit log: every change is recorded in the same transaction that makes it, and can be
//! listed by organization, action and time.

use chrono::{DateTime, Utc};
use entities::{AuditEventId, OrgId, audit_event};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter};
use serde_json::Value;

use crate::Broker;
use crate::actor::Actor;
use crate::error::{Error, ErrorCode, Result};
use crate::page::{self, Page, PageRequest};

/// An audit event as stored.
pub type AuditEvent = audit_event::Model;

/// Declares the audit actions with their stable dotted names and meanings.
macro_rules! audit_actions {
    ($($variant:ident = $name:literal, $doc:literal;)+) => {
        /// Every action Tessera records. The string form (`organization.created`) is stable.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum AuditAction {
            $(#[doc = $doc] $variant,)+
        }

        impl AuditAction {
            /// All actions, for documentation and filters.
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant,)+];

            /// The stable dotted name.
            pub fn as_str(self) -> &'static str {
                match self { $(AuditAction::$variant => $name,)+ }
            }

            /// What the action records, for docs/audit-events.md.
            pub fn meaning(self) -> &'static str {
                match self { $(AuditAction::$variant => $doc,)+ }
            }
        }
    };
}

audit_actions! {
    OrganizationCreated = "organization.created", "An organization was created.";
    OrganizationUpdated = "organization.updated", "An organization's name or slug changed (data: before, after).";
    OrganizationDeleted = "organization.deleted", "An organization and everything it owned were deleted.";
    DomainAdded = "domain.added", "A domain was claimed by an organization.";
    DomainVerified = "domain.verified", "A domain was proven through DNS, or force-verified by an instance admin (data: method).";
    DomainVerificationFailed = "domain.verification_failed", "A DNS verification attempt did not find the TXT record.";
    DomainRemoved = "domain.removed", "A domain was removed from an organization.";
    UserCreated = "user.created", "A user account was created (instance-wide; no organization).";
    MembershipAdded = "membership.added", "A user joined an organization (data: roles).";
    MembershipUpdated = "membership.updated", "A member's roles changed (data: before, after).";
    MembershipRemoved = "membership.removed", "A user was removed from an organization.";
    ApiKeyCreated = "api_key.created", "An API key was created (data: name, prefix; never the key).";
    ApiKeyRevoked = "api_key.revoked", "An API key was revoked.";
    SigningKeyCreated = "signing_key.created", "A token-signing key was generated (data: alg, state).";
    SigningKeyRotated = "signing_key.rotated", "A next key started signing and the current one retired (data: alg, retired, retired_until).";
    ClientCreated = "client.created", "An app (OIDC client) was registered.";
    ClientUpdated = "client.updated", "An app's settings changed.";
    ClientSecretRotated = "client.secret_rotated", "An app got a new secret; the old one stopped working.";
    ClientDeleted = "client.deleted", "An app was deleted with its refresh tokens.";
    UserSignedIn = "user.signed_in", "A user signed in on the login pages (data: method, amr).";
    UserSignInFailed = "user.sign_in_failed", "A sign-in attempt failed (data: method, reason; target is the user when known).";
    UserSignedOut = "user.signed_out", "A user signed out or ended one of their sessions from the account page.";
    EmailLinkSent = "user.email_link_sent", "A sign-in link was emailed (data: purpose; recorded for known and new addresses alike).";
    EmailVerified = "user.email_verified", "A user proved their email address by link or code.";
    PasskeyAdded = "passkey.added", "A passkey was registered (data: name, backup_eligible).";
    PasskeyRegistrationFailed = "passkey.registration_failed", "A passkey answer was refused and nothing was stored (data: reason: ceremony_expired, malformed, verification_failed, already_registered).";
    PasskeyRenamed = "passkey.renamed", "A passkey was renamed (data: name).";
    PasskeyRemoved = "passkey.removed", "A passkey was removed.";
    PasswordSet = "password.set", "A password was set or changed.";
    PasswordRemoved = "password.removed", "A password was removed.";
    TotpEnrolled = "totp.enrolled", "An authenticator app was confirmed as second factor.";
    TotpRemoved = "totp.removed", "An authenticator app was removed.";
    RecoveryCodesGenerated = "recovery_codes.generated", "A new set of recovery codes replaced the old one.";
    RecoveryCodeUsed = "recovery_code.used", "A recovery code stood in for the second factor (data: remaining).";
    ConnectionCreated = "connection.created", "An upstream IdP connection was created as a draft (data: kind, preset, issuer).";
    ConnectionUpdated = "connection.updated", "A connection's name, secret or settings changed, or its SAML metadata was replaced or refreshed (data: secret_rotated, metadata_replaced, metadata_refreshed).";
    ConnectionActivated = "connection.activated", "A connection started being used for sign-in.";
    ConnectionDeactivated = "connection.deactivated", "A connection stopped being used for sign-in (its identities are kept).";
    ConnectionDeleted = "connection.deleted", "A connection was deleted with the identities linked through it.";
    RoleMappingUpdated = "role_mapping.updated", "An organization's claim-to-role rules were replaced (data: rules, default_role, deny_unmatched).";
    IdentityLinked = "identity.linked", "An upstream identity was linked to a user at first sign-in (data: connection, how: created or email).";
    SsoSignInFailed = "sso.sign_in_failed", "A sign-in through a connection failed (data: connection, code).";
    SsoTestCompleted = "sso.test_completed", "A dry-run test login through a connection finished (data: connection, ok, code).";
    ScimTokenCreated = "scim_token.created", "A SCIM token was created (data: name, prefix; never the token).";
    ScimTokenRevoked = "scim_token.revoked", "A SCIM token was revoked.";
    ScimUserCreated = "scim.user_created", "The org's IdP provisioned a user through SCIM (data: user_name, active).";
    ScimUserUpdated = "scim.user_updated", "The org's IdP changed a provisioned user (data: user_name, active).";
    ScimUserDeactivated = "scim.user_deactivated", "The org's IdP deactivated a user: membership suspended, sessions, refresh tokens and API keys revoked.";
    ScimUserDeleted = "scim.user_deleted", "The org's IdP deleted a user: membership removed, sessions, refresh tokens and API keys revoked.";
    ScimGroupCreated = "scim.group_created", "The org's IdP created a group (data: display_name, members).";
    ScimGroupUpdated = "scim.group_updated", "The org's IdP changed a group (data: display_name, added, removed).";
    ScimGroupDeleted = "scim.group_deleted", "The org's IdP deleted a group.";
    ScimRequestFailed = "scim.request_failed", "The directory refused a SCIM request from the org's IdP; at most 30 a minute per token are recorded, and lookups that find nothing are not (data: method, path, status, scim_type, detail).";
    InstanceAdminAdded = "instance_admin.added", "A user became an instance administrator (data: how: first_admin_link or api, email).";
    InstanceAdminRemoved = "instance_admin.removed", "A user stopped being an instance administrator.";
    SetupLinkCreated = "setup_link.created", "An admin created a setup link for an organization (data: label, expires_at; never the link).";
    SetupLinkUsed = "setup_link.used", "A setup link was opened for the first time (later actions carry its id as actor).";
    SetupLinkRevoked = "setup_link.revoked", "A setup link was revoked.";
    BrandingUpdated = "branding.updated", "An organization's sign-in branding changed (data: display_name, color, logo).";
}

/// What an event is about: a kind (`organization`, `domain`, …) and an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The kind of object.
    pub kind: &'static str,
    /// Its id (or natural key, such as a domain name).
    pub id: String,
}

impl Target {
    /// A target of `kind` identified by `id`.
    pub fn new(kind: &'static str, id: impl ToString) -> Self {
        Self {
            kind,
            id: id.to_string(),
        }
    }
}

/// One entry to append to the log.
#[derive(Debug)]
pub(crate) struct Entry<'a> {
    pub actor: &'a Actor,
    pub org: Option<OrgId>,
    pub action: AuditAction,
    pub target: Target,
    pub data: Value,
}

/// Appends `entry` using `db`, which should be the transaction that makes the change.
pub(crate) async fn record(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    entry: Entry<'_>,
) -> Result<()> {
    let event = audit_event::ActiveModel {
        id: Set(AuditEventId::new()),
        org_id: Set(entry.org),
        actor_kind: Set(entry.actor.audit_kind().to_owned()),
        actor_id: Set(entry.actor.audit_id()),
        action: Set(entry.action.as_str().to_owned()),
        target_kind: Set(Some(entry.target.kind.to_owned())),
        target_id: Set(Some(entry.target.id)),
        data: Set(entry.data),
        ip: Set(entry.actor.ip.clone()),
        request_id: Set(entry.actor.request_id.clone()),
        created_at: Set(now),
    };
    audit_event::Entity::insert(event).exec(db).await?;
    Ok(())
}

impl crate::org::OrgAccess {
    /// Records `action` on `target` in this organization, by this caller, using `db` (the
    /// transaction that makes the change).
    pub(crate) async fn audit(
        &self,
        db: &impl ConnectionTrait,
        now: DateTime<Utc>,
        action: AuditAction,
        target: Target,
        data: Value,
    ) -> Result<()> {
        let entry = Entry {
            actor: self.actor(),
            org: Some(self.org_id()),
            action,
            target,
            data,
        };
        record(db, now, entry).await
    }
}

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only events of this organization.
    pub org: Option<OrgId>,
    /// Only this action (`organization.created`).
    pub action: Option<String>,
    /// Only events by this kind of actor (`scim_token`, `setup_link`, …).
    pub actor_kind: Option<String>,
    /// Only events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only events before this time.
    pub until: Option<DateTime<Utc>>,
}

impl Broker {
    /// Lists audit events, newest first. Callers scoped to one org see only that org's events.
    pub async fn list_audit_events(
        &self,
        actor: &Actor,
        mut filter: AuditFilter,
        request: &PageRequest,
    ) -> Result<Page<AuditEvent>> {
        if let crate::actor::Scope::Org(own) = actor.scope {
            match filter.org {
                Some(asked) if asked != own => {
                    return Err(Error::new(
                        ErrorCode::OrganizationNotFound,
                        "no such organization",
                    ));
                }
                _ => filter.org = Some(own),
            }
        }
        if let Some(action) = &filter.action
            && !AuditAction::ALL.iter().any(|a| a.as_str() == action)
        {
            return Err(Error::invalid(
                ErrorCode::InvalidQuery,
                "action",
                format!("action '{action}' is not an audit action"),
            ));
        }
        if let Some(kind) = &filter.actor_kind
            && !Actor::AUDIT_KINDS.contains(&kind.as_str())
        {
            return Err(Error::invalid(
                ErrorCode::InvalidQuery,
                "actor_kind",
                format!(
                    "actor_kind '{kind}' is not one of {}",
                    Actor::AUDIT_KINDS.join(", ")
                ),
            ));
        }
        let mut select = audit_event::Entity::find();
        if let Some(kind) = filter.actor_kind {
            select = select.filter(audit_event::Column::ActorKind.eq(kind));
        }
        if let Some(org) = filter.org {
            select = select.filter(audit_event::Column::OrgId.eq(org));
        }
        if let Some(action) = filter.action {
            select = select.filter(audit_event::Column::Action.eq(action));
        }
        if let Some(since) = filter.since {
            select = select.filter(audit_event::Column::CreatedAt.gte(since));
        }
        if let Some(until) = filter.until {
            select = select.filter(audit_event::Column::CreatedAt.lt(until));
        }
        page::fetch(
            self.db(),
            select,
            audit_event::Column::Id,
            Order::Desc,
            request,
            |e| e.id.as_uuid(),
        )
        .await
    }
}
