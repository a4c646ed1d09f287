//! What provisioning does to the rest of Tessera: the person behind a SCIM User (found by a
//! verified-domain email, or created), their membership (source `scim`, suspended while
//! inactive), roles from the org's rules over the user's attributes and group names, and
//! revocation of sessions, refresh tokens and API keys when the IdP deactivates or deletes them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entities::membership::{self, MembershipSource, MembershipStatus};
use entities::{
    MembershipId, UserId, UserStatus, api_key, refresh_token, scim_group, scim_group_member, user,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect,
};
use serde_json::{Value, json};

use super::Directory;
use crate::domain::org_owns_email;
use crate::error::Result;
use crate::federation::rules::{RoleDecision, RoleMapping, role_mapping_in};
use crate::user::{self as users, User};
use crate::validate;

/// The email that identifies the person: the primary email, else a work email, else the
/// first, else a `userName` that is an address.
pub(super) fn identifying_email(doc: &Value) -> Option<String> {
    let emails: Vec<&Value> = doc
        .get("emails")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let chosen = emails
        .iter()
        .find(|e| e.get("primary") == Some(&Value::Bool(true)))
        .or_else(|| {
            emails
                .iter()
                .find(|e| e.get("type").and_then(Value::as_str) == Some("work"))
        })
        .or_else(|| emails.first())
        .and_then(|e| e.get("value").and_then(Value::as_str))
        .or_else(|| doc.get("userName").and_then(Value::as_str));
    chosen.and_then(|raw| validate::email("email", raw).ok())
}

fn text<'a>(doc: &'a Value, pointer: &str) -> Option<&'a str> {
    doc.pointer(pointer).and_then(Value::as_str)
}

/// The display name, given and family names a SCIM document carries.
fn names(doc: &Value) -> (Option<String>, Option<String>, Option<String>) {
    let given = text(doc, "/name/givenName").map(str::to_owned);
    let family = text(doc, "/name/familyName").map(str::to_owned);
    let display = text(doc, "/displayName")
        .or_else(|| text(doc, "/name/formatted"))
        .map(str::to_owned)
        .or_else(|| match (&given, &family) {
            (Some(g), Some(f)) => Some(format!("{g} {f}")),
            _ => None,
        });
    (display, given, family)
}

