//! The account page (`/account`): email, passkeys, password, authenticator app, recovery codes,
//! sessions and linked identities, with the forms and passkey endpoints that change them.
//! Changing how one signs in needs a sign-in within the last ten minutes.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use broker::entities::{PasskeyId, SessionId};
use broker::session::Session;
use broker::user::User;
use broker::{Error, ErrorCode};
use serde::Deserialize;

use crate::browser::{
    ACCOUNT_PATH, check_csrf, client_info, csrf_token, error_status, page, safe_return_to,
    see_other,
};
use crate::error::{ApiError, HtmlError};
use crate::json::Json;
use crate::server::AppState;
use crate::session::current_session;

/// How recent a sign-in must be to change credentials.
const REAUTH_WINDOW: chrono::Duration = chrono::Duration::minutes(10);

/// Routes of the account pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(account_page)
        .service(passkey_prompt)
        .service(passkey_options)
        .service(passkey_register)
        .service(passkey_rename)
        .service(passkey_delete)
        .service(session_revoke)
        .service(password_set)
        .service(password_delete)
        .service(totp_start)
        .service(totp_confirm)
        .service(totp_delete)
        .service(recovery_codes);
}

/// The signed-in user, or the response that sends the browser to sign in.
async fn signed_in(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Result<(Session, User), HttpResponse>, Error> {
    let Some(session) = current_session(req, &state.config, &state.broker).await? else {
        return Ok(Err(see_other("/login?return_to=%2Faccount", None)));
    };
    let user = state.broker.user(session.user_id).await?;
    Ok(Ok((session, user)))
}

/// For JSON endpoints: the user, or `401`.
async fn signed_in_json(req: &HttpRequest, state: &AppState) -> Result<(Session, User), Error> {
    match signed_in(req, state).await? {
        Ok(found) => Ok(found),
        Err(_) => Err(Error::new(ErrorCode::SignInExpired, "sign in first")),
    }
}

fn require_recent(state: &AppState, session: &Session) -> Result<(), Error> {
    if state.broker.now() - session.auth_time > REAUTH_WINDOW {
        return Err(Error::new(
            ErrorCode::ReauthenticationRequired,
            "sign in again to change how you sign in",
        ));
    }
    Ok(())
}

/// Goes back to the account page after a form, or to sign-in when the sign-in is too old.
fn done(
    result: Result<(), Error>,
    req: &HttpRequest,
    state: &AppState,
    user: &User,
    session: &Session,
) -> Result<HttpResponse, HtmlError> {
    let _ = (req, state, user, session);
    match result {
        Ok(()) => Ok(see_other(ACCOUNT_PATH, None)),
        Err(e) if e.code() == ErrorCode::ReauthenticationRequired => {
            Ok(see_other("/login?return_to=%2Faccount&reauth=1", None))
        }
        Err(e) => Err(e.into()),
    }
}

fn date(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

async fn render_account(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    user: &User,
    error: Option<&Error>,
) -> Result<HttpResponse, Error> {
    let broker = &state.broker;
    let passkeys: Vec<frontend::PasskeyRow> = broker
        .passkeys_of(user.id)
        .await?
        .into_iter()
        .map(|p| frontend::PasskeyRow {
            id: p.id.to_string(),
            name: p.name,
            created: date(p.created_at),
            last_used: p.last_used_at.map(date),
            synced: p.backup_eligible,
        })
        .collect();
    let sessions: Vec<frontend::SessionRow> = broker
        .sessions_of(user.id)
        .await?
        .into_iter()
        .map(|s| frontend::SessionRow {
            current: s.id == session.id,
            id: s.id.to_string(),
            device: s.user_agent.unwrap_or_else(|| "unknown browser".into()),
            ip: s.ip.unwrap_or_default(),
            last_seen: date(s.last_seen_at),
        })
        .collect();
    let identities: Vec<frontend::IdentityRow> = broker
        .identities_of(user.id)
        .await?
        .into_iter()
        .map(|i| frontend::IdentityRow {
            connection: i.connection,
            subject: i.subject,
            last_login: i.last_login_at.map(date),
        })
        .collect();
    let factors = broker.second_factors(user.id).await?;
    let (csrf, set) = csrf_token(req, &state.config);
    let body = frontend::account_page(&frontend::AccountPage {
        csrf: &csrf,
        email: user.email.as_deref().unwrap_or_default(),
        email_verified: user.email_verified,
        notice: None,
        error: error.map(Error::message),
        passkeys: &passkeys,
        sessions: &sessions,
        identities: &identities,
        password_login: state.config.password_login,
        has_password: broker.has_password(user.id).await?,
        totp: factors.totp,
        recovery_codes_left: broker.recovery_codes_left(user.id).await?,
    });
    let status = error.map_or(StatusCode::OK, error_status);
    Ok(page(status, body, set))
}

/// The account page.
#[get("/account")]
pub async fn account_page(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HtmlError> {
    let (session, user) = match signed_in(&req, &state).await? {
        Ok(found) => found,
        Err(redirect) => return Ok(redirect),
    };
    Ok(render_account(&req, &state, &session, &user, None).await?)
}

/// Where to go after the passkey prompt.
#[derive(Debug, Deserialize)]
pub struct PromptQuery {
    return_to: Option<String>,
}

/// "Create a passkey", right after an account is created.
#[get("/account/passkey-prompt")]
pub async fn passkey_prompt(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<PromptQuery>,
) -> Result<HttpResponse, HtmlError> {
    if let Err(redirect) = signed_in(&req, &state).await? {
        return Ok(redirect);
    }
    let return_to =
        safe_return_to(query.return_to.as_deref()).unwrap_or_else(|| ACCOUNT_PATH.into());
    let (csrf, set) = csrf_token(&req, &state.config);
    Ok(page(
        StatusCode::OK,
        frontend::passkey_prompt_page(&csrf, &return_to),
        set,
    ))
}

/// Options for registering a passkey.
#[post("/account/passkeys/options")]
pub async fn passkey_options(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_csrf(&req, &state.config, None)?;
    let (session, user) = signed_in_json(&req, &state).await?;
    require_recent(&state, &session)?;
    let ceremony = state.broker.start_passkey_registration(&user).await?;
    Ok(HttpResponse::Ok().json(ceremony))
}

/// A registration answer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    ceremony: String,
    credential: serde_json::Value,
    name: Option<String>,
}

/// Stores a new passkey.
#[post("/account/passkeys")]
pub async fn passkey_register(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Json<Registration>,
) -> Result<HttpResponse, ApiError> {
    check_csrf(&req, &state.config, None)?;
    let (session, user) = signed_in_json(&req, &state).await?;
    require_recent(&state, &session)?;
    let client = client_info(&req, &state.config);
    let record = state
        .broker
        .finish_passkey_registration(
            &user,
            &body.0.ceremony,
            &body.0.credential,
            body.0.name.as_deref(),
            &client,
        )
        .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": record.id, "name": record.name })))
}

/// A form with only the anti-forgery token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

/// A rename form.
#[derive(Debug, Deserialize)]
pub struct RenameForm {
    csrf: Option<String>,
    name: String,
}

/// Renames a passkey.
#[post("/account/passkeys/{id}/rename")]
pub async fn passkey_rename(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<PasskeyId>,
    form: web::Form<RenameForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let (session, user) = match signed_in(&req, &state).await? {
        Ok(found) => found,
        Err(redirect) => return Ok(redirect),
    };
    let client = client_info(&req, &state.config);
    match state
        .broker
        .rename_passkey(user.id, *id, &form.name, &client)
        .await
    {
        Ok(()) => Ok(see_other(ACCOUNT_PATH, None)),
        Err(e) => Ok(render_account(&req, &state, &session, &user, Some(&e)).await?),
    }
}

/// Removes a passkey.
#[post("/account/passkeys/{id}/delete")]
pub async fn passkey_delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<PasskeyId>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let (session, user) = match signed_in(&req, &state).await? {
        Ok(found) => found,
        Err(redirect) => return Ok(redirect),
    };
    let client = client_info(&req, &state.config);
    let result = match require_recent(&state, &session) {
        Ok(()) => state.broker.delete_passkey(user.id, *id, &client).await,
        Err(e) => Err(e),
    };
    done(result, &req, &state, &user, &session)
}

/// Ends one of the user's sessions.
#[post("/account/sessions/{id}/revoke")]
pub async fn session_revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<SessionId>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let (session, user) = match signed_in(&req, &state).await? {
        Ok(found) => found,
        Err(redirect) => return Ok(redirect),
    };
    let client = client_info(&req, &state.config);
    let result = state.broker.revoke_own_session(user.id, *id, &client).await;
    done(result, &req, &state, &user, &session)
}

