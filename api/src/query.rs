//! The query-string extractor: like `web::Query`, but a bad parameter is reported with the
//! `invalid_query` code and its name in `field` (`limit`, `since`), using serde_path_to_error.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use broker::ErrorCode;
use futures::future::{Ready, ready};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::json::FieldProblem;

/// Query-string parameters; the target type should `deny_unknown_fields`.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req.query_string()).map(Query))
    }
}

fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let pairs = url::form_urlencoded::parse(query.as_bytes());
    let deserializer = serde_urlencoded::Deserializer::new(pairs);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        FieldProblem::of(&path, &error.into_inner().to_string()).into_error(ErrorCode::InvalidQuery)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Params {
        limit: Option<u64>,
        since: Option<chrono::DateTime<chrono::Utc>>,
    }

    fn field_of(query: &str) -> Option<String> {
        parse::<Params>(query)
            .unwrap_err()
            .0
            .field()
            .map(str::to_owned)
    }

    #[test]
    fn bad_values_and_unknown_names_are_named() {
        assert_eq!(field_of("limit=ten").as_deref(), Some("limit"));
        assert_eq!(field_of("since=yesterday").as_deref(), Some("since"));
        assert_eq!(field_of("limt=5").as_deref(), Some("limt"));
        let error = parse::<Params>("limit=ten").unwrap_err().0;
        assert_eq!(error.code(), ErrorCode::InvalidQuery);
    }

    #[test]
    fn encoded_values_parse() {
        let params: Params = parse("limit=5&since=2026-01-01T00%3A00%3A00%2B02%3A00").unwrap();
        assert_eq!(params.limit, Some(5));
        assert!(params.since.is_some());
    }
}
