//! Resources as JSON documents checked against their schemas: the kinds served, how an
//! attribute path resolves, how a request body becomes the canonical stored document, and how a
//! stored document becomes a response (with `meta`, and `attributes`/`excludedAttributes`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::error::{ScimError, ScimType};
use crate::filter::AttrPath;
use crate::schema::{
    AttrType, AttributeDef, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, Mutability, Returned, SchemaDef,
    USER_SCHEMA,
};

/// The resource types served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// `/Users`
    User,
    /// `/Groups`
    Group,
}

impl ResourceKind {
    /// The resource type's name (`User`).
    pub fn name(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Group => "Group",
        }
    }

    /// The collection's path segment (`Users`).
    pub fn endpoint(self) -> &'static str {
        match self {
            Self::User => "Users",
            Self::Group => "Groups",
        }
    }

    /// The core schema.
    pub fn schema(self) -> &'static SchemaDef {
        match self {
            Self::User => &USER_SCHEMA,
            Self::Group => &GROUP_SCHEMA,
        }
    }

    /// Schema extensions the type accepts.
    pub fn extensions(self) -> &'static [&'static SchemaDef] {
        match self {
            Self::User => &[&ENTERPRISE_USER_SCHEMA],
            Self::Group => &[],
        }
    }

    fn extension(self, urn: &str) -> Option<&'static SchemaDef> {
        self.extensions()
            .iter()
            .copied()
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }
}

/// The attributes every resource has besides its schema's (RFC 7643 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Common {
    /// `id`
    Id,
    /// `externalId`
    ExternalId,
    /// `meta.created`
    Created,
    /// `meta.lastModified`
    LastModified,
    /// `meta.version`, `meta.resourceType`, `meta.location`, `meta` itself
    OtherMeta,
}

/// What an attribute path names.
#[derive(Debug, Clone, Copy)]
pub enum Resolved {
    /// A common attribute.
    Common(Common),
    /// An attribute of the core schema or of an extension.
    Schema {
        /// The schema that defines it.
        schema: &'static SchemaDef,
        /// The attribute.
        attr: &'static AttributeDef,
        /// The sub-attribute, when the path named one.
        sub: Option<&'static AttributeDef>,
    },
}

impl Resolved {
    /// The definition whose type and case rules apply to a comparison (the sub-attribute when
    /// named, else the attribute; for a multi-valued complex attribute, its `value`).
    pub fn leaf(&self) -> Option<&'static AttributeDef> {
        match *self {
            Self::Common(_) => None,
            Self::Schema { attr, sub, .. } => match sub {
                Some(sub) => Some(sub),
                None if attr.is_complex() => attr.sub("value"),
                None => Some(attr),
            },
        }
    }

    /// Whether the path lies in an extension (stored under the extension's URN).
    pub fn extension(&self) -> Option<&'static str> {
        match *self {
            Self::Schema { schema, .. }
                if schema.id != USER_SCHEMA.id && schema.id != GROUP_SCHEMA.id =>
            {
                Some(schema.id)
            }
            _ => None,
        }
    }

    /// A canonical lower-case key naming the path (`emails.value`,
    /// `urn:…:enterprise:2.0:user:department`), for storage indexes.
    pub fn key(&self) -> String {
        let raw = match *self {
            Self::Common(Common::Id) => "id".to_owned(),
            Self::Common(Common::ExternalId) => "externalId".to_owned(),
            Self::Common(Common::Created) => "meta.created".to_owned(),
            Self::Common(Common::LastModified) => "meta.lastModified".to_owned(),
            Self::Common(Common::OtherMeta) => "meta".to_owned(),
            Self::Schema { attr, sub, .. } => {
                let prefix = self
                    .extension()
                    .map(|u| format!("{u}:"))
                    .unwrap_or_default();
                match sub {
                    Some(sub) => format!("{prefix}{}.{}", attr.name, sub.name),
                    None => format!("{prefix}{}", attr.name),
                }
            }
        };
        raw.to_ascii_lowercase()
    }
}

