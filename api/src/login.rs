//! The sign-in pages: `/login` (email with passkey autofill, passkey button, optional
//! password), emailed links and codes, the second-factor step, and the passkey ceremony
//! endpoints. Handlers are thin: the broker decides, these turn results into pages, cookies
//! and redirects.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use broker::login::email_link::EmailLinkRequest;
use broker::login::routing::SignInRoute;
use broker::login::second_factor::SignInStep;
use broker::login::{SignedIn, acr};
use broker::{Error, ErrorCode};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};

use crate::browser::{
    ACCOUNT_PATH, check_csrf, client_info, csrf_token, encode, existing_flow, flow_secret, page,
    page_for, safe_return_to, see_other, session_cookie, sso_start_path,
};
use crate::error::{ApiError, HtmlError};
use crate::json::Json;
use crate::server::AppState;
use crate::session::current_session;

/// Routes of the sign-in pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(login_page)
        .service(email_submit)
        .service(check_email_page)
        .service(code_submit)
        .service(link_page)
        .service(link_submit)
        .service(password_submit)
        .service(second_factor_page)
        .service(second_factor_submit)
        .service(passkey_options)
        .service(passkey_finish)
        .service(second_factor_passkey);
}

/// The sign-in page's query.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
    login_hint: Option<String>,
    acr: Option<String>,
    reauth: Option<String>,
    link: Option<String>,
}

#[derive(Default)]
struct LoginView<'a> {
    return_to: &'a str,
    email: &'a str,
    error: Option<&'a Error>,
    notice: Option<&'a str>,
    step_up: bool,
}

async fn render_login(
    req: &HttpRequest,
    state: &AppState,
    view: LoginView<'_>,
) -> Result<HttpResponse, HtmlError> {
    let (csrf, set) = csrf_token(req, &state.config);
    let next = view.return_to;
    let social: Vec<(String, String)> = state
        .broker
        .social_connections()
        .await?
        .into_iter()
        .map(|c| {
            let next = if next.is_empty() { ACCOUNT_PATH } else { next };
            (c.name, sso_start_path(c.id, None, next))
        })
        .collect();
    let brand = state.broker.sign_in_branding(view.return_to).await?;
    let logo_url = brand.as_ref().and_then(|b| {
        b.logo_version
            .map(|v| crate::console::logo_path(b.org_id, v))
    });
    let body = frontend::login_page(frontend::LoginPage {
        csrf: &csrf,
        return_to: view.return_to,
        email: view.email,
        error: view.error.map(Error::message),
        notice: view.notice,
        password_login: state.config.password_login,
        step_up: view.step_up,
        social: &social,
        email_invalid: view.error.and_then(Error::field) == Some("email"),
        brand: brand.as_ref().map(|b| frontend::Brand {
            name: &b.name,
            color: b.color.as_deref(),
            logo_url: logo_url.as_deref(),
        }),
    });
    Ok(page_for(view.error, body, set))
}

/// The sign-in page again, with the email typed and what went wrong.
async fn login_error(
    req: &HttpRequest,
    state: &AppState,
    return_to: Option<&str>,
    email: &str,
    error: &Error,
) -> Result<HttpResponse, HtmlError> {
    render_login(
        req,
        state,
        LoginView {
            return_to: return_to.unwrap_or_default(),
            email,
            error: Some(error),
            ..LoginView::default()
        },
    )
    .await
}

/// The sign-in page. Without `return_to`, a signed-in user goes to the account page.
#[get("/login")]
pub async fn login_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, HtmlError> {
    let return_to = safe_return_to(query.return_to.as_deref());
    if return_to.is_none()
        && query.reauth.is_none()
        && current_session(&req, &state.config, &state.broker)
            .await?
            .is_some()
    {
        return Ok(see_other(ACCOUNT_PATH, None));
    }
    let step_up = query
        .acr
        .as_deref()
        .is_some_and(|a| a != acr::SINGLE_FACTOR);
    let link_notice = query.link.as_deref().map(|provider| {
        let provider: String = provider.chars().take(64).collect();
        format!(
            "You already have an account with this email. Sign in to it once, the way you usually do, to connect {provider}; after that “Continue with {provider}” signs you in."
        )
    });
    let notice = query
        .reauth
        .as_ref()
        .map(|_| "For your security, sign in again to change how you sign in.")
        .or(link_notice.as_deref());
    render_login(
        &req,
        &state,
        LoginView {
            return_to: return_to.as_deref().unwrap_or_default(),
            email: query.login_hint.as_deref().unwrap_or_default(),
            error: None,
            notice,
            step_up,
        },
    )
    .await
}

/// The email form.
#[derive(Debug, Deserialize)]
pub struct EmailForm {
    csrf: Option<String>,
    return_to: Option<String>,
    email: String,
}

