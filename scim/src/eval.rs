//! Filters evaluated against one JSON value in memory: the value filters of PATCH paths
//! (`emails[type eq "work"]`, `members[value eq "…"]`), applied to the items of one resource.
//! Collection queries never come here: the storage translates filters to SQL.

use std::cmp::Ordering;

use chrono::DateTime;
use serde_json::Value;

use crate::error::{ScimError, ScimType};
use crate::filter::{AttrPath, CompareOp, Filter, Literal};
use crate::schema::{AttrType, AttributeDef};

/// Whether `item`, one value of the multi-valued complex attribute `attr`, matches `filter`
/// (whose paths name sub-attributes of `attr`).
pub fn item_matches(attr: &AttributeDef, item: &Value, filter: &Filter) -> Result<bool, ScimError> {
    Ok(match filter {
        Filter::And(a, b) => item_matches(attr, item, a)? && item_matches(attr, item, b)?,
        Filter::Or(a, b) => item_matches(attr, item, a)? || item_matches(attr, item, b)?,
        Filter::Not(inner) => !item_matches(attr, item, inner)?,
        Filter::Present(path) => {
            let (_, value) = sub_value(attr, item, path)?;
            value.is_some_and(|v| !v.is_null() && v != &Value::String(String::new()))
        }
        Filter::Compare(path, op, literal) => {
            let (sub, value) = sub_value(attr, item, path)?;
            compare(sub, value, *op, literal)?
        }
        Filter::ValuePath(..) => {
            return Err(ScimError::typed(
                ScimType::InvalidFilter,
                "value filters cannot nest",
            ));
        }
    })
}

fn sub_value<'a>(
    attr: &AttributeDef,
    item: &'a Value,
    path: &AttrPath,
) -> Result<(&'static AttributeDef, Option<&'a Value>), ScimError> {
    let unknown = || {
        ScimError::typed(
            ScimType::InvalidFilter,
            format!("'{}' is not a sub-attribute of {}", path.attr, attr.name),
        )
    };
    if path.urn.is_some() || path.sub.is_some() {
        return Err(unknown());
    }
    let sub = attr.sub(&path.attr).ok_or_else(unknown)?;
    Ok((sub, item.get(sub.name)))
}

/// Compares a stored value with a filter literal under the attribute's type and case rules.
pub fn compare(
    def: &AttributeDef,
    value: Option<&Value>,
    op: CompareOp,
    literal: &Literal,
) -> Result<bool, ScimError> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(match (op, literal) {
            (CompareOp::Eq, Literal::Null) => true,
            (CompareOp::Ne, Literal::Null) => false,
            (CompareOp::Ne, _) => true,
            _ => false,
        });
    };
    if matches!(literal, Literal::Null) {
        return Ok(op == CompareOp::Ne);
    }
    let bad = || {
        ScimError::typed(
            ScimType::InvalidFilter,
            format!("'{}' cannot be compared with {op:?}", def.name),
        )
    };
    match (def.kind, value, literal) {
        (AttrType::Boolean, Value::Bool(v), Literal::Bool(l)) => match op {
            CompareOp::Eq => Ok(v == l),
            CompareOp::Ne => Ok(v != l),
            _ => Err(bad()),
        },
        (AttrType::Integer | AttrType::Decimal, Value::Number(v), Literal::Number(l)) => {
            let (Some(v), Some(l)) = (v.as_f64(), l.as_f64()) else {
                return Ok(false);
            };
            ordered(op, v.partial_cmp(&l), || Err(bad()))
        }
        (AttrType::DateTime, Value::String(v), Literal::String(l)) => {
            let (Ok(v), Ok(l)) = (
                DateTime::parse_from_rfc3339(v),
                DateTime::parse_from_rfc3339(l),
            ) else {
                return Err(bad());
            };
            ordered(op, Some(v.cmp(&l)), || Err(bad()))
        }
        (
            AttrType::String | AttrType::Reference | AttrType::Binary,
            Value::String(v),
            Literal::String(l),
        ) => {
            let (v, l) = if def.case_exact {
                (v.clone(), l.clone())
            } else {
                (v.to_lowercase(), l.to_lowercase())
            };
            Ok(match op {
                CompareOp::Co => v.contains(&l),
                CompareOp::Sw => v.starts_with(&l),
                CompareOp::Ew => v.ends_with(&l),
                _ => return ordered(op, Some(v.cmp(&l)), || Err(bad())),
            })
        }
        _ => Ok(op == CompareOp::Ne),
    }
}

fn ordered(
    op: CompareOp,
    ordering: Option<Ordering>,
    otherwise: impl FnOnce() -> Result<bool, ScimError>,
) -> Result<bool, ScimError> {
    let Some(ord) = ordering else {
        return Ok(false);
    };
    Ok(match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => return otherwise(),
    })
}
