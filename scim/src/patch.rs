//! PATCH (RFC 7644 §3.5.2): reading a PatchOp request, in the dialects real clients send, and
//! applying its operations to a canonical document.
//!
//! Dialects accepted: Entra ID's capitalised `op` ("Replace") and `Operations` key, booleans as
//! strings ("False"), path-less operations whose value keys are paths ("name.givenName",
//! "urn:…:enterprise:2.0:User:department", `emails[type eq "work"].value`), removal of members
//! by value list (`{"op":"Remove","path":"members","value":[{"value":"…"}]}`); Okta's path-less
//! replace carrying read-only `id`.

use serde_json::{Map, Value};

use crate::error::{ScimError, ScimType};
use crate::eval::item_matches;
use crate::filter::{AttrPath, CompareOp, Filter, Literal, PatchPath, parse_patch_path};
use crate::resource::{
    Common, Resolved, ResourceKind, check_required, normalize_attribute, normalize_scalar, resolve,
};
use crate::schema::{AttributeDef, Mutability};

/// Most operations accepted in one request.
pub const MAX_OPERATIONS: usize = 1000;

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// `add`
    Add,
    /// `replace`
    Replace,
    /// `remove`
    Remove,
}

/// One operation of a PatchOp request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    /// The operation.
    pub op: OpKind,
    /// The target; `None` for path-less add and replace.
    pub path: Option<PatchPath>,
    /// The value, if sent.
    pub value: Option<Value>,
}

fn syntax(detail: impl Into<String>) -> ScimError {
    ScimError::typed(ScimType::InvalidSyntax, detail)
}

fn field<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Reads a PatchOp request body.
pub fn parse_patch(body: &Value) -> Result<Vec<PatchOperation>, ScimError> {
    let Value::Object(map) = body else {
        return Err(syntax("the request body must be a JSON object"));
    };
    let Some(Value::Array(operations)) = field(map, "Operations") else {
        return Err(syntax("a PatchOp request needs an 'Operations' array"));
    };
    if operations.is_empty() {
        return Err(syntax("'Operations' is empty"));
    }
    if operations.len() > MAX_OPERATIONS {
        return Err(ScimError::typed(
            ScimType::TooMany,
            format!("at most {MAX_OPERATIONS} operations per request"),
        ));
    }
    operations
        .iter()
        .enumerate()
        .map(|(i, op)| parse_operation(i, op))
        .collect()
}

fn parse_operation(index: usize, op: &Value) -> Result<PatchOperation, ScimError> {
    let Value::Object(map) = op else {
        return Err(syntax(format!("Operations[{index}] must be an object")));
    };
    let kind = match field(map, "op").and_then(Value::as_str) {
        Some(s) if s.eq_ignore_ascii_case("add") => OpKind::Add,
        Some(s) if s.eq_ignore_ascii_case("replace") => OpKind::Replace,
        Some(s) if s.eq_ignore_ascii_case("remove") => OpKind::Remove,
        _ => {
            return Err(syntax(format!(
                "Operations[{index}].op must be add, replace or remove"
            )));
        }
    };
    let path = match field(map, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if p.trim().is_empty() => None,
        Some(Value::String(p)) => Some(parse_patch_path(p.trim())?),
        Some(_) => {
            return Err(ScimError::typed(
                ScimType::InvalidPath,
                format!("Operations[{index}].path must be a string"),
            ));
        }
    };
    let value = field(map, "value").cloned();
    match (kind, &path, &value) {
        (OpKind::Remove, None, _) => Err(ScimError::typed(
            ScimType::NoTarget,
            format!("Operations[{index}]: remove needs a path"),
        )),
        (OpKind::Add | OpKind::Replace, _, None) => Err(ScimError::typed(
            ScimType::InvalidValue,
            format!("Operations[{index}]: {kind:?} needs a value").to_lowercase(),
        )),
        (OpKind::Add | OpKind::Replace, None, Some(v)) if !v.is_object() => Err(ScimError::typed(
            ScimType::InvalidValue,
            format!("Operations[{index}]: without a path the value must be an object"),
        )),
        _ => Ok(PatchOperation {
            op: kind,
            path,
            value,
        }),
    }
}

