//! The `audit_events` table: the audit log. No foreign keys: history outlives what it describes.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::{AuditEventId, OrgId};

/// One audited action.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    /// Primary key; UUIDv7, so it orders events and serves as a keyset cursor.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: AuditEventId,
    /// The org the event belongs to; `None` for instance-level events. Not a foreign key.
    pub org_id: Option<OrgId>,
    /// What kind of actor acted (`user`, `api_key`, `scim_token`, `system`, …).
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub actor_kind: String,
    /// The actor's id, if any.
    pub actor_id: Option<String>,
    /// What happened, e.g. `connection.activated`.
    pub action: String,
    /// What kind of object was acted on, if any.
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub target_kind: Option<String>,
    /// The object's id, if any.
    pub target_id: Option<String>,
    /// Event details, opaque JSON.
    #[sea_orm(column_type = "JsonBinary")]
    pub data: Json,
    /// The client IP address, if the action came over HTTP.
    pub ip: Option<String>,
    /// The HTTP request id, for correlation with logs.
    pub request_id: Option<String>,
    /// When it happened.
    pub created_at: DateTimeUtc,
}

/// `audit_events` has no foreign keys.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
