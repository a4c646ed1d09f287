//! `/api/v1/organizations/{org}/role-mappings`: the org's claim → role rules, read and replaced
//! whole.

use actix_web::{get, post, put, web};
use broker::federation::rules::{RoleDecision, RoleMapping, Rule, RuleOp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::extract::OrgSetup;
use crate::json::Json;
use crate::server::AppState;

/// How a rule compares; a list claim (such as `groups`) matches when any item does.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleOpBody {
    /// The claim is exactly the value.
    Equals,
    /// The claim's text contains the value.
    Contains,
    /// The whole claim matches the regular expression in value.
    Matches,
    /// The claim equals one of the values (value is a list).
    In,
}

/// One rule: when `claim op value`, grant `role`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    /// Dotted path into the claims or attributes, e.g. `groups`.
    #[schema(example = "groups")]
    pub claim: String,
    /// The comparison.
    pub op: RuleOpBody,
    /// A string, number or boolean; a list for `in`.
    #[schema(value_type = Object, example = "Admins")]
    pub value: Value,
    /// The role granted.
    #[schema(example = "admin")]
    pub role: String,
}

/// An organization's role mapping.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleMappingBody {
    /// Evaluated in order; every matching rule grants its role.
    pub rules: Vec<RuleBody>,
    /// Granted when no rule matches (unless `deny_unmatched`).
    #[serde(default)]
    pub default_role: Option<String>,
    /// Refuse sign-in when no rule matches.
    #[serde(default)]
    pub deny_unmatched: bool,
}

fn op_from(op: RuleOpBody) -> RuleOp {
    match op {
        RuleOpBody::Equals => RuleOp::Equals,
        RuleOpBody::Contains => RuleOp::Contains,
        RuleOpBody::Matches => RuleOp::Matches,
        RuleOpBody::In => RuleOp::In,
    }
}

fn op_to(op: RuleOp) -> RuleOpBody {
    match op {
        RuleOp::Equals => RuleOpBody::Equals,
        RuleOp::Contains => RuleOpBody::Contains,
        RuleOp::Matches => RuleOpBody::Matches,
        RuleOp::In => RuleOpBody::In,
    }
}

impl From<RoleMapping> for RoleMappingBody {
    fn from(m: RoleMapping) -> Self {
        Self {
            rules: m
                .rules
                .into_iter()
                .map(|r| RuleBody {
                    claim: r.claim,
                    op: op_to(r.op),
                    value: r.value,
                    role: r.role,
                })
                .collect(),
            default_role: m.default_role,
            deny_unmatched: m.deny_unmatched,
        }
    }
}

impl From<RoleMappingBody> for RoleMapping {
    fn from(b: RoleMappingBody) -> Self {
        Self {
            rules: b
                .rules
                .into_iter()
                .map(|r| Rule {
                    claim: r.claim,
                    op: op_from(r.op),
                    value: r.value,
                    role: r.role,
                })
                .collect(),
            default_role: b.default_role,
            deny_unmatched: b.deny_unmatched,
        }
    }
}

/// Reads the organization's role mapping (empty rules when never set).
#[utoipa::path(
    tag = "role-mappings",
    params(("org" = String, Path, description = "Organization id or slug")),
    responses((status = 200, body = RoleMappingBody), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[get("/organizations/{org}/role-mappings")]
pub async fn get_role_mappings(
    state: web::Data<AppState>,
    access: OrgSetup,
) -> Result<web::Json<RoleMappingBody>, ApiError> {
    let mapping = state.broker.get_role_mapping(&access).await?;
    Ok(web::Json(mapping.into()))
}

/// Replaces the organization's role mapping. Roles are recomputed at each member's next SSO
/// sign-in.
#[utoipa::path(
    tag = "role-mappings",
    params(("org" = String, Path, description = "Organization id or slug")),
    request_body = RoleMappingBody,
    responses(
        (status = 200, body = RoleMappingBody),
        (status = 400, body = ErrorBody, description = "invalid_role_mapping, invalid_role (field names the rule: rules[2].value)"),
        (status = 404, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[put("/organizations/{org}/role-mappings")]
pub async fn put_role_mappings(
    state: web::Data<AppState>,
    access: OrgSetup,
    body: Json<RoleMappingBody>,
) -> Result<web::Json<RoleMappingBody>, ApiError> {
    let mapping = state
        .broker
        .put_role_mapping(&access, body.0.into())
        .await?;
    Ok(web::Json(mapping.into()))
}

/// Rules to try against claims, such as a test login's.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRoleMappings {
    /// The rules to try (not saved).
    pub mapping: RoleMappingBody,
    /// The claims to try them on (a JSON object, such as a test login's `claims`).
    #[schema(value_type = Object)]
    pub claims: Value,
}

/// What the rules decide for the claims.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleMappingPreview {
    /// `roles` (sign-in with `roles`) or `denied` (no rule matched and unmatched users are
    /// refused).
    #[schema(example = "roles")]
    pub decision: &'static str,
    /// The roles granted (empty when denied).
    pub roles: Vec<String>,
    /// Indexes of the rules that matched.
    pub matched_rules: Vec<usize>,
}

/// Tries rules on a set of claims without saving them: what the console's rule editor shows
/// live against the last test login. Invalid rules fail as they would on save.
#[utoipa::path(
    tag = "role-mappings",
    params(("org" = String, Path, description = "Organization id or slug")),
    request_body = PreviewRoleMappings,
    responses(
        (status = 200, body = RoleMappingPreview),
        (status = 400, body = ErrorBody, description = "invalid_role_mapping, invalid_role (field: mapping.rules[2].value)"),
        (status = 404, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[post("/organizations/{org}/role-mappings/preview")]
pub async fn preview_role_mappings(
    _access: OrgSetup,
    body: Json<PreviewRoleMappings>,
) -> Result<web::Json<RoleMappingPreview>, ApiError> {
    let body = body.0;
    let preview = RoleMapping::from(body.mapping)
        .preview(&body.claims)
        .map_err(|e| match e.field().map(str::to_owned) {
            // Rule errors name a field of the mapping, which sits under `mapping` here.
            Some(field) if field != "claims" => e.with_field(format!("mapping.{field}")),
            _ => e,
        })?;
    let (decision, roles) = match preview.decision {
        RoleDecision::Roles(roles) => ("roles", roles),
        RoleDecision::Denied => ("denied", Vec::new()),
    };
    Ok(web::Json(RoleMappingPreview {
        decision,
        roles,
        matched_rules: preview.matched,
    }))
}
