//! The device grant's HTTP side: `/oauth2/device_authorization` for the device, and the `/device`
//! pages where a signed-in user approves its code.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use broker::ErrorCode;
use serde::Deserialize;

use super::{AppClient, OAuthForm, authorize::sign_in_url};
use crate::error::{HtmlError, OAuthError};
use crate::extract::client_ip;
use crate::server::AppState;
use crate::session::{current_authorizing_session, current_session};

/// Device authorization request (RFC 8628 §3.1).
#[post("/oauth2/device_authorization")]
pub async fn device_authorization(
    req: HttpRequest,
    state: web::Data<AppState>,
    app: AppClient,
) -> Result<HttpResponse, OAuthError> {
    let ip = client_ip(&req, state.config.trusted_proxy_hops);
    let response = state
        .broker
        .device_authorization(
            &app.client,
            app.form.get("scope"),
            &app.form.all("resource"),
            ip.as_deref(),
        )
        .await?;
    Ok(HttpResponse::Ok().json(response))
}

fn html(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// The code a user typed (or a verification link carried).
#[derive(Debug, Deserialize)]
pub struct DeviceQuery {
    user_code: Option<String>,
}

/// The code entry page; with a code, the approval question. Signed-out users sign in first.
#[get("/device")]
pub async fn device_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<DeviceQuery>,
) -> Result<HttpResponse, HtmlError> {
    let Some(session) = current_session(&req, &state.config, &state.broker).await? else {
        let return_to = match &query.user_code {
            Some(code) => format!("/device?user_code={}", crate::browser::encode(code)),
            None => "/device".to_owned(),
        };
        let location = sign_in_url(&state.broker.provider().issuer, &return_to, None, None)?;
        return Ok(HttpResponse::Found()
            .insert_header((LOCATION, location))
            .finish());
    };
    let Some(typed) = &query.user_code else {
        return Ok(html(frontend::device_page(None)));
    };
    match state.broker.device_prompt(typed, &session).await {
        Ok(prompt) => Ok(html(frontend::device_confirm_page(
            &prompt.client_name,
            &prompt.user_code,
            &prompt.scope,
            &prompt.confirmation,
        ))),
        Err(e) if e.code() == ErrorCode::DeviceCodeInvalid => Ok(HttpResponse::BadRequest()
            .content_type("text/html; charset=utf-8")
            .body(frontend::device_page(Some(e.message())))),
        Err(e) => Err(e.into()),
    }
}

/// The user's answer.
#[post("/device")]
pub async fn device_answer(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: OAuthForm,
) -> Result<HttpResponse, HtmlError> {
    let session = current_authorizing_session(&req, &state.config, &state.broker)
        .await?
        .ok_or_else(|| {
            broker::Error::new(
                ErrorCode::DeviceCodeInvalid,
                "sign in first, then enter the code again",
            )
        })?;
    let confirmation = form.get("confirm").unwrap_or_default();
    let approve = form.get("decision") == Some("approve");
    state
        .broker
        .device_answer(confirmation, &session, approve)
        .await?;
    Ok(html(frontend::device_done_page(approve)))
}
