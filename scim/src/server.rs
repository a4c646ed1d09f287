//! The protocol operations over a storage trait: create, get, replace, patch, delete and list
//! for each resource type, with ETag preconditions and retries of lost optimistic races. The
//! storage (the broker) owns persistence, uniqueness, SQL for filters and side effects.

use std::future::Future;

use serde_json::Value;

use crate::error::{ScimError, ScimType};
use crate::patch::{MemberDelta, PatchOperation, apply, member_delta, parse_patch};
use crate::query::{ListQuery, list_response};
use crate::resource::{Projection, ResourceKind, Stored, normalize, render, render_owned, resolve};

/// How often a PATCH without `If-Match` is retried when another writer changed the resource
/// between its read and its write.
const PATCH_ATTEMPTS: usize = 32;

/// A change to write.
#[derive(Debug, Clone)]
pub enum Change {
    /// The whole document; for a Group, `members` in the document is written only when
    /// `members_included` (otherwise the stored members stay as they are).
    Document {
        /// The new document.
        doc: Value,
        /// Whether `doc.members` is the complete new member list.
        members_included: bool,
    },
    /// Member rows to add and remove (Group only).
    Members(MemberDelta),
}

/// What a read needs besides the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// Whether a Group's `members` (and a User's `groups`) are loaded.
    pub relations: bool,
}

/// The storage a SCIM endpoint needs, for one organization's directory. Implementations
/// return [`ScimError`]s with status 404 (unknown id), 409 `uniqueness` and 412 (version
/// mismatch).
pub trait ResourceStore {
    /// Stores a new resource (canonical document) and applies its effects.
    fn insert(
        &self,
        kind: ResourceKind,
        doc: Value,
    ) -> impl Future<Output = Result<Stored, ScimError>>;
    /// One resource, or `None`.
    fn fetch(
        &self,
        kind: ResourceKind,
        id: &str,
        load: Load,
    ) -> impl Future<Output = Result<Option<Stored>, ScimError>>;
    /// Writes a change if the stored version still equals `expected` (when given).
    fn update(
        &self,
        kind: ResourceKind,
        id: &str,
        expected: Option<i64>,
        change: Change,
    ) -> impl Future<Output = Result<Stored, ScimError>>;
    /// Deletes a resource if the stored version still equals `expected` (when given).
    fn delete(
        &self,
        kind: ResourceKind,
        id: &str,
        expected: Option<i64>,
    ) -> impl Future<Output = Result<(), ScimError>>;
    /// One page of a query and the total number of matches.
    fn query(
        &self,
        kind: ResourceKind,
        query: &ListQuery,
        load: Load,
    ) -> impl Future<Output = Result<(u64, Vec<Stored>), ScimError>>;
}

/// An `If-Match` precondition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMatch {
    /// No header, or `*`.
    Any,
    /// `W/"7"` (or `"7"`).
    Version(i64),
}

impl IfMatch {
    /// Reads the header; a tag that is not one of ours can never match (412).
    pub fn parse(header: Option<&str>) -> Self {
        let Some(raw) = header.map(str::trim) else {
            return Self::Any;
        };
        if raw == "*" || raw.is_empty() {
            return Self::Any;
        }
        let tag = raw.strip_prefix("W/").unwrap_or(raw).trim_matches('"');
        Self::Version(tag.parse().unwrap_or(-1))
    }

    fn expected(self) -> Option<i64> {
        match self {
            Self::Any => None,
            Self::Version(v) => Some(v),
        }
    }
}

/// The 404 every operation gives for an unknown id.
pub fn not_found(kind: ResourceKind, id: &str) -> ScimError {
    ScimError::new(404, format!("{} '{id}' not found", kind.name()))
}

/// A 412 for a stale `If-Match`.
pub fn version_mismatch() -> ScimError {
    ScimError::new(
        412,
        "the resource changed since the version named in If-Match",
    )
}

