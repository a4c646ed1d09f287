//! SCIM Users: rows in `scim_users` with their indexed values, tied one-to-one to a Tessera
//! user and that user's membership in the org.

use std::collections::HashMap;

use entities::{
    ScimUserId, UserId, scim_count, scim_group, scim_group_member, scim_user, scim_value,
};
use scim::query::ListQuery;
use scim::resource::{ResourceKind, Stored};
use scim::schema::{AttrType, AttributeDef, Mutability, SchemaDef};
use scim::server::{Load, not_found, version_mismatch};
use scim::{ScimError, ScimType};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect,
};
use serde_json::{Value, json};

use super::cursor::{Listing, Sort};
use super::sql::{UserSql, norm_text, norm_time};
use super::{Directory, db_err};
use crate::audit::{self, AuditAction, Entry, Target};
use crate::error::is_unique_violation;

fn taken(user_name: &str) -> ScimError {
    ScimError::typed(
        ScimType::Uniqueness,
        format!("userName '{user_name}' is already taken in this directory"),
    )
}

fn user_name_of(doc: &Value) -> Result<String, ScimError> {
    doc.get("userName")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ScimError::typed(ScimType::InvalidValue, "userName: is required"))
}

fn active_of(doc: &Value) -> bool {
    doc.get("active") != Some(&Value::Bool(false))
}

