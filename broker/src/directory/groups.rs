//! SCIM Groups: rows in `scim_groups` with members in `scim_group_members`. Member changes are
//! row inserts and deletes under the group's version bump, which locks the group row until
//! commit: two clients patching one group queue instead of overwriting each other's members.

use std::collections::{HashMap, HashSet};

use entities::{ScimGroupId, UserId, scim_count, scim_group, scim_group_member, scim_user};
use scim::patch::MemberDelta;
use scim::query::ListQuery;
use scim::resource::{ResourceKind, Stored};
use scim::server::{Change, Load, not_found, version_mismatch};
use scim::{ScimError, ScimType};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QuerySelect,
};
use serde_json::{Value, json};

use super::Directory;
use super::cursor::{Listing, Sort};
use super::db_err;
use super::group_sql::GroupSql;
use super::users::bump_count;
use crate::audit::{self, AuditAction, Entry, Target};

fn display_name_of(doc: &Value) -> Result<String, ScimError> {
    doc.get("displayName")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ScimError::typed(ScimType::InvalidValue, "displayName: is required"))
}

/// The member ids a document lists; nested groups are refused.
fn member_ids(doc: &Value) -> Result<Vec<String>, ScimError> {
    let Some(Value::Array(members)) = doc.get("members") else {
        return Ok(Vec::new());
    };
    members
        .iter()
        .map(|m| {
            if m.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case("group"))
            {
                return Err(ScimError::typed(
                    ScimType::InvalidValue,
                    "members: nested groups are not supported; add users only",
                ));
            }
            m.get("value")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    ScimError::typed(ScimType::InvalidValue, "members: each member needs a value")
                })
        })
        .collect()
}

fn member_value(user: impl std::fmt::Display) -> Value {
    json!({ "value": user.to_string(), "type": "User" })
}

/// The members a written document names, as stored (each once).
fn members_named(doc: &Value) -> Result<Vec<Value>, ScimError> {
    let mut seen = HashSet::new();
    Ok(member_ids(doc)?
        .into_iter()
        .filter(|id| seen.insert(id.clone()))
        .map(member_value)
        .collect())
}

fn too_many_members(limit: u64) -> ScimError {
    ScimError::typed(
        ScimType::TooMany,
        format!(
            "the answer would carry more than {limit} group members: ask with \
             excludedAttributes=members, and page through a group's members with \
             GET /Users?filter=groups.value eq \"<group id>\""
        ),
    )
}

fn stored(row: scim_group::Model, members: Option<Vec<Value>>) -> Stored {
    let mut doc = json!({ "displayName": row.display_name });
    if let Some(external) = row.external_id {
        doc["externalId"] = Value::String(external);
    }
    if let Some(members) = members.filter(|m| !m.is_empty()) {
        doc["members"] = Value::Array(members);
    }
    Stored {
        id: row.id.to_string(),
        doc,
        created: row.created_at,
        last_modified: row.updated_at,
        version: row.version,
    }
}