/// Resolves a path against a resource type; `None` when it names nothing the type has.
pub fn resolve(kind: ResourceKind, path: &AttrPath) -> Option<Resolved> {
    let schema = match &path.urn {
        None => kind.schema(),
        Some(urn) if urn.eq_ignore_ascii_case(kind.schema().id) => kind.schema(),
        Some(urn) => kind.extension(urn)?,
    };
    if path.urn.is_none() || schema.id == kind.schema().id {
        let common = match (path.attr.to_ascii_lowercase().as_str(), path.sub.as_deref()) {
            ("id", None) => Some(Common::Id),
            ("externalid", None) => Some(Common::ExternalId),
            ("meta", None) => Some(Common::OtherMeta),
            ("meta", Some(sub)) => Some(match sub.to_ascii_lowercase().as_str() {
                "created" => Common::Created,
                "lastmodified" => Common::LastModified,
                "version" | "resourcetype" | "location" => Common::OtherMeta,
                _ => return None,
            }),
            _ => None,
        };
        if let Some(common) = common {
            return Some(Resolved::Common(common));
        }
    }
    let attr = schema.attribute(&path.attr)?;
    let sub = match &path.sub {
        Some(name) => Some(attr.sub(name)?),
        None => None,
    };
    Some(Resolved::Schema { schema, attr, sub })
}

/// A stored resource: the canonical document (without `id`, `schemas` and `meta`) and its
/// bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// The resource's `id`.
    pub id: String,
    /// Attributes by canonical name; an extension's under its URN.
    pub doc: Value,
    /// `meta.created`.
    pub created: DateTime<Utc>,
    /// `meta.lastModified`.
    pub last_modified: DateTime<Utc>,
    /// Incremented on every change; `meta.version` is `W/"{version}"`.
    pub version: i64,
}

impl Stored {
    /// The ETag (`meta.version`).
    pub fn etag(&self) -> String {
        etag(self.version)
    }
}

/// The weak ETag of a version.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

fn invalid_value(path: &str, detail: impl std::fmt::Display) -> ScimError {
    ScimError::typed(ScimType::InvalidValue, format!("{path}: {detail}"))
}

/// Turns a request body into the canonical document: names in schema case, extensions under
/// their URN, booleans sent as strings ("True") made booleans, read-only and unknown attributes
/// dropped, the password discarded, types checked, required attributes present.
pub fn normalize(kind: ResourceKind, body: &Value) -> Result<Value, ScimError> {
    let Value::Object(input) = body else {
        return Err(ScimError::typed(
            ScimType::InvalidSyntax,
            "the request body must be a JSON object",
        ));
    };
    let mut doc = Map::new();
    for (key, value) in input {
        set_top_level(kind, &mut doc, key, value)?;
    }
    let doc = Value::Object(doc);
    check_required(kind, &doc)?;
    Ok(doc)
}

/// Checks that every required attribute of the core schema has a value.
pub fn check_required(kind: ResourceKind, doc: &Value) -> Result<(), ScimError> {
    for attr in kind.schema().attributes.iter().filter(|a| a.required) {
        if doc.get(attr.name).is_none_or(Value::is_null) {
            return Err(invalid_value(attr.name, "is required"));
        }
    }
    Ok(())
}

fn set_top_level(
    kind: ResourceKind,
    doc: &mut Map<String, Value>,
    key: &str,
    value: &Value,
) -> Result<(), ScimError> {
    let lower = key.to_ascii_lowercase();
    if matches!(lower.as_str(), "schemas" | "id" | "meta") {
        return Ok(());
    }
    if lower == "externalid" {
        match value {
            Value::Null => {
                doc.remove("externalId");
            }
            Value::String(s) => {
                doc.insert("externalId".to_owned(), Value::String(s.clone()));
            }
            _ => return Err(invalid_value("externalId", "must be a string")),
        }
        return Ok(());
    }
    if let Some(ext) = kind.extension(key) {
        let Value::Object(fields) = value else {
            if value.is_null() {
                return Ok(());
            }
            return Err(invalid_value(ext.id, "must be an object"));
        };
        let mut out = Map::new();
        for (name, v) in fields {
            if let Some(attr) = ext.attribute(name)
                && let Some(v) = normalize_attribute(attr, v, attr.name)?
            {
                out.insert(attr.name.to_owned(), v);
            }
        }
        if !out.is_empty() {
            doc.insert(ext.id.to_owned(), Value::Object(out));
        }
        return Ok(());
    }
    let Some(attr) = kind.schema().attribute(key) else {
        // Unknown attributes (a client's custom extension) are ignored, as most providers do.
        return Ok(());
    };
    if let Some(v) = normalize_attribute(attr, value, attr.name)? {
        doc.insert(attr.name.to_owned(), v);
    } else {
        doc.remove(attr.name);
    }
    Ok(())
}

