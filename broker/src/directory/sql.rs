//! SCIM filters and sort orders on Users as SQL: attributes with their own column (`id`,
//! `userName`, `externalId`, `active`, `meta.*`) compare that column, every other attribute an
//! indexed row of `scim_values`; a value filter (`emails[type eq "work" and value co "@x"]`)
//! requires its conditions to hold on one item; `groups` reads memberships (group_sql.rs).
//! Nothing is evaluated in Rust, and one query serves SQLite and PostgreSQL (SQLite's `LIKE`
//! is made case-sensitive when connections open, like PostgreSQL's).

use chrono::{DateTime, SecondsFormat, Utc};
use entities::{OrgId, scim_user, scim_value};
use scim::filter::{AttrPath, CompareOp, Filter, Literal};
use scim::resource::{Common, Resolved, resolve};
use scim::schema::{AttrType, AttributeDef};
use scim::{ResourceKind, ScimError, ScimType};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, LikeExpr, Query, SelectStatement, SubQueryStatement,
};

use super::cursor::{Sort, SortField};
use super::group_sql::{UserGroupSql, names_groups};

/// Longest stored comparison text; longer values compare on their first characters.
pub(super) const MAX_NORM_CHARS: usize = 512;

pub(super) fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::typed(ScimType::InvalidFilter, detail)
}

pub(super) fn always(value: bool) -> Expr {
    Expr::val(1).eq(if value { 1 } else { 0 })
}

/// A string value as stored for comparison.
pub(super) fn norm_text(def: &AttributeDef, text: &str) -> String {
    let text = if def.case_exact {
        text.to_owned()
    } else {
        text.to_lowercase()
    };
    text.chars().take(MAX_NORM_CHARS).collect()
}

/// A date-time in UTC with a fixed width, so text order is time order.
pub(super) fn norm_time(text: &str) -> Option<String> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| {
        t.with_timezone(&Utc)
            .to_rfc3339_opts(SecondsFormat::Micros, true)
    })
}

fn like_pattern(op: CompareOp, text: &str) -> LikeExpr {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = match op {
        CompareOp::Sw => format!("{escaped}%"),
        CompareOp::Ew => format!("%{escaped}"),
        _ => format!("%{escaped}%"),
    };
    LikeExpr::new(pattern).escape('\\')
}

/// `column op value` for a text column.
pub(super) fn text_op(column: Expr, op: CompareOp, value: String) -> Expr {
    match op {
        CompareOp::Eq => column.eq(value),
        CompareOp::Ne => column.ne(value),
        CompareOp::Gt => column.gt(value),
        CompareOp::Ge => column.gte(value),
        CompareOp::Lt => column.lt(value),
        CompareOp::Le => column.lte(value),
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => column.like(like_pattern(op, &value)),
    }
}

pub(super) fn ordered<V: Into<sea_orm::Value>>(
    column: Expr,
    op: CompareOp,
    value: V,
) -> Result<Expr, ScimError> {
    Ok(match op {
        CompareOp::Eq => column.eq(value),
        CompareOp::Ne => column.ne(value),
        CompareOp::Gt => column.gt(value),
        CompareOp::Ge => column.gte(value),
        CompareOp::Lt => column.lt(value),
        CompareOp::Le => column.lte(value),
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => {
            return Err(invalid(format!("{op:?} compares text only").to_lowercase()));
        }
    })
}

pub(super) fn string_literal<'a>(name: &str, literal: &'a Literal) -> Result<&'a str, ScimError> {
    match literal {
        Literal::String(s) => Ok(s),
        _ => Err(invalid(format!("{name} compares with a string"))),
    }
}

pub(super) fn time_literal(name: &str, literal: &Literal) -> Result<DateTime<Utc>, ScimError> {
    let text = string_literal(name, literal)?;
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| invalid(format!("{name} compares with an RFC 3339 date-time")))
}

