//! Claims → roles: an organization's ordered rules (`{claim, op, value, role}`), a default role
//! and "deny when no rule matches". The same rules serve OIDC claims, SAML attributes and SCIM
//! groups: each is a JSON object whose values are strings, numbers, booleans or lists of them.

use entities::role_mapping;
use regex::Regex;
use sea_orm::{ActiveValue::Set, EntityTrait, sea_query::OnConflict};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Broker;
use crate::audit::{AuditAction, Target};
use crate::error::{Error, ErrorCode, Result};
use crate::org::OrgAccess;
use crate::validate;

const MAX_RULES: usize = 200;
const MAX_CLAIM_PATH: usize = 256;
const MAX_PATTERN: usize = 512;
const MAX_VALUES: usize = 500;

/// How a rule compares the claim with its value. A list claim (such as `groups`) matches when
/// any of its items does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleOp {
    /// The claim is exactly the value (text compared case-sensitively).
    Equals,
    /// The claim's text contains the value.
    Contains,
    /// The whole claim text matches the regular expression in value.
    Matches,
    /// The claim equals one of the values in the list.
    In,
}

/// One rule: when `claim` (a dotted path into the claims) satisfies `op value`, grant `role`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Dotted path into the claims, e.g. `groups` or `address.country`.
    pub claim: String,
    /// The comparison.
    pub op: RuleOp,
    /// A string (a list of strings for `in`); numbers and booleans compare as their text.
    pub value: Value,
    /// The role granted.
    pub role: String,
}

/// An organization's role mapping.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RoleMapping {
    /// Evaluated in order; every matching rule grants its role (the order of `roles` in tokens).
    pub rules: Vec<Rule>,
    /// Granted when no rule matches (unless `deny_unmatched`).
    pub default_role: Option<String>,
    /// Refuse sign-in when no rule matches.
    pub deny_unmatched: bool,
}

/// What the rules decided for one set of claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleDecision {
    /// Sign in with these roles (possibly none).
    Roles(Vec<String>),
    /// No rule matched and the org denies unmatched users.
    Denied,
}

fn invalid(field: String, message: impl Into<String>) -> Error {
    Error::invalid(ErrorCode::InvalidRoleMapping, &field, message)
}

impl RoleMapping {
    /// Checks every rule (paths, operators, values, regular expressions, role names).
    pub fn validate(self) -> Result<Self> {
        if self.rules.len() > MAX_RULES {
            return Err(invalid(
                "rules".into(),
                format!("at most {MAX_RULES} rules are allowed"),
            ));
        }
        for (i, rule) in self.rules.iter().enumerate() {
            let at = |f: &str| format!("rules[{i}].{f}");
            if rule.claim.is_empty()
                || rule.claim.len() > MAX_CLAIM_PATH
                || rule.claim.split('.').any(str::is_empty)
            {
                return Err(invalid(
                    at("claim"),
                    "a claim path is one or more names separated by dots, such as groups or address.country",
                ));
            }
            validate::role(&at("role"), &rule.role)?;
            match (rule.op, &rule.value) {
                (RuleOp::In, Value::Array(items)) => {
                    if items.is_empty() || items.len() > MAX_VALUES {
                        return Err(invalid(
                            at("value"),
                            format!("'in' needs a list of 1 to {MAX_VALUES} values"),
                        ));
                    }
                    if let Some(bad) = items.iter().position(|v| scalar_text(v).is_none()) {
                        return Err(invalid(
                            format!("rules[{i}].value[{bad}]"),
                            "list items must be strings, numbers or booleans",
                        ));
                    }
                }
                (RuleOp::In, _) => {
                    return Err(invalid(at("value"), "'in' needs a list of values"));
                }
                (RuleOp::Matches, Value::String(pattern)) => {
                    compile(pattern).map_err(|why| invalid(at("value"), why))?;
                }
                (_, value) if scalar_text(value).is_some() => {}
                _ => {
                    return Err(invalid(
                        at("value"),
                        "the value must be a string, number or boolean",
                    ));
                }
            }
        }
        if let Some(role) = &self.default_role {
            validate::role("default_role", role)?;
        }
        Ok(self)
    }

    /// Every role these rules can grant (the rules' and the default).
    pub fn granted_roles(&self) -> Vec<String> {
        self.rules
            .iter()
            .map(|r| r.role.clone())
            .chain(self.default_role.clone())
            .collect()
    }

    /// Applies the rules to `claims`.
    pub fn decide(&self, claims: &Value) -> RoleDecision {
        let mut roles: Vec<String> = Vec::new();
        for rule in &self.rules {
            if rule_matches(rule, claims) && !roles.contains(&rule.role) {
                roles.push(rule.role.clone());
            }
        }
        if roles.is_empty() {
            if self.deny_unmatched {
                return RoleDecision::Denied;
            }
            roles.extend(self.default_role.clone());
        }
        RoleDecision::Roles(roles)
    }
}

/// What a role mapping would decide for a set of claims, and which rules matched (by index):
/// the admin console's live preview against a test login's claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolePreview {
    /// The decision.
    pub decision: RoleDecision,
    /// Indexes of the rules that matched, in order.
    pub matched: Vec<usize>,
}

