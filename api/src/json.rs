//! The JSON body extractor: content type, size limit and field-precise errors
//! (`unknown_field` at `rules[2].op`), using serde_path_to_error for the path.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{FromRequest, HttpRequest, web};
use broker::{Error, ErrorCode};
use futures::StreamExt as _;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The largest JSON body the admin API accepts.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON request body. Unknown fields are refused by the target types
/// (`#[serde(deny_unknown_fields)]`); every failure names the field at fault.
#[derive(Debug)]
pub struct Json<T>(pub T);

/// A JSON body that may be absent: an empty body yields `T::default()`.
#[derive(Debug)]
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move {
            let bytes = body.await?;
            parse(&bytes).map(Json)
        })
    }
}

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let typed = check_content_type(req);
        let body = read_body_unchecked(payload);
        Box::pin(async move {
            let bytes = body.await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJson(T::default()));
            }
            typed?;
            parse(&bytes).map(OptionalJson)
        })
    }
}

fn unsupported_media_type() -> ApiError {
    ApiError::new(
        ErrorCode::UnsupportedMediaType,
        "send the body with Content-Type: application/json",
    )
}

fn check_content_type(req: &HttpRequest) -> Result<(), ApiError> {
    let is_json = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        })
        .unwrap_or(false);
    if is_json {
        Ok(())
    } else {
        Err(unsupported_media_type())
    }
}

fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> Pin<Box<dyn Future<Output = Result<web::Bytes, ApiError>>>> {
    let typed = check_content_type(req);
    let body = read_body_unchecked(payload);
    Box::pin(async move {
        typed?;
        body.await
    })
}

fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("the body must be at most {} KiB", MAX_BODY_BYTES / 1024),
    )
}

/// Reads the body, stopping as soon as it exceeds [`MAX_BODY_BYTES`].
fn read_body_unchecked(
    payload: &mut Payload,
) -> Pin<Box<dyn Future<Output = Result<web::Bytes, ApiError>>>> {
    let mut payload = payload.take();
    Box::pin(async move {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| match e {
                actix_web::error::PayloadError::Overflow => too_large(),
                other => ApiError::new(
                    ErrorCode::InvalidJson,
                    format!("the body could not be read: {other}"),
                ),
            })?;
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    })
}

/// Deserializes `bytes`, turning serde's messages into stable codes with the field path.
/// Every admin API body is a JSON object; serde would also accept an array for a struct
/// (fields by position), which only hides mistakes, so anything else is refused first.
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        return Err(ApiError::new(
            ErrorCode::InvalidJson,
            "the body must be a JSON object",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(describe)?;
    deserializer.end().map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidJson,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    Ok(value)
}

fn describe(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    use serde_json::error::Category;
    let path = error.path().to_string();
    let inner = error.into_inner();
    if !matches!(inner.classify(), Category::Data) {
        return ApiError::new(
            ErrorCode::InvalidJson,
            format!("the body is not valid JSON: {inner}"),
        );
    }
    let problem = FieldProblem::of(&path, &strip_position(&inner.to_string()));
    let code = match problem.kind {
        ProblemKind::Unknown => ErrorCode::UnknownField,
        ProblemKind::Missing => ErrorCode::MissingField,
        ProblemKind::Invalid => ErrorCode::InvalidField,
    };
    problem.into_error(code)
}

/// What serde disliked about a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProblemKind {
    Unknown,
    Missing,
    Invalid,
}

/// A deserialization failure located at a field path (`rules[2].op`), shared by the JSON body
/// and query-string extractors.
#[derive(Debug)]
pub(crate) struct FieldProblem {
    pub kind: ProblemKind,
    /// The field path; empty when the problem is with the whole document.
    pub field: String,
    pub message: String,
}

impl FieldProblem {
    /// Reads serde's message (`unknown field `x``, `missing field `y``, anything else) at
    /// the path serde_path_to_error reported.
    pub fn of(path: &str, message: &str) -> Self {
        let (kind, field) = if let Some(name) = quoted_after(message, "unknown field `") {
            (ProblemKind::Unknown, join_path(path, &name, true))
        } else if let Some(name) = quoted_after(message, "missing field `") {
            (ProblemKind::Missing, join_path(path, &name, false))
        } else {
            (ProblemKind::Invalid, path.to_owned())
        };
        let field = if field == "." { String::new() } else { field };
        Self {
            kind,
            field,
            message: message.to_owned(),
        }
    }

    /// The API error with `code`, naming the field when there is one.
    pub fn into_error(self, code: ErrorCode) -> ApiError {
        if self.field.is_empty() {
            return ApiError::new(code, self.message);
        }
        let message = format!("{}: {}", self.field, self.message);
        ApiError(Error::new(code, message).with_field(self.field))
    }
}

/// serde_json appends " at line 1 column 17"; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

fn quoted_after(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    rest.split('`').next().map(str::to_owned)
}

/// serde_path_to_error already includes an unknown field in the path; a missing one it does not.
fn join_path(path: &str, name: &str, path_has_name: bool) -> String {
    if path_has_name && path != "." {
        return path.to_owned();
    }
    if path == "." || path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        value: u32,
    }

    fn error_of(body: &str) -> Error {
        parse::<Outer>(body.as_bytes()).unwrap_err().0
    }

    #[test]
    fn unknown_field_is_named() {
        let e = error_of(r#"{"name":"a","nmae":"b"}"#);
        assert_eq!(e.code(), ErrorCode::UnknownField);
        assert_eq!(e.field(), Some("nmae"));
    }

    #[test]
    fn nested_problems_carry_their_path() {
        let e = error_of(r#"{"name":"a","inner":{"value":"x"}}"#);
        assert_eq!(e.code(), ErrorCode::InvalidField);
        assert_eq!(e.field(), Some("inner.value"));
        let e = error_of(r#"{"name":"a","inner":{}}"#);
        assert_eq!(e.code(), ErrorCode::MissingField);
        assert_eq!(e.field(), Some("inner.value"));
    }

    #[test]
    fn missing_and_malformed() {
        let e = error_of(r#"{}"#);
        assert_eq!(e.code(), ErrorCode::MissingField);
        assert_eq!(e.field(), Some("name"));
        assert_eq!(error_of(r#"{"name":"#).code(), ErrorCode::InvalidJson);
        assert_eq!(
            error_of(r#"{"name":"a"} trailing"#).code(),
            ErrorCode::InvalidJson
        );
        assert_eq!(error_of(r#"["a", null]"#).code(), ErrorCode::InvalidJson);
        assert_eq!(
            error_of(r#"{"name":"a","name":"b"}"#).code(),
            ErrorCode::InvalidField
        );
    }
}