/// The password form.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    csrf: Option<String>,
    password: String,
}

/// Sets or changes the password.
#[post("/account/password")]
pub async fn password_set(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let (session, user) = match signed_in(&req, &state).await? {
        Ok(found) => found,
        Err(redirect) => return Ok(redirect),
    };
    let client = client_info(&req, &state.config);
    let result = match require_recent(&state, &session) {
        Ok(()) => {
            state
                .broker
                .set_password(&user, &form.password, &client)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Err(e) if e.code() == ErrorCode::WeakPassword => {
            Ok(render_account(&req, &state, &session, &user, Some(&e)).await?)
        }
        other => done(other, &req, &state, &user, &session),
    }
}

/// Removes the password.
#[post("/account/password/delete")]
pub async fn password_delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let (session, user) = match signed_in(&req, &state).await? {
        Ok(found) => found,
        Err(redirect) => return Ok(redirect),
    };
    let client = client_info(&req, &state.config);
    let result = match require_recent(&state, &session) {
        Ok(()) => state.broker.remove_password(user.id, &client).await,
        Err(e) => Err(e),
    };
    done(result, &req, &state, &user, &session)
}

/// Starts setting up an authenticator app: shows the QR code.
#[post("/account/totp")]
pub async fn totp_start(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let (session, user) = match signed_in(&req, &state).await? {
        Ok(found) => found,
        Err(redirect) => return Ok(redirect),
    };
    if let Err(e) = require_recent(&state, &session) {
        return done(Err(e), &req, &state, &user, &session);
    }
    let enrolment = state.broker.start_totp_enrolment(&user).await?;
    let (csrf, set) = csrf_token(&req, &state.config);
    Ok(page(
        StatusCode::OK,
        frontend::totp_setup_page(
            &csrf,
            &enrolment.qr_svg,
            &enrolment.secret_base32,
            &enrolment.uri,
            None,
        ),
        set,
    ))
}