/// The condition `scim_values` alias `v` must meet for `def op literal`; `None` for `ne`,
/// which the caller writes as "no value equals".
fn value_condition(
    v: &Alias,
    def: &AttributeDef,
    op: CompareOp,
    literal: &Literal,
) -> Result<Expr, ScimError> {
    let norm = Expr::col((v.clone(), scim_value::Column::Norm));
    let num = Expr::col((v.clone(), scim_value::Column::Num));
    match (def.kind, literal) {
        (AttrType::String | AttrType::Reference, Literal::String(s)) => {
            Ok(text_op(norm, op, norm_text(def, s)))
        }
        (AttrType::Boolean, Literal::Bool(b)) if matches!(op, CompareOp::Eq | CompareOp::Ne) => {
            Ok(text_op(norm, op, b.to_string()))
        }
        (AttrType::Integer | AttrType::Decimal, Literal::Number(n)) => {
            ordered(num, op, n.as_f64().unwrap_or(f64::NAN))
        }
        (AttrType::DateTime, Literal::String(s)) => {
            let t = norm_time(s).ok_or_else(|| {
                invalid(format!("{} compares with an RFC 3339 date-time", def.name))
            })?;
            ordered(norm, op, t)
        }
        _ => Err(invalid(format!(
            "'{}' cannot be compared with this value",
            def.name
        ))),
    }
}

/// In a search across resource types, a comparison on an attribute that `kind` does not have
/// (`None` when it has it): the attribute has no value, so only `ne` and `eq null` hold.
pub(super) fn lacking(kind: ResourceKind, all_types: bool, filter: &Filter) -> Option<Expr> {
    if !all_types {
        return None;
    }
    let (path, holds) = match filter {
        Filter::Compare(path, CompareOp::Ne, literal) => (path, !matches!(literal, Literal::Null)),
        Filter::Compare(path, CompareOp::Eq, Literal::Null) => (path, true),
        Filter::Present(path) | Filter::Compare(path, ..) | Filter::ValuePath(path, _) => {
            (path, false)
        }
        Filter::And(..) | Filter::Or(..) | Filter::Not(_) => return None,
    };
    resolve(kind, path).is_none().then(|| always(holds))
}

/// Filters and sorts Users.
pub(super) struct UserSql {
    pub org: OrgId,
    /// A search across resource types: attributes Users lack have no value.
    pub all_types: bool,
}

impl UserSql {
    fn values(&self, alias: &Alias) -> SelectStatement {
        Query::select()
            .column((alias.clone(), scim_value::Column::ResourceId))
            .from_as(scim_value::Entity, alias.clone())
            .and_where(Expr::col((alias.clone(), scim_value::Column::OrgId)).eq(self.org))
            .to_owned()
    }

    fn id_column() -> Expr {
        Expr::col((scim_user::Entity, scim_user::Column::Id))
    }

    /// The condition a filter puts on `scim_users`.
    pub fn condition(&self, filter: &Filter) -> Result<Expr, ScimError> {
        if let Some(lacking) = lacking(ResourceKind::User, self.all_types, filter) {
            return Ok(lacking);
        }
        Ok(match filter {
            Filter::And(a, b) => self.condition(a)?.and(self.condition(b)?),
            Filter::Or(a, b) => self.condition(a)?.or(self.condition(b)?),
            Filter::Not(inner) => self.condition(inner)?.not(),
            Filter::Present(path) if names_groups(path) => self.groups().present(path)?,
            Filter::Compare(path, op, literal) if names_groups(path) => {
                self.groups().compare(path, *op, literal)?
            }
            Filter::ValuePath(path, inner) if names_groups(path) => {
                self.groups().value_path(inner)?
            }
            Filter::Present(path) => self.present(path)?,
            Filter::Compare(path, op, literal) => self.compare(path, *op, literal)?,
            Filter::ValuePath(path, inner) => self.value_path(path, inner)?,
        })
    }

    fn groups(&self) -> UserGroupSql {
        UserGroupSql { org: self.org }
    }

    fn resolve(path: &AttrPath) -> Result<Resolved, ScimError> {
        resolve(ResourceKind::User, path)
            .ok_or_else(|| invalid(format!("Users have no attribute '{}'", path.attr)))
    }

    fn present(&self, path: &AttrPath) -> Result<Expr, ScimError> {
        let resolved = Self::resolve(path)?;
        Ok(match resolved {
            Resolved::Common(Common::ExternalId) => {
                Expr::col((scim_user::Entity, scim_user::Column::ExternalId)).is_not_null()
            }
            Resolved::Common(_) => always(true),
            Resolved::Schema { attr, .. } if attr.name == "userName" || attr.name == "active" => {
                always(true)
            }
            _ => {
                let v = Alias::new("v");
                let key = leaf_key(&resolved);
                Self::id_column().in_subquery(
                    self.values(&v)
                        .and_where(Expr::col((v.clone(), scim_value::Column::Path)).eq(key))
                        .to_owned(),
                )
            }
        })
    }

