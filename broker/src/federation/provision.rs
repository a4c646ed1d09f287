//! Just-in-time provisioning, shared by every protocol: an upstream profile becomes a Tessera
//! user (found by the identity's (connection, subject), never by email alone), linked by email
//! only when the organization verified the domain and the IdP verified the address, with a
//! membership whose roles the org's rules recompute at every sign-in. Planning reads only, so
//! a dry-run test login shows exactly what a real sign-in would do.

use entities::identity;
use entities::membership::{self, MembershipSource, MembershipStatus};
use entities::user::{self, UserStatus};
use entities::{IdentityId, MembershipId, OrgId, UserId};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Broker;
use crate::actor::Actor;
use crate::audit::{self, AuditAction, Entry, Target};
use crate::domain::org_owns_email;
use crate::error::{Error, ErrorCode, Result, is_unique_violation};
use crate::federation::Connection;
use crate::federation::rules::RoleDecision;
use crate::user::{self as users, User};

/// Who the IdP says signed in, in protocol-neutral form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpstreamProfile {
    /// The IdP's stable subject (OIDC `sub`, SAML NameID).
    pub subject: String,
    /// The email address (normalized), when the IdP sent a valid one.
    pub email: Option<String>,
    /// Whether the IdP vouches for the email address.
    pub email_verified: bool,
    /// Display name.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Every claim or attribute received (what role rules look at).
    pub claims: Value,
    /// RFC 8176 methods the IdP reported (`amr`), if any.
    pub amr: Vec<String>,
}

/// What sign-in will do with the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountAction {
    /// The identity is known: sign its user in.
    SignIn,
    /// Link the identity to the existing user with the same (verified) email.
    LinkByEmail,
    /// Create a user and link the identity.
    Create,
    /// Social sign-in found an account with the same verified email: the user confirms by
    /// signing in to that account once, then the identity is linked.
    ConfirmLink,
}

/// The outcome of planning, before anything is written.
#[derive(Debug, Clone)]
pub struct ProvisionPlan {
    /// What happens to the account.
    pub action: AccountAction,
    /// The existing user, unless one will be created.
    pub user: Option<User>,
    /// The roles the org's rules grant (`None`: the org has no rules; roles stay as they are).
    pub roles: Option<Vec<String>>,
}

fn text(claims: &Value, name: &str) -> Option<String> {
    crate::federation::rules::claim_at(claims, name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(256).collect())
}

/// `true`, `"true"` (some IdPs send strings) count as verified.
pub(crate) fn truthy(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Profile fields from claims, with the claim names a connection configured.
pub(crate) fn profile_from_claims(
    subject: String,
    claims: Value,
    names: &crate::federation::oidc::settings::ClaimNames,
    amr: Vec<String>,
) -> UpstreamProfile {
    let email =
        text(&claims, &names.email).and_then(|raw| crate::validate::email("email", &raw).ok());
    UpstreamProfile {
        subject,
        email_verified: truthy(claims.get("email_verified")),
        email,
        name: text(&claims, &names.name),
        given_name: text(&claims, &names.given_name),
        family_name: text(&claims, &names.family_name),
        claims,
        amr,
    }
}

async fn identity_of(
    db: &impl ConnectionTrait,
    connection: &Connection,
    subject: &str,
) -> Result<Option<identity::Model>> {
    Ok(identity::Entity::find()
        .filter(identity::Column::ConnectionId.eq(connection.id))
        .filter(identity::Column::Subject.eq(subject))
        .one(db)
        .await?)
}

async fn membership_of(
    db: &impl ConnectionTrait,
    org: OrgId,
    user: UserId,
) -> Result<Option<membership::Model>> {
    Ok(membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org))
        .filter(membership::Column::UserId.eq(user))
        .one(db)
        .await?)
}

/// Tessera's own roles (`tessera:admin`, the console's) that an admin gave by hand survive
/// the rules' recomputation, unless the rules manage them (a rule or the default grants that
/// role): then the IdP decides, and removing someone from the group takes the role away.
fn keep_console_roles(
    granted: &mut Vec<String>,
    existing: &membership::Model,
    mapping: &crate::federation::rules::RoleMapping,
) {
    let managed = mapping.granted_roles();
    let before: Vec<String> = serde_json::from_value(existing.roles.clone()).unwrap_or_default();
    for role in before {
        if role.starts_with("tessera:") && !managed.contains(&role) && !granted.contains(&role) {
            granted.push(role);
        }
    }
}

