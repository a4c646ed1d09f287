//! `/api/v1/organizations/{org}/branding`: the display name, accent colour and logo on the
//! organization's sign-in pages.

use actix_web::{delete, get, put, web};
use broker::branding::{Branding, BrandingSettings, MAX_LOGO_BYTES};
use broker::org::OrgAccess;
use broker::{Error, ErrorCode};
use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::extract::OrgAdmin;
use crate::json::Json;
use crate::server::AppState;

/// An organization's branding.
#[derive(Debug, Serialize, ToSchema)]
pub struct BrandingView {
    /// Shown on sign-in pages instead of the organization's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Accent colour (buttons, links), `#rrggbb`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "#0b5394")]
    pub color: Option<String>,
    /// Where the logo is served (public), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// When it last changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

fn view(state: &AppState, access: &OrgAccess, b: Branding) -> BrandingView {
    let logo_url = b.logo_type.as_ref().map(|_| {
        let version = b.updated_at.map(|t| t.timestamp()).unwrap_or_default();
        state
            .broker
            .login_settings()
            .url_of(&crate::console::logo_path(access.org_id(), version))
    });
    BrandingView {
        display_name: b.display_name,
        color: b.color,
        logo_url,
        updated_at: b.updated_at,
    }
}

/// The name and colour; absent or null fields are cleared (the logo has its own endpoint).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutBranding {
    /// Display name, 1-128 characters.
    pub display_name: Option<String>,
    /// `#rrggbb`; white text on it must reach 4.5:1 contrast.
    #[schema(example = "#0b5394")]
    pub color: Option<String>,
}

/// Reads the organization's branding.
#[utoipa::path(
    tag = "branding",
    params(("org" = String, Path, description = "Organization id or slug")),
    responses((status = 200, body = BrandingView), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[get("/organizations/{org}/branding")]
pub async fn get_branding(
    state: web::Data<AppState>,
    access: OrgAdmin,
) -> Result<web::Json<BrandingView>, ApiError> {
    let branding = state.broker.get_branding(&access).await?;
    Ok(web::Json(view(&state, &access, branding)))
}

/// Sets the display name and accent colour of the organization's sign-in pages.
#[utoipa::path(
    tag = "branding",
    params(("org" = String, Path, description = "Organization id or slug")),
    request_body = PutBranding,
    responses(
        (status = 200, body = BrandingView),
        (status = 400, body = ErrorBody, description = "invalid_name, invalid_brand_color"),
        (status = 404, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[put("/organizations/{org}/branding")]
pub async fn put_branding(
    state: web::Data<AppState>,
    access: OrgAdmin,
    body: Json<PutBranding>,
) -> Result<web::Json<BrandingView>, ApiError> {
    let settings = BrandingSettings {
        display_name: body.0.display_name,
        color: body.0.color,
    };
    let branding = state.broker.set_branding(&access, settings).await?;
    Ok(web::Json(view(&state, &access, branding)))
}

/// Reads a raw request body of at most [`MAX_LOGO_BYTES`].
async fn read_logo(mut payload: web::Payload) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("a logo may be at most {} KiB", MAX_LOGO_BYTES / 1024),
        )
    };
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError(Error::new(
                ErrorCode::InvalidLogo,
                format!("the body could not be read: {e}"),
            ))
        })?;
        if body.len() + chunk.len() > MAX_LOGO_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Replaces the logo: send the image itself as the body (PNG, JPEG or WebP, at most 256 KiB).
#[utoipa::path(
    tag = "branding",
    params(("org" = String, Path, description = "Organization id or slug")),
    request_body(content = Vec<u8>, content_type = "image/png", description = "The image (PNG, JPEG or WebP)"),
    responses(
        (status = 200, body = BrandingView),
        (status = 400, body = ErrorBody, description = "invalid_logo"),
        (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody, description = "payload_too_large"),
    ),
    security(("api_key" = []))
)]
#[put("/organizations/{org}/branding/logo")]
pub async fn put_logo(
    state: web::Data<AppState>,
    access: OrgAdmin,
    payload: web::Payload,
) -> Result<web::Json<BrandingView>, ApiError> {
    let bytes = read_logo(payload).await?;
    let branding = state.broker.set_logo(&access, bytes).await?;
    Ok(web::Json(view(&state, &access, branding)))
}

/// Removes the logo.
#[utoipa::path(
    tag = "branding",
    params(("org" = String, Path, description = "Organization id or slug")),
    responses((status = 200, body = BrandingView), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
#[delete("/organizations/{org}/branding/logo")]
pub async fn delete_logo(
    state: web::Data<AppState>,
    access: OrgAdmin,
) -> Result<web::Json<BrandingView>, ApiError> {
    let branding = state.broker.remove_logo(&access).await?;
    Ok(web::Json(view(&state, &access, branding)))
}
