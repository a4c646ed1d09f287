//! One page of a SCIM list, however deep. `startIndex` is a position (RFC 7644 §3.4.2.4),
//! which SQL reaches with OFFSET by reading every row before it; but IdPs read a list page
//! after page. So each full page served leaves a cursor in the ephemeral store for a few
//! minutes, under the query and the position that follows it: the sort value and id of its
//! last row, and the total it reported. The next page starts right after that row (an index
//! range at any depth) and reports the same total without counting again. A page without a
//! cursor (a jump, or a sort on a column that may be null) reads ids with OFFSET from the
//! index first, then only the rows of the page. Unfiltered totals always come from the live
//! counts.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entities::{scim_group, scim_user};
use scim::ResourceKind;
use scim::ScimError;
use scim::query::ListQuery;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select,
};
use serde::{Deserialize, Serialize};

use super::{Directory, db_err};
use crate::crypto::{base64url, sha256};
use crate::store::EphemeralStoreExt as _;

/// How long a cursor waits for the client's next page.
const CURSOR_TTL: Duration = Duration::from_secs(600);

/// A row value a page can continue after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum SortValue {
    /// A text column (`userName`, `displayName`, compared as stored).
    Text(String),
    /// A timestamp column (`meta.created`, `meta.lastModified`).
    Time(DateTime<Utc>),
}

impl From<SortValue> for sea_orm::Value {
    fn from(value: SortValue) -> Self {
        match value {
            SortValue::Text(text) => text.into(),
            SortValue::Time(time) => time.into(),
        }
    }
}

/// Which never-null column a sort uses, to read it off a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SortField {
    /// `userName` of a User, `displayName` of a Group (their case-folded columns).
    Name,
    /// `meta.created`.
    Created,
    /// `meta.lastModified`.
    LastModified,
}

/// The order of a list, as SQL; rows with equal sort values follow their ids.
pub(super) enum Sort {
    /// By id.
    Id,
    /// By a column that is never null: pages continue after a row's value.
    Column(Expr, SortField),
    /// By anything else (a column that may be null, a multi-valued attribute): pages past the
    /// first are found with OFFSET.
    Other(Expr),
}

/// A row of a listed table.
pub(super) trait Row {
    /// The row's id.
    fn id(&self) -> uuid::Uuid;
    /// The row's value of `field`.
    fn value(&self, field: SortField) -> SortValue;
}

impl Row for scim_user::Model {
    fn id(&self) -> uuid::Uuid {
        self.id.as_uuid()
    }

    fn value(&self, field: SortField) -> SortValue {
        match field {
            SortField::Name => SortValue::Text(self.user_name_norm.clone()),
            SortField::Created => SortValue::Time(self.created_at),
            SortField::LastModified => SortValue::Time(self.updated_at),
        }
    }
}

impl Row for scim_group::Model {
    fn id(&self) -> uuid::Uuid {
        self.id.as_uuid()
    }

    fn value(&self, field: SortField) -> SortValue {
        match field {
            SortField::Name => SortValue::Text(self.display_name_norm.clone()),
            SortField::Created => SortValue::Time(self.created_at),
            SortField::LastModified => SortValue::Time(self.updated_at),
        }
    }
}

/// Where the previous page of a query ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cursor {
    /// `totalResults` as reported with the first page.
    total: u64,
    /// The last row's sort value (none when sorted by id).
    value: Option<SortValue>,
    /// The last row's id.
    id: uuid::Uuid,
}

/// A list query over `E` with its filter applied.
pub(super) struct Listing<E: EntityTrait> {
    /// The rows that match.
    pub select: Select<E>,
    /// The table's id column.
    pub id: E::Column,
    /// The order.
    pub sort: Sort,
    /// The total when it is known without counting (unfiltered: the live counts).
    pub total: Option<u64>,
}

