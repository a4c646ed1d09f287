//! Requests no route takes: `405 method_not_allowed` with `Allow` when the path is one the
//! OpenAPI document describes (with other methods), `404 route_not_found` otherwise.

use actix_web::http::header::{ALLOW, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError as _, web};
use broker::ErrorCode;
use utoipa::openapi::PathItem;

use crate::error::ApiError;

/// One segment of a documented path.
#[derive(Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{org}`, `{id}`, …: any non-empty segment.
    Parameter,
}

/// A documented path and the methods it serves, as an `Allow` value (`GET, POST`).
#[derive(Debug)]
struct DocumentedPath {
    segments: Vec<Segment>,
    allow: HeaderValue,
}

/// Every path of the OpenAPI document, to tell a wrong method from a wrong path.
#[derive(Debug, Default)]
pub struct DocumentedPaths(Vec<DocumentedPath>);

fn methods(item: &PathItem) -> Vec<&'static str> {
    [
        ("GET", &item.get),
        ("PUT", &item.put),
        ("POST", &item.post),
        ("DELETE", &item.delete),
        ("PATCH", &item.patch),
    ]
    .into_iter()
    .filter(|(_, operation)| operation.is_some())
    .map(|(method, _)| method)
    .collect()
}

fn segments(path: &str) -> Vec<Segment> {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                Segment::Parameter
            } else {
                Segment::Literal(segment.to_owned())
            }
        })
        .collect()
}

impl DocumentedPaths {
    /// The paths of `document`.
    pub fn of(document: &utoipa::openapi::OpenApi) -> Self {
        let paths = document.paths.paths.iter().filter_map(|(path, item)| {
            let allow = HeaderValue::from_str(&methods(item).join(", ")).ok()?;
            Some(DocumentedPath {
                segments: segments(path),
                allow,
            })
        });
        Self(paths.collect())
    }

    /// The methods the documented path matching `path` serves, if one matches.
    fn allowed(&self, path: &str) -> Option<&HeaderValue> {
        let requested: Vec<&str> = path.split('/').collect();
        self.0
            .iter()
            .find(|documented| {
                documented.segments.len() == requested.len()
                    && documented
                        .segments
                        .iter()
                        .zip(&requested)
                        .all(|(want, got)| match want {
                            Segment::Literal(literal) => literal == got,
                            Segment::Parameter => !got.is_empty(),
                        })
            })
            .map(|documented| &documented.allow)
    }
}

/// The default service: 405 with `Allow` on a documented path, 404 anywhere else.
pub async fn no_route(req: HttpRequest, paths: web::Data<DocumentedPaths>) -> HttpResponse {
    let Some(allow) = paths.allowed(req.path()) else {
        return ApiError::new(
            ErrorCode::RouteNotFound,
            format!("no endpoint for {} {}", req.method(), req.path()),
        )
        .error_response();
    };
    let mut response = ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!(
            "{} does not take {}; it takes {}",
            req.path(),
            req.method(),
            allow.to_str().unwrap_or_default()
        ),
    )
    .error_response();
    response.headers_mut().insert(ALLOW, allow.clone());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths() -> DocumentedPaths {
        let item = |methods: &[utoipa::openapi::HttpMethod]| {
            PathItem::from_http_methods(
                methods.iter().cloned(),
                utoipa::openapi::path::Operation::new(),
            )
        };
        use utoipa::openapi::HttpMethod::{Delete, Get, Post};
        let document = utoipa::openapi::OpenApiBuilder::new()
            .paths(
                utoipa::openapi::PathsBuilder::new()
                    .path("/api/v1/organizations", item(&[Get, Post]))
                    .path(
                        "/api/v1/organizations/{org}/domains/{domain}",
                        item(&[Get, Delete]),
                    ),
            )
            .build();
        DocumentedPaths::of(&document)
    }

    #[test]
    fn a_documented_path_allows_its_methods() {
        let paths = paths();
        assert_eq!(paths.allowed("/api/v1/organizations").unwrap(), "GET, POST");
        assert_eq!(
            paths
                .allowed("/api/v1/organizations/acme/domains/acme.com")
                .unwrap(),
            "GET, DELETE"
        );
    }

    #[test]
    fn other_paths_are_not_found() {
        let paths = paths();
        assert!(paths.allowed("/api/v1/organizations/").is_none());
        assert!(
            paths
                .allowed("/api/v1/organizations/acme/domains/")
                .is_none()
        );
        assert!(
            paths
                .allowed("/api/v1/organizations/acme/domain/acme.com")
                .is_none()
        );
        assert!(paths.allowed("/api/v1").is_none());
    }
}