impl Broker {
    /// Decides, without writing, what signing in `profile` through `connection` does.
    pub(crate) async fn plan_provisioning(
        &self,
        connection: &Connection,
        profile: &UpstreamProfile,
    ) -> Result<ProvisionPlan> {
        let mapping = match connection.org_id {
            Some(org) => self.role_mapping_of(org).await?,
            None => None,
        };
        let roles = match mapping.as_ref().map(|m| m.decide(&profile.claims)) {
            Some(RoleDecision::Roles(roles)) => Some(roles),
            Some(RoleDecision::Denied) => {
                return Err(Error::new(
                    ErrorCode::RoleMappingDenied,
                    "your account has no role in this organization: no role rule matched, and the organization admits only users a rule matches",
                ));
            }
            None => None,
        };
        let (action, user) =
            if let Some(linked) = identity_of(self.db(), connection, &profile.subject).await? {
                let user = users::find(self.db(), linked.user_id)
                    .await?
                    .ok_or_else(|| Error::internal("identity without user"))?;
                (AccountAction::SignIn, Some(user))
            } else if let Some(email) = &profile.email
                && let Some(existing) = users::find_by_email(self.db(), email).await?
            {
                let action = self.check_email_link(connection, profile, email).await?;
                (action, Some(existing))
            } else {
                (AccountAction::Create, None)
            };
        let mut roles = roles;
        if let (Some(org), Some(user)) = (connection.org_id, &user)
            && let Some(existing) = membership_of(self.db(), org, user.id).await?
        {
            if existing.status != MembershipStatus::Active {
                return Err(Error::new(
                    ErrorCode::MembershipInactive,
                    "your membership in this organization is suspended; ask its administrator",
                ));
            }
            if let (Some(granted), Some(mapping)) = (roles.as_mut(), &mapping) {
                keep_console_roles(granted, &existing, mapping);
            }
        }
        Ok(ProvisionPlan {
            action,
            user,
            roles,
        })
    }

    /// Linking by email needs the IdP's verified address, and for an org connection the org's
    /// verified domain; for instance-level (social) connections the user must also confirm by
    /// signing in to the account once.
    async fn check_email_link(
        &self,
        connection: &Connection,
        profile: &UpstreamProfile,
        email: &str,
    ) -> Result<AccountAction> {
        let refused = |why: &str| {
            Error::new(
                ErrorCode::IdentityLinkRefused,
                format!("an account with {email} already exists; {why}"),
            )
        };
        match connection.org_id {
            Some(org) => {
                if !org_owns_email(self.db(), org, email).await? {
                    return Err(refused(
                        "it cannot be joined to this sign-in because the organization has not verified the email's domain",
                    ));
                }
                if !profile.email_verified {
                    return Err(refused(
                        "it cannot be joined to this sign-in because the identity provider does not say the email is verified",
                    ));
                }
                Ok(AccountAction::LinkByEmail)
            }
            None if profile.email_verified => Ok(AccountAction::ConfirmLink),
            None => Err(refused(
                "sign in to it the way you usually do; this provider does not say the email is verified, so it cannot be connected",
            )),
        }
    }

