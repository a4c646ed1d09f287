//! The account page (`/account`): email, passkeys, password, authenticator app, recovery codes,
//! sessions and linked identities, with the forms and passkey endpoints that change them.
//! Changing how one signs in needs a sign-in within the last ten minutes.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use broker::entities::{PasskeyId, SessionId};
use broker::{Error, ErrorCode};
use serde::Deserialize;

use crate::browser::{
    ACCOUNT_PATH, check_csrf, client_info, csrf_token, page, page_for, safe_return_to, see_other,
};
use crate::error::{ApiError, HtmlError};
use crate::extract::EndUser;
use crate::json::Json;
use crate::server::AppState;

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

/// Fails with `reauthentication_required` when the sign-in is older than [`REAUTH_WINDOW`].
fn require_recent(state: &AppState, me: &EndUser) -> Result<(), Error> {
    if state.broker.now() - me.session.auth_time > REAUTH_WINDOW {
        return Err(Error::new(
            ErrorCode::ReauthenticationRequired,
            "sign in again to change how you sign in",
        ));
    }
    Ok(())
}

/// Back to the account page after a form, or to sign-in when the sign-in is too old.
fn back_to_account(result: Result<(), Error>) -> Result<HttpResponse, HtmlError> {
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
    me: &EndUser,
    error: Option<&Error>,
) -> Result<HttpResponse, Error> {
    let broker = &state.broker;
    let user = &me.user;
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
            current: s.id == me.session.id,
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
        recovery_codes_left: factors.recovery_codes_left,
    });
    Ok(page_for(error, body, set))
}

/// The account page, or its error message for a form the user can correct.
async fn account_with_error(
    req: &HttpRequest,
    state: &AppState,
    me: &EndUser,
    error: Error,
) -> Result<HttpResponse, HtmlError> {
    Ok(render_account(req, state, me, Some(&error)).await?)
}

/// The account page.
#[get("/account")]
pub async fn account_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: EndUser,
) -> Result<HttpResponse, HtmlError> {
    Ok(render_account(&req, &state, &me, None).await?)
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
    _me: EndUser,
) -> HttpResponse {
    let return_to =
        safe_return_to(query.return_to.as_deref()).unwrap_or_else(|| ACCOUNT_PATH.into());
    let (csrf, set) = csrf_token(&req, &state.config);
    page(
        StatusCode::OK,
        frontend::passkey_prompt_page(&csrf, &return_to),
        set,
    )
}

/// Options for registering a passkey.
#[post("/account/passkeys/options")]
pub async fn passkey_options(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: EndUser,
) -> Result<HttpResponse, ApiError> {
    check_csrf(&req, &state.config, None)?;
    require_recent(&state, &me)?;
    let ceremony = state.broker.start_passkey_registration(&me.user).await?;
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
    me: EndUser,
    body: Json<Registration>,
) -> Result<HttpResponse, ApiError> {
    check_csrf(&req, &state.config, None)?;
    require_recent(&state, &me)?;
    let client = client_info(&req, &state.config);
    let record = state
        .broker
        .finish_passkey_registration(
            &me.user,
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
    me: EndUser,
    id: web::Path<PasskeyId>,
    form: web::Form<RenameForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let client = client_info(&req, &state.config);
    match state
        .broker
        .rename_passkey(me.user.id, *id, &form.name, &client)
        .await
    {
        Ok(()) => Ok(see_other(ACCOUNT_PATH, None)),
        Err(e) => account_with_error(&req, &state, &me, e).await,
    }
}

/// Removes a passkey.
#[post("/account/passkeys/{id}/delete")]
pub async fn passkey_delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: EndUser,
    id: web::Path<PasskeyId>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let client = client_info(&req, &state.config);
    back_to_account(
        async {
            require_recent(&state, &me)?;
            state.broker.delete_passkey(me.user.id, *id, &client).await
        }
        .await,
    )
}

/// Ends one of the user's sessions.
#[post("/account/sessions/{id}/revoke")]
pub async fn session_revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: EndUser,
    id: web::Path<SessionId>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let client = client_info(&req, &state.config);
    back_to_account(
        state
            .broker
            .revoke_own_session(me.user.id, *id, &client)
            .await,
    )
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
    me: EndUser,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let client = client_info(&req, &state.config);
    let result = async {
        require_recent(&state, &me)?;
        state
            .broker
            .set_password(&me.user, &form.password, &client)
            .await
    }
    .await;
    match result {
        Err(e) if e.code() == ErrorCode::WeakPassword => {
            account_with_error(&req, &state, &me, e).await
        }
        other => back_to_account(other),
    }
}

/// Removes the password.
#[post("/account/password/delete")]
pub async fn password_delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: EndUser,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let client = client_info(&req, &state.config);
    back_to_account(
        async {
            require_recent(&state, &me)?;
            state.broker.remove_password(me.user.id, &client).await
        }
        .await,
    )
}

/// Starts setting up an authenticator app: shows the QR code.
#[post("/account/totp")]
pub async fn totp_start(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: EndUser,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    if let Err(e) = require_recent(&state, &me) {
        return back_to_account(Err(e));
    }
    let enrolment = state.broker.start_totp_enrolment(&me.user).await?;
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
    me: EndUser,
    form: web::Form<TotpForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let client = client_info(&req, &state.config);
    match state
        .broker
        .confirm_totp(&me.user, &form.code, &client)
        .await
    {
        Ok(Some(codes)) => Ok(page(
            StatusCode::OK,
            frontend::recovery_codes_page(&codes),
            None,
        )),
        Ok(None) => Ok(see_other(ACCOUNT_PATH, None)),
        Err(e) if e.code() == ErrorCode::SecondFactorInvalid => {
            account_with_error(&req, &state, &me, e).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Removes the authenticator app.
#[post("/account/totp/delete")]
pub async fn totp_delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: EndUser,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    let client = client_info(&req, &state.config);
    back_to_account(
        async {
            require_recent(&state, &me)?;
            state.broker.remove_totp(me.user.id, &client).await
        }
        .await,
    )
}

/// Replaces the recovery codes and shows the new ones.
#[post("/account/recovery-codes")]
pub async fn recovery_codes(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: EndUser,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, HtmlError> {
    check_csrf(&req, &state.config, form.csrf.as_deref())?;
    if let Err(e) = require_recent(&state, &me) {
        return back_to_account(Err(e));
    }
    let client = client_info(&req, &state.config);
    let codes = state
        .broker
        .generate_recovery_codes(me.user.id, &client)
        .await?;
    Ok(page(
        StatusCode::OK,
        frontend::recovery_codes_page(&codes),
        None,
    ))
}