/// Applies the operations, in order, to `doc`; the result still has every required attribute.
/// Operations apply all or nothing: on error `doc` may be half-changed, so callers patch a copy.
pub fn apply(
    kind: ResourceKind,
    doc: &mut Value,
    operations: &[PatchOperation],
) -> Result<(), ScimError> {
    for operation in operations {
        match &operation.path {
            Some(path) => apply_at(
                kind,
                doc,
                operation.op,
                path,
                operation.value.as_ref(),
                true,
            )?,
            None => {
                let Some(Value::Object(values)) = &operation.value else {
                    continue;
                };
                for (key, value) in values {
                    apply_key(kind, doc, operation.op, key, value)?;
                }
            }
        }
    }
    check_required(kind, doc)
}

/// A path-less operation's key: a path itself, or an extension URN holding an object.
fn apply_key(
    kind: ResourceKind,
    doc: &mut Value,
    op: OpKind,
    key: &str,
    value: &Value,
) -> Result<(), ScimError> {
    if let Some(ext) = kind
        .extensions()
        .iter()
        .find(|s| s.id.eq_ignore_ascii_case(key))
    {
        let Value::Object(fields) = value else {
            return Err(ScimError::typed(
                ScimType::InvalidValue,
                format!("{}: must be an object", ext.id),
            ));
        };
        for (name, v) in fields {
            let path = PatchPath {
                attr: AttrPath {
                    urn: Some(ext.id.to_owned()),
                    attr: name.clone(),
                    sub: None,
                },
                filter: None,
                sub_after_filter: None,
            };
            apply_at(kind, doc, op, &path, Some(v), false)?;
        }
        return Ok(());
    }
    let path = parse_patch_path(key)?;
    apply_at(kind, doc, op, &path, Some(value), false)
}

fn no_target(path: &PatchPath) -> ScimError {
    ScimError::typed(
        ScimType::NoTarget,
        format!("no attribute '{}' to operate on", display(&path.attr)),
    )
}

fn display(path: &AttrPath) -> String {
    let mut out = path
        .urn
        .as_ref()
        .map(|u| format!("{u}:"))
        .unwrap_or_default();
    out.push_str(&path.attr);
    if let Some(sub) = &path.sub {
        out.push('.');
        out.push_str(sub);
    }
    out
}