/// Normalizes one attribute's value; `None` when it ends up unassigned (null, empty, read-only
/// or write-only).
pub fn normalize_attribute(
    attr: &AttributeDef,
    value: &Value,
    path: &str,
) -> Result<Option<Value>, ScimError> {
    if matches!(
        attr.mutability,
        Mutability::ReadOnly | Mutability::WriteOnly
    ) || value.is_null()
    {
        return Ok(None);
    }
    if !attr.multi_valued {
        return normalize_single(attr, value, path);
    }
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    let mut seen_primary = false;
    for item in items {
        let Some(mut item) = normalize_single(attr, item, path)? else {
            continue;
        };
        if let Some(primary) = item.get_mut("primary")
            && primary == &Value::Bool(true)
        {
            // "true" may appear once (RFC 7643 §2.4); later ones are demoted.
            if seen_primary {
                *primary = Value::Bool(false);
            }
            seen_primary = true;
        }
        if !out.contains(&item) {
            out.push(item);
        }
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

fn normalize_single(
    attr: &AttributeDef,
    value: &Value,
    path: &str,
) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    if !attr.is_complex() {
        return normalize_scalar(attr, value, path).map(Some);
    }
    let wrapped;
    let fields = match value {
        Value::Object(fields) => fields,
        // Entra ID sets the enterprise manager as a bare id: it is the `value`.
        Value::String(_) if attr.sub("value").is_some() => {
            wrapped = Map::from_iter([("value".to_owned(), value.clone())]);
            &wrapped
        }
        _ => return Err(invalid_value(path, "must be an object")),
    };
    let mut out = Map::new();
    for (name, v) in fields {
        let Some(sub) = attr.sub(name) else { continue };
        if sub.mutability == Mutability::ReadOnly || v.is_null() {
            continue;
        }
        let sub_path = format!("{path}.{}", sub.name);
        out.insert(sub.name.to_owned(), normalize_scalar(sub, v, &sub_path)?);
    }
    Ok((!out.is_empty()).then_some(Value::Object(out)))
}

/// Checks and converts a scalar value to the attribute's type.
pub fn normalize_scalar(
    attr: &AttributeDef,
    value: &Value,
    path: &str,
) -> Result<Value, ScimError> {
    let wrong = |expected: &str| invalid_value(path, format!("must be {expected}"));
    match attr.kind {
        AttrType::String | AttrType::Reference => match value {
            Value::String(_) => Ok(value.clone()),
            _ => Err(wrong("a string")),
        },
        AttrType::Boolean => match value {
            Value::Bool(_) => Ok(value.clone()),
            // Entra ID sends booleans as "True"/"False".
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(wrong("a boolean")),
        },
        AttrType::Integer => match value {
            Value::Number(n) if n.is_i64() => Ok(value.clone()),
            _ => Err(wrong("an integer")),
        },
        AttrType::Decimal => match value {
            Value::Number(_) => Ok(value.clone()),
            _ => Err(wrong("a number")),
        },
        AttrType::DateTime => match value {
            Value::String(s) => DateTime::parse_from_rfc3339(s)
                .map(|_| value.clone())
                .map_err(|_| wrong("an RFC 3339 date-time")),
            _ => Err(wrong("an RFC 3339 date-time string")),
        },
        AttrType::Binary => match value {
            Value::String(s) if is_base64(s) => Ok(value.clone()),
            _ => Err(wrong("base64")),
        },
        AttrType::Complex => Err(wrong("a simple value")),
    }
}

fn is_base64(s: &str) -> bool {
    let trimmed = s.trim_end_matches('=');
    s.len() - trimmed.len() <= 2
        && trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'))
}

/// Which attributes a response carries (RFC 7644 §3.9).
#[derive(Debug, Clone, Default)]
pub struct Projection {
    /// `attributes`: only these (plus those always returned).
    pub attributes: Vec<AttrPath>,
    /// `excludedAttributes`: all but these.
    pub excluded: Vec<AttrPath>,
}

impl Projection {
    /// Parses the comma-separated query parameters.
    pub fn parse(attributes: Option<&str>, excluded: Option<&str>) -> Result<Self, ScimError> {
        Ok(Self {
            attributes: parse_list(attributes)?,
            excluded: parse_list(excluded)?,
        })
    }
}

fn parse_list(raw: Option<&str>) -> Result<Vec<AttrPath>, ScimError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            crate::filter::parse_patch_path(s).and_then(|p| match p.filter {
                None => Ok(p.attr),
                Some(_) => Err(ScimError::typed(
                    ScimType::InvalidValue,
                    format!("'{s}' is not an attribute name"),
                )),
            })
        })
        .collect()
}