/// The first code from the app.
#[derive(Debug, Deserialize)]
pub struct TotpForm {
    csrf: Option<String>,
    code: String,
}

/// Confirms the authenticator app with a first code; shows recovery codes when new.
#[post("/account/totp/confirm")]
pub async fn totp_confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<TotpForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let (session, user) = match signed_in(&req, &state).await? {
        Ok(found) => found,
        Err(redirect) => return Ok(redirect),
    };
    let client = client_info(&req, &state.config);
    match state.broker.confirm_totp(&user, &form.code, &client).await {
        Ok(Some(codes)) => Ok(page(
            StatusCode::OK,
            frontend::recovery_codes_page(&codes),
            None,
        )),
        Ok(None) => Ok(see_other(ACCOUNT_PATH, None)),
        Err(e) if e.code() == ErrorCode::SecondFactorInvalid => {
            Ok(render_account(&req, &state, &session, &user, Some(&e)).await?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Removes the authenticator app.
#[post("/account/totp/delete")]
pub async fn totp_delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let (session, user) = match signed_in(&req, &state).await? {
        Ok(found) => found,
        Err(redirect) => return Ok(redirect),
    };
    let client = client_info(&req, &state.config);
    let result = match require_recent(&state, &session) {
        Ok(()) => state.broker.remove_totp(user.id, &client).await,
        Err(e) => Err(e),
    };
    done(result, &req, &state, &user, &session)
}

/// Replaces the recovery codes and shows the new ones.
#[post("/account/recovery-codes")]
pub async fn recovery_codes(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let (session, user) = match signed_in(&req, &state).await? {
        Ok(found) => found,
        Err(redirect) => return Ok(redirect),
    };
    if let Err(e) = require_recent(&state, &session) {
        return done(Err(e), &req, &state, &user, &session);
    }
    let client = client_info(&req, &state.config);
    let codes = state
        .broker
        .generate_recovery_codes(user.id, &client)
        .await?;
    Ok(page(
        StatusCode::OK,
        frontend::recovery_codes_page(&codes),
        None,
    ))
}
