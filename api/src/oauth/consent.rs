//! `/oauth2/consent`: users allow (or deny) third-party apps before they get a code.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;

use super::OAuthForm;
use super::authorize::{respond, sign_in_url};
use crate::error::HtmlError;
use crate::server::AppState;
use crate::session::{current_authorizing_session, current_session};

/// The waiting authorization request.
#[derive(Debug, Deserialize)]
pub struct ConsentQuery {
    transaction: String,
}

/// The consent question.
#[get("/oauth2/consent")]
pub async fn consent_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ConsentQuery>,
) -> Result<HttpResponse, HtmlError> {
    let Some(session) = current_session(&req, &state.config, &state.broker).await? else {
        let return_to = format!("/oauth2/consent?transaction={}", query.transaction);
        let location = sign_in_url(&state.broker.provider().issuer, &return_to, None, None)?;
        return Ok(HttpResponse::Found()
            .insert_header((LOCATION, location))
            .finish());
    };
    let prompt = state
        .broker
        .consent_prompt(&query.transaction, &session)
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(frontend::consent_page(frontend::ConsentRequest {
            app: &prompt.client_name,
            host: &prompt.redirect_host,
            scopes: &prompt.scopes,
            resources: &prompt.resources,
            organization: prompt.organization.as_deref(),
            confirmation: &prompt.confirmation,
        })))
}

/// The user's answer; the browser continues to the app.
#[post("/oauth2/consent")]
pub async fn consent_answer(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: OAuthForm,
) -> Result<HttpResponse, HtmlError> {
    let session = current_authorizing_session(&req, &state.config, &state.broker)
        .await?
        .ok_or_else(|| {
            broker::Error::new(
                broker::ErrorCode::SignInExpired,
                "sign in again, then retry from the app",
            )
        })?;
    let allow = form.get("decision") == Some("allow");
    let outcome = state
        .broker
        .consent_answer(form.get("confirm").unwrap_or_default(), session, allow)
        .await?;
    respond(&state, outcome, true)
}
