//! List queries (RFC 7644 §3.4.2, §3.4.3): filter, sorting, pagination and attribute
//! selection from query parameters or a SearchRequest body, and the ListResponse.

use serde_json::{Value, json};

use crate::error::{ScimError, ScimType};
use crate::filter::{AttrPath, Filter, parse_filter, parse_patch_path};
use crate::resource::Projection;
use crate::schema;

/// Page size when the client names none.
pub const DEFAULT_COUNT: u64 = 100;
/// Largest page served (`filter.maxResults` in the ServiceProviderConfig).
pub const MAX_COUNT: u64 = 1000;

/// A parsed list query.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// `filter`
    pub filter: Option<Filter>,
    /// `sortBy`
    pub sort_by: Option<AttrPath>,
    /// `sortOrder=descending`
    pub descending: bool,
    /// `startIndex`, 1-based.
    pub start_index: u64,
    /// `count`, at most [`MAX_COUNT`].
    pub count: u64,
    /// `attributes` / `excludedAttributes`
    pub projection: Projection,
    /// A search from the server root, across resource types (RFC 7644 §3.4.3): an attribute
    /// a type does not have has no value there, instead of making the filter invalid.
    pub all_types: bool,
}

/// The query parameters as sent.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    /// `filter`
    pub filter: Option<String>,
    /// `sortBy`
    pub sort_by: Option<String>,
    /// `sortOrder`
    pub sort_order: Option<String>,
    /// `startIndex`
    pub start_index: Option<String>,
    /// `count`
    pub count: Option<String>,
    /// `attributes`
    pub attributes: Option<String>,
    /// `excludedAttributes`
    pub excluded_attributes: Option<String>,
}

fn number(name: &str, raw: Option<&str>) -> Result<Option<i64>, ScimError> {
    raw.map(|s| {
        s.trim().parse::<i64>().map_err(|_| {
            ScimError::typed(ScimType::InvalidValue, format!("{name} must be an integer"))
        })
    })
    .transpose()
}

impl ListQuery {
    /// Reads query parameters. Per RFC 7644 §3.4.2.4, `startIndex` below 1 means 1 and a
    /// negative `count` means 0.
    pub fn from_params(params: &ListParams) -> Result<Self, ScimError> {
        let filter = match params.filter.as_deref().map(str::trim) {
            Some(f) if !f.is_empty() => Some(parse_filter(f)?),
            _ => None,
        };
        let sort_by = match params.sort_by.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => Some(sort_path(s)?),
            _ => None,
        };
        let descending = match params.sort_order.as_deref().map(str::trim) {
            None | Some("") => false,
            Some(s) if s.eq_ignore_ascii_case("ascending") => false,
            Some(s) if s.eq_ignore_ascii_case("descending") => true,
            Some(_) => {
                return Err(ScimError::typed(
                    ScimType::InvalidValue,
                    "sortOrder must be ascending or descending",
                ));
            }
        };
        let start_index = number("startIndex", params.start_index.as_deref())?
            .unwrap_or(1)
            .max(1) as u64;
        let count = number("count", params.count.as_deref())?
            .map_or(DEFAULT_COUNT, |c| c.max(0) as u64)
            .min(MAX_COUNT);
        Ok(Self {
            filter,
            sort_by,
            descending,
            start_index,
            count,
            projection: Projection::parse(
                params.attributes.as_deref(),
                params.excluded_attributes.as_deref(),
            )?,
            all_types: false,
        })
    }

    /// Reads a SearchRequest body (POST `/.search`).
    pub fn from_search(body: &Value) -> Result<Self, ScimError> {
        let Value::Object(map) = body else {
            return Err(ScimError::typed(
                ScimType::InvalidSyntax,
                "the request body must be a JSON object",
            ));
        };
        let text = |name: &str| -> Result<Option<String>, ScimError> {
            match map.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(Value::Array(items)) => Ok(Some(
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(","),
                )),
                Some(_) => Err(ScimError::typed(
                    ScimType::InvalidValue,
                    format!("{name} has the wrong type"),
                )),
            }
        };
        Self::from_params(&ListParams {
            filter: text("filter")?,
            sort_by: text("sortBy")?,
            sort_order: text("sortOrder")?,
            start_index: text("startIndex")?,
            count: text("count")?,
            attributes: text("attributes")?,
            excluded_attributes: text("excludedAttributes")?,
        })
    }
}

fn sort_path(raw: &str) -> Result<AttrPath, ScimError> {
    let path = parse_patch_path(raw)
        .map_err(|_| ScimError::typed(ScimType::InvalidValue, "sortBy must be an attribute"))?;
    if path.filter.is_some() {
        return Err(ScimError::typed(
            ScimType::InvalidValue,
            "sortBy must be an attribute",
        ));
    }
    Ok(path.attr)
}

/// A ListResponse carrying one page.
pub fn list_response(total: u64, start_index: u64, resources: Vec<Value>) -> Value {
    // Built field by field: `json!` would deep-copy the resources.
    let mut out = serde_json::Map::new();
    out.insert("schemas".to_owned(), json!([schema::LIST_RESPONSE]));
    out.insert("totalResults".to_owned(), json!(total));
    out.insert("startIndex".to_owned(), json!(start_index));
    out.insert("itemsPerPage".to_owned(), json!(resources.len()));
    out.insert("Resources".to_owned(), Value::Array(resources));
    Value::Object(out)
}