impl<E> Listing<E>
where
    E: EntityTrait,
    E::Model: Row + Sync,
{
    fn ordered(&self, select: Select<E>, order: &Order) -> Select<E> {
        let select = match &self.sort {
            Sort::Id => select,
            Sort::Column(key, _) | Sort::Other(key) => select.order_by(key.clone(), order.clone()),
        };
        select.order_by(self.id, order.clone())
    }

    /// The rows of the page, after the cursor's row when there is one, and whether more
    /// follow (read as one row past the page).
    async fn rows(
        &self,
        db: &DatabaseConnection,
        query: &ListQuery,
        cursor: Option<&Cursor>,
    ) -> Result<(Vec<E::Model>, bool), ScimError> {
        let order = if query.descending {
            Order::Desc
        } else {
            Order::Asc
        };
        let page = match cursor.and_then(|c| self.after(c, query.descending)) {
            Some(after) => self.select.clone().filter(after),
            None if query.start_index > 1 => {
                let ids = self
                    .ordered(self.select.clone(), &order)
                    .select_only()
                    .column(self.id)
                    .offset(query.start_index - 1)
                    .limit(query.count + 1)
                    .into_query();
                self.select.clone().filter(self.id.in_subquery(ids))
            }
            None => self.select.clone(),
        };
        let mut rows = self
            .ordered(page, &order)
            .limit(query.count + 1)
            .all(db)
            .await
            .map_err(db_err)?;
        let more = rows.len() as u64 > query.count;
        rows.truncate(query.count as usize);
        Ok((rows, more))
    }

    /// The condition "after the cursor's row", when the cursor fits the sort.
    fn after(&self, cursor: &Cursor, descending: bool) -> Option<Expr> {
        let beyond = |e: Expr, v: sea_orm::Value| if descending { e.lt(v) } else { e.gt(v) };
        let id = beyond(Expr::col((E::default(), self.id)), cursor.id.into());
        match (&self.sort, &cursor.value) {
            (Sort::Id, None) => Some(id),
            (Sort::Column(key, _), Some(value)) => {
                let value = sea_orm::Value::from(value.clone());
                Some(beyond(key.clone(), value.clone()).or(key.clone().eq(value).and(id)))
            }
            _ => None,
        }
    }
}

impl Directory<'_> {
    fn cursor_key(&self, kind: ResourceKind, query: &ListQuery, position: u64) -> String {
        let shape = format!(
            "{}|{:?}|{:?}|{}|{position}",
            kind.name(),
            query.filter,
            query.sort_by,
            query.descending
        );
        format!(
            "scim_page:{}:{}",
            self.org,
            base64url(&sha256(shape.as_bytes()))
        )
    }

    async fn cursor(&self, kind: ResourceKind, query: &ListQuery) -> Option<Cursor> {
        let key = self.cursor_key(kind, query, query.start_index);
        match self.broker.store().get_json(&key).await {
            Ok(cursor) => cursor,
            Err(e) => {
                tracing::warn!(error = %e, "SCIM page cursor unreadable; counting from the start");
                None
            }
        }
    }

    async fn remember(&self, kind: ResourceKind, query: &ListQuery, cursor: Cursor) {
        let key = self.cursor_key(kind, query, query.start_index + query.count);
        if let Err(e) = self
            .broker
            .store()
            .put_json(&key, &cursor, CURSOR_TTL)
            .await
        {
            tracing::warn!(error = %e, "SCIM page cursor not stored");
        }
    }

    /// One page of `listing` and the total number of matches.
    pub(super) async fn list_page<E>(
        &self,
        kind: ResourceKind,
        listing: Listing<E>,
        query: &ListQuery,
    ) -> Result<(u64, Vec<E::Model>), ScimError>
    where
        E: EntityTrait,
        E::Model: Row + Sync,
    {
        let keyset = !matches!(listing.sort, Sort::Other(_));
        let cursor = match query.start_index > 1 && keyset {
            true => self.cursor(kind, query).await,
            false => None,
        };
        let known = listing.total.or(cursor.as_ref().map(|c| c.total));
        let db = self.broker.db();
        if query.count == 0 {
            let total = match known {
                Some(total) => total,
                None => listing.select.clone().count(db).await.map_err(db_err)?,
            };
            return Ok((total, Vec::new()));
        }
        let (rows, more) = listing.rows(db, query, cursor.as_ref()).await?;
        let served = rows.len() as u64;
        let total = match known {
            Some(total) => total,
            // The last page, if it is not past the end, tells the total without counting.
            None if !more && (served > 0 || query.start_index == 1) => {
                query.start_index - 1 + served
            }
            None => listing.select.clone().count(db).await.map_err(db_err)?,
        };
        if let (true, true, Some(last)) = (keyset, more, rows.last()) {
            let value = match &listing.sort {
                Sort::Column(_, field) => Some(last.value(*field)),
                _ => None,
            };
            let next = Cursor {
                total,
                value,
                id: last.id(),
            };
            self.remember(kind, query, next).await;
        }
        Ok((total, rows))
    }
}