/// Renders a stored resource as a response, under `base` (the SCIM base URL).
pub fn render(kind: ResourceKind, stored: &Stored, base: &str, projection: &Projection) -> Value {
    render_owned(kind, stored.clone(), base, projection)
}

/// [`render`], consuming the stored resource (a list renders each once).
pub fn render_owned(
    kind: ResourceKind,
    stored: Stored,
    base: &str,
    projection: &Projection,
) -> Value {
    let location = format!("{base}/{}/{}", kind.endpoint(), stored.id);
    let mut schemas = vec![Value::String(kind.schema().id.to_owned())];
    let mut out = Map::new();
    let meta = json!({
        "resourceType": kind.name(),
        "created": stored.created.to_rfc3339_opts(SecondsFormat::Millis, true),
        "lastModified": stored.last_modified.to_rfc3339_opts(SecondsFormat::Millis, true),
        "version": stored.etag(),
        "location": location,
    });
    if let Value::Object(doc) = stored.doc {
        for (key, value) in doc {
            if let Some(ext) = kind.extension(&key) {
                schemas.push(Value::String(ext.id.to_owned()));
            }
            let value = with_refs(kind, &key, value, base);
            out.insert(key, value);
        }
    }
    out.insert("id".to_owned(), Value::String(stored.id));
    out.insert("meta".to_owned(), meta);
    let mut out = Value::Object(out);
    project(kind, &mut out, projection);
    if let Value::Object(map) = &mut out {
        map.insert("schemas".to_owned(), Value::Array(schemas));
    }
    out
}

/// Adds `$ref` to group members and a user's groups.
fn with_refs(kind: ResourceKind, key: &str, mut value: Value, base: &str) -> Value {
    let target = match (kind, key) {
        (ResourceKind::Group, "members") => "Users",
        (ResourceKind::User, "groups") => "Groups",
        _ => return value,
    };
    if let Value::Array(items) = &mut value {
        for item in items {
            if let Some(id) = item.get("value").and_then(Value::as_str) {
                let reference = format!("{base}/{target}/{id}");
                if let Value::Object(fields) = item {
                    fields.insert("$ref".to_owned(), Value::String(reference));
                }
            }
        }
    }
    value
}

/// How a top-level attribute of a stored document is returned (common attributes and
/// extensions: by default). Called for every attribute of every resource rendered, so it
/// looks the name up without building a path.
fn returned_of(kind: ResourceKind, key: &str) -> Returned {
    if key == "id" {
        return Returned::Always;
    }
    kind.schema()
        .attribute(key)
        .map_or(Returned::Default, |attr| attr.returned)
}

