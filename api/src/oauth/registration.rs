//! `/oauth2/register`: dynamic client registration (RFC 7591), served only when enabled.

use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpRequest, HttpResponse, web};
use broker::provider::registration::RegistrationRequest;

use crate::error::OAuthError;
use crate::extract::client_ip;
use crate::json::Json;
use crate::server::AppState;

/// Registers an app. An `Authorization: Bearer` header carries the initial access token.
pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Json<RegistrationRequest>,
) -> Result<HttpResponse, OAuthError> {
    let ip = client_ip(&req, state.config.trusted_proxy_hops);
    let token = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let initial = match token {
        Some(token) => {
            let request_id = crate::telemetry::current_request_id();
            Some(
                state
                    .broker
                    .authenticate_api_key(token, ip.clone(), request_id)
                    .await
                    .map_err(|e| {
                        OAuthError(broker::Error::new(
                            broker::ErrorCode::InvalidToken,
                            e.message().to_owned(),
                        ))
                    })?,
            )
        }
        None => None,
    };
    let registered = state
        .broker
        .register_client(body.0, initial, ip.as_deref())
        .await?;
    Ok(HttpResponse::Created().json(registered))
}
