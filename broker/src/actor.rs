//! Who is acting: the authenticated caller, what it may see, and how it appears in the audit log.

use entities::{ApiKeyId, OrgId, ScimTokenId, SetupLinkId, UserId};

/// How far a caller's authority reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every organization, and instance-wide settings.
    Instance,
    /// One organization only; everything else is invisible (404, not 403).
    Org(OrgId),
}

/// What kind of caller this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// A request authenticated with an API key.
    ApiKey(ApiKeyId),
    /// An org's IdP calling its SCIM endpoint with a SCIM token.
    ScimToken(ScimTokenId),
    /// An operator at the `tessera` command line (instance authority).
    Cli,
    /// Tessera itself (start-up tasks, schedules).
    System,
    /// A person: on their own account at the login or account pages, or as an administrator
    /// signed in to the admin console.
    User(UserId),
    /// Someone holding an organization's setup link (the SSO wizard, without an account).
    SetupLink(SetupLinkId),
    /// Someone not (yet) signed in, at the login pages.
    Anonymous,
}

/// The caller of a broker operation: authority for checks, identity for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Who.
    pub kind: ActorKind,
    /// How far their authority reaches.
    pub scope: Scope,
    /// The client's IP address, when the action came over the network.
    pub ip: Option<String>,
    /// The request id, to join audit events with logs.
    pub request_id: Option<String>,
}

impl Actor {
    /// An operator at the command line.
    pub fn cli() -> Self {
        Self {
            kind: ActorKind::Cli,
            scope: Scope::Instance,
            ip: None,
            request_id: None,
        }
    }

    /// Tessera itself.
    pub fn system() -> Self {
        Self {
            kind: ActorKind::System,
            scope: Scope::Instance,
            ip: None,
            request_id: None,
        }
    }

    /// A person at the login or account pages: no admin authority at all (an org scope that
    /// matches no organization), identified in the audit log by their user id when known.
    pub fn end_user(user: Option<UserId>, ip: Option<String>, request_id: Option<String>) -> Self {
        Self {
            kind: user.map_or(ActorKind::Anonymous, ActorKind::User),
            scope: Scope::Org(OrgId(uuid::Uuid::nil())),
            ip,
            request_id,
        }
    }

    /// Whether the caller has instance-wide authority.
    pub fn is_instance_admin(&self) -> bool {
        self.scope == Scope::Instance
    }

    /// Whether the caller may see (and act within) `org`.
    pub fn can_access(&self, org: OrgId) -> bool {
        match self.scope {
            Scope::Instance => true,
            Scope::Org(own) => own == org,
        }
    }

    /// Every kind of actor as recorded in audit events (the audit log's `actor_kind` filter).
    pub const AUDIT_KINDS: &'static [&'static str] = &[
        "api_key",
        "scim_token",
        "cli",
        "system",
        "user",
        "setup_link",
        "anonymous",
    ];

    /// The actor's kind as recorded in audit events.
    pub(crate) fn audit_kind(&self) -> &'static str {
        match self.kind {
            ActorKind::ApiKey(_) => "api_key",
            ActorKind::ScimToken(_) => "scim_token",
            ActorKind::Cli => "cli",
            ActorKind::System => "system",
            ActorKind::User(_) => "user",
            ActorKind::SetupLink(_) => "setup_link",
            ActorKind::Anonymous => "anonymous",
        }
    }

    /// The actor's id as recorded in audit events.
    pub(crate) fn audit_id(&self) -> Option<String> {
        match self.kind {
            ActorKind::ApiKey(id) => Some(id.to_string()),
            ActorKind::ScimToken(id) => Some(id.to_string()),
            ActorKind::User(id) => Some(id.to_string()),
            ActorKind::SetupLink(id) => Some(id.to_string()),
            ActorKind::Cli | ActorKind::System | ActorKind::Anonymous => None,
        }
    }
}
