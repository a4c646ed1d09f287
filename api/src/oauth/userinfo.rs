//! `/oauth2/userinfo` (GET and POST): claims for the bearer of an access token (RFC 6750).

use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use broker::{Error, ErrorCode};

use crate::error::OAuthError;
use crate::server::AppState;

fn bearer(req: &HttpRequest) -> Result<&str, OAuthError> {
    req.headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| {
            OAuthError(Error::new(
                ErrorCode::InvalidToken,
                "send the access token as Authorization: Bearer",
            ))
        })
}

async fn userinfo(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let claims = state.broker.userinfo(bearer(&req)?).await?;
    Ok(HttpResponse::Ok().json(claims))
}

/// UserInfo with GET.
#[get("/oauth2/userinfo")]
pub async fn userinfo_get(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    userinfo(req, state).await
}

/// UserInfo with POST.
#[post("/oauth2/userinfo")]
pub async fn userinfo_post(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    userinfo(req, state).await
}
