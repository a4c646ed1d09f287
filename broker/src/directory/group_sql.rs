//! SCIM filters and sort orders on Groups as SQL (their columns and members), and filters on
//! the groups of Users (`groups.value eq "<group id>"`, `groups.display sw "Eng"`), which let
//! a client page through the members of a group too large to read whole.

use entities::{OrgId, scim_group, scim_group_member, scim_user};
use scim::filter::{AttrPath, CompareOp, Filter, Literal};
use scim::resource::{Common, Resolved, resolve};
use scim::{ResourceKind, ScimError};
use sea_orm::JoinType;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement};

use super::cursor::{Sort, SortField};
use super::sql::{always, invalid, lacking, ordered, string_literal, text_op, time_literal};

/// Filters and sorts Groups: `id`, `externalId`, `displayName`, `meta.*` and members.
pub(super) struct GroupSql {
    pub org: OrgId,
    /// A search across resource types: attributes Groups lack have no value.
    pub all_types: bool,
}

impl GroupSql {
    fn column(c: scim_group::Column) -> Expr {
        Expr::col((scim_group::Entity, c))
    }

    /// The condition a filter puts on `scim_groups`.
    pub fn condition(&self, filter: &Filter) -> Result<Expr, ScimError> {
        if let Some(lacking) = lacking(ResourceKind::Group, self.all_types, filter) {
            return Ok(lacking);
        }
        Ok(match filter {
            Filter::And(a, b) => self.condition(a)?.and(self.condition(b)?),
            Filter::Or(a, b) => self.condition(a)?.or(self.condition(b)?),
            Filter::Not(inner) => self.condition(inner)?.not(),
            Filter::Present(path) => match self.target(path)? {
                GroupAttr::ExternalId => Self::column(scim_group::Column::ExternalId).is_not_null(),
                GroupAttr::Members => Expr::exists(self.members(None)),
                _ => always(true),
            },
            Filter::Compare(path, op, literal) => self.compare(path, *op, literal)?,
            Filter::ValuePath(path, inner) => {
                if self.target(path)? != GroupAttr::Members {
                    return Err(invalid("only members has sub-attributes"));
                }
                match inner.as_ref() {
                    Filter::Compare(p, CompareOp::Eq, Literal::String(id))
                        if p.attr.eq_ignore_ascii_case("value")
                            && p.sub.is_none()
                            && p.urn.is_none() =>
                    {
                        self.member_is(id)
                    }
                    _ => return Err(invalid("members filters support value eq only")),
                }
            }
        })
    }

    fn target(&self, path: &AttrPath) -> Result<GroupAttr, ScimError> {
        let unknown = || invalid(format!("Groups cannot be filtered on '{}'", path.attr));
        Ok(
            match resolve(ResourceKind::Group, path).ok_or_else(unknown)? {
                Resolved::Common(Common::Id) => GroupAttr::Id,
                Resolved::Common(Common::ExternalId) => GroupAttr::ExternalId,
                Resolved::Common(Common::Created) => GroupAttr::Created,
                Resolved::Common(Common::LastModified) => GroupAttr::LastModified,
                Resolved::Schema {
                    attr, sub: None, ..
                } if attr.name == "displayName" => GroupAttr::DisplayName,
                Resolved::Schema { attr, sub, .. }
                    if attr.name == "members" && sub.is_none_or(|s| s.name == "value") =>
                {
                    GroupAttr::Members
                }
                _ => return Err(unknown()),
            },
        )
    }

    fn members(&self, user: Option<uuid::Uuid>) -> SelectStatement {
        let mut select = Query::select()
            .expr(Expr::val(1))
            .from(scim_group_member::Entity)
            .inner_join(
                scim_user::Entity,
                Expr::col((scim_user::Entity, scim_user::Column::UserId))
                    .equals((scim_group_member::Entity, scim_group_member::Column::UserId))
                    .and(
                        Expr::col((scim_user::Entity, scim_user::Column::OrgId))
                            .equals((scim_group_member::Entity, scim_group_member::Column::OrgId)),
                    ),
            )
            .and_where(
                Expr::col((
                    scim_group_member::Entity,
                    scim_group_member::Column::GroupId,
                ))
                .equals((scim_group::Entity, scim_group::Column::Id)),
            )
            .and_where(
                Expr::col((scim_group_member::Entity, scim_group_member::Column::OrgId))
                    .eq(self.org),
            )
            .to_owned();
        if let Some(user) = user {
            select.and_where(Expr::col((scim_user::Entity, scim_user::Column::Id)).eq(user));
        }
        select
    }

