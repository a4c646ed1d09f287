//! `/api/v1/audit-events` and `/api/v1/organizations/{org}/audit-events`: the audit log,
//! newest first, filtered by organization, action and time.

use actix_web::{get, web};
use broker::audit::{AuditEvent, AuditFilter};
use broker::entities::OrgId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::List;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AdminCaller, OrgAdmin};
use crate::query::Query;
use crate::server::AppState;

/// Who did it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditActorView {
    /// `api_key`, `scim_token`, `cli`, `system`, `user`, `setup_link` or `anonymous`.
    pub kind: String,
    /// The API key's, SCIM token's, user's or setup link's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The client IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}

/// What it was done to.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditTargetView {
    /// `organization`, `domain`, `user`, `api_key`, …
    pub kind: String,
    /// The target's id or name.
    pub id: String,
}

/// One entry of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    /// Stable id.
    pub id: Uuid,
    /// The organization concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Uuid>,
    /// What happened, such as `domain.verified`.
    #[schema(example = "organization.created")]
    pub action: String,
    /// Who did it.
    pub actor: AuditActorView,
    /// What it was done to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<AuditTargetView>,
    /// Details (before/after values, counts).
    pub data: serde_json::Value,
    /// The request that did it (matches `X-Request-Id` and the logs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<AuditEvent> for AuditEventView {
    fn from(e: AuditEvent) -> Self {
        Self {
            id: e.id.as_uuid(),
            organization_id: e.org_id.map(|o| o.as_uuid()),
            action: e.action,
            actor: AuditActorView {
                kind: e.actor_kind,
                id: e.actor_id,
                ip: e.ip,
            },
            target: e
                .target_kind
                .zip(e.target_id)
                .map(|(kind, id)| AuditTargetView { kind, id }),
            data: e.data,
            request_id: e.request_id,
            created_at: e.created_at,
        }
    }
}

/// Filters for the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only this organization's events (id). Ignored under `/organizations/{org}`.
    pub organization_id: Option<Uuid>,
    /// Only this action, such as `domain.verified`.
    pub action: Option<String>,
    /// Only events by this kind of actor: `api_key`, `scim_token`, `cli`, `system`, `user`,
    /// `setup_link` or `anonymous`.
    pub actor_kind: Option<String>,
    /// Only events at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Only events before this time (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// Items per page, 1-200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
}

impl AuditQuery {
    fn filter(&self, org: Option<OrgId>) -> AuditFilter {
        AuditFilter {
            org: org.or(self.organization_id.map(OrgId)),
            action: self.action.clone(),
            actor_kind: self.actor_kind.clone(),
            since: self.since,
            until: self.until,
        }
    }

    fn page(&self) -> Result<broker::PageRequest, ApiError> {
        Ok(broker::PageRequest::new(self.limit, self.after.as_deref())?)
    }
}

/// Lists audit events across the organizations the caller can see, newest first.
#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    responses((status = 200, body = List<AuditEventView>), (status = 400, body = ErrorBody)),
    security(("api_key" = []))
)]
#[get("/audit-events")]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    caller: AdminCaller,
    query: Query<AuditQuery>,
) -> Result<web::Json<List<AuditEventView>>, ApiError> {
    let page = state
        .broker
        .list_audit_events(&caller.0, query.filter(None), &query.page()?)
        .await?;
    Ok(web::Json(List::from_page(page, Into::into)))
}

/// Lists one organization's audit events, newest first.
#[utoipa::path(
    tag = "audit",
    params(("org" = String, Path, description = "Organization id or slug"), AuditQuery),
    responses(
        (status = 200, body = List<AuditEventView>),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[get("/organizations/{org}/audit-events")]
pub async fn list_org_audit_events(
    state: web::Data<AppState>,
    access: OrgAdmin,
    query: Query<AuditQuery>,
) -> Result<web::Json<List<AuditEventView>>, ApiError> {
    let filter = query.filter(Some(access.org_id()));
    let page = state
        .broker
        .list_audit_events(access.actor(), filter, &query.page()?)
        .await?;
    Ok(web::Json(List::from_page(page, Into::into)))
}