/// "Email me a link": routes SSO domains to their IdP, otherwise sends a link and a code.
#[post("/login/email")]
pub async fn email_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<EmailForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let return_to = safe_return_to(form.return_to.as_deref());
    let email = match broker::validate::email("email", &form.email) {
        Ok(email) => email,
        Err(error) => {
            return login_error(&req, &state, return_to.as_deref(), &form.email, &error).await;
        }
    };
    if let SignInRoute::Federated { connection_id, .. } = state.broker.sign_in_route(&email).await?
    {
        let next = return_to.as_deref().unwrap_or(ACCOUNT_PATH);
        let location = sso_start_path(connection_id, Some(&email), next);
        return Ok(see_other(&location, None));
    }
    let (flow, flow_cookie) = flow_secret(&req, &state.config);
    let request = EmailLinkRequest {
        email: email.clone(),
        return_to: return_to.clone(),
        flow,
    };
    let client = client_info(&req, &state.config);
    if let Err(error) = state.broker.request_email_link(request, &client).await {
        return login_error(&req, &state, return_to.as_deref(), &form.email, &error).await;
    }
    let location = format!(
        "/login/check-email?email={}&return_to={}",
        encode(&email),
        encode(return_to.as_deref().unwrap_or_default())
    );
    Ok(see_other(&location, flow_cookie))
}

/// The "check your email" page's query.
#[derive(Debug, Deserialize)]
pub struct CheckEmailQuery {
    email: Option<String>,
    return_to: Option<String>,
}

/// "Check your email", with the code form.
#[get("/login/check-email")]
pub async fn check_email_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<CheckEmailQuery>,
) -> HttpResponse {
    let (csrf, set) = csrf_token(&req, &state.config);
    let return_to = safe_return_to(query.return_to.as_deref()).unwrap_or_default();
    let body = frontend::check_email_page(
        &csrf,
        &return_to,
        query.email.as_deref().unwrap_or("your address"),
        None,
    );
    page(StatusCode::OK, body, set)
}

/// The code form.
#[derive(Debug, Deserialize)]
pub struct CodeForm {
    csrf: Option<String>,
    return_to: Option<String>,
    code: String,
}

/// The code from the email, typed in the browser that asked for it.
#[post("/login/code")]
pub async fn code_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let client = client_info(&req, &state.config);
    let result = match existing_flow(&req, &state.config) {
        Some(flow) => {
            state
                .broker
                .redeem_email_code(&flow, &form.code, &client)
                .await
        }
        None => Err(Error::new(
            ErrorCode::EmailCodeInvalid,
            "this browser did not ask for a code; ask for a new one",
        )),
    };
    match result {
        Ok(done) => Ok(after_step(&state, done.step, done.new_account)),
        Err(error) => {
            let (csrf, set) = csrf_token(&req, &state.config);
            let return_to = safe_return_to(form.return_to.as_deref()).unwrap_or_default();
            let body = frontend::check_email_page(
                &csrf,
                &return_to,
                "your address",
                Some(error.message()),
            );
            Ok(page_for(Some(&error), body, set))
        }
    }
}

/// The emailed link.
#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    token: String,
}

/// The emailed link: asks for a click, so mail scanners that open links do not spend them.
#[get("/login/link")]
pub async fn link_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LinkQuery>,
) -> Result<HttpResponse, HtmlError> {
    let email = state.broker.peek_email_link(&query.token).await?;
    let (csrf, set) = csrf_token(&req, &state.config);
    Ok(page(
        StatusCode::OK,
        frontend::link_confirm_page(&csrf, &query.token, &email),
        set,
    ))
}

/// The confirmation form of the emailed link.
#[derive(Debug, Deserialize)]
pub struct LinkForm {
    csrf: Option<String>,
    token: String,
}

/// Redeems the emailed link.
#[post("/login/link")]
pub async fn link_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LinkForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let client = client_info(&req, &state.config);
    let flow = existing_flow(&req, &state.config);
    let done = state
        .broker
        .redeem_email_link(&form.token, flow.as_deref(), &client)
        .await?;
    Ok(after_step(&state, done.step, done.new_account))
}

/// Where the browser goes after a first factor.
fn after_step(state: &AppState, step: SignInStep, new_account: bool) -> HttpResponse {
    match step {
        SignInStep::Done {
            signed_in,
            return_to,
        } => {
            let next = return_to.unwrap_or_else(|| ACCOUNT_PATH.to_owned());
            let location = if new_account {
                format!("/account/passkey-prompt?return_to={}", encode(&next))
            } else {
                next
            };
            signed_in_redirect(state, &signed_in, &location)
        }
        SignInStep::SecondFactor { ticket, .. } => {
            see_other(&format!("/login/second-factor?ticket={ticket}"), None)
        }
    }
}

fn signed_in_redirect(state: &AppState, signed_in: &SignedIn, location: &str) -> HttpResponse {
    let cookie = session_cookie(&state.config, signed_in.token.expose_secret());
    see_other(location, Some(cookie))
}

