//! The discovery documents (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes` and
//! `/Schemas`, describing exactly what this server supports.

use serde_json::{Value, json};

use crate::error::ScimError;
use crate::query::{MAX_COUNT, list_response};
use crate::resource::ResourceKind;
use crate::schema::{self, ALL};

const KINDS: [ResourceKind; 2] = [ResourceKind::User, ResourceKind::Group];

/// `/ServiceProviderConfig`.
pub fn service_provider_config(base: &str, documentation: &str) -> Value {
    json!({
        "schemas": [schema::SERVICE_PROVIDER_CONFIG],
        "documentationUri": documentation,
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": MAX_COUNT },
        "changePassword": { "supported": false },
        "sort": { "supported": true },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "The organization's SCIM token, created by an org admin, sent as \
                            'Authorization: Bearer <token>'.",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    })
}

fn resource_type(kind: ResourceKind, base: &str) -> Value {
    let extensions: Vec<Value> = kind
        .extensions()
        .iter()
        .map(|s| json!({ "schema": s.id, "required": false }))
        .collect();
    let mut out = json!({
        "schemas": [schema::RESOURCE_TYPE],
        "id": kind.name(),
        "name": kind.name(),
        "endpoint": format!("/{}", kind.endpoint()),
        "description": kind.schema().description,
        "schema": kind.schema().id,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base}/ResourceTypes/{}", kind.name()),
        },
    });
    if !extensions.is_empty() {
        out["schemaExtensions"] = Value::Array(extensions);
    }
    out
}

/// `/ResourceTypes`.
pub fn resource_types(base: &str) -> Value {
    let all: Vec<Value> = KINDS.iter().map(|k| resource_type(*k, base)).collect();
    list_response(all.len() as u64, 1, all)
}

/// `/ResourceTypes/{name}`.
pub fn resource_type_named(base: &str, name: &str) -> Result<Value, ScimError> {
    KINDS
        .iter()
        .find(|k| k.name() == name)
        .map(|k| resource_type(*k, base))
        .ok_or_else(|| ScimError::new(404, format!("no resource type '{name}'")))
}

/// `/Schemas`.
pub fn schemas(base: &str) -> Value {
    let all: Vec<Value> = ALL
        .iter()
        .map(|s| s.describe(&format!("{base}/Schemas/{}", s.id)))
        .collect();
    list_response(all.len() as u64, 1, all)
}

/// `/Schemas/{id}`.
pub fn schema_named(base: &str, id: &str) -> Result<Value, ScimError> {
    ALL.iter()
        .find(|s| s.id == id)
        .map(|s| s.describe(&format!("{base}/Schemas/{}", s.id)))
        .ok_or_else(|| ScimError::new(404, format!("no schema '{id}'")))
}