    /// Writes what `plan` decided and returns the user to sign in.
    pub(crate) async fn apply_provisioning(
        &self,
        connection: &Connection,
        profile: &UpstreamProfile,
        plan: ProvisionPlan,
        actor: &Actor,
    ) -> Result<User> {
        let now = self.now();
        let txn = self.begin_write().await?;
        let user = match (plan.action, plan.user) {
            (AccountAction::SignIn, Some(user)) => {
                identity::Entity::update_many()
                    .col_expr(identity::Column::RawClaims, profile.claims.clone().into())
                    .col_expr(identity::Column::LastLoginAt, now.into())
                    .filter(identity::Column::ConnectionId.eq(connection.id))
                    .filter(identity::Column::Subject.eq(profile.subject.as_str()))
                    .exec(&txn)
                    .await?;
                refresh_names(&txn, user, profile, now).await?
            }
            (AccountAction::LinkByEmail, Some(user)) => {
                self.link_identity(&txn, connection, profile, user.id, "email", actor)
                    .await?;
                refresh_names(&txn, user, profile, now).await?
            }
            (AccountAction::ConfirmLink, _) => {
                return Err(Error::internal(
                    "a link that needs the user's confirmation was applied directly",
                ));
            }
            _ => {
                let email_verified = profile.email_verified
                    && match (connection.org_id, &profile.email) {
                        (Some(org), Some(email)) => org_owns_email(&txn, org, email).await?,
                        (None, Some(_)) => true,
                        _ => false,
                    };
                let created = user::ActiveModel {
                    id: Set(UserId::new()),
                    email: Set(profile.email.clone()),
                    email_verified: Set(email_verified),
                    name: Set(profile.name.clone()),
                    given_name: Set(profile.given_name.clone()),
                    family_name: Set(profile.family_name.clone()),
                    status: Set(UserStatus::Active),
                    created_at: Set(now),
                    updated_at: Set(now),
                    last_login_at: Set(None),
                }
                .insert(&txn)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        Error::new(
                            ErrorCode::IdentityLinkRefused,
                            "an account with this email was created at the same moment; sign in again",
                        )
                    } else {
                        e.into()
                    }
                })?;
                audit::record(
                    &txn,
                    now,
                    Entry {
                        actor,
                        org: None,
                        action: AuditAction::UserCreated,
                        target: Target::new("user", created.id),
                        data: json!({ "source": "sso", "connection": connection.id }),
                    },
                )
                .await?;
                self.link_identity(&txn, connection, profile, created.id, "created", actor)
                    .await?;
                created
            }
        };
        if let Some(org) = connection.org_id {
            sync_membership(&txn, now, org, user.id, plan.roles, actor).await?;
        }
        txn.commit().await?;
        Ok(user)
    }

    pub(crate) async fn link_identity(
        &self,
        db: &impl ConnectionTrait,
        connection: &Connection,
        profile: &UpstreamProfile,
        user: UserId,
        how: &str,
        actor: &Actor,
    ) -> Result<()> {
        let now = self.now();
        identity::ActiveModel {
            id: Set(IdentityId::new()),
            user_id: Set(user),
            org_id: Set(connection.org_id),
            connection_id: Set(connection.id),
            subject: Set(profile.subject.clone()),
            raw_claims: Set(profile.claims.clone()),
            created_at: Set(now),
            last_login_at: Set(Some(now)),
        }
        .insert(db)
        .await?;
        audit::record(
            db,
            now,
            Entry {
                actor,
                org: connection.org_id,
                action: AuditAction::IdentityLinked,
                target: Target::new("user", user),
                data: json!({ "connection": connection.id, "how": how }),
            },
        )
        .await
    }
}

/// Keeps the user's names in step with the IdP (the email stays: it may be another
/// account's, and changing it is the user's business).
async fn refresh_names(
    db: &impl ConnectionTrait,
    user: User,
    profile: &UpstreamProfile,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<User> {
    let changed = (profile.name.is_some() && profile.name != user.name)
        || (profile.given_name.is_some() && profile.given_name != user.given_name)
        || (profile.family_name.is_some() && profile.family_name != user.family_name);
    if !changed {
        return Ok(user);
    }
    let mut model: user::ActiveModel = user.clone().into();
    if profile.name.is_some() {
        model.name = Set(profile.name.clone());
    }
    if profile.given_name.is_some() {
        model.given_name = Set(profile.given_name.clone());
    }
    if profile.family_name.is_some() {
        model.family_name = Set(profile.family_name.clone());
    }
    model.updated_at = Set(now);
    Ok(model.update(db).await?)
}

/// Adds the membership (source `jit`) or refreshes its roles from the rules.
async fn sync_membership(
    db: &impl ConnectionTrait,
    now: chrono::DateTime<chrono::Utc>,
    org: OrgId,
    user: UserId,
    roles: Option<Vec<String>>,
    actor: &Actor,
) -> Result<()> {
    let record = |action, data| {
        audit::record(
            db,
            now,
            Entry {
                actor,
                org: Some(org),
                action,
                target: Target::new("user", user),
                data,
            },
        )
    };
    match membership_of(db, org, user).await? {
        // The org's directory owns the roles of users it provisioned (from their groups).
        Some(existing) if existing.source == MembershipSource::Scim => Ok(()),
        Some(existing) => {
            let Some(roles) = roles else { return Ok(()) };
            let before: Vec<String> =
                serde_json::from_value(existing.roles.clone()).unwrap_or_default();
            if before == roles {
                return Ok(());
            }
            let mut model: membership::ActiveModel = existing.into();
            model.roles = Set(json!(roles));
            model.updated_at = Set(now);
            model.update(db).await?;
            record(
                AuditAction::MembershipUpdated,
                json!({ "before": before, "after": roles, "source": "sso" }),
            )
            .await
        }
        None => {
            let roles = roles.unwrap_or_default();
            membership::ActiveModel {
                id: Set(MembershipId::new()),
                org_id: Set(org),
                user_id: Set(user),
                roles: Set(json!(roles)),
                status: Set(MembershipStatus::Active),
                source: Set(MembershipSource::Jit),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(db)
            .await?;
            record(
                AuditAction::MembershipAdded,
                json!({ "roles": roles, "source": "jit" }),
            )
            .await
        }
    }
}