/// Applies one targeted operation. `explicit` is false for the keys of a path-less value,
/// where read-only attributes (Okta sends `id`) are ignored rather than refused.
fn apply_at(
    kind: ResourceKind,
    doc: &mut Value,
    op: OpKind,
    path: &PatchPath,
    value: Option<&Value>,
    explicit: bool,
) -> Result<(), ScimError> {
    if path.filter.is_none()
        && path.attr.sub.is_none()
        && let Some(urn) = &path.attr.urn
        && let Some(ext) = kind.extensions().iter().find(|s| {
            s.id.eq_ignore_ascii_case(&format!("{urn}:{}", path.attr.attr))
        })
    {
        // The path is an extension's URN: its value holds that extension's attributes.
        return match (op, value) {
            (OpKind::Remove, _) => {
                if let Value::Object(root) = doc {
                    root.remove(ext.id);
                }
                Ok(())
            }
            (OpKind::Replace, Some(v)) => {
                if let Value::Object(root) = doc {
                    root.remove(ext.id);
                }
                apply_key(kind, doc, OpKind::Add, ext.id, v)
            }
            (_, Some(v)) => apply_key(kind, doc, op, ext.id, v),
            (_, None) => Err(no_target(path)),
        };
    }
    let read_only = |name: &str| {
        if explicit {
            Err(ScimError::typed(
                ScimType::Mutability,
                format!("'{name}' is read-only"),
            ))
        } else {
            Ok(())
        }
    };
    let Some(resolved) = resolve(kind, &path.attr) else {
        // Unknown attributes in a path-less value are ignored like unknown attributes in POST.
        return if explicit {
            Err(no_target(path))
        } else {
            Ok(())
        };
    };
    let (attr, sub) = match resolved {
        Resolved::Common(Common::ExternalId) => return external_id(doc, op, value),
        Resolved::Common(_) => return read_only(&display(&path.attr)),
        Resolved::Schema { attr, sub, .. } => (attr, sub),
    };
    if attr.mutability == Mutability::ReadOnly
        || sub.is_some_and(|s| s.mutability == Mutability::ReadOnly)
    {
        return read_only(&display(&path.attr));
    }
    let Value::Object(root) = doc else {
        return Err(ScimError::new(500, "stored document is not an object"));
    };
    let holder = match resolved.extension() {
        Some(urn) => {
            let entry = root
                .entry(urn.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            let Value::Object(holder) = entry else {
                return Err(ScimError::new(500, "extension is not an object"));
            };
            holder
        }
        None => root,
    };
    let target = Target {
        attr,
        sub: sub.or_else(|| {
            path.sub_after_filter
                .as_deref()
                .and_then(|name| attr.sub(name))
        }),
        filter: path.filter.as_ref(),
    };
    if path.sub_after_filter.is_some() && target.sub.is_none() {
        return Err(no_target(path));
    }
    let result = match op {
        OpKind::Remove => target.remove(holder, value),
        OpKind::Add | OpKind::Replace => {
            let value = value.ok_or_else(|| no_target(path))?;
            target.set(holder, op, value)
        }
    };
    if let Some(urn) = resolved.extension()
        && let Some(Value::Object(ext)) = root_get(doc, urn)
        && ext.is_empty()
        && let Value::Object(root) = doc
    {
        root.remove(urn);
    }
    result.map_err(|e| match e {
        Failure::NoTarget => no_target(path),
        Failure::Scim(e) => e,
    })
}

fn root_get<'a>(doc: &'a Value, key: &str) -> Option<&'a Value> {
    doc.as_object().and_then(|m| m.get(key))
}

fn external_id(doc: &mut Value, op: OpKind, value: Option<&Value>) -> Result<(), ScimError> {
    let Value::Object(root) = doc else {
        return Ok(());
    };
    match (op, value) {
        (OpKind::Remove, _) | (_, Some(Value::Null)) => {
            root.remove("externalId");
        }
        (_, Some(Value::String(s))) => {
            root.insert("externalId".to_owned(), Value::String(s.clone()));
        }
        _ => {
            return Err(ScimError::typed(
                ScimType::InvalidValue,
                "externalId: must be a string",
            ));
        }
    }
    Ok(())
}

enum Failure {
    NoTarget,
    Scim(ScimError),
}

impl From<ScimError> for Failure {
    fn from(e: ScimError) -> Self {
        Self::Scim(e)
    }
}

struct Target<'a> {
    attr: &'static AttributeDef,
    sub: Option<&'static AttributeDef>,
    filter: Option<&'a Filter>,
}