fn external_id_of(doc: &Value) -> Option<String> {
    doc.get("externalId")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// One `scim_values` row per scalar value of the document.
fn value_rows(row: &scim_user::Model) -> Vec<scim_value::ActiveModel> {
    let mut out = Vec::new();
    let mut push = |path: String, item: usize, def: &AttributeDef, value: &Value| {
        let (norm, num) = match (def.kind, value) {
            (AttrType::String | AttrType::Reference, Value::String(s)) => (norm_text(def, s), None),
            (AttrType::Boolean, Value::Bool(b)) => (b.to_string(), None),
            (AttrType::Integer | AttrType::Decimal, Value::Number(n)) => {
                (n.to_string(), n.as_f64())
            }
            (AttrType::DateTime, Value::String(s)) => match norm_time(s) {
                Some(t) => (t, None),
                None => return,
            },
            // Binary values (certificates) are not filterable.
            _ => return,
        };
        out.push(scim_value::ActiveModel {
            resource_id: Set(row.id.as_uuid()),
            path: Set(path),
            item: Set(item as i32),
            org_id: Set(row.org_id),
            norm: Set(norm),
            num: Set(num),
        });
    };
    let mut schema_values = |schema: &SchemaDef, holder: &Value, prefix: &str| {
        for attr in schema.attributes {
            if matches!(
                attr.mutability,
                Mutability::ReadOnly | Mutability::WriteOnly
            ) {
                continue;
            }
            let Some(value) = holder.get(attr.name) else {
                continue;
            };
            let key = format!("{prefix}{}", attr.name).to_ascii_lowercase();
            let items: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            for (i, item) in items.into_iter().enumerate() {
                if attr.is_complex() {
                    for sub in attr.sub_attributes {
                        if let Some(v) = item.get(sub.name) {
                            push(
                                format!("{key}.{}", sub.name.to_ascii_lowercase()),
                                i,
                                sub,
                                v,
                            );
                        }
                    }
                } else {
                    push(key.clone(), i, attr, item);
                }
            }
        }
    };
    schema_values(ResourceKind::User.schema(), &row.doc, "");
    for ext in ResourceKind::User.extensions() {
        if let Some(holder) = row.doc.get(ext.id) {
            schema_values(ext, holder, &format!("{}:", ext.id));
        }
    }
    out
}

fn stored(row: scim_user::Model, groups: Option<Vec<Value>>) -> Stored {
    let mut doc = row.doc;
    if let (Value::Object(map), Some(groups)) = (&mut doc, groups)
        && !groups.is_empty()
    {
        map.insert("groups".to_owned(), Value::Array(groups));
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
    /// The numbers of users and groups in the directory.
    pub(super) async fn counts(&self) -> Result<(u64, u64), ScimError> {
        let counts = scim_count::Entity::find_by_id(self.org)
            .one(self.broker.db())
            .await
            .map_err(db_err)?;
        Ok(counts.map_or((0, 0), |c| {
            (Ord::max(c.users, 0) as u64, Ord::max(c.groups, 0) as u64)
        }))
    }
}

pub(super) async fn bump_count(
    db: &impl ConnectionTrait,
    org: entities::OrgId,
    column: scim_count::Column,
    delta: i64,
) -> Result<(), ScimError> {
    scim_count::Entity::insert(scim_count::ActiveModel {
        org_id: Set(org),
        users: Set(0),
        groups: Set(0),
    })
    .on_conflict(
        OnConflict::column(scim_count::Column::OrgId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map_err(db_err)?;
    scim_count::Entity::update_many()
        .col_expr(column, Expr::col(column).add(delta))
        .filter(scim_count::Column::OrgId.eq(org))
        .exec(db)
        .await
        .map_err(db_err)?;
    Ok(())
}

impl Directory<'_> {
    fn audit_entry(&self, action: AuditAction, id: ScimUserId, data: Value) -> Entry<'_> {
        Entry {
            actor: &self.actor,
            org: Some(self.org),
            action,
            target: Target::new("scim_user", id),
            data,
        }
    }

    async fn write_values(
        &self,
        db: &impl ConnectionTrait,
        row: &scim_user::Model,
    ) -> Result<(), ScimError> {
        scim_value::Entity::delete_many()
            .filter(scim_value::Column::ResourceId.eq(row.id.as_uuid()))
            .exec(db)
            .await
            .map_err(db_err)?;
        let rows = value_rows(row);
        for chunk in rows.chunks(200) {
            scim_value::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(db)
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    pub(super) async fn insert_user(&self, doc: Value) -> Result<Stored, ScimError> {
        let user_name = user_name_of(&doc)?;
        let norm = user_name.to_lowercase();
        let active = active_of(&doc);
        let now = self.broker.now();
        let txn = self.broker.begin_write().await?;
        let exists = scim_user::Entity::find()
            .filter(scim_user::Column::OrgId.eq(self.org))
            .filter(scim_user::Column::UserNameNorm.eq(&norm))
            .count(&txn)
            .await
            .map_err(db_err)?;
        if exists > 0 {
            return Err(taken(&user_name));
        }
        let person = self.person_for(&txn, &doc, now).await?;
        let row = scim_user::Model {
            id: ScimUserId::new(),
            org_id: self.org,
            user_id: person.id,
            user_name: user_name.clone(),
            user_name_norm: norm,
            external_id: external_id_of(&doc),
            active,
            doc,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let inserted = scim_user::Entity::insert(scim_user::ActiveModel::from(row.clone()))
            .exec_without_returning(&txn)
            .await;
        if let Err(e) = inserted {
            return Err(if is_unique_violation(&e) {
                ScimError::typed(
                    ScimType::Uniqueness,
                    "this person is already provisioned in this directory under another userName",
                )
            } else {
                db_err(e)
            });
        }
        self.write_values(&txn, &row).await?;
        bump_count(&txn, self.org, scim_count::Column::Users, 1).await?;
        self.sync_membership(&txn, person.id, &row.doc, active, now)
            .await?;
        audit::record(
            &txn,
            now,
            self.audit_entry(
                AuditAction::ScimUserCreated,
                row.id,
                json!({ "user_name": user_name, "active": active, "user_id": person.id }),
            ),
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        if !active {
            self.revoke_access(person.id).await?;
        }
        Ok(stored(row, None))
    }

    async fn find_row(
        &self,
        db: &impl ConnectionTrait,
        id: ScimUserId,
    ) -> Result<Option<scim_user::Model>, ScimError> {
        scim_user::Entity::find_by_id(id)
            .filter(scim_user::Column::OrgId.eq(self.org))
            .one(db)
            .await
            .map_err(db_err)
    }

    /// The groups of each user, as `groups` values.
    async fn groups_of(&self, people: &[UserId]) -> Result<HashMap<UserId, Vec<Value>>, ScimError> {
        if people.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(UserId, entities::ScimGroupId, String)> = scim_group_member::Entity::find()
            .select_only()
            .column(scim_group_member::Column::UserId)
            .column(scim_group::Column::Id)
            .column(scim_group::Column::DisplayName)
            .inner_join(scim_group::Entity)
            .filter(scim_group_member::Column::OrgId.eq(self.org))
            .filter(scim_group_member::Column::UserId.is_in(people.to_vec()))
            .into_tuple()
            .all(self.broker.db())
            .await
            .map_err(db_err)?;
        let mut out: HashMap<UserId, Vec<Value>> = HashMap::new();
        for (user, group, name) in rows {
            out.entry(user).or_default().push(json!({
                "value": group.to_string(),
                "display": name,
                "type": "direct",
            }));
        }
        Ok(out)
    }

    pub(super) async fn fetch_user(
        &self,
        id: uuid::Uuid,
        load: Load,
    ) -> Result<Option<Stored>, ScimError> {
        let Some(row) = self.find_row(self.broker.db(), id.into()).await? else {
            return Ok(None);
        };
        let groups = if load.relations {
            self.groups_of(&[row.user_id]).await?.remove(&row.user_id)
        } else {
            None
        };
        Ok(Some(stored(row, groups)))
    }

    pub(super) async fn update_user(
        &self,
        id: ScimUserId,
        expected: Option<i64>,
        doc: Value,
    ) -> Result<Stored, ScimError> {
        let user_name = user_name_of(&doc)?;
        let active = active_of(&doc);
        let now = self.broker.now();
        let txn = self.broker.begin_write().await?;
        let current = self
            .find_row(&txn, id)
            .await?
            .ok_or_else(|| not_found(ResourceKind::User, &id.to_string()))?;
        if expected.is_some_and(|v| v != current.version) {
            return Err(version_mismatch());
        }
        let row = scim_user::Model {
            user_name: user_name.clone(),
            user_name_norm: user_name.to_lowercase(),
            external_id: external_id_of(&doc),
            active,
            doc,
            version: current.version + 1,
            updated_at: now,
            ..current.clone()
        };
        let updated = scim_user::Entity::update_many()
            .col_expr(
                scim_user::Column::UserName,
                Expr::value(row.user_name.clone()),
            )
            .col_expr(
                scim_user::Column::UserNameNorm,
                Expr::value(row.user_name_norm.clone()),
            )
            .col_expr(
                scim_user::Column::ExternalId,
                Expr::value(row.external_id.clone()),
            )
            .col_expr(scim_user::Column::Active, Expr::value(active))
            .col_expr(scim_user::Column::Doc, Expr::value(row.doc.clone()))
            .col_expr(scim_user::Column::Version, Expr::value(row.version))
            .col_expr(scim_user::Column::UpdatedAt, Expr::value(now))
            .filter(scim_user::Column::Id.eq(id))
            .filter(scim_user::Column::Version.eq(current.version))
            .exec(&txn)
            .await;
        match updated {
            Err(e) if is_unique_violation(&e) => return Err(taken(&user_name)),
            Err(e) => return Err(db_err(e)),
            Ok(r) if r.rows_affected == 0 => return Err(version_mismatch()),
            Ok(_) => {}
        }
        self.write_values(&txn, &row).await?;
        self.refresh_person(&txn, row.user_id, &row.doc, now)
            .await?;
        self.sync_membership(&txn, row.user_id, &row.doc, active, now)
            .await?;
        let deactivated = current.active && !active;
        let action = if deactivated {
            AuditAction::ScimUserDeactivated
        } else {
            AuditAction::ScimUserUpdated
        };
        audit::record(
            &txn,
            now,
            self.audit_entry(
                action,
                id,
                json!({ "user_name": user_name, "active": active }),
            ),
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        if deactivated {
            self.revoke_access(row.user_id).await?;
        }
        let groups = self.groups_of(&[row.user_id]).await?.remove(&row.user_id);
        Ok(stored(row, groups))
    }

    pub(super) async fn delete_user(
        &self,
        id: ScimUserId,
        expected: Option<i64>,
    ) -> Result<(), ScimError> {
        let now = self.broker.now();
        let txn = self.broker.begin_write().await?;
        let current = self
            .find_row(&txn, id)
            .await?
            .ok_or_else(|| not_found(ResourceKind::User, &id.to_string()))?;
        if expected.is_some_and(|v| v != current.version) {
            return Err(version_mismatch());
        }
        scim_group_member::Entity::delete_many()
            .filter(scim_group_member::Column::OrgId.eq(self.org))
            .filter(scim_group_member::Column::UserId.eq(current.user_id))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        scim_value::Entity::delete_many()
            .filter(scim_value::Column::ResourceId.eq(id.as_uuid()))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        let deleted = scim_user::Entity::delete_many()
            .filter(scim_user::Column::Id.eq(id))
            .filter(scim_user::Column::Version.eq(current.version))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        if deleted.rows_affected == 0 {
            return Err(version_mismatch());
        }
        entities::membership::Entity::delete_many()
            .filter(entities::membership::Column::OrgId.eq(self.org))
            .filter(entities::membership::Column::UserId.eq(current.user_id))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        bump_count(&txn, self.org, scim_count::Column::Users, -1).await?;
        audit::record(
            &txn,
            now,
            self.audit_entry(
                AuditAction::ScimUserDeleted,
                id,
                json!({ "user_name": current.user_name, "user_id": current.user_id }),
            ),
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.revoke_access(current.user_id).await?;
        Ok(())
    }

    pub(super) async fn query_users(
        &self,
        query: &ListQuery,
        load: Load,
    ) -> Result<(u64, Vec<Stored>), ScimError> {
        let sql = UserSql {
            org: self.org,
            all_types: query.all_types,
        };
        let select = scim_user::Entity::find().filter(scim_user::Column::OrgId.eq(self.org));
        let (select, total) = match &query.filter {
            Some(filter) => (select.filter(sql.condition(filter)?), None),
            None => (select, Some(self.counts().await?.0)),
        };
        let listing = Listing {
            select,
            id: scim_user::Column::Id,
            sort: match &query.sort_by {
                Some(path) => sql.sort(path)?,
                None => Sort::Id,
            },
            total,
        };
        let (total, rows) = self.list_page(ResourceKind::User, listing, query).await?;
        let mut groups = if load.relations {
            let people: Vec<UserId> = rows.iter().map(|r| r.user_id).collect();
            self.groups_of(&people).await?
        } else {
            HashMap::new()
        };
        let page = rows
            .into_iter()
            .map(|row| {
                let g = groups.remove(&row.user_id);
                stored(row, g)
            })
            .collect();
        Ok((total, page))
    }
}
