//! Keyset pagination over UUIDv7 ids: stable under inserts, no OFFSET scans.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use crate::crypto::base64url;
use crate::error::{Error, ErrorCode, Result};

/// Items per page when the caller does not say.
pub const DEFAULT_LIMIT: u64 = 50;
/// The most items one page may hold.
pub const MAX_LIMIT: u64 = 200;

/// Which page to fetch: at most `limit` items after the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    limit: u64,
    after: Option<Uuid>,
}

impl PageRequest {
    /// Validates `limit` (1-200, default 50) and an opaque cursor from a previous page.
    pub fn new(limit: Option<u64>, after: Option<&str>) -> Result<Self> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::invalid(
                ErrorCode::InvalidQuery,
                "limit",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = after.map(decode_cursor).transpose()?;
        Ok(Self { limit, after })
    }

    /// The first page with the default size.
    pub fn first() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            after: None,
        }
    }
}

/// One page of results and the cursor for the next, if there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items, in id order.
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Converts every item, keeping the cursor.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

fn encode_cursor(id: Uuid) -> String {
    base64url(id.as_bytes())
}

fn decode_cursor(cursor: &str) -> Result<Uuid> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| {
            Error::invalid(
                ErrorCode::InvalidCursor,
                "after",
                "after is not a cursor returned by this endpoint",
            )
        })
}

/// Fetches one page of `select`, ordered by `id_column` (`Order::Asc` oldest first,
/// `Order::Desc` newest first). `id_of` reads the id back from a row.
pub(crate) async fn fetch<E, C>(
    db: &C,
    select: Select<E>,
    id_column: E::Column,
    order: Order,
    request: &PageRequest,
    id_of: impl Fn(&E::Model) -> Uuid,
) -> Result<Page<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut select = select;
    if let Some(after) = request.after {
        select = match order {
            Order::Desc => select.filter(id_column.lt(after)),
            _ => select.filter(id_column.gt(after)),
        };
    }
    let mut items = select
        .order_by(id_column, order)
        .limit(request.limit + 1)
        .all(db)
        .await?;
    let next_cursor = if items.len() as u64 > request.limit {
        items.truncate(request.limit as usize);
        items.last().map(|last| encode_cursor(id_of(last)))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_bounded() {
        assert!(PageRequest::new(Some(0), None).is_err());
        assert!(PageRequest::new(Some(201), None).is_err());
        assert_eq!(PageRequest::new(None, None).unwrap().limit, DEFAULT_LIMIT);
    }

    #[test]
    fn cursor_round_trips_and_junk_is_refused() {
        let id = Uuid::now_v7();
        let request = PageRequest::new(None, Some(&encode_cursor(id))).unwrap();
        assert_eq!(request.after, Some(id));
        let err = PageRequest::new(None, Some("not-a-cursor")).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidCursor);
        assert_eq!(err.field(), Some("after"));
    }
}
