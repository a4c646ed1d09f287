//! The browser's trip through an organization's IdP: `/sso/{connection}/start` (where the
//! sign-in page and the authorize endpoint send SSO users), the OIDC callback
//! `/sso/oidc/{connection}/callback`, and for SAML the SP metadata, the ACS and the
//! continuation the ACS redirects to (`/sso/saml/{connection}/…`). The broker validates
//! everything; these turn its answers into redirects, the session cookie, error pages and the
//! test-login result page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use broker::federation::connections::connection_id;
use broker::federation::saml::{SamlAccepted, SamlPost};
use broker::federation::sign_in::{OidcCallback, SsoFinished, SsoStart};
use broker::federation::test_login::{TestLogin, TestStatus};
use secrecy::ExposeSecret as _;
use serde::Deserialize;

use crate::browser::{
    ACCOUNT_PATH, client_info, encode, existing_flow, flow_secret, page, safe_return_to, see_other,
    session_cookie,
};
use crate::error::HtmlError;
use crate::extract::EndUser;
use crate::server::AppState;

/// The largest ACS form accepted (a 1 MiB SAMLResponse, URL-encoded).
const MAX_ACS_FORM_BYTES: usize = 1536 * 1024;

/// Routes of the SSO round trip.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(start)
        .service(oidc_callback)
        .service(confirm_link)
        .service(saml_metadata)
        .service(saml_continue)
        .service(
            web::resource("/sso/saml/{connection}/acs")
                .app_data(
                    web::FormConfig::default()
                        .limit(MAX_ACS_FORM_BYTES)
                        .error_handler(|err, _| HtmlError(acs_form_error(&err)).into()),
                )
                .route(web::post().to(saml_acs)),
        );
}

fn acs_form_error(err: &actix_web::error::UrlencodedError) -> broker::Error {
    use actix_web::error::UrlencodedError;
    match err {
        UrlencodedError::Overflow { .. } => broker::Error::new(
            broker::ErrorCode::SamlResponseTooLarge,
            "the SAML response is larger than Tessera accepts",
        ),
        other => broker::Error::new(
            broker::ErrorCode::SamlResponseMalformed,
            format!("the identity provider's form is not valid: {other}"),
        ),
    }
}

/// What starts an SSO sign-in.
#[derive(Debug, Deserialize)]
pub struct StartQuery {
    return_to: Option<String>,
    login_hint: Option<String>,
    test: Option<String>,
}

/// Sends the browser to the connection's IdP.
#[get("/sso/{connection}/start")]
pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<StartQuery>,
) -> Result<HttpResponse, HtmlError> {
    let connection = connection_id(&path)?;
    let (flow, flow_cookie) = flow_secret(&req, &state.config);
    let query = query.into_inner();
    let start = SsoStart {
        return_to: safe_return_to(query.return_to.as_deref()),
        login_hint: query.login_hint.filter(|h| !h.is_empty() && h.len() <= 320),
        flow,
        test: query.test,
    };
    let client = client_info(&req, &state.config);
    let location = state.broker.start_sso(connection, start, &client).await?;
    Ok(see_other(&location, flow_cookie))
}

/// What an OIDC IdP sends back.
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The OIDC IdP's answer.
#[get("/sso/oidc/{connection}/callback")]
pub async fn oidc_callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, HtmlError> {
    let connection = connection_id(&path)?;
    let query = query.into_inner();
    let callback = OidcCallback {
        code: query.code,
        state: query.state,
        error: query.error,
        error_description: query.error_description,
    };
    let flow = existing_flow(&req, &state.config);
    let client = client_info(&req, &state.config);
    let finished = state
        .broker
        .finish_oidc_sso(connection, callback, flow.as_deref(), &client)
        .await?;
    Ok(finished_response(&state, finished))
}

/// Where a finished round trip leads: the app (with the session cookie), the test result, or
/// signing in to an existing account to link it.
fn finished_response(state: &AppState, finished: SsoFinished) -> HttpResponse {
    match finished {
        SsoFinished::SignedIn {
            signed_in,
            return_to,
        } => {
            let next = return_to.unwrap_or_else(|| ACCOUNT_PATH.to_owned());
            let cookie = session_cookie(&state.config, signed_in.token.expose_secret());
            see_other(&next, Some(cookie))
        }
        SsoFinished::Tested(test) => test_result_page(&test),
        SsoFinished::ConfirmLink {
            token,
            email,
            provider,
        } => {
            // Sign in to the existing account once; the sign-in then comes back to link.
            let return_to = format!("/sso/link/{token}");
            let location = format!(
                "/login?return_to={}&login_hint={}&link={}",
                encode(&return_to),
                encode(&email),
                encode(&provider)
            );
            see_other(&location, None)
        }
    }
}