fn relations_wanted(kind: ResourceKind, projection: &Projection) -> bool {
    let name = match kind {
        ResourceKind::User => "groups",
        ResourceKind::Group => "members",
    };
    let named =
        |list: &[crate::filter::AttrPath]| list.iter().any(|p| p.attr.eq_ignore_ascii_case(name));
    if !projection.attributes.is_empty() {
        return named(&projection.attributes);
    }
    !named(&projection.excluded)
}

/// The SCIM operations of one directory, answered with rendered JSON.
#[derive(Debug)]
pub struct Server<'a, S> {
    store: &'a S,
    base: &'a str,
}

impl<'a, S: ResourceStore> Server<'a, S> {
    /// Serves `store` under the SCIM base URL `base`.
    pub fn new(store: &'a S, base: &'a str) -> Self {
        Self { store, base }
    }

    fn render(&self, kind: ResourceKind, stored: &Stored, projection: &Projection) -> Value {
        render(kind, stored, self.base, projection)
    }

    /// POST `/{kind}`.
    pub async fn create(
        &self,
        kind: ResourceKind,
        body: &Value,
        projection: &Projection,
    ) -> Result<(Stored, Value), ScimError> {
        let doc = normalize(kind, body)?;
        let stored = self.store.insert(kind, doc).await?;
        let out = self.render(kind, &stored, projection);
        Ok((stored, out))
    }

    /// GET `/{kind}/{id}`.
    pub async fn get(
        &self,
        kind: ResourceKind,
        id: &str,
        projection: &Projection,
    ) -> Result<(Stored, Value), ScimError> {
        let load = Load {
            relations: relations_wanted(kind, projection),
        };
        let stored = self
            .store
            .fetch(kind, id, load)
            .await?
            .ok_or_else(|| not_found(kind, id))?;
        let out = self.render(kind, &stored, projection);
        Ok((stored, out))
    }

    /// PUT `/{kind}/{id}`: replaces every writable attribute.
    pub async fn replace(
        &self,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        if_match: IfMatch,
        projection: &Projection,
    ) -> Result<(Stored, Value), ScimError> {
        let doc = normalize(kind, body)?;
        let members_included = kind == ResourceKind::Group;
        let stored = self
            .store
            .update(
                kind,
                id,
                if_match.expected(),
                Change::Document {
                    doc,
                    members_included,
                },
            )
            .await?;
        let out = self.render(kind, &stored, projection);
        Ok((stored, out))
    }