impl Target<'_> {
    fn matching(&self, items: &[Value]) -> Result<Vec<bool>, ScimError> {
        items
            .iter()
            .map(|item| match self.filter {
                Some(f) => item_matches(self.attr, item, f),
                None => Ok(true),
            })
            .collect()
    }

    fn set(
        &self,
        holder: &mut Map<String, Value>,
        op: OpKind,
        value: &Value,
    ) -> Result<(), Failure> {
        let attr = self.attr;
        let name = attr.name;
        if self.filter.is_some() || (attr.multi_valued && self.sub.is_some()) {
            return self.set_in_items(holder, op, value);
        }
        if let Some(sub) = self.sub {
            // name.givenName
            let v = normalize_scalar(sub, value, &format!("{name}.{}", sub.name))?;
            let entry = holder
                .entry(name.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(fields) = entry {
                fields.insert(sub.name.to_owned(), v);
            } else {
                *entry = serde_json::json!({ sub.name: v });
            }
            return Ok(());
        }
        let Some(normalized) = normalize_attribute(attr, value, name)? else {
            if op == OpKind::Replace {
                holder.remove(name);
            }
            return Ok(());
        };
        match (attr.multi_valued, attr.is_complex(), op) {
            (true, _, OpKind::Add) => {
                let mut items = match holder.remove(name) {
                    Some(Value::Array(items)) => items,
                    _ => Vec::new(),
                };
                let new_items = match normalized {
                    Value::Array(new_items) => new_items,
                    other => vec![other],
                };
                let new_primary = new_items.iter().any(is_primary);
                if new_primary {
                    for item in &mut items {
                        if let Value::Object(fields) = item {
                            fields.remove("primary");
                        }
                    }
                }
                for item in new_items {
                    if !items.contains(&item) {
                        items.push(item);
                    }
                }
                holder.insert(name.to_owned(), Value::Array(items));
            }
            (false, true, _) => {
                let entry = holder
                    .entry(name.to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let (Value::Object(fields), Value::Object(new)) = (entry, normalized) {
                    fields.extend(new);
                }
            }
            _ => {
                holder.insert(name.to_owned(), normalized);
            }
        }
        Ok(())
    }

    /// `emails[type eq "work"].value`, `emails[type eq "work"]`, `emails.type`.
    fn set_in_items(
        &self,
        holder: &mut Map<String, Value>,
        op: OpKind,
        value: &Value,
    ) -> Result<(), Failure> {
        let attr = self.attr;
        let mut items = match holder.remove(attr.name) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        let matched = self.matching(&items)?;
        let result = if matched.iter().any(|m| *m) {
            self.update_matched(&mut items, &matched, value)
        } else {
            self.upsert(&mut items, op, value)
        };
        if !items.is_empty() {
            holder.insert(attr.name.to_owned(), Value::Array(items));
        }
        result
    }

    fn update_matched(
        &self,
        items: &mut [Value],
        matched: &[bool],
        value: &Value,
    ) -> Result<(), Failure> {
        let attr = self.attr;
        for (item, _) in items.iter_mut().zip(matched).filter(|(_, m)| **m) {
            match self.sub {
                Some(sub) => {
                    let v = normalize_scalar(sub, value, &format!("{}.{}", attr.name, sub.name))?;
                    if let Value::Object(fields) = item {
                        fields.insert(sub.name.to_owned(), v);
                    }
                }
                None => {
                    let single = AttributeDef {
                        multi_valued: false,
                        ..*attr
                    };
                    if let Some(new) = normalize_attribute(&single, value, attr.name)? {
                        *item = new;
                    }
                }
            }
        }
        Ok(())
    }

    /// No item matched: with a filter of plain equalities (`type eq "work"`), the item is
    /// created, as Entra ID expects when it sets a user's first work email; otherwise there
    /// is no target.
    fn upsert(&self, items: &mut Vec<Value>, op: OpKind, value: &Value) -> Result<(), Failure> {
        let attr = self.attr;
        let Some(filter) = self.filter else {
            // `emails.type` on a user without emails.
            return if op == OpKind::Add {
                Ok(())
            } else {
                Err(Failure::NoTarget)
            };
        };
        let mut fields = Map::new();
        if !equalities(filter, &mut fields) {
            return Err(Failure::NoTarget);
        }
        match self.sub {
            Some(sub) => {
                fields.insert(
                    sub.name.to_owned(),
                    normalize_scalar(sub, value, &format!("{}.{}", attr.name, sub.name))?,
                );
            }
            None => {
                if let Value::Object(new) = value {
                    fields.extend(new.clone());
                }
            }
        }
        let single = AttributeDef {
            multi_valued: false,
            ..*attr
        };
        if let Some(item) = normalize_attribute(&single, &Value::Object(fields), attr.name)? {
            items.push(item);
        }
        Ok(())
    }

    fn remove(
        &self,
        holder: &mut Map<String, Value>,
        value: Option<&Value>,
    ) -> Result<(), Failure> {
        let attr = self.attr;
        if attr.required && self.sub.is_none() && self.filter.is_none() {
            return Err(Failure::Scim(ScimError::typed(
                ScimType::Mutability,
                format!("'{}' is required and cannot be removed", attr.name),
            )));
        }
        if !attr.multi_valued {
            match self.sub {
                Some(sub) => {
                    if let Some(Value::Object(fields)) = holder.get_mut(attr.name) {
                        fields.remove(sub.name);
                        if fields.is_empty() {
                            holder.remove(attr.name);
                        }
                    }
                }
                None => {
                    holder.remove(attr.name);
                }
            }
            return Ok(());
        }
        let Some(Value::Array(items)) = holder.get_mut(attr.name) else {
            return Ok(());
        };
        let matched = match (self.filter, value) {
            (Some(_), _) => self.matching(items)?,
            // Entra ID removes members by listing them in `value`.
            (None, Some(Value::Array(listed))) if self.sub.is_none() => items
                .iter()
                .map(|item| listed.iter().any(|l| same_value(item, l)))
                .collect(),
            _ => vec![true; items.len()],
        };
        match self.sub {
            Some(sub) => {
                for (item, _) in items.iter_mut().zip(&matched).filter(|(_, m)| **m) {
                    if let Value::Object(fields) = item {
                        fields.remove(sub.name);
                    }
                }
                items.retain(|i| i.as_object().is_none_or(|f| !f.is_empty()));
            }
            None => {
                let mut keep = matched.iter().map(|m| !m);
                items.retain(|_| keep.next().unwrap_or(true));
            }
        }
        if items.is_empty() {
            holder.remove(attr.name);
        }
        Ok(())
    }
}

fn is_primary(item: &Value) -> bool {
    item.get("primary") == Some(&Value::Bool(true))
}

fn same_value(item: &Value, listed: &Value) -> bool {
    match (item.get("value"), listed.get("value")) {
        (Some(a), Some(b)) => a == b,
        _ => item == listed,
    }
}

/// Collects `a eq "x" and b eq "y"` into fields; false for any other shape.
fn equalities(filter: &Filter, out: &mut Map<String, Value>) -> bool {
    match filter {
        Filter::And(a, b) => equalities(a, out) && equalities(b, out),
        Filter::Compare(path, CompareOp::Eq, literal)
            if path.urn.is_none() && path.sub.is_none() =>
        {
            let value = match literal {
                Literal::String(s) => Value::String(s.clone()),
                Literal::Bool(b) => Value::Bool(*b),
                Literal::Number(n) => Value::Number(n.clone()),
                Literal::Null => return false,
            };
            out.insert(path.attr.clone(), value);
            true
        }
        _ => false,
    }
}

/// Member changes of a Group PATCH that can be written as row inserts and deletes, without
/// reading the group's member list (which may hold 100,000 users).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberDelta {
    /// Remove every member first.
    pub clear: bool,
    /// User ids to add.
    pub add: Vec<String>,
    /// User ids to remove.
    pub remove: Vec<String>,
}