impl Directory<'_> {
    /// The Tessera user a new SCIM User stands for. An email in one of the org's verified
    /// domains finds (or creates, verified) the account with that email: the org's IdP is
    /// authoritative for its domains. Any other email is kept in the SCIM resource only and the
    /// account is created without one, so a directory cannot claim addresses it does not own.
    pub(super) async fn person_for(
        &self,
        db: &impl ConnectionTrait,
        doc: &Value,
        now: DateTime<Utc>,
    ) -> Result<User> {
        let (name, given_name, family_name) = names(doc);
        let owned = match identifying_email(doc) {
            Some(email) if org_owns_email(db, self.org, &email).await? => Some(email),
            _ => None,
        };
        if let Some(email) = owned {
            let (person, _) = users::find_or_create_by_email(db, now, &self.actor, &email).await?;
            let mut model: user::ActiveModel = person.into();
            model.email_verified = Set(true);
            model.name = Set(name);
            model.given_name = Set(given_name);
            model.family_name = Set(family_name);
            model.updated_at = Set(now);
            return Ok(model.update(db).await?);
        }
        Ok(user::ActiveModel {
            id: Set(UserId::new()),
            email: Set(None),
            email_verified: Set(false),
            name: Set(name),
            given_name: Set(given_name),
            family_name: Set(family_name),
            status: Set(UserStatus::Active),
            created_at: Set(now),
            updated_at: Set(now),
            last_login_at: Set(None),
        }
        .insert(db)
        .await?)
    }

    /// Keeps the account's names in step with the directory.
    pub(super) async fn refresh_person(
        &self,
        db: &impl ConnectionTrait,
        person: UserId,
        doc: &Value,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (name, given_name, family_name) = names(doc);
        user::Entity::update_many()
            .col_expr(user::Column::Name, Expr::value(name))
            .col_expr(user::Column::GivenName, Expr::value(given_name))
            .col_expr(user::Column::FamilyName, Expr::value(family_name))
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::Id.eq(person))
            .exec(db)
            .await?;
        Ok(())
    }

    /// The names of the org's groups the user belongs to.
    pub(super) async fn group_names(
        &self,
        db: &impl ConnectionTrait,
        person: UserId,
    ) -> Result<Vec<String>> {
        Ok(self
            .group_names_of(db, &[person])
            .await?
            .remove(&person)
            .unwrap_or_default())
    }

    /// The names of the org's groups each of `people` belongs to.
    async fn group_names_of(
        &self,
        db: &impl ConnectionTrait,
        people: &[UserId],
    ) -> Result<HashMap<UserId, Vec<String>>> {
        let rows: Vec<(UserId, String)> = scim_group_member::Entity::find()
            .select_only()
            .column(scim_group_member::Column::UserId)
            .column(scim_group::Column::DisplayName)
            .inner_join(scim_group::Entity)
            .filter(scim_group_member::Column::UserId.is_in(people.to_vec()))
            .filter(scim_group_member::Column::OrgId.eq(self.org))
            .into_tuple()
            .all(db)
            .await?;
        let mut out: HashMap<UserId, Vec<String>> = HashMap::new();
        for (person, name) in rows {
            out.entry(person).or_default().push(name);
        }
        Ok(out)
    }

    /// Roles from the org's rules over the user's attributes plus `groups` (the names of the
    /// user's groups); `None` when the org has no mapping (roles are then left as they are).
    async fn mapped_roles(
        &self,
        db: &impl ConnectionTrait,
        person: UserId,
        doc: &Value,
    ) -> Result<Option<Vec<String>>> {
        let Some(mapping) = role_mapping_in(db, self.org).await? else {
            return Ok(None);
        };
        let mut claims = doc.clone();
        if let Value::Object(map) = &mut claims {
            map.insert(
                "groups".to_owned(),
                json!(self.group_names(db, person).await?),
            );
        }
        Ok(Some(match mapping.decide(&claims) {
            RoleDecision::Roles(roles) => roles,
            RoleDecision::Denied => Vec::new(),
        }))
    }

    /// Creates or updates the user's membership: source `scim`, active or suspended, roles
    /// from the mapping.
    pub(super) async fn sync_membership(
        &self,
        db: &impl ConnectionTrait,
        person: UserId,
        doc: &Value,
        active: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let roles = self.mapped_roles(db, person, doc).await?;
        let status = if active {
            MembershipStatus::Active
        } else {
            MembershipStatus::Suspended
        };
        let existing = membership::Entity::find()
            .filter(membership::Column::OrgId.eq(self.org))
            .filter(membership::Column::UserId.eq(person))
            .one(db)
            .await?;
        match existing {
            Some(current) => {
                let mut model: membership::ActiveModel = current.into();
                model.status = Set(status);
                model.source = Set(MembershipSource::Scim);
                if let Some(roles) = roles {
                    model.roles = Set(json!(roles));
                }
                model.updated_at = Set(now);
                model.update(db).await?;
            }
            None => {
                membership::ActiveModel {
                    id: Set(MembershipId::new()),
                    org_id: Set(self.org),
                    user_id: Set(person),
                    roles: Set(json!(roles.unwrap_or_default())),
                    status: Set(status),
                    source: Set(MembershipSource::Scim),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
                .insert(db)
                .await?;
            }
        }
        Ok(())
    }

    /// Whether renaming a group from `old` to `new` can change its members' roles.
    pub(super) async fn rename_changes_roles(
        &self,
        db: &impl ConnectionTrait,
        old: &str,
        new: &str,
    ) -> Result<bool> {
        Ok(role_mapping_in(db, self.org)
            .await?
            .is_some_and(|mapping| !mapping.renaming_keeps_roles(old, new)))
    }

    /// Recomputes the roles of members whose groups changed, a thousand at a time (renaming
    /// a group of 50,000 can change the roles of all of them).
    pub(super) async fn refresh_roles(
        &self,
        db: &impl ConnectionTrait,
        people: &[UserId],
        now: DateTime<Utc>,
    ) -> Result<()> {
        if people.is_empty() {
            return Ok(());
        }
        let Some(mapping) = role_mapping_in(db, self.org).await? else {
            return Ok(());
        };
        for chunk in people.chunks(1000) {
            self.refresh_chunk(db, &mapping, chunk, now).await?;
        }
        Ok(())
    }

    /// Four reads, then one update per distinct new set of roles; members whose roles stay
    /// the same are not written.
    async fn refresh_chunk(
        &self,
        db: &impl ConnectionTrait,
        mapping: &RoleMapping,
        people: &[UserId],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let docs: Vec<(UserId, Value)> = entities::scim_user::Entity::find()
            .select_only()
            .column(entities::scim_user::Column::UserId)
            .column(entities::scim_user::Column::Doc)
            .filter(entities::scim_user::Column::OrgId.eq(self.org))
            .filter(entities::scim_user::Column::UserId.is_in(people.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        let mut groups = self.group_names_of(db, people).await?;
        let current: HashMap<UserId, Value> = membership::Entity::find()
            .select_only()
            .column(membership::Column::UserId)
            .column(membership::Column::Roles)
            .filter(membership::Column::OrgId.eq(self.org))
            .filter(membership::Column::UserId.is_in(people.to_vec()))
            .into_tuple::<(UserId, Value)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let mut changed: HashMap<Vec<String>, Vec<UserId>> = HashMap::new();
        for (person, mut claims) in docs {
            if let Value::Object(map) = &mut claims {
                let names = groups.remove(&person).unwrap_or_default();
                map.insert("groups".to_owned(), json!(names));
            }
            let roles = match mapping.decide(&claims) {
                RoleDecision::Roles(roles) => roles,
                RoleDecision::Denied => Vec::new(),
            };
            if current.get(&person) != Some(&json!(roles)) {
                changed.entry(roles).or_default().push(person);
            }
        }
        for (roles, members) in changed {
            membership::Entity::update_many()
                .col_expr(membership::Column::Roles, Expr::value(json!(roles)))
                .col_expr(membership::Column::UpdatedAt, Expr::value(now))
                .filter(membership::Column::OrgId.eq(self.org))
                .filter(membership::Column::UserId.is_in(members))
                .exec(db)
                .await?;
        }
        Ok(())
    }

    /// Signs the user out everywhere (with back-channel notices to apps), revokes the refresh
    /// tokens and access-token grants issued for this org, and the user's API keys in it.
    pub(super) async fn revoke_access(&self, person: UserId) -> Result<()> {
        let broker = self.broker;
        for session in broker.sessions_of(person).await? {
            broker.sign_out(&session).await?;
        }
        let families: Vec<entities::TokenFamilyId> = refresh_token::Entity::find()
            .select_only()
            .column(refresh_token::Column::FamilyId)
            .distinct()
            .filter(refresh_token::Column::UserId.eq(person))
            .filter(refresh_token::Column::OrgId.eq(self.org))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .into_tuple()
            .all(broker.db())
            .await?;
        for family in families {
            broker.revoke_grant(family).await?;
        }
        api_key::Entity::update_many()
            .col_expr(api_key::Column::RevokedAt, Expr::value(broker.now()))
            .filter(api_key::Column::OrgId.eq(self.org))
            .filter(api_key::Column::UserId.eq(person))
            .filter(api_key::Column::RevokedAt.is_null())
            .exec(broker.db())
            .await?;
        Ok(())
    }
}