fn project(kind: ResourceKind, out: &mut Value, projection: &Projection) {
    let Value::Object(map) = out else { return };
    map.retain(|key, _| returned_of(kind, key) != Returned::Never);
    if !projection.attributes.is_empty() {
        let wanted: Vec<Resolved> = projection
            .attributes
            .iter()
            .filter_map(|p| resolve(kind, p))
            .collect();
        keep_only(kind, map, &wanted);
    } else if !projection.excluded.is_empty() {
        for path in &projection.excluded {
            if let Some(resolved) = resolve(kind, path) {
                remove_path(map, &resolved);
            }
        }
    }
}

/// Where a resolved path lives in a document: the object holding it and its key.
fn container<'a>(
    map: &'a mut Map<String, Value>,
    resolved: &Resolved,
) -> Option<&'a mut Map<String, Value>> {
    match resolved.extension() {
        Some(urn) => map.get_mut(urn)?.as_object_mut(),
        None => Some(map),
    }
}

fn remove_path(map: &mut Map<String, Value>, resolved: &Resolved) {
    let (attr, sub) = match *resolved {
        Resolved::Common(Common::ExternalId) => {
            map.remove("externalId");
            return;
        }
        Resolved::Common(_) => return,
        Resolved::Schema { attr, sub, .. } => (attr, sub),
    };
    if attr.returned == Returned::Always {
        return;
    }
    let Some(holder) = container(map, resolved) else {
        return;
    };
    match sub {
        None => {
            holder.remove(attr.name);
        }
        Some(sub) => match holder.get_mut(attr.name) {
            Some(Value::Object(fields)) => {
                fields.remove(sub.name);
            }
            Some(Value::Array(items)) => {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    item.remove(sub.name);
                }
            }
            _ => {}
        },
    }
}

fn keep_only(kind: ResourceKind, map: &mut Map<String, Value>, wanted: &[Resolved]) {
    let mut kept = Map::new();
    for (key, value) in std::mem::take(map) {
        if key == "id" || key == "meta" && wanted.iter().any(|w| matches!(w, Resolved::Common(_))) {
            kept.insert(key, value);
            continue;
        }
        if key == "externalId" {
            if wanted
                .iter()
                .any(|w| matches!(w, Resolved::Common(Common::ExternalId)))
            {
                kept.insert(key, value);
            }
            continue;
        }
        if let Some(ext) = kind.extension(&key) {
            let Value::Object(fields) = value else {
                continue;
            };
            let mut inner = Map::new();
            for (name, v) in fields {
                if let Some(v) = kept_value(ext, &name, v, wanted) {
                    inner.insert(name, v);
                }
            }
            if !inner.is_empty() {
                kept.insert(key, Value::Object(inner));
            }
            continue;
        }
        if let Some(v) = kept_value(kind.schema(), &key, value, wanted) {
            kept.insert(key, v);
        }
    }
    *map = kept;
}

fn kept_value(schema: &SchemaDef, name: &str, value: Value, wanted: &[Resolved]) -> Option<Value> {
    let attr = schema.attribute(name)?;
    if attr.returned == Returned::Always {
        return Some(value);
    }
    let mut subs: Vec<&str> = Vec::new();
    for w in wanted {
        if let Resolved::Schema {
            schema: s,
            attr: a,
            sub,
        } = w
            && s.id == schema.id
            && a.name == attr.name
        {
            match sub {
                None => return Some(value),
                Some(sub) => subs.push(sub.name),
            }
        }
    }
    if subs.is_empty() {
        return None;
    }
    let pick = |item: Value| -> Option<Value> {
        let Value::Object(fields) = item else {
            return None;
        };
        let kept: Map<String, Value> = fields
            .into_iter()
            .filter(|(k, _)| subs.contains(&k.as_str()))
            .collect();
        (!kept.is_empty()).then_some(Value::Object(kept))
    };
    match value {
        Value::Array(items) => {
            let items: Vec<Value> = items.into_iter().filter_map(pick).collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        other => pick(other),
    }
}
