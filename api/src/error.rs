//! The one place where errors become HTTP responses. The admin API answers
//! `{code, message, field?, request_id}`; a 5xx logs its cause and returns a generic message.
//! (The OAuth, SCIM and HTML surfaces will render the same errors in their own formats here.)

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use broker::{Error, ErrorCode, ErrorKind};
use serde::Serialize;
use utoipa::ToSchema;

use crate::telemetry::current_request_id;

/// An error answered by the admin API.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        Self(error)
    }
}

impl ApiError {
    /// A new error with a stable code.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(Error::new(code, message))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The body of every admin API error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code (see docs/errors.md).
    #[schema(example = "invalid_slug")]
    pub code: &'static str,
    /// What went wrong, for humans.
    pub message: String,
    /// The request field at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "slug")]
    pub field: Option<String>,
    /// The request id; also in the `X-Request-Id` header and the server logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// What a client is told to wait (`Retry-After`) when a dependency is down: about as long as
/// a reconnection to PostgreSQL or Redis takes once it is back.
pub const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(2);

/// When the client may try again: the error's own wait (rate limits), or
/// [`UNAVAILABLE_RETRY_AFTER`] when a dependency is down. Every surface sends it as
/// `Retry-After`.
pub fn retry_after_of(error: &Error) -> Option<Duration> {
    error
        .retry_after()
        .or((error.kind() == ErrorKind::Unavailable).then_some(UNAVAILABLE_RETRY_AFTER))
}

fn retry_after_header(wait: Duration) -> (header::HeaderName, String) {
    (header::RETRY_AFTER, wait.as_secs().max(1).to_string())
}

/// The HTTP status for each kind of failure.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_of(self.0.kind())
    }

    fn error_response(&self) -> HttpResponse {
        let error = &self.0;
        let status = self.status_code();
        let request_id = current_request_id();
        if status.is_server_error() {
            tracing::error!(code = %error.code(), cause = ?error.cause(), "{}", error.message());
        } else {
            tracing::info!(code = %error.code(), field = error.field(), "{}", error.message());
        }
        let mut response = HttpResponse::build(status);
        if let Some(wait) = retry_after_of(error) {
            response.insert_header(retry_after_header(wait));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tessera\""),
            ));
        }
        response.json(ErrorBody {
            code: error.code().as_str(),
            message: error.message().to_owned(),
            field: error.field().map(str::to_owned),
            request_id,
        })
    }
}

/// An error answered by an OAuth endpoint (token, introspection, revocation, userinfo): the
/// RFC 6749 §5.2 body `{error, error_description}` with the status RFC 6749 and RFC 6750 ask for.
#[derive(Debug)]
pub struct OAuthError(pub Error);

impl From<Error> for OAuthError {
    fn from(error: Error) -> Self {
        Self(error)
    }
}

impl From<ApiError> for OAuthError {
    fn from(error: ApiError) -> Self {
        Self(error.0)
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The OAuth `error` value for a broker error: the RFC code itself when it is one, otherwise
/// the closest RFC 6749 code for its kind.
pub fn oauth_error_code(error: &Error) -> &'static str {
    use ErrorCode as C;
    match error.code() {
        C::InvalidRequest
        | C::InvalidClient
        | C::InvalidGrant
        | C::UnauthorizedClient
        | C::UnsupportedGrantType
        | C::InvalidScope
        | C::InvalidTarget
        | C::InvalidToken
        | C::InsufficientScope
        | C::UnsupportedResponseType
        | C::RequestNotSupported
        | C::RequestUriNotSupported
        | C::AccessDenied
        | C::LoginRequired
        | C::AuthorizationPending
        | C::SlowDown
        | C::ExpiredToken
        | C::ConsentRequired
        | C::InvalidClientMetadata
        | C::UnmetAuthenticationRequirements
        | C::InvalidRedirectUri => error.code().as_str(),
        _ => match error.kind() {
            ErrorKind::Unauthenticated => "invalid_client",
            ErrorKind::Forbidden => "access_denied",
            ErrorKind::RateLimited | ErrorKind::Unavailable => "temporarily_unavailable",
            ErrorKind::Internal => "server_error",
            _ => "invalid_request",
        },
    }
}

#[derive(Serialize)]
struct OAuthErrorBody<'a> {
    error: &'static str,
    error_description: &'a str,
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        match self.0.code() {
            // RFC 6750 §3.1 and RFC 6749 §5.2: bad tokens and bad clients are 401s.
            ErrorCode::InvalidToken | ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
            _ => match self.0.kind() {
                ErrorKind::Forbidden
                | ErrorKind::NotFound
                | ErrorKind::Conflict
                | ErrorKind::Unprocessable => StatusCode::BAD_REQUEST,
                kind => status_of(kind),
            },
        }
    }

    fn error_response(&self) -> HttpResponse {
        let error = &self.0;
        let status = self.status_code();
        let code = oauth_error_code(error);
        if status.is_server_error() {
            tracing::error!(code, cause = ?error.cause(), "{}", error.message());
        } else {
            tracing::info!(code, cause = ?error.cause(), "{}", error.message());
        }
        let mut response = HttpResponse::build(status);
        response.insert_header((header::PRAGMA, "no-cache"));
        if let Some(wait) = retry_after_of(error) {
            response.insert_header(retry_after_header(wait));
        }
        match error.code() {
            ErrorCode::InvalidClient => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"tessera\""),
                ));
            }
            ErrorCode::InvalidToken => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"tessera\", error=\"invalid_token\""),
                ));
            }
            ErrorCode::InsufficientScope => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(
                        "Bearer realm=\"tessera\", error=\"insufficient_scope\", scope=\"openid\"",
                    ),
                ));
            }
            _ => {}
        }
        response.json(OAuthErrorBody {
            error: code,
            error_description: error.message(),
        })
    }
}