    /// PATCH `/{kind}/{id}`. Answers the resource, or `None` (204 No Content, RFC 7644
    /// §3.5.2) when a Group's members were asked for and are more than a response carries.
    pub async fn patch(
        &self,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        if_match: IfMatch,
        projection: &Projection,
    ) -> Result<(Stored, Option<Value>), ScimError> {
        let operations = parse_patch(body)?;
        if kind == ResourceKind::Group
            && let Some(delta) = member_delta(&operations)
        {
            let stored = self
                .store
                .update(kind, id, if_match.expected(), Change::Members(delta))
                .await?;
            return self.patched(kind, stored, false, projection).await;
        }
        let relations = touches_relations(&operations);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let current = self
                .store
                .fetch(kind, id, Load { relations })
                .await
                .map_err(member_list_too_large)?
                .ok_or_else(|| not_found(kind, id))?;
            if let IfMatch::Version(v) = if_match
                && v != current.version
            {
                return Err(version_mismatch());
            }
            let mut doc = current.doc.clone();
            apply(kind, &mut doc, &operations)?;
            let members_included = relations && kind == ResourceKind::Group;
            let change = Change::Document {
                doc,
                members_included,
            };
            match self
                .store
                .update(kind, id, Some(current.version), change)
                .await
            {
                Err(e)
                    if e.status == 412 && if_match == IfMatch::Any && attempt < PATCH_ATTEMPTS =>
                {
                    continue;
                }
                Err(e) => return Err(e),
                Ok(stored) => {
                    return self
                        .patched(kind, stored, members_included, projection)
                        .await;
                }
            }
        }
    }

    /// The answer to a PATCH: a Group written without its member list is read again when
    /// the response shows members; too many of them to show answer no body.
    async fn patched(
        &self,
        kind: ResourceKind,
        stored: Stored,
        members_known: bool,
        projection: &Projection,
    ) -> Result<(Stored, Option<Value>), ScimError> {
        if kind == ResourceKind::User || members_known || !relations_wanted(kind, projection) {
            let out = self.render(kind, &stored, projection);
            return Ok((stored, Some(out)));
        }
        match self
            .store
            .fetch(kind, &stored.id, Load { relations: true })
            .await
        {
            Ok(Some(fresh)) => {
                let out = self.render(kind, &fresh, projection);
                Ok((fresh, Some(out)))
            }
            Ok(None) => Ok((stored, None)),
            Err(e) if e.scim_type == Some(ScimType::TooMany) => Ok((stored, None)),
            Err(e) => Err(e),
        }
    }

    /// DELETE `/{kind}/{id}`.
    pub async fn delete(
        &self,
        kind: ResourceKind,
        id: &str,
        if_match: IfMatch,
    ) -> Result<(), ScimError> {
        self.store.delete(kind, id, if_match.expected()).await
    }

    /// GET `/{kind}` and POST `/{kind}/.search`.
    pub async fn list(&self, kind: ResourceKind, query: &ListQuery) -> Result<Value, ScimError> {
        let load = Load {
            relations: relations_wanted(kind, &query.projection),
        };
        let (total, page) = self.store.query(kind, query, load).await?;
        let resources = page
            .into_iter()
            .map(|stored| render_owned(kind, stored, self.base, &query.projection))
            .collect();
        Ok(list_response(total, query.start_index, resources))
    }

    /// POST `/.search` at the server root: the Users that match, then the Groups, as one list
    /// (`sortBy` orders each of the two), paged across both.
    pub async fn search_all(&self, query: &ListQuery) -> Result<Value, ScimError> {
        // A sort on an attribute one of the types lacks leaves that type in id order.
        let sort_for = |kind| {
            query
                .sort_by
                .clone()
                .filter(|path| resolve(kind, path).is_some())
        };
        let users = ListQuery {
            all_types: true,
            sort_by: sort_for(ResourceKind::User),
            ..query.clone()
        };
        let load = |kind| Load {
            relations: relations_wanted(kind, &query.projection),
        };
        let (user_total, user_page) = self
            .store
            .query(ResourceKind::User, &users, load(ResourceKind::User))
            .await?;
        let groups = ListQuery {
            start_index: query.start_index.saturating_sub(user_total).max(1),
            count: query.count - user_page.len() as u64,
            sort_by: sort_for(ResourceKind::Group),
            ..users
        };
        let (group_total, group_page) = self
            .store
            .query(ResourceKind::Group, &groups, load(ResourceKind::Group))
            .await?;
        let render = |kind, page: Vec<Stored>| {
            page.into_iter()
                .map(move |stored| render_owned(kind, stored, self.base, &query.projection))
        };
        let resources = render(ResourceKind::User, user_page)
            .chain(render(ResourceKind::Group, group_page))
            .collect();
        Ok(list_response(
            user_total + group_total,
            query.start_index,
            resources,
        ))
    }
}

/// A PATCH that needs the whole member list of a group larger than a response carries.
fn member_list_too_large(error: ScimError) -> ScimError {
    match error.scim_type {
        Some(ScimType::TooMany) => ScimError::typed(
            ScimType::TooMany,
            "this PATCH rewrites the member list, which is larger than the server rewrites at \
             once: send member changes as add and remove operations on members alone",
        ),
        _ => error,
    }
}

fn touches_relations(operations: &[PatchOperation]) -> bool {
    operations.iter().any(|op| match &op.path {
        Some(path) => path.attr.attr.eq_ignore_ascii_case("members"),
        None => op
            .value
            .as_ref()
            .and_then(Value::as_object)
            .is_some_and(|m| {
                m.keys()
                    .any(|k| k.to_ascii_lowercase().starts_with("members"))
            }),
    })
}