    fn member_is(&self, id: &str) -> Expr {
        match id.parse::<uuid::Uuid>() {
            Ok(user) => Expr::exists(self.members(Some(user))),
            Err(_) => always(false),
        }
    }

    fn compare(
        &self,
        path: &AttrPath,
        op: CompareOp,
        literal: &Literal,
    ) -> Result<Expr, ScimError> {
        let target = self.target(path)?;
        if matches!(literal, Literal::Null) {
            let present = self.condition(&Filter::Present(path.clone()))?;
            return match op {
                CompareOp::Eq => Ok(present.not()),
                CompareOp::Ne => Ok(present),
                _ => Err(invalid("null compares with eq and ne only")),
            };
        }
        match target {
            GroupAttr::Id => {
                let text = string_literal("id", literal)?;
                let Ok(id) = text.parse::<uuid::Uuid>() else {
                    return Ok(always(op == CompareOp::Ne));
                };
                ordered(Self::column(scim_group::Column::Id), op, id)
            }
            GroupAttr::ExternalId => Ok(text_op(
                Self::column(scim_group::Column::ExternalId),
                op,
                string_literal("externalId", literal)?.to_owned(),
            )),
            GroupAttr::DisplayName => Ok(text_op(
                Self::column(scim_group::Column::DisplayNameNorm),
                op,
                string_literal("displayName", literal)?.to_lowercase(),
            )),
            GroupAttr::Created => ordered(
                Self::column(scim_group::Column::CreatedAt),
                op,
                time_literal("meta.created", literal)?,
            ),
            GroupAttr::LastModified => ordered(
                Self::column(scim_group::Column::UpdatedAt),
                op,
                time_literal("meta.lastModified", literal)?,
            ),
            GroupAttr::Members => match (op, literal) {
                (CompareOp::Eq, Literal::String(id)) => Ok(self.member_is(id)),
                (CompareOp::Ne, Literal::String(id)) => Ok(self.member_is(id).not()),
                _ => Err(invalid("members compares with eq or ne and a user id")),
            },
        }
    }

