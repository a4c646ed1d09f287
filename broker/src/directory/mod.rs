//! The SCIM directory of each organization: the storage behind the `scim` crate's protocol
//! (users, groups, members, indexed values, counts), SCIM tokens, and the effects provisioning
//! has on the rest of Tessera (memberships, roles from groups, revocation on deactivation).

mod cursor;
mod effects;
mod failures;
mod group_sql;
mod groups;
mod sql;
pub mod tokens;
mod users;

use entities::OrgId;
use scim::server::{Change, Load, ResourceStore};
use scim::{ResourceKind, ScimError, ScimType, Stored};
use serde_json::Value;

use crate::Broker;
use crate::actor::Actor;
use crate::error::{Error, ErrorKind};

pub use failures::{RefusedRequest, SCIM_FAILURES_AUDITED_PER_TOKEN};
pub use tokens::{CreatedScimToken, ScimCaller, ScimToken};

/// How the SCIM endpoints behave.
#[derive(Debug, Clone)]
pub struct DirectorySettings {
    /// Requests allowed per SCIM token per minute; 0 turns the limit off.
    pub requests_per_minute: u64,
    /// Most group members one response carries: a read that would carry more is refused
    /// (`tooMany`), a PATCH that would answers 204 No Content.
    pub max_members_returned: u64,
}

impl Default for DirectorySettings {
    /// 6,000 requests a minute: well above what Entra ID's and Okta's provisioning send, low
    /// enough that a leaked token cannot hammer the database. 10,000 members a response (about
    /// 1.5 MB of JSON), the limit Oracle's identity domains put on the same answer.
    fn default() -> Self {
        Self {
            requests_per_minute: 6000,
            max_members_returned: 10_000,
        }
    }
}

impl From<Error> for ScimError {
    fn from(error: Error) -> Self {
        let detail = error.to_string();
        match error.kind() {
            ErrorKind::InvalidInput => ScimError::typed(ScimType::InvalidValue, detail),
            ErrorKind::Unauthenticated => ScimError::new(401, detail),
            ErrorKind::Forbidden => ScimError::new(403, detail),
            ErrorKind::NotFound => ScimError::new(404, detail),
            ErrorKind::Conflict => ScimError::typed(ScimType::Uniqueness, detail),
            ErrorKind::RateLimited => ScimError::new(429, detail),
            ErrorKind::Unavailable => {
                tracing::warn!(error = %error, "SCIM request failed: dependency unavailable");
                ScimError::new(503, "a dependency is unavailable; retry later")
            }
            _ => {
                tracing::error!(error = %error, "SCIM request failed");
                ScimError::new(500, "internal error")
            }
        }
    }
}

/// A database failure as a SCIM error (logged, answered as a generic 500 or 503).
fn db_err(error: sea_orm::DbErr) -> ScimError {
    Error::from(error).into()
}

/// One organization's directory, as the SCIM protocol sees it.
#[derive(Debug)]
pub struct Directory<'a> {
    broker: &'a Broker,
    org: OrgId,
    actor: Actor,
}

impl Broker {
    /// The directory a SCIM caller's token opens.
    pub fn directory(&self, caller: &ScimCaller) -> Directory<'_> {
        Directory {
            broker: self,
            org: caller.org_id,
            actor: caller.actor.clone(),
        }
    }
}

fn parse_id<T: std::str::FromStr>(id: &str) -> Option<T> {
    id.parse().ok()
}

impl ResourceStore for Directory<'_> {
    async fn insert(&self, kind: ResourceKind, doc: Value) -> Result<Stored, ScimError> {
        match kind {
            ResourceKind::User => self.insert_user(doc).await,
            ResourceKind::Group => self.insert_group(doc).await,
        }
    }

    async fn fetch(
        &self,
        kind: ResourceKind,
        id: &str,
        load: Load,
    ) -> Result<Option<Stored>, ScimError> {
        match (kind, parse_id(id)) {
            (_, None) => Ok(None),
            (ResourceKind::User, Some(id)) => self.fetch_user(id, load).await,
            (ResourceKind::Group, Some(id)) => self.fetch_group(id, load).await,
        }
    }

    async fn update(
        &self,
        kind: ResourceKind,
        id: &str,
        expected: Option<i64>,
        change: Change,
    ) -> Result<Stored, ScimError> {
        let missing = || scim::server::not_found(kind, id);
        let uuid = parse_id::<uuid::Uuid>(id).ok_or_else(missing)?;
        match (kind, change) {
            (ResourceKind::User, Change::Document { doc, .. }) => {
                self.update_user(uuid.into(), expected, doc).await
            }
            (ResourceKind::User, Change::Members(_)) => Err(ScimError::typed(
                ScimType::NoTarget,
                "users have no members",
            )),
            (ResourceKind::Group, change) => self.update_group(uuid, expected, change).await,
        }
    }

    async fn delete(
        &self,
        kind: ResourceKind,
        id: &str,
        expected: Option<i64>,
    ) -> Result<(), ScimError> {
        let missing = || scim::server::not_found(kind, id);
        let uuid = parse_id::<uuid::Uuid>(id).ok_or_else(missing)?;
        match kind {
            ResourceKind::User => self.delete_user(uuid.into(), expected).await,
            ResourceKind::Group => self.delete_group(uuid, expected).await,
        }
    }

    async fn query(
        &self,
        kind: ResourceKind,
        query: &scim::query::ListQuery,
        load: Load,
    ) -> Result<(u64, Vec<Stored>), ScimError> {
        match kind {
            ResourceKind::User => self.query_users(query, load).await,
            ResourceKind::Group => self.query_groups(query, load).await,
        }
    }
}
