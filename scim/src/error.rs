//! The SCIM error response (RFC 7644 §3.12): an HTTP status, an optional `scimType` keyword
//! and a human-readable detail, serialized with the Error message schema.

use serde::{Deserialize, Serialize};

use crate::schema;

/// The `scimType` keywords of RFC 7644 §3.12, table 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ScimType {
    /// The filter syntax is invalid or the attribute and comparison are not supported (400).
    InvalidFilter,
    /// The filter yields too many results to process (400).
    TooMany,
    /// One or more attribute values are already in use or reserved (409).
    Uniqueness,
    /// The modification is incompatible with an attribute's mutability (400).
    Mutability,
    /// The request body structure was invalid or did not conform to the schema (400).
    InvalidSyntax,
    /// The `path` attribute was invalid or malformed (400).
    InvalidPath,
    /// The specified `path` did not yield an attribute that could be operated on (400).
    NoTarget,
    /// A required value was missing, or the value was not compatible (400).
    InvalidValue,
    /// The specified SCIM protocol version is not supported (400).
    InvalidVers,
    /// The request cannot complete because of sensitive information in the URI (403).
    Sensitive,
}

/// A SCIM error response body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("SCIM {status}: {detail}")]
pub struct ScimError {
    /// Always `[ERROR]`.
    pub schemas: Vec<String>,
    /// The HTTP status code, as a string (RFC 7644 §3.12 defines it so).
    #[serde(with = "status_as_string")]
    pub status: u16,
    /// The detail keyword, for 400 and 409 errors.
    #[serde(rename = "scimType", skip_serializing_if = "Option::is_none")]
    pub scim_type: Option<ScimType>,
    /// What went wrong, for humans.
    pub detail: String,
}

impl ScimError {
    /// An error with `status` and `detail`, without a `scimType`.
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        Self {
            schemas: vec![schema::ERROR.to_owned()],
            status,
            scim_type: None,
            detail: detail.into(),
        }
    }

    /// An error carrying a `scimType`, with the status RFC 7644 assigns to that keyword.
    pub fn typed(scim_type: ScimType, detail: impl Into<String>) -> Self {
        let status = match scim_type {
            ScimType::Uniqueness => 409,
            ScimType::Sensitive => 403,
            _ => 400,
        };
        Self {
            scim_type: Some(scim_type),
            ..Self::new(status, detail)
        }
    }
}

mod status_as_string {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub fn serialize<S: Serializer>(status: &u16, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&status.to_string())
    }

    /// Accepts `"409"` as the RFC says, and `409` as some clients send.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u16, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Status {
            Text(String),
            Number(u16),
        }
        match Status::deserialize(deserializer)? {
            Status::Number(n) => Ok(n),
            Status::Text(s) => s.parse().map_err(D::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniqueness_error_matches_rfc7644_example() {
        let error = ScimError::typed(ScimType::Uniqueness, "userName is already taken");
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "409",
                "scimType": "uniqueness",
                "detail": "userName is already taken"
            })
        );
    }

    #[test]
    fn untyped_errors_omit_scim_type_and_parse_back() {
        let error = ScimError::new(404, "Resource 2819c223 not found");
        let text = serde_json::to_string(&error).unwrap();
        assert!(!text.contains("scimType"));
        let back: ScimError = serde_json::from_str(&text).unwrap();
        assert_eq!(back, error);
        let numeric: ScimError = serde_json::from_str(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":412,"detail":"x"}"#,
        )
        .unwrap();
        assert_eq!(numeric.status, 412);
    }

    #[test]
    fn keywords_are_camel_case() {
        let json = serde_json::to_value(ScimType::InvalidFilter).unwrap();
        assert_eq!(json, "invalidFilter");
        assert_eq!(ScimError::typed(ScimType::InvalidVers, "v").status, 400);
    }
}
