//! The admin console's pages: `/admin` (the console itself, for signed-in instance and org
//! admins), `/admin/first-admin/{token}` (the one-time link that creates the first instance
//! admin with a passkey), `/setup/{token}` (the SSO wizard behind a setup link) and
//! `/branding/{org}/logo` (organization logos for the sign-in pages). The console's scripts
//! talk to the public admin API (`/api/v1`); these handlers only serve pages and the first
//! admin's passkey ceremony.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use broker::entities::OrgId;
use broker::{Error, ErrorCode};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};

use crate::browser::{
    check_csrf, client_info, csrf_token, encode, page, see_other, session_cookie,
};
use crate::error::{ApiError, HtmlError};
use crate::json::Json;
use crate::server::AppState;
use crate::session::current_session;

/// Where the console lives.
pub const CONSOLE_PATH: &str = "/admin";

/// Routes of the console's pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(console_page)
        .service(first_admin_page)
        .service(first_admin_options)
        .service(first_admin_finish)
        .service(setup_page)
        .service(org_logo);
}

/// The path of an organization's logo; `version` changes with the logo, so it can be cached.
pub fn logo_path(org: OrgId, version: i64) -> String {
    format!("/branding/{org}/logo?v={version}")
}

/// The console. Without a session, sign in first; an account that administers nothing gets a
/// page saying so.
#[get("/admin")]
pub async fn console_page(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HtmlError> {
    let Some(session) = current_session(&req, &state.config, &state.broker).await? else {
        let login = format!("/login?return_to={}", encode(CONSOLE_PATH));
        return Ok(see_other(&login, None));
    };
    let user = state.broker.user(session.user_id).await?;
    let email = user.email.clone().unwrap_or_default();
    let profile = state.broker.admin_profile(user).await?;
    let (csrf, set) = csrf_token(&req, &state.config);
    if !profile.is_admin() {
        let body = frontend::console_denied_page(&email);
        return Ok(page(StatusCode::FORBIDDEN, body, set));
    }
    Ok(page(StatusCode::OK, frontend::console_page(&csrf), set))
}

/// The page behind the first-admin link: name yourself, create a passkey.
#[get("/admin/first-admin/{token}")]
pub async fn first_admin_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, HtmlError> {
    let client = client_info(&req, &state.config);
    state.broker.check_first_admin_link(&token, &client).await?;
    let (csrf, set) = csrf_token(&req, &state.config);
    Ok(page(
        StatusCode::OK,
        frontend::first_admin_page(&csrf, &token),
        set,
    ))
}

/// The first admin's details.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstAdmin {
    email: String,
    name: String,
}

/// Passkey registration options for the first admin.
#[post("/admin/first-admin/{token}/options")]
pub async fn first_admin_options(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: Json<FirstAdmin>,
) -> Result<HttpResponse, ApiError> {
    check_csrf(&req, &state.config, None)?;
    let client = client_info(&req, &state.config);
    let ceremony = state
        .broker
        .start_first_admin(&token, &body.0.email, &body.0.name, &client)
        .await?;
    Ok(HttpResponse::Ok().json(ceremony))
}

/// The browser's answer to the passkey prompt.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstAdminPasskey {
    ceremony: String,
    credential: serde_json::Value,
}

#[derive(Serialize)]
struct Redirect {
    redirect: &'static str,
}

/// Creates the first instance admin with the passkey and signs them in.
#[post("/admin/first-admin/{token}")]
pub async fn first_admin_finish(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: Json<FirstAdminPasskey>,
) -> Result<HttpResponse, ApiError> {
    check_csrf(&req, &state.config, None)?;
    let client = client_info(&req, &state.config);
    let signed_in = state
        .broker
        .finish_first_admin(&token, &body.0.ceremony, &body.0.credential, &client)
        .await?;
    Ok(HttpResponse::Ok()
        .cookie(session_cookie(
            &state.config,
            signed_in.token.expose_secret(),
        ))
        .json(Redirect {
            redirect: CONSOLE_PATH,
        }))
}

/// The SSO wizard behind a setup link.
#[get("/setup/{token}")]
pub async fn setup_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, HtmlError> {
    let client = client_info(&req, &state.config);
    let (link, org, _) = state
        .broker
        .open_setup_link(&token, client.ip, client.request_id)
        .await?;
    let body = frontend::setup_page(&frontend::SetupPage {
        org_name: &org.name,
        org_slug: &org.slug,
        expires_at: &link.expires_at.format("%Y-%m-%d %H:%M UTC").to_string(),
    });
    Ok(page(StatusCode::OK, body, None))
}

/// An organization's logo, for its sign-in pages (public).
#[get("/branding/{org}/logo")]
pub async fn org_logo(
    state: web::Data<AppState>,
    org: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org: OrgId = org
        .parse()
        .map_err(|_| Error::new(ErrorCode::LogoNotFound, "no such logo"))?;
    let (bytes, content_type) = state.broker.logo(org).await?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("cache-control", "public, max-age=86400"))
        .insert_header(("content-security-policy", "default-src 'none'"))
        .body(bytes))
}
