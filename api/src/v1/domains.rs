//! `/api/v1/organizations/{org}/domains`: claim a domain, show the TXT record that proves it,
//! verify it, remove it.

use actix_web::{HttpResponse, delete, get, post, web};
use broker::domain::{Domain, txt_record, verification_method_name};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Created, List, ListQuery};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{OrgAdmin, OrgSetup};
use crate::json::{Json, OptionalJson};
use crate::query::Query;
use crate::server::AppState;

/// The DNS record to publish to prove control of a domain.
#[derive(Debug, Serialize, ToSchema)]
pub struct TxtRecordView {
    /// Record type; always `TXT`.
    #[schema(example = "TXT")]
    pub r#type: &'static str,
    /// Record name.
    #[schema(example = "_tessera-challenge.acme.com")]
    pub name: String,
    /// Record value.
    #[schema(example = "tessera-domain-verification=6Dq0…")]
    pub value: String,
}

/// A domain claimed by an organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct DomainView {
    /// Stable id.
    pub id: Uuid,
    /// The domain, lower-case ASCII (internationalized names in punycode).
    #[schema(example = "acme.com")]
    pub domain: String,
    /// Whether ownership has been proven.
    pub verified: bool,
    /// How it was verified: `dns_txt` or `manual`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_method: Option<String>,
    /// When it was verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<DateTime<Utc>>,
    /// The record that proves ownership.
    pub txt_record: TxtRecordView,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

impl From<Domain> for DomainView {
    fn from(d: Domain) -> Self {
        let record = txt_record(&d);
        Self {
            id: d.id.as_uuid(),
            verification_method: verification_method_name(&d),
            domain: d.domain,
            verified: d.verified,
            verified_at: d.verified_at,
            txt_record: TxtRecordView {
                r#type: "TXT",
                name: record.name,
                value: record.value,
            },
            created_at: d.created_at,
        }
    }
}

/// Claim a domain.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddDomain {
    /// The domain, such as `acme.com`.
    #[schema(example = "acme.com")]
    pub domain: String,
}

/// Options for verification; the body may be omitted.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyDomain {
    /// Mark verified without a DNS check (instance admins only).
    #[serde(default)]
    pub force: bool,
}

/// Claims a domain; publish the returned TXT record, then verify.
#[utoipa::path(
    tag = "domains",
    params(("org" = String, Path, description = "Organization id or slug")),
    request_body = AddDomain,
    responses(
        (status = 201, body = DomainView),
        (status = 400, body = ErrorBody, description = "invalid_domain"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "domain_already_added, domain_owned_by_other_org"),
    ),
    security(("api_key" = []))
)]
#[post("/organizations/{org}/domains")]
pub async fn add_domain(
    state: web::Data<AppState>,
    access: OrgSetup,
    body: Json<AddDomain>,
) -> Result<Created<DomainView>, ApiError> {
    let domain = state.broker.add_domain(&access, &body.0.domain).await?;
    Ok(Created(domain.into()))
}

/// Lists an organization's domains, oldest first.
#[utoipa::path(
    tag = "domains",
    params(("org" = String, Path, description = "Organization id or slug"), ListQuery),
    responses((status = 200, body = List<DomainView>), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[get("/organizations/{org}/domains")]
pub async fn list_domains(
    state: web::Data<AppState>,
    access: OrgSetup,
    query: Query<ListQuery>,
) -> Result<web::Json<List<DomainView>>, ApiError> {
    let page = state.broker.list_domains(&access, &query.page()?).await?;
    Ok(web::Json(List::from_page(page, Into::into)))
}

/// Reads one domain.
#[utoipa::path(
    tag = "domains",
    params(
        ("org" = String, Path, description = "Organization id or slug"),
        ("domain" = String, Path, description = "The domain name"),
    ),
    responses((status = 200, body = DomainView), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[get("/organizations/{org}/domains/{domain}")]
pub async fn get_domain(
    state: web::Data<AppState>,
    access: OrgSetup,
    path: web::Path<(String, String)>,
) -> Result<web::Json<DomainView>, ApiError> {
    let domain = state.broker.get_domain(&access, &path.1).await?;
    Ok(web::Json(domain.into()))
}

/// Verifies a domain by looking up its TXT record; `force` skips DNS (instance admins only).
#[utoipa::path(
    tag = "domains",
    params(
        ("org" = String, Path, description = "Organization id or slug"),
        ("domain" = String, Path, description = "The domain name"),
    ),
    request_body(content = VerifyDomain, description = "Optional"),
    responses(
        (status = 200, body = DomainView),
        (status = 403, body = ErrorBody, description = "instance_admin_required (force)"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "domain_owned_by_other_org"),
        (status = 422, body = ErrorBody, description = "domain_verification_failed"),
        (status = 503, body = ErrorBody, description = "dns_unavailable"),
    ),
    security(("api_key" = []))
)]
#[post("/organizations/{org}/domains/{domain}/verify")]
pub async fn verify_domain(
    state: web::Data<AppState>,
    access: OrgSetup,
    path: web::Path<(String, String)>,
    body: OptionalJson<VerifyDomain>,
) -> Result<web::Json<DomainView>, ApiError> {
    let domain = state
        .broker
        .verify_domain(&access, &path.1, body.0.force)
        .await?;
    Ok(web::Json(domain.into()))
}

/// Removes a domain from the organization.
#[utoipa::path(
    tag = "domains",
    params(
        ("org" = String, Path, description = "Organization id or slug"),
        ("domain" = String, Path, description = "The domain name"),
    ),
    responses((status = 204, description = "Removed"), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[delete("/organizations/{org}/domains/{domain}")]
pub async fn remove_domain(
    state: web::Data<AppState>,
    access: OrgAdmin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    state.broker.remove_domain(&access, &path.1).await?;
    Ok(HttpResponse::NoContent().finish())
}