/// The member delta of `operations` when every operation targets `members` in a way that
/// needs no knowledge of the current members; `None` otherwise (apply them to the document).
pub fn member_delta(operations: &[PatchOperation]) -> Option<MemberDelta> {
    let mut delta = MemberDelta::default();
    for operation in operations {
        let path = operation.path.as_ref()?;
        if !path.attr.attr.eq_ignore_ascii_case("members")
            || path.attr.urn.is_some()
            || path.attr.sub.is_some()
            || path.sub_after_filter.is_some()
        {
            return None;
        }
        match (operation.op, &path.filter, &operation.value) {
            (OpKind::Add, None, Some(value)) => delta.add.extend(member_ids(value)?),
            (OpKind::Replace, None, Some(value)) => {
                delta = MemberDelta {
                    clear: true,
                    add: member_ids(value)?,
                    remove: Vec::new(),
                };
            }
            (OpKind::Remove, Some(filter), _) => {
                let mut ids = Vec::new();
                value_equalities(filter, &mut ids)?;
                delta.add.retain(|a| !ids.contains(a));
                delta.remove.extend(ids);
            }
            (OpKind::Remove, None, Some(value @ Value::Array(_))) => {
                let ids = member_ids(value)?;
                delta.add.retain(|a| !ids.contains(a));
                delta.remove.extend(ids);
            }
            (OpKind::Remove, None, _) => {
                delta = MemberDelta {
                    clear: true,
                    ..MemberDelta::default()
                };
            }
            _ => return None,
        }
    }
    Some(delta)
}

