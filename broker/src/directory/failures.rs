//! Refused SCIM requests in the audit log: what an org's IdP sent that the directory did not
//! accept, so the org's admins see why provisioning fails without reading server logs.

use std::time::Duration;

use scim::ScimError;
use serde_json::json;

use crate::Broker;
use crate::audit::{self, AuditAction, Entry, Target};
use crate::directory::ScimCaller;
use crate::rate_limit::Limit;

/// Refused requests recorded per SCIM token per minute: an IdP stuck retrying one bad request
/// cannot flood the audit log (the rest still reach the server log).
pub const SCIM_FAILURES_AUDITED_PER_TOKEN: Limit = Limit {
    name: "scim_failures_audited",
    max: 30,
    window: Duration::from_secs(60),
};

/// The longest detail kept in the log (SCIM details quote the client's input).
const MAX_DETAIL_CHARS: usize = 300;

/// A SCIM request the directory refused.
#[derive(Debug)]
pub struct RefusedRequest<'a> {
    /// `POST`, `PATCH`, …
    pub method: &'a str,
    /// The path below the directory's base URL (`/Users/…`), without the query.
    pub path: &'a str,
    /// The SCIM error answered.
    pub error: &'a ScimError,
}

impl Broker {
    /// Records a refused SCIM request as `scim.request_failed` in the caller's org. Lookups
    /// that find nothing (404 on GET) are answers, not failures, and are not recorded. Never
    /// fails: a log that cannot be written is itself logged.
    pub async fn record_scim_failure(&self, caller: &ScimCaller, request: RefusedRequest<'_>) {
        if request.method == "GET" && request.error.status == 404 {
            return;
        }
        if self
            .count_against(
                SCIM_FAILURES_AUDITED_PER_TOKEN,
                &caller.token_id.to_string(),
            )
            .await
            .is_err()
        {
            return;
        }
        let detail: String = request
            .error
            .detail
            .chars()
            .take(MAX_DETAIL_CHARS)
            .collect();
        let entry = Entry {
            actor: &caller.actor,
            org: Some(caller.org_id),
            action: AuditAction::ScimRequestFailed,
            target: Target::new("scim_token", caller.token_id),
            data: json!({
                "method": request.method,
                "path": request.path,
                "status": request.error.status,
                "scim_type": request.error.scim_type,
                "detail": detail,
            }),
        };
        if let Err(e) = audit::record(self.db(), self.now(), entry).await {
            tracing::warn!(error = %e, "could not record a refused SCIM request");
        }
    }
}
