//! `/oauth2/end_session` (GET and POST): RP-initiated logout. Clears the session cookie and
//! sends the browser to a registered post-logout URI, or shows Tessera's pages.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use broker::provider::logout::{EndSessionOutcome, EndSessionParams};

use super::OAuthForm;
use crate::error::HtmlError;
use crate::server::AppState;
use crate::session::current_session;

fn params_from(form: &OAuthForm) -> EndSessionParams {
    let get = |name: &str| form.get(name).map(str::to_owned);
    EndSessionParams {
        id_token_hint: get("id_token_hint"),
        client_id: get("client_id"),
        post_logout_redirect_uri: get("post_logout_redirect_uri"),
        state: get("state"),
    }
}

fn respond(state: &AppState, outcome: EndSessionOutcome, after_post: bool) -> HttpResponse {
    match outcome {
        EndSessionOutcome::SignedOut { redirect } => {
            // Same attributes as the cookie being removed, or browsers keep a __Host- cookie.
            let removal = crate::browser::session_removal(&state.config);
            match redirect {
                Some(location) => {
                    let status = if after_post {
                        StatusCode::SEE_OTHER
                    } else {
                        StatusCode::FOUND
                    };
                    HttpResponse::build(status)
                        .cookie(removal)
                        .insert_header((LOCATION, location))
                        .finish()
                }
                None => HttpResponse::Ok()
                    .cookie(removal)
                    .content_type("text/html; charset=utf-8")
                    .body(frontend::SIGNED_OUT_HTML),
            }
        }
        EndSessionOutcome::Confirm {
            confirmation,
            client_name,
        } => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(frontend::sign_out_page(
                &confirmation,
                client_name.as_deref(),
            )),
    }
}

async fn end_session(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: OAuthForm,
    after_post: bool,
) -> Result<HttpResponse, HtmlError> {
    let session = current_session(&req, &state.config, &state.broker).await?;
    let outcome = match form.get("confirm") {
        Some(confirmation) if after_post => {
            state
                .broker
                .confirm_end_session(confirmation, session)
                .await?
        }
        _ => {
            state
                .broker
                .end_session(params_from(&form), session)
                .await?
        }
    };
    Ok(respond(&state, outcome, after_post))
}

/// Logout request in the query string.
#[get("/oauth2/end_session")]
pub async fn end_session_get(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HtmlError> {
    let form = OAuthForm::parse(req.query_string().as_bytes()).map_err(|e| HtmlError(e.0))?;
    end_session(req, state, form, false).await
}

/// Logout request or confirmation as a form post.
#[post("/oauth2/end_session")]
pub async fn end_session_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: OAuthForm,
) -> Result<HttpResponse, HtmlError> {
    end_session(req, state, form, true).await
}