impl RoleMapping {
    /// Checks the mapping (errors name the rule's field), then applies it to `claims`, which
    /// must be a JSON object. Nothing is stored.
    pub fn preview(self, claims: &Value) -> Result<RolePreview> {
        if !claims.is_object() {
            return Err(invalid("claims".into(), "claims must be a JSON object"));
        }
        let mapping = self.validate()?;
        let matched = mapping
            .rules
            .iter()
            .enumerate()
            .filter(|(_, rule)| rule_matches(rule, claims))
            .map(|(i, _)| i)
            .collect();
        Ok(RolePreview {
            decision: mapping.decide(claims),
            matched,
        })
    }
}

fn compile(pattern: &str) -> std::result::Result<Regex, String> {
    if pattern.len() > MAX_PATTERN {
        return Err(format!("a pattern may be at most {MAX_PATTERN} characters"));
    }
    // Anchored: the whole claim must match. The regex crate runs in linear time, so a pattern
    // cannot stall sign-in.
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("not a valid regular expression: {e}"))
}

/// Strings as they are, numbers and booleans as their JSON text.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl RoleMapping {
    /// Whether renaming a group from `old` to `new` leaves every member's roles as they were:
    /// each rule on `groups` treats the two names alike (a rule matches when any group does,
    /// and other rules never see group names).
    pub(crate) fn renaming_keeps_roles(&self, old: &str, new: &str) -> bool {
        let with = |name: &str| serde_json::json!({ "groups": [name] });
        let (before, after) = (with(old), with(new));
        self.rules
            .iter()
            .filter(|rule| rule.claim == "groups")
            .all(|rule| rule_matches(rule, &before) == rule_matches(rule, &after))
    }
}

/// The claim at a dotted path (`address.country`); a key containing dots (common in SAML
/// attribute names and URIs) is tried whole first.
pub fn claim_at<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(direct) = claims.get(path) {
        return Some(direct);
    }
    path.split('.').try_fold(claims, |node, key| node.get(key))
}

fn rule_matches(rule: &Rule, claims: &Value) -> bool {
    let Some(found) = claim_at(claims, &rule.claim) else {
        return false;
    };
    let candidates: Vec<String> = match found {
        Value::Array(items) => items.iter().filter_map(scalar_text).collect(),
        other => scalar_text(other).into_iter().collect(),
    };
    let wanted = scalar_text(&rule.value);
    match rule.op {
        RuleOp::Equals => candidates.iter().any(|c| Some(c) == wanted.as_ref()),
        RuleOp::Contains => wanted
            .as_deref()
            .is_some_and(|w| candidates.iter().any(|c| c.contains(w))),
        RuleOp::Matches => match wanted.as_deref().map(compile) {
            Some(Ok(re)) => candidates.iter().any(|c| re.is_match(c)),
            _ => false,
        },
        RuleOp::In => {
            let options: Vec<String> = rule
                .value
                .as_array()
                .map(|items| items.iter().filter_map(scalar_text).collect())
                .unwrap_or_default();
            candidates.iter().any(|c| options.contains(c))
        }
    }
}

pub(crate) fn from_row(row: role_mapping::Model) -> RoleMapping {
    RoleMapping {
        rules: serde_json::from_value(row.rules).unwrap_or_default(),
        default_role: row.default_role,
        deny_unmatched: row.deny_unmatched,
    }
}

/// The organization's role mapping, if one was ever set, read through `db` (a transaction).
pub(crate) async fn role_mapping_in(
    db: &impl sea_orm::ConnectionTrait,
    org: entities::OrgId,
) -> Result<Option<RoleMapping>> {
    Ok(role_mapping::Entity::find_by_id(org)
        .one(db)
        .await?
        .map(from_row))
}

impl Broker {
    /// The organization's role mapping, if one was ever set.
    pub(crate) async fn role_mapping_of(
        &self,
        org: entities::OrgId,
    ) -> Result<Option<RoleMapping>> {
        Ok(role_mapping::Entity::find_by_id(org)
            .one(self.db())
            .await?
            .map(from_row))
    }

    /// The organization's role mapping (empty when never set).
    pub async fn get_role_mapping(&self, access: &OrgAccess) -> Result<RoleMapping> {
        Ok(self
            .role_mapping_of(access.org_id())
            .await?
            .unwrap_or_default())
    }