    fn compare(
        &self,
        path: &AttrPath,
        op: CompareOp,
        literal: &Literal,
    ) -> Result<Expr, ScimError> {
        if matches!(literal, Literal::Null) {
            let present = self.present(path)?;
            return match op {
                CompareOp::Eq => Ok(present.not()),
                CompareOp::Ne => Ok(present),
                _ => Err(invalid("null compares with eq and ne only")),
            };
        }
        let resolved = Self::resolve(path)?;
        let column = |c: scim_user::Column| Expr::col((scim_user::Entity, c));
        match resolved {
            Resolved::Common(Common::Id) => {
                let text = string_literal("id", literal)?;
                let Ok(id) = text.parse::<uuid::Uuid>() else {
                    return Ok(always(op == CompareOp::Ne));
                };
                match op {
                    CompareOp::Eq => Ok(Self::id_column().eq(id)),
                    CompareOp::Ne => Ok(Self::id_column().ne(id)),
                    _ => Err(invalid("id compares with eq and ne only")),
                }
            }
            Resolved::Common(Common::ExternalId) => {
                let text = string_literal("externalId", literal)?;
                Ok(text_op(
                    column(scim_user::Column::ExternalId),
                    op,
                    text.to_owned(),
                ))
            }
            Resolved::Common(Common::Created) => ordered(
                column(scim_user::Column::CreatedAt),
                op,
                time_literal("meta.created", literal)?,
            ),
            Resolved::Common(Common::LastModified) => ordered(
                column(scim_user::Column::UpdatedAt),
                op,
                time_literal("meta.lastModified", literal)?,
            ),
            Resolved::Common(Common::OtherMeta) => Err(invalid(
                "only meta.created and meta.lastModified can be filtered",
            )),
            Resolved::Schema {
                attr, sub: None, ..
            } if attr.name == "userName" => {
                let text = string_literal("userName", literal)?;
                Ok(text_op(
                    column(scim_user::Column::UserNameNorm),
                    op,
                    norm_text(attr, text),
                ))
            }
            Resolved::Schema {
                attr, sub: None, ..
            } if attr.name == "active" => match (op, literal) {
                (CompareOp::Eq, Literal::Bool(b)) => Ok(column(scim_user::Column::Active).eq(*b)),
                (CompareOp::Ne, Literal::Bool(b)) => Ok(column(scim_user::Column::Active).ne(*b)),
                _ => Err(invalid("active compares with eq or ne and a boolean")),
            },
            Resolved::Schema { .. } => {
                let def = resolved
                    .leaf()
                    .ok_or_else(|| invalid("this attribute cannot be compared"))?;
                let v = Alias::new("v");
                let key = leaf_key(&resolved);
                let (positive, negate) = match op {
                    CompareOp::Ne => (CompareOp::Eq, true),
                    other => (other, false),
                };
                let matching = self
                    .values(&v)
                    .and_where(Expr::col((v.clone(), scim_value::Column::Path)).eq(key))
                    .and_where(value_condition(&v, def, positive, literal)?)
                    .to_owned();
                Ok(if negate {
                    Self::id_column().not_in_subquery(matching)
                } else {
                    Self::id_column().in_subquery(matching)
                })
            }
        }
    }

    /// `emails[type eq "work" and value co "@x"]`: some item of `emails` meets `inner`.
    fn value_path(&self, path: &AttrPath, inner: &Filter) -> Result<Expr, ScimError> {
        let resolved = Self::resolve(path)?;
        let Resolved::Schema {
            attr, sub: None, ..
        } = resolved
        else {
            return Err(invalid(format!("'{}' has no sub-attributes", path.attr)));
        };
        if !attr.is_complex() {
            return Err(invalid(format!("'{}' has no sub-attributes", attr.name)));
        }
        let prefix = resolved.key();
        let paths: Vec<String> = attr
            .sub_attributes
            .iter()
            .map(|s| format!("{prefix}.{}", s.name.to_ascii_lowercase()))
            .collect();
        let i = Alias::new("i");
        let items = self
            .values(&i)
            .and_where(Expr::col((i.clone(), scim_value::Column::Path)).is_in(paths))
            .and_where(self.item_condition(attr, &prefix, inner)?)
            .to_owned();
        Ok(Self::id_column().in_subquery(items))
    }