    /// The order a `sortBy` asks for.
    pub fn sort(&self, path: &AttrPath) -> Result<Sort, ScimError> {
        Ok(match self.target(path)? {
            GroupAttr::ExternalId => Sort::Other(Self::column(scim_group::Column::ExternalId)),
            GroupAttr::DisplayName => Sort::Column(
                Self::column(scim_group::Column::DisplayNameNorm),
                SortField::Name,
            ),
            GroupAttr::Created => Sort::Column(
                Self::column(scim_group::Column::CreatedAt),
                SortField::Created,
            ),
            GroupAttr::LastModified => Sort::Column(
                Self::column(scim_group::Column::UpdatedAt),
                SortField::LastModified,
            ),
            GroupAttr::Id | GroupAttr::Members => Sort::Id,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GroupAttr {
    Id,
    ExternalId,
    DisplayName,
    Created,
    LastModified,
    Members,
}

/// Whether a path names a User's `groups` (read-only: memberships, not stored values).
pub(super) fn names_groups(path: &AttrPath) -> bool {
    matches!(
        resolve(ResourceKind::User, path),
        Some(Resolved::Schema { attr, .. }) if attr.name == "groups"
    )
}

/// Filters on the groups of Users: `groups` and `groups.value` compare the group's id,
/// `groups.display` its name (case-insensitively).
pub(super) struct UserGroupSql {
    pub org: OrgId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GroupField {
    Value,
    Display,
}

impl UserGroupSql {
    fn field(path: &AttrPath) -> Result<GroupField, ScimError> {
        let sub = match resolve(ResourceKind::User, path) {
            Some(Resolved::Schema { sub, .. }) => sub,
            _ => None,
        };
        match sub.map(|s| s.name) {
            None | Some("value") => Ok(GroupField::Value),
            Some("display") => Ok(GroupField::Display),
            Some(other) => Err(invalid(format!("groups.{other} cannot be filtered"))),
        }
    }

    /// Users with a membership whose group (alias `g`) meets `condition`.
    fn members_where(&self, condition: Expr) -> Expr {
        let m = Alias::new("m");
        let g = Alias::new("g");
        let select: SelectStatement = Query::select()
            .column((m.clone(), scim_group_member::Column::UserId))
            .from_as(scim_group_member::Entity, m.clone())
            .join_as(
                JoinType::InnerJoin,
                scim_group::Entity,
                g.clone(),
                Expr::col((g.clone(), scim_group::Column::Id))
                    .equals((m.clone(), scim_group_member::Column::GroupId)),
            )
            .and_where(Expr::col((m, scim_group_member::Column::OrgId)).eq(self.org))
            .and_where(Expr::col((g, scim_group::Column::OrgId)).eq(self.org))
            .and_where(condition)
            .to_owned();
        Expr::col((scim_user::Entity, scim_user::Column::UserId)).in_subquery(select)
    }

    /// The condition one group (alias `g`) meets for `field op literal`.
    fn group_condition(
        field: GroupField,
        op: CompareOp,
        literal: &Literal,
    ) -> Result<Expr, ScimError> {
        let g = Alias::new("g");
        let text = string_literal("groups", literal)?;
        Ok(match field {
            GroupField::Value => {
                let Ok(id) = text.parse::<uuid::Uuid>() else {
                    return Ok(always(op == CompareOp::Ne));
                };
                let column = Expr::col((g, scim_group::Column::Id));
                match op {
                    CompareOp::Eq => column.eq(id),
                    CompareOp::Ne => column.ne(id),
                    _ => return Err(invalid("groups.value compares with eq and ne only")),
                }
            }
            GroupField::Display => text_op(
                Expr::col((g, scim_group::Column::DisplayNameNorm)),
                op,
                text.to_lowercase(),
            ),
        })
    }

    /// `groups pr`: members of some group.
    pub fn present(&self, path: &AttrPath) -> Result<Expr, ScimError> {
        Self::field(path)?;
        Ok(self.members_where(always(true)))
    }

    /// `groups.value eq "…"`; `ne` means no group of the user matches.
    pub fn compare(
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
        let field = Self::field(path)?;
        Ok(match op {
            CompareOp::Ne => self
                .members_where(Self::group_condition(field, CompareOp::Eq, literal)?)
                .not(),
            _ => self.members_where(Self::group_condition(field, op, literal)?),
        })
    }

    /// `groups[display sw "Eng" and not (value eq "…")]`: one group meets all of it.
    pub fn value_path(&self, inner: &Filter) -> Result<Expr, ScimError> {
        Ok(self.members_where(Self::item_condition(inner)?))
    }

    fn item_condition(filter: &Filter) -> Result<Expr, ScimError> {
        let sub = |path: &AttrPath| {
            if path.urn.is_some() || path.sub.is_some() {
                return Err(invalid("a value filter names sub-attributes only"));
            }
            match path.attr.to_ascii_lowercase().as_str() {
                "value" => Ok(GroupField::Value),
                "display" => Ok(GroupField::Display),
                other => Err(invalid(format!("groups.{other} cannot be filtered"))),
            }
        };
        Ok(match filter {
            Filter::And(a, b) => Self::item_condition(a)?.and(Self::item_condition(b)?),
            Filter::Or(a, b) => Self::item_condition(a)?.or(Self::item_condition(b)?),
            Filter::Not(inner) => Self::item_condition(inner)?.not(),
            Filter::Present(path) => {
                sub(path)?;
                always(true)
            }
            Filter::Compare(path, op, literal) => Self::group_condition(sub(path)?, *op, literal)?,
            Filter::ValuePath(..) => return Err(invalid("value filters cannot nest")),
        })
    }
}
