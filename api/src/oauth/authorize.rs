//! `/oauth2/authorize` (GET and POST) and `/oauth2/authorize/resume`: the browser side of the
//! authorization code flow. The broker decides; this turns its decision into a redirect.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use broker::provider::authorize::{AuthorizeOutcome, AuthorizeParams};
use broker::provider::discovery::path;
use serde::Deserialize;

use super::OAuthForm;
use crate::error::{HtmlError, oauth_error_code};
use crate::server::AppState;
use crate::session::current_authorizing_session;

/// The longest query string an authorization request may have.
const MAX_QUERY: usize = 8 * 1024;

fn params_from(form: &OAuthForm, client_ip: Option<String>) -> AuthorizeParams {
    let get = |name: &str| form.get(name).map(str::to_owned);
    AuthorizeParams {
        client_id: get("client_id"),
        redirect_uri: get("redirect_uri"),
        response_type: get("response_type"),
        response_mode: get("response_mode"),
        scope: get("scope"),
        state: get("state"),
        nonce: get("nonce"),
        code_challenge: get("code_challenge"),
        code_challenge_method: get("code_challenge_method"),
        prompt: get("prompt"),
        max_age: get("max_age"),
        login_hint: get("login_hint"),
        organization: get("organization"),
        resources: form.all("resource"),
        acr_values: get("acr_values"),
        request: get("request"),
        request_uri: get("request_uri"),
        client_ip,
    }
}

/// `redirect_uri` with `pairs` added to its query (keeping any query it already has).
fn with_query(redirect_uri: &str, pairs: &[(&str, Option<&str>)]) -> Result<String, HtmlError> {
    let mut url =
        url::Url::parse(redirect_uri).map_err(|e| HtmlError(broker::Error::internal(e)))?;
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
    }
    Ok(url.to_string())
}

/// The sign-in page, told where to send the browser back (a path on Tessera itself).
pub fn sign_in_url(
    issuer: &str,
    return_to: &str,
    login_hint: Option<&str>,
    acr: Option<&str>,
) -> Result<String, HtmlError> {
    let mut url = url::Url::parse(&format!("{issuer}{}", path::SIGN_IN))
        .map_err(|e| HtmlError(broker::Error::internal(e)))?;
    url.query_pairs_mut().append_pair("return_to", return_to);
    if let Some(hint) = login_hint {
        url.query_pairs_mut().append_pair("login_hint", hint);
    }
    if let Some(acr) = acr {
        url.query_pairs_mut().append_pair("acr", acr);
    }
    Ok(url.to_string())
}

/// The browser goes to `location`; 303 after a POST so the form is not resent.
fn redirect(location: String, after_post: bool) -> HttpResponse {
    let status = if after_post {
        StatusCode::SEE_OTHER
    } else {
        StatusCode::FOUND
    };
    HttpResponse::build(status)
        .insert_header((LOCATION, location))
        .finish()
}

pub(super) fn respond(
    state: &AppState,
    outcome: AuthorizeOutcome,
    after_post: bool,
) -> Result<HttpResponse, HtmlError> {
    let issuer = state.broker.provider().issuer.as_str();
    let location = match outcome {
        AuthorizeOutcome::Code {
            redirect_uri,
            code,
            state,
        } => with_query(
            &redirect_uri,
            &[
                ("code", Some(&code)),
                ("state", state.as_deref()),
                ("iss", Some(issuer)),
            ],
        )?,
        AuthorizeOutcome::Denied {
            redirect_uri,
            error,
            state,
        } => {
            tracing::info!(code = %error.code(), "authorization denied: {}", error.message());
            with_query(
                &redirect_uri,
                &[
                    ("error", Some(oauth_error_code(&error))),
                    ("error_description", Some(error.message())),
                    ("state", state.as_deref()),
                    ("iss", Some(issuer)),
                ],
            )?
        }
        AuthorizeOutcome::Consent { transaction } => {
            format!("{issuer}{}?transaction={transaction}", path::CONSENT)
        }
        AuthorizeOutcome::SignIn {
            transaction,
            login_hint,
            acr,
            sso,
        } => {
            let return_to = format!("{}?transaction={transaction}", path::AUTHORIZE_RESUME);
            match sso {
                Some(connection) => format!(
                    "{issuer}{}",
                    crate::browser::sso_start_path(connection, login_hint.as_deref(), &return_to)
                ),
                None => sign_in_url(issuer, &return_to, login_hint.as_deref(), acr)?,
            }
        }
    };
    Ok(redirect(location, after_post))
}

async fn authorize(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: OAuthForm,
    after_post: bool,
) -> Result<HttpResponse, HtmlError> {
    let session = current_authorizing_session(&req, &state.config, &state.broker).await?;
    let ip = crate::extract::client_ip(&req, state.config.trusted_proxy_hops);
    let outcome = state
        .broker
        .authorize(params_from(&form, ip), session)
        .await?;
    respond(&state, outcome, after_post)
}

/// Authorization request in the query string.
#[get("/oauth2/authorize")]
pub async fn authorize_get(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HtmlError> {
    if req.query_string().len() > MAX_QUERY {
        return Err(HtmlError(broker::Error::new(
            broker::ErrorCode::InvalidRequest,
            "the sign-in link is too long",
        )));
    }
    let form = OAuthForm::parse(req.query_string().as_bytes()).map_err(|e| HtmlError(e.0))?;
    authorize(req, state, form, false).await
}

/// Authorization request as a form post (OIDC Core §3.1.2.1).
#[post("/oauth2/authorize")]
pub async fn authorize_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: OAuthForm,
) -> Result<HttpResponse, HtmlError> {
    authorize(req, state, form, true).await
}

/// Where the sign-in pages return.
#[derive(Debug, Deserialize)]
pub struct Resume {
    transaction: String,
}

/// Continues an authorization request once the user has signed in.
#[get("/oauth2/authorize/resume")]
pub async fn resume(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Resume>,
) -> Result<HttpResponse, HtmlError> {
    let session = current_authorizing_session(&req, &state.config, &state.broker).await?;
    let outcome = state
        .broker
        .resume_authorization(&query.transaction, session)
        .await?;
    respond(&state, outcome, false)
}