/// Tessera's SP metadata for a SAML connection, to upload at the IdP.
#[get("/sso/saml/{connection}/metadata")]
pub async fn saml_metadata(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, HtmlError> {
    let connection = connection_id(&path)?;
    let document = state.broker.saml_sp_metadata(connection).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/samlmetadata+xml")
        .insert_header((
            "content-disposition",
            format!("inline; filename=\"tessera-sp-{connection}.xml\""),
        ))
        .body(document))
}

/// What a SAML IdP posts to the ACS.
#[derive(Debug, Deserialize)]
pub struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// The ACS (HTTP-POST binding): checks the response, then continues in the browser.
pub async fn saml_acs(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<AcsForm>,
) -> Result<HttpResponse, HtmlError> {
    let connection = connection_id(&path)?;
    let form = form.into_inner();
    let post = SamlPost {
        saml_response: form.saml_response,
        relay_state: form.relay_state,
    };
    let client = client_info(&req, &state.config);
    let accepted = state
        .broker
        .accept_saml_response(connection, post, &client)
        .await?;
    Ok(match accepted {
        SamlAccepted::Continue { token } => see_other(
            &format!("/sso/saml/{connection}/continue?token={}", encode(&token)),
            None,
        ),
        SamlAccepted::Tested(finished) => finished_response(&state, finished),
    })
}

/// Where the ACS continues (a GET, so the browser's SameSite=Lax flow cookie is sent).
#[derive(Debug, Deserialize)]
pub struct ContinueQuery {
    token: String,
}

/// Finishes a SAML sign-in in the browser that started it.
#[get("/sso/saml/{connection}/continue")]
pub async fn saml_continue(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ContinueQuery>,
) -> Result<HttpResponse, HtmlError> {
    let connection = connection_id(&path)?;
    let flow = existing_flow(&req, &state.config);
    let client = client_info(&req, &state.config);
    let finished = state
        .broker
        .continue_saml_sign_in(connection, &query.token, flow.as_deref(), &client)
        .await?;
    Ok(finished_response(&state, finished))
}

/// Links a social identity after its user signed in to the existing account.
#[get("/sso/link/{token}")]
pub async fn confirm_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    user: EndUser,
) -> Result<HttpResponse, HtmlError> {
    let flow = existing_flow(&req, &state.config);
    let client = client_info(&req, &state.config);
    let next = state
        .broker
        .confirm_identity_link(&path, user.user.id, flow.as_deref(), &client)
        .await?;
    Ok(see_other(
        &next.unwrap_or_else(|| ACCOUNT_PATH.to_owned()),
        None,
    ))
}

fn test_result_page(test: &TestLogin) -> HttpResponse {
    let none = || "—".to_owned();
    let profile = test.profile.as_ref();
    let facts = [
        ("Subject", profile.map_or_else(none, |p| p.subject.clone())),
        (
            "Email",
            profile
                .and_then(|p| p.email.clone())
                .map(|e| {
                    let verified = profile.is_some_and(|p| p.email_verified);
                    format!(
                        "{e} ({})",
                        if verified { "verified" } else { "not verified" }
                    )
                })
                .unwrap_or_else(none),
        ),
        (
            "Name",
            profile.and_then(|p| p.name.clone()).unwrap_or_else(none),
        ),
        (
            "Roles",
            match &test.roles {
                Some(roles) if roles.is_empty() => "none".to_owned(),
                Some(roles) => roles.join(", "),
                None => "unchanged (the organization has no role rules)".to_owned(),
            },
        ),
        (
            "Account",
            test.account_action
                .map(|a| {
                    match a {
                        broker::federation::provision::AccountAction::SignIn => {
                            "sign in the linked user"
                        }
                        broker::federation::provision::AccountAction::LinkByEmail => {
                            "link to the existing user with this email"
                        }
                        broker::federation::provision::AccountAction::Create => "create a new user",
                        broker::federation::provision::AccountAction::ConfirmLink => {
                            "ask the user to sign in to the existing account with this email once, then link"
                        }
                    }
                    .to_owned()
                })
                .unwrap_or_else(none),
        ),
    ];
    let claims = test
        .claims
        .as_ref()
        .and_then(|c| serde_json::to_string_pretty(c).ok())
        .unwrap_or_else(|| "(none: the identity provider's answer was refused)".to_owned());
    let body = frontend::sso_test_page(&frontend::SsoTestPage {
        ok: test.status == TestStatus::Succeeded,
        failure: test
            .error
            .as_ref()
            .map(|e| (e.code.as_str(), e.message.as_str())),
        facts: &facts,
        claims: &claims,
        assertion: test.assertion_xml.as_deref(),
    });
    page(StatusCode::OK, body, None)
}