/// An error on a page a person sees in a browser (sign-in links that cannot go back to the
/// app): Tessera's error page with the code and request id, never a redirect.
#[derive(Debug)]
pub struct HtmlError(pub Error);

impl From<Error> for HtmlError {
    fn from(error: Error) -> Self {
        Self(error)
    }
}

impl std::fmt::Display for HtmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for HtmlError {
    fn status_code(&self) -> StatusCode {
        status_of(self.0.kind())
    }

    fn error_response(&self) -> HttpResponse {
        let error = &self.0;
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(code = %error.code(), cause = ?error.cause(), "{}", error.message());
        } else {
            tracing::info!(code = %error.code(), "{}", error.message());
        }
        let title = match error.code() {
            _ if error.kind() == ErrorKind::Unavailable => "Tessera is briefly unavailable",
            _ if status.is_server_error() => "Something went wrong",
            ErrorCode::CsrfCheckFailed => "This form expired",
            ErrorCode::RateLimited | ErrorCode::AccountLocked => "Too many attempts",
            code if is_sso_failure(code) => "Signing in through your organization did not work",
            _ => "This sign-in link does not work",
        };
        let page = frontend::error_page(
            title,
            error.message(),
            error.code().as_str(),
            &current_request_id().unwrap_or_default(),
        );
        let mut response = HttpResponse::build(status);
        if let Some(wait) = retry_after_of(error) {
            response.insert_header(retry_after_header(wait));
        }
        response.content_type("text/html; charset=utf-8").body(page)
    }
}

/// An error on the SCIM endpoints, answered with the SCIM error schema (RFC 7644 §3.12) as
/// `application/scim+json`: protocol errors as the `scim` crate made them, Tessera's errors
/// with the status of their kind (429 with `Retry-After`, 401 with `WWW-Authenticate`).
#[derive(Debug)]
pub struct ScimApiError {
    body: scim::ScimError,
    retry_after: Option<std::time::Duration>,
}

impl From<scim::ScimError> for ScimApiError {
    fn from(body: scim::ScimError) -> Self {
        Self {
            body,
            retry_after: None,
        }
    }
}

impl From<Error> for ScimApiError {
    fn from(error: Error) -> Self {
        let retry_after = retry_after_of(&error);
        Self {
            body: error.into(),
            retry_after,
        }
    }
}

impl ScimApiError {
    /// The SCIM error answered.
    pub fn scim_error(&self) -> &scim::ScimError {
        &self.body
    }
}

impl std::fmt::Display for ScimApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.body.fmt(f)
    }
}

impl ResponseError for ScimApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.body.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_client_error() {
            tracing::info!(
                status = self.body.status,
                "SCIM request refused: {}",
                self.body.detail
            );
        }
        let mut response = HttpResponse::build(status);
        response.content_type("application/scim+json");
        // The directory answers 503 itself when the database is down (as a SCIM error).
        let unavailable =
            (status == StatusCode::SERVICE_UNAVAILABLE).then_some(UNAVAILABLE_RETRY_AFTER);
        if let Some(wait) = self.retry_after.or(unavailable) {
            response.insert_header(retry_after_header(wait));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tessera-scim\""),
            ));
        }
        response.json(&self.body)
    }
}

/// Codes that end a sign-in through an organization's IdP.
fn is_sso_failure(code: ErrorCode) -> bool {
    let name = code.as_str();
    name.starts_with("oidc_")
        || name.starts_with("upstream_")
        || name.starts_with("sso_")
        || name.starts_with("saml_")
        || matches!(
            code,
            ErrorCode::RoleMappingDenied
                | ErrorCode::IdentityLinkRefused
                | ErrorCode::MembershipInactive
                | ErrorCode::ConnectionInactive
                | ErrorCode::ConnectionNotFound
        )
}

/// The error-code reference (docs/errors.md), generated from the codes themselves so the two
/// cannot drift apart.
pub fn error_reference_markdown() -> String {
    let mut out = String::from(
        "# Error codes\n\n\
         Generated from `broker::ErrorCode`; do not edit by hand (a test compares this file with\n\
         the code, and `UPDATE_DOCS=1 cargo test -p tessera-tests docs` rewrites it).\n\n\
         Every admin API error is JSON: `{\"code\", \"message\", \"field\"?, \"request_id\"}`.\n\
         `code` is stable and safe to match on; `message` is for humans and may change;\n\
         `field` names the request field at fault (`rules[2].op`); `request_id` is also in the\n\
         `X-Request-Id` header and in the server's log lines.\n\n\
         | code | HTTP status | meaning |\n|---|---|---|\n",
    );
    for code in ErrorCode::ALL {
        let status = status_of(code.kind());
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            code.as_str(),
            status.as_u16(),
            code.meaning()
        ));
    }
    out
}