/// The password form (same form as the email one, another button).
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    csrf: Option<String>,
    return_to: Option<String>,
    email: String,
    password: Option<String>,
}

/// Email and password.
#[post("/login/password")]
pub async fn password_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let return_to = safe_return_to(form.return_to.as_deref());
    let client = client_info(&req, &state.config);
    let result = state
        .broker
        .sign_in_with_password(
            &form.email,
            form.password.as_deref().unwrap_or_default(),
            return_to.clone(),
            &client,
        )
        .await;
    match result {
        Ok(step) => Ok(after_step(&state, step, false)),
        Err(error) => login_error(&req, &state, return_to.as_deref(), &form.email, &error).await,
    }
}

/// The second-factor page's query.
#[derive(Debug, Deserialize)]
pub struct TicketQuery {
    ticket: String,
}

/// The second-factor step.
#[get("/login/second-factor")]
pub async fn second_factor_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<TicketQuery>,
) -> Result<HttpResponse, HtmlError> {
    render_second_factor(&req, &state, &query.ticket, None).await
}

/// The second-factor page for `ticket`, showing `error` if the last answer was wrong.
async fn render_second_factor(
    req: &HttpRequest,
    state: &AppState,
    ticket: &str,
    error: Option<&Error>,
) -> Result<HttpResponse, HtmlError> {
    let methods = state.broker.second_factor_ticket(ticket).await?;
    let (csrf, set) = csrf_token(req, &state.config);
    let body = frontend::second_factor_page(frontend::SecondFactorPage {
        csrf: &csrf,
        ticket,
        totp: methods.totp,
        passkey: methods.passkey,
        recovery_codes: methods.has_recovery_codes(),
        error: error.map(Error::message),
    });
    Ok(page_for(error, body, set))
}

/// The second-factor form.
#[derive(Debug, Deserialize)]
pub struct SecondFactorForm {
    csrf: Option<String>,
    ticket: String,
    code: String,
}

/// An authenticator-app code or a recovery code.
#[post("/login/second-factor")]
pub async fn second_factor_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<SecondFactorForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let client = client_info(&req, &state.config);
    match state
        .broker
        .finish_second_factor_code(&form.ticket, &form.code, &client)
        .await
    {
        Ok((signed_in, return_to)) => {
            let next = return_to.unwrap_or_else(|| ACCOUNT_PATH.to_owned());
            Ok(signed_in_redirect(&state, &signed_in, &next))
        }
        Err(error) if error.code() == ErrorCode::CeremonyExpired => Err(error.into()),
        Err(error) => render_second_factor(&req, &state, &form.ticket, Some(&error)).await,
    }
}

/// Where the browser goes next (passkey endpoints answer JSON).
#[derive(Debug, Serialize)]
pub struct Redirect {
    redirect: String,
}

/// Options for a passkey sign-in (usernameless; also the email field's autofill).
#[post("/login/passkey/options")]
pub async fn passkey_options(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_csrf(&req, &state.config, None)?;
    let ceremony = state.broker.start_passkey_sign_in().await?;
    Ok(HttpResponse::Ok().json(ceremony))
}

/// A passkey answer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeyAnswer {
    ceremony: String,
    credential: serde_json::Value,
    return_to: Option<String>,
    ticket: Option<String>,
}

/// Finishes a passkey sign-in.
#[post("/login/passkey")]
pub async fn passkey_finish(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Json<PasskeyAnswer>,
) -> Result<HttpResponse, ApiError> {
    check_csrf(&req, &state.config, None)?;
    let client = client_info(&req, &state.config);
    let signed_in = state
        .broker
        .finish_passkey_sign_in(&body.0.ceremony, &body.0.credential, &client)
        .await?;
    let next =
        safe_return_to(body.0.return_to.as_deref()).unwrap_or_else(|| ACCOUNT_PATH.to_owned());
    Ok(json_signed_in(&state, &signed_in, next))
}

fn json_signed_in(state: &AppState, signed_in: &SignedIn, next: String) -> HttpResponse {
    HttpResponse::Ok()
        .cookie(session_cookie(
            &state.config,
            signed_in.token.expose_secret(),
        ))
        .json(Redirect { redirect: next })
}

/// A passkey as the second factor after a password.
#[post("/login/second-factor/passkey")]
pub async fn second_factor_passkey(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Json<PasskeyAnswer>,
) -> Result<HttpResponse, ApiError> {
    check_csrf(&req, &state.config, None)?;
    let client = client_info(&req, &state.config);
    let ticket =
        body.0.ticket.as_deref().ok_or_else(|| {
            Error::invalid(ErrorCode::MissingField, "ticket", "ticket is required")
        })?;
    let (signed_in, return_to) = state
        .broker
        .finish_second_factor_passkey(ticket, &body.0.ceremony, &body.0.credential, &client)
        .await?;
    Ok(json_signed_in(
        &state,
        &signed_in,
        return_to.unwrap_or_else(|| ACCOUNT_PATH.to_owned()),
    ))
}