impl Directory<'_> {
    fn group_entry(&self, action: AuditAction, id: ScimGroupId, data: Value) -> Entry<'_> {
        Entry {
            actor: &self.actor,
            org: Some(self.org),
            action,
            target: Target::new("scim_group", id),
            data,
        }
    }

    /// The Tessera users behind SCIM User ids of this directory; an unknown id is refused.
    async fn people(
        &self,
        db: &impl ConnectionTrait,
        ids: &[String],
    ) -> Result<Vec<UserId>, ScimError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut parsed = Vec::with_capacity(ids.len());
        for id in ids {
            let uuid = id.parse::<uuid::Uuid>().map_err(|_| {
                ScimError::typed(
                    ScimType::InvalidValue,
                    format!("members: no User '{id}' in this directory"),
                )
            })?;
            parsed.push(uuid);
        }
        let found: Vec<(uuid::Uuid, UserId)> = scim_user::Entity::find()
            .select_only()
            .column(scim_user::Column::Id)
            .column(scim_user::Column::UserId)
            .filter(scim_user::Column::OrgId.eq(self.org))
            .filter(scim_user::Column::Id.is_in(parsed.clone()))
            .into_tuple()
            .all(db)
            .await
            .map_err(db_err)?;
        if let Some(missing) = parsed
            .iter()
            .find(|p| !found.iter().any(|(id, _)| id == *p))
        {
            return Err(ScimError::typed(
                ScimType::InvalidValue,
                format!("members: no User '{missing}' in this directory"),
            ));
        }
        Ok(found.into_iter().map(|(_, user)| user).collect())
    }

    async fn add_members(
        &self,
        db: &impl ConnectionTrait,
        group: ScimGroupId,
        people: &[UserId],
    ) -> Result<(), ScimError> {
        let now = self.broker.now();
        for chunk in people.chunks(500) {
            let rows = chunk.iter().map(|user| scim_group_member::ActiveModel {
                group_id: Set(group),
                user_id: Set(*user),
                org_id: Set(self.org),
                created_at: Set(now),
            });
            scim_group_member::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([
                        scim_group_member::Column::GroupId,
                        scim_group_member::Column::UserId,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(db)
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    async fn member_users(
        &self,
        db: &impl ConnectionTrait,
        group: ScimGroupId,
    ) -> Result<Vec<UserId>, ScimError> {
        scim_group_member::Entity::find()
            .select_only()
            .column(scim_group_member::Column::UserId)
            .filter(scim_group_member::Column::GroupId.eq(group))
            .into_tuple()
            .all(db)
            .await
            .map_err(db_err)
    }

    /// The members of `groups` as SCIM values (`value` is the SCIM User id), at most the
    /// directory's `max_members_returned` in all: beyond it `tooMany`, before reading any.
    async fn members_of(
        &self,
        groups: &[ScimGroupId],
    ) -> Result<HashMap<ScimGroupId, Vec<Value>>, ScimError> {
        let limit = self.broker.directory_settings().max_members_returned;
        // An index-only probe on the (group, user) key tells whether there are more.
        let beyond: Option<ScimGroupId> = scim_group_member::Entity::find()
            .select_only()
            .column(scim_group_member::Column::GroupId)
            .filter(scim_group_member::Column::GroupId.is_in(groups.to_vec()))
            .offset(limit)
            .limit(1)
            .into_tuple()
            .one(self.broker.db())
            .await
            .map_err(db_err)?;
        if beyond.is_some() {
            return Err(too_many_members(limit));
        }
        let to_members: sea_orm::RelationDef =
            scim_user::Entity::belongs_to(scim_group_member::Entity)
                .from(scim_user::Column::UserId)
                .to(scim_group_member::Column::UserId)
                .into();
        let rows: Vec<(ScimGroupId, uuid::Uuid)> = scim_user::Entity::find()
            .select_only()
            .column(scim_group_member::Column::GroupId)
            .column(scim_user::Column::Id)
            .join(sea_orm::JoinType::InnerJoin, to_members)
            .filter(scim_group_member::Column::GroupId.is_in(groups.to_vec()))
            .filter(scim_group_member::Column::OrgId.eq(self.org))
            .filter(scim_user::Column::OrgId.eq(self.org))
            .limit(limit)
            .into_tuple()
            .all(self.broker.db())
            .await
            .map_err(db_err)?;
        let mut out: HashMap<ScimGroupId, Vec<Value>> = HashMap::new();
        for (group, user) in rows {
            out.entry(group).or_default().push(member_value(user));
        }
        Ok(out)
    }

    async fn find_group(
        &self,
        db: &impl ConnectionTrait,
        id: ScimGroupId,
    ) -> Result<Option<scim_group::Model>, ScimError> {
        scim_group::Entity::find_by_id(id)
            .filter(scim_group::Column::OrgId.eq(self.org))
            .one(db)
            .await
            .map_err(db_err)
    }

    pub(super) async fn insert_group(&self, doc: Value) -> Result<Stored, ScimError> {
        let display_name = display_name_of(&doc)?;
        let ids = member_ids(&doc)?;
        let now = self.broker.now();
        let txn = self.broker.begin_write().await?;
        let people = self.people(&txn, &ids).await?;
        let row = scim_group::Model {
            id: ScimGroupId::new(),
            org_id: self.org,
            display_name_norm: display_name.to_lowercase(),
            display_name: display_name.clone(),
            external_id: doc
                .get("externalId")
                .and_then(Value::as_str)
                .map(str::to_owned),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        scim_group::Entity::insert(scim_group::ActiveModel::from(row.clone()))
            .exec_without_returning(&txn)
            .await
            .map_err(db_err)?;
        self.add_members(&txn, row.id, &people).await?;
        bump_count(&txn, self.org, scim_count::Column::Groups, 1).await?;
        self.refresh_roles(&txn, &people, now).await?;
        audit::record(
            &txn,
            now,
            self.group_entry(
                AuditAction::ScimGroupCreated,
                row.id,
                json!({ "display_name": display_name, "members": people.len() }),
            ),
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        Ok(stored(row, Some(members_named(&doc)?)))
    }

    pub(super) async fn fetch_group(
        &self,
        id: uuid::Uuid,
        load: Load,
    ) -> Result<Option<Stored>, ScimError> {
        let Some(row) = self.find_group(self.broker.db(), id.into()).await? else {
            return Ok(None);
        };
        let members = if load.relations {
            Some(
                self.members_of(&[row.id])
                    .await?
                    .remove(&row.id)
                    .unwrap_or_default(),
            )
        } else {
            None
        };
        Ok(Some(stored(row, members)))
    }

    /// Bumps the version (locking the row on PostgreSQL; SQLite has one writer anyway) and
    /// returns the row as it was, or 404 / 412.
    async fn lock_group(
        &self,
        txn: &DatabaseTransaction,
        id: ScimGroupId,
        expected: Option<i64>,
    ) -> Result<scim_group::Model, ScimError> {
        let now = self.broker.now();
        let mut update = scim_group::Entity::update_many()
            .col_expr(
                scim_group::Column::Version,
                Expr::col(scim_group::Column::Version).add(1),
            )
            .col_expr(scim_group::Column::UpdatedAt, Expr::value(now))
            .filter(scim_group::Column::Id.eq(id))
            .filter(scim_group::Column::OrgId.eq(self.org));
        if let Some(v) = expected {
            update = update.filter(scim_group::Column::Version.eq(v));
        }
        let result = update.exec(txn).await.map_err(db_err)?;
        let row = self
            .find_group(txn, id)
            .await?
            .ok_or_else(|| not_found(ResourceKind::Group, &id.to_string()))?;
        if result.rows_affected == 0 {
            return Err(version_mismatch());
        }
        Ok(scim_group::Model {
            version: row.version - 1,
            ..row
        })
    }

    async fn apply_delta(
        &self,
        txn: &DatabaseTransaction,
        id: ScimGroupId,
        delta: &MemberDelta,
    ) -> Result<(Vec<UserId>, Vec<UserId>), ScimError> {
        let mut removed = Vec::new();
        if delta.clear {
            removed = self.member_users(txn, id).await?;
            scim_group_member::Entity::delete_many()
                .filter(scim_group_member::Column::GroupId.eq(id))
                .exec(txn)
                .await
                .map_err(db_err)?;
        }
        let gone = self.people(txn, &delta.remove).await.unwrap_or_default();
        if !gone.is_empty() {
            scim_group_member::Entity::delete_many()
                .filter(scim_group_member::Column::GroupId.eq(id))
                .filter(scim_group_member::Column::UserId.is_in(gone.clone()))
                .exec(txn)
                .await
                .map_err(db_err)?;
            removed.extend(gone);
        }
        let added = self.people(txn, &delta.add).await?;
        self.add_members(txn, id, &added).await?;
        Ok((added, removed))
    }

    /// Writes a whole document: names, and the member list when it is included.
    async fn write_document(
        &self,
        txn: &DatabaseTransaction,
        id: ScimGroupId,
        doc: &Value,
        members_included: bool,
    ) -> Result<(Vec<UserId>, Vec<UserId>), ScimError> {
        let display_name = display_name_of(doc)?;
        let external_id = doc
            .get("externalId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        scim_group::Entity::update_many()
            .col_expr(
                scim_group::Column::DisplayNameNorm,
                Expr::value(display_name.to_lowercase()),
            )
            .col_expr(scim_group::Column::DisplayName, Expr::value(display_name))
            .col_expr(scim_group::Column::ExternalId, Expr::value(external_id))
            .filter(scim_group::Column::Id.eq(id))
            .exec(txn)
            .await
            .map_err(db_err)?;
        if !members_included {
            return Ok((Vec::new(), Vec::new()));
        }
        let wanted: HashSet<UserId> = self
            .people(txn, &member_ids(doc)?)
            .await?
            .into_iter()
            .collect();
        let current: HashSet<UserId> = self.member_users(txn, id).await?.into_iter().collect();
        let added: Vec<UserId> = wanted.difference(&current).copied().collect();
        let removed: Vec<UserId> = current.difference(&wanted).copied().collect();
        if !removed.is_empty() {
            scim_group_member::Entity::delete_many()
                .filter(scim_group_member::Column::GroupId.eq(id))
                .filter(scim_group_member::Column::UserId.is_in(removed.clone()))
                .exec(txn)
                .await
                .map_err(db_err)?;
        }
        self.add_members(txn, id, &added).await?;
        Ok((added, removed))
    }

    /// Writes a change. The result carries the members only when the change named them all
    /// (PUT, or a PATCH that read them): the caller reads them when it needs them.
    pub(super) async fn update_group(
        &self,
        id: uuid::Uuid,
        expected: Option<i64>,
        change: Change,
    ) -> Result<Stored, ScimError> {
        let id = ScimGroupId::from(id);
        let now = self.broker.now();
        let txn = self.broker.begin_write().await?;
        let before = self.lock_group(&txn, id, expected).await?;
        let (named, (added, removed)) = match change {
            Change::Members(delta) => (None, self.apply_delta(&txn, id, &delta).await?),
            Change::Document {
                doc,
                members_included,
            } => {
                let named = match members_included {
                    true => Some(members_named(&doc)?),
                    false => None,
                };
                let changes = self
                    .write_document(&txn, id, &doc, members_included)
                    .await?;
                (named, changes)
            }
        };
        let row = self
            .find_group(&txn, id)
            .await?
            .ok_or_else(|| not_found(ResourceKind::Group, &id.to_string()))?;
        let mut affected: Vec<UserId> = added.iter().chain(&removed).copied().collect();
        if row.display_name != before.display_name
            && self
                .rename_changes_roles(&txn, &before.display_name, &row.display_name)
                .await?
        {
            affected.extend(self.member_users(&txn, id).await?);
        }
        affected.sort();
        affected.dedup();
        self.refresh_roles(&txn, &affected, now).await?;
        audit::record(
            &txn,
            now,
            self.group_entry(
                AuditAction::ScimGroupUpdated,
                id,
                json!({ "display_name": row.display_name, "added": added.len(), "removed": removed.len() }),
            ),
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        Ok(stored(row, named))
    }

    pub(super) async fn delete_group(
        &self,
        id: uuid::Uuid,
        expected: Option<i64>,
    ) -> Result<(), ScimError> {
        let id = ScimGroupId::from(id);
        let now = self.broker.now();
        let txn = self.broker.begin_write().await?;
        let before = self.lock_group(&txn, id, expected).await?;
        let members = self.member_users(&txn, id).await?;
        scim_group_member::Entity::delete_many()
            .filter(scim_group_member::Column::GroupId.eq(id))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        scim_group::Entity::delete_by_id(id)
            .exec(&txn)
            .await
            .map_err(db_err)?;
        bump_count(&txn, self.org, scim_count::Column::Groups, -1).await?;
        self.refresh_roles(&txn, &members, now).await?;
        audit::record(
            &txn,
            now,
            self.group_entry(
                AuditAction::ScimGroupDeleted,
                id,
                json!({ "display_name": before.display_name }),
            ),
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        Ok(())
    }

    pub(super) async fn query_groups(
        &self,
        query: &ListQuery,
        load: Load,
    ) -> Result<(u64, Vec<Stored>), ScimError> {
        let sql = GroupSql {
            org: self.org,
            all_types: query.all_types,
        };
        let select = scim_group::Entity::find().filter(scim_group::Column::OrgId.eq(self.org));
        let (select, total) = match &query.filter {
            Some(filter) => (select.filter(sql.condition(filter)?), None),
            None => (select, Some(self.counts().await?.1)),
        };
        let listing = Listing {
            select,
            id: scim_group::Column::Id,
            sort: match &query.sort_by {
                Some(path) => sql.sort(path)?,
                None => Sort::Id,
            },
            total,
        };
        let (total, rows) = self.list_page(ResourceKind::Group, listing, query).await?;
        let mut members = if load.relations {
            let ids: Vec<ScimGroupId> = rows.iter().map(|row| row.id).collect();
            Some(self.members_of(&ids).await?)
        } else {
            None
        };
        let page = rows
            .into_iter()
            .map(|row| {
                let of_row = members
                    .as_mut()
                    .map(|m| m.remove(&row.id).unwrap_or_default());
                stored(row, of_row)
            })
            .collect();
        Ok((total, page))
    }
}