fn member_ids(value: &Value) -> Option<Vec<String>> {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![value],
        _ => return None,
    };
    items
        .into_iter()
        .map(|item| {
            item.as_object()?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("value"))
                .and_then(|(_, v)| v.as_str())
                .map(str::to_owned)
        })
        .collect()
}

/// `value eq "a" or value eq "b"`.
fn value_equalities(filter: &Filter, out: &mut Vec<String>) -> Option<()> {
    match filter {
        Filter::Or(a, b) => {
            value_equalities(a, out)?;
            value_equalities(b, out)
        }
        Filter::Compare(path, CompareOp::Eq, Literal::String(id))
            if path.attr.eq_ignore_ascii_case("value") && path.sub.is_none() =>
        {
            out.push(id.clone());
            Some(())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::resource::normalize;
    use crate::schema::ENTERPRISE_USER;

    fn user() -> Value {
        normalize(
            ResourceKind::User,
            &json!({
                "userName": "ada",
                "emails": [{ "value": "ada@acme.com", "type": "work", "primary": true }],
                "name": { "givenName": "Ada" },
            }),
        )
        .unwrap()
    }

    fn patched(doc: &mut Value, operations: Value) -> Result<(), ScimError> {
        let ops = parse_patch(
            &json!({ "schemas": [crate::schema::PATCH_OP], "Operations": operations }),
        )?;
        apply(ResourceKind::User, doc, &ops)
    }

    #[test]
    fn entra_dialect_capitalised_ops_string_booleans_and_dotted_keys() {
        let mut doc = user();
        patched(
            &mut doc,
            json!([
                { "op": "Replace", "path": "active", "value": "False" },
                { "op": "Replace", "value": { "name.familyName": "Lovelace", "displayName": "Ada L" } },
                { "op": "Add", "value": { format!("{ENTERPRISE_USER}:department"): "R&D" } },
            ]),
        )
        .unwrap();
        assert_eq!(doc["active"], false);
        assert_eq!(
            doc["name"],
            json!({ "givenName": "Ada", "familyName": "Lovelace" })
        );
        assert_eq!(doc["displayName"], "Ada L");
        assert_eq!(doc[ENTERPRISE_USER]["department"], "R&D");
    }

    #[test]
    fn value_path_updates_the_matching_item_or_creates_it() {
        let mut doc = user();
        patched(
            &mut doc,
            json!([
                { "op": "replace", "path": "emails[type eq \"work\"].value", "value": "ada@new.example" },
                { "op": "add", "path": "emails[type eq \"home\"].value", "value": "ada@home.example" },
            ]),
        )
        .unwrap();
        assert_eq!(
            doc["emails"],
            json!([
                { "value": "ada@new.example", "type": "work", "primary": true },
                { "type": "home", "value": "ada@home.example" },
            ])
        );
        let err = patched(
            &mut doc,
            json!([{ "op": "replace", "path": "emails[value co \"nowhere\"]", "value": {} }]),
        )
        .unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::NoTarget));
    }

    #[test]
    fn remove_respects_required_and_read_only_attributes() {
        let mut doc = user();
        let err = patched(&mut doc, json!([{ "op": "remove", "path": "userName" }])).unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::Mutability));
        let err = patched(
            &mut doc,
            json!([{ "op": "add", "path": "groups", "value": [] }]),
        )
        .unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::Mutability));
        // Okta's path-less replace carries the read-only id: ignored, not refused.
        patched(
            &mut doc,
            json!([{ "op": "replace", "value": { "id": "x", "title": "CTO" } }]),
        )
        .unwrap();
        assert_eq!(doc["title"], "CTO");
        patched(
            &mut doc,
            json!([{ "op": "remove", "path": "emails[type eq \"work\"]" }]),
        )
        .unwrap();
        assert!(doc.get("emails").is_none());
        let err = patched(&mut doc, json!([{ "op": "remove" }])).unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::NoTarget));
    }

    #[test]
    fn extension_urn_as_path_replaces_the_extension() {
        let mut doc = user();
        patched(
            &mut doc,
            json!([{ "op": "add", "path": ENTERPRISE_USER, "value": { "employeeNumber": "7", "costCenter": "4" } }]),
        )
        .unwrap();
        assert_eq!(
            doc[ENTERPRISE_USER],
            json!({ "employeeNumber": "7", "costCenter": "4" })
        );
        patched(
            &mut doc,
            json!([{ "op": "replace", "path": ENTERPRISE_USER, "value": { "division": "X" } }]),
        )
        .unwrap();
        assert_eq!(doc[ENTERPRISE_USER], json!({ "division": "X" }));
        patched(
            &mut doc,
            json!([{ "op": "remove", "path": ENTERPRISE_USER }]),
        )
        .unwrap();
        assert!(doc.get(ENTERPRISE_USER).is_none());
    }

    #[test]
    fn member_only_operations_become_a_delta() {
        let ops = parse_patch(&json!({ "Operations": [
            { "op": "Add", "path": "members", "value": [{ "value": "a" }, { "value": "b" }] },
            { "op": "Remove", "path": "members", "value": [{ "value": "b" }] },
            { "op": "remove", "path": "members[value eq \"c\" or value eq \"d\"]" },
        ] }))
        .unwrap();
        assert_eq!(
            member_delta(&ops),
            Some(MemberDelta {
                clear: false,
                add: vec!["a".into()],
                remove: vec!["b".into(), "c".into(), "d".into()],
            })
        );
        let mixed = parse_patch(&json!({ "Operations": [
            { "op": "replace", "path": "displayName", "value": "x" },
            { "op": "add", "path": "members", "value": [{ "value": "a" }] },
        ] }))
        .unwrap();
        assert_eq!(member_delta(&mixed), None);
    }

    #[test]
    fn malformed_requests_name_what_is_wrong() {
        for (body, kind) in [
            (json!([]), ScimType::InvalidSyntax),
            (json!({ "Operations": [] }), ScimType::InvalidSyntax),
            (
                json!({ "Operations": [{ "op": "move", "path": "title" }] }),
                ScimType::InvalidSyntax,
            ),
            (
                json!({ "Operations": [{ "op": "add", "path": "title" }] }),
                ScimType::InvalidValue,
            ),
            (
                json!({ "Operations": [{ "op": "add", "value": "x" }] }),
                ScimType::InvalidValue,
            ),
            (
                json!({ "Operations": [{ "op": "add", "path": "emails[", "value": "x" }] }),
                ScimType::InvalidPath,
            ),
        ] {
            let err = parse_patch(&body).unwrap_err();
            assert_eq!(err.scim_type, Some(kind), "{body}: {}", err.detail);
        }
    }
}