    fn item_condition(
        &self,
        attr: &AttributeDef,
        prefix: &str,
        filter: &Filter,
    ) -> Result<Expr, ScimError> {
        let i = Alias::new("i");
        let s = Alias::new("s");
        let same_item = |key: String| {
            Query::select()
                .expr(Expr::val(1))
                .from_as(scim_value::Entity, s.clone())
                .and_where(
                    Expr::col((s.clone(), scim_value::Column::ResourceId))
                        .equals((i.clone(), scim_value::Column::ResourceId)),
                )
                .and_where(
                    Expr::col((s.clone(), scim_value::Column::Item))
                        .equals((i.clone(), scim_value::Column::Item)),
                )
                .and_where(Expr::col((s.clone(), scim_value::Column::Path)).eq(key))
                .to_owned()
        };
        let sub_of = |path: &AttrPath| -> Result<&'static AttributeDef, ScimError> {
            if path.urn.is_some() || path.sub.is_some() {
                return Err(invalid("a value filter names sub-attributes only"));
            }
            attr.sub(&path.attr).ok_or_else(|| {
                invalid(format!(
                    "'{}' is not a sub-attribute of {}",
                    path.attr, attr.name
                ))
            })
        };
        Ok(match filter {
            Filter::And(a, b) => self
                .item_condition(attr, prefix, a)?
                .and(self.item_condition(attr, prefix, b)?),
            Filter::Or(a, b) => self
                .item_condition(attr, prefix, a)?
                .or(self.item_condition(attr, prefix, b)?),
            Filter::Not(inner) => self.item_condition(attr, prefix, inner)?.not(),
            Filter::Present(path) => {
                let sub = sub_of(path)?;
                Expr::exists(same_item(format!(
                    "{prefix}.{}",
                    sub.name.to_ascii_lowercase()
                )))
            }
            Filter::Compare(path, op, literal) => {
                let sub = sub_of(path)?;
                let key = format!("{prefix}.{}", sub.name.to_ascii_lowercase());
                let (positive, negate) = match op {
                    CompareOp::Ne => (CompareOp::Eq, true),
                    other => (*other, false),
                };
                let select = same_item(key)
                    .and_where(value_condition(&s, sub, positive, literal)?)
                    .to_owned();
                if negate {
                    Expr::not_exists(select)
                } else {
                    Expr::exists(select)
                }
            }
            Filter::ValuePath(..) => return Err(invalid("value filters cannot nest")),
        })
    }

    /// The order a `sortBy` asks for.
    pub fn sort(&self, path: &AttrPath) -> Result<Sort, ScimError> {
        let resolved = Self::resolve(path)?;
        let column = |c: scim_user::Column| Expr::col((scim_user::Entity, c));
        Ok(match resolved {
            Resolved::Common(Common::Id | Common::OtherMeta) => Sort::Id,
            Resolved::Common(Common::ExternalId) => {
                Sort::Other(column(scim_user::Column::ExternalId))
            }
            Resolved::Common(Common::Created) => {
                Sort::Column(column(scim_user::Column::CreatedAt), SortField::Created)
            }
            Resolved::Common(Common::LastModified) => Sort::Column(
                column(scim_user::Column::UpdatedAt),
                SortField::LastModified,
            ),
            Resolved::Schema {
                attr, sub: None, ..
            } if attr.name == "userName" => {
                Sort::Column(column(scim_user::Column::UserNameNorm), SortField::Name)
            }
            _ => {
                let v = Alias::new("v");
                let select = Query::select()
                    .expr(Expr::col((v.clone(), scim_value::Column::Norm)).min())
                    .from_as(scim_value::Entity, v.clone())
                    .and_where(
                        Expr::col((v.clone(), scim_value::Column::ResourceId))
                            .equals((scim_user::Entity, scim_user::Column::Id)),
                    )
                    .and_where(
                        Expr::col((v.clone(), scim_value::Column::Path)).eq(leaf_key(&resolved)),
                    )
                    .to_owned();
                Sort::Other(Expr::SubQuery(
                    None,
                    Box::new(SubQueryStatement::SelectStatement(select)),
                ))
            }
        })
    }
}

/// The `scim_values` path a comparison on `resolved` reads: a complex attribute compares its
/// `value` sub-attribute.
fn leaf_key(resolved: &Resolved) -> String {
    match *resolved {
        Resolved::Schema {
            attr, sub: None, ..
        } if attr.is_complex() => {
            format!("{}.value", resolved.key())
        }
        _ => resolved.key(),
    }
}