    /// Replaces the organization's role mapping.
    pub async fn put_role_mapping(
        &self,
        access: &OrgAccess,
        mapping: RoleMapping,
    ) -> Result<RoleMapping> {
        let mapping = mapping.validate()?;
        let now = self.now();
        let txn = self.begin_write().await?;
        role_mapping::Entity::insert(role_mapping::ActiveModel {
            org_id: Set(access.org_id()),
            rules: Set(json!(mapping.rules)),
            default_role: Set(mapping.default_role.clone()),
            deny_unmatched: Set(mapping.deny_unmatched),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(role_mapping::Column::OrgId)
                .update_columns([
                    role_mapping::Column::Rules,
                    role_mapping::Column::DefaultRole,
                    role_mapping::Column::DenyUnmatched,
                    role_mapping::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        access
            .audit(
                &txn,
                now,
                AuditAction::RoleMappingUpdated,
                Target::new("organization", access.org_id()),
                json!({ "rules": mapping.rules.len(), "default_role": mapping.default_role, "deny_unmatched": mapping.deny_unmatched }),
            )
            .await?;
        txn.commit().await?;
        Ok(mapping)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(claim: &str, op: RuleOp, value: Value, role: &str) -> Rule {
        Rule {
            claim: claim.into(),
            op,
            value,
            role: role.into(),
        }
    }

    fn mapping(rules: Vec<Rule>) -> RoleMapping {
        RoleMapping {
            rules,
            default_role: Some("member".into()),
            deny_unmatched: false,
        }
        .validate()
        .unwrap()
    }

    #[test]
    fn renaming_a_group_keeps_roles_only_when_every_groups_rule_sees_both_names_alike() {
        let m = mapping(vec![
            rule("groups", RuleOp::Equals, json!("Engineering"), "engineer"),
            rule("groups", RuleOp::Matches, json!("team-.*"), "team"),
            rule("department", RuleOp::Equals, json!("Sales"), "sales"),
        ]);
        assert!(m.renaming_keeps_roles("Sales", "Marketing"));
        assert!(m.renaming_keeps_roles("team-a", "team-b"));
        assert!(!m.renaming_keeps_roles("Engineering", "Platform"));
        assert!(!m.renaming_keeps_roles("Platform", "Engineering"));
        assert!(!m.renaming_keeps_roles("team-a", "other"));
    }

    #[test]
    fn every_matching_rule_grants_its_role_in_order() {
        let m = mapping(vec![
            rule("groups", RuleOp::Equals, json!("Admins"), "admin"),
            rule("email", RuleOp::Matches, json!(r".*@acme\.test"), "staff"),
            rule("dept.name", RuleOp::In, json!(["eng", "ops"]), "engineer"),
            rule("title", RuleOp::Contains, json!("Lead"), "lead"),
        ]);
        let claims = json!({
            "groups": ["Users", "Admins"],
            "email": "ann@acme.test",
            "dept": {"name": "eng"},
            "title": "Team Lead",
        });
        assert_eq!(
            m.decide(&claims),
            RoleDecision::Roles(vec![
                "admin".into(),
                "staff".into(),
                "engineer".into(),
                "lead".into()
            ])
        );
    }

    #[test]
    fn no_match_gives_the_default_or_a_denial() {
        let mut m = mapping(vec![rule(
            "groups",
            RuleOp::Equals,
            json!("Admins"),
            "admin",
        )]);
        let claims = json!({"groups": ["admins"], "email": "x@acme.test"});
        assert_eq!(
            m.decide(&claims),
            RoleDecision::Roles(vec!["member".into()])
        );
        m.deny_unmatched = true;
        assert_eq!(m.decide(&claims), RoleDecision::Denied);
        m.default_role = None;
        m.deny_unmatched = false;
        assert_eq!(m.decide(&claims), RoleDecision::Roles(vec![]));
    }

    #[test]
    fn patterns_match_the_whole_value_and_scalars_compare_as_text() {
        let m = mapping(vec![
            rule("email", RuleOp::Matches, json!("acme"), "partial"),
            rule("level", RuleOp::Equals, json!(3), "three"),
            rule("admin", RuleOp::Equals, json!(true), "flag"),
            rule(
                "http://schemas.example/claims/groups",
                RuleOp::Equals,
                json!("g"),
                "uri",
            ),
        ]);
        let claims = json!({
            "email": "ann@acme.test",
            "level": 3,
            "admin": "true",
            "http://schemas.example/claims/groups": ["g"],
        });
        assert_eq!(
            m.decide(&claims),
            RoleDecision::Roles(vec!["three".into(), "flag".into(), "uri".into()])
        );
    }

    #[test]
    fn bad_rules_name_the_field_at_fault() {
        let cases = [
            (rule("", RuleOp::Equals, json!("x"), "r"), "rules[0].claim"),
            (
                rule("a..b", RuleOp::Equals, json!("x"), "r"),
                "rules[0].claim",
            ),
            (
                rule("g", RuleOp::Matches, json!("(unclosed"), "r"),
                "rules[0].value",
            ),
            (rule("g", RuleOp::In, json!("x"), "r"), "rules[0].value"),
            (
                rule("g", RuleOp::In, json!(["ok", {"no": 1}]), "r"),
                "rules[0].value[1]",
            ),
            (
                rule("g", RuleOp::Equals, json!(["x"]), "r"),
                "rules[0].value",
            ),
            (
                rule("g", RuleOp::Equals, json!("x"), "bad role"),
                "rules[0].role",
            ),
        ];
        for (bad, field) in cases {
            let error = RoleMapping {
                rules: vec![bad],
                ..RoleMapping::default()
            }
            .validate()
            .unwrap_err();
            assert_eq!(error.field(), Some(field));
        }
    }
}
