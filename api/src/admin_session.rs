//! The admin API's second credential, for the admin console: the browser's session cookie of an
//! instance admin or org admin. Writes need the double-submit CSRF token (`X-CSRF-Token`, the
//! same `tessera_csrf` cookie the sign-in pages use) and a same-origin `Origin`; the
//! organization comes from the path, or from `X-Tessera-Organization` on routes without one.

use actix_web::HttpRequest;
use actix_web::http::Method;
use broker::admin::AdminProfile;
use broker::{Actor, ErrorCode};

use crate::error::ApiError;
use crate::server::AppState;
use crate::session::current_session;

/// The header naming the organization a console request acts in, on routes without `{org}`.
pub const ORGANIZATION_HEADER: &str = "x-tessera-organization";

fn missing_credentials() -> ApiError {
    ApiError::new(
        ErrorCode::MissingCredentials,
        "send an API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>', or sign in \
         to the admin console",
    )
}

/// Requests that change something must prove they come from Tessera's own pages.
fn check_write(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        crate::browser::check_csrf(req, &state.config, None)?;
    }
    Ok(())
}

/// The admin actor for the request's session cookie, acting in `org` (the path's) or in the
/// organization the `X-Tessera-Organization` header names.
pub async fn session_admin(
    req: &HttpRequest,
    state: &AppState,
    org: Option<&str>,
    ip: Option<String>,
    request_id: Option<String>,
) -> Result<Actor, ApiError> {
    let session = current_session(req, &state.config, &state.broker)
        .await?
        .ok_or_else(missing_credentials)?;
    check_write(req, state)?;
    let header = req
        .headers()
        .get(ORGANIZATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let org = org.or(header);
    Ok(state
        .broker
        .session_admin(&session, org, ip, request_id)
        .await?)
}

/// What the request's signed-in person administers; refused when nothing.
pub async fn admin_profile(req: &HttpRequest, state: &AppState) -> Result<AdminProfile, ApiError> {
    let session = current_session(req, &state.config, &state.broker)
        .await?
        .ok_or_else(missing_credentials)?;
    check_write(req, state)?;
    let user = state.broker.user(session.user_id).await?;
    let profile = state.broker.admin_profile(user).await?;
    if !profile.is_admin() {
        return Err(ApiError::new(
            ErrorCode::AdminRoleRequired,
            "this account administers no organization",
        ));
    }
    Ok(profile)
}
