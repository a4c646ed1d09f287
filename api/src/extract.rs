//! Request extractors that carry authority: [`AdminCaller`] (an API key, or an admin's browser
//! session), [`OrgAdmin`] (one of those, allowed in the organization named by the `{org}` path
//! segment), [`OrgSetup`] (an [`OrgAdmin`], or that organization's setup link: the SSO wizard's
//! routes only), [`Caller`] (any of them, for `/api/v1/me`) and [`EndUser`] (a signed-in
//! browser session on Tessera's pages). Handlers that take them cannot forget the credential or
//! the tenant check.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, web};
use broker::org::OrgAccess;
use broker::{Actor, Broker, ErrorCode};

use crate::error::{ApiError, HtmlError};
use crate::server::AppState;

/// An authenticated admin API caller.
#[derive(Debug, Clone)]
pub struct AdminCaller(pub Actor);

/// A caller allowed to act in the organization named by `{org}`.
#[derive(Debug, Clone)]
pub struct OrgAdmin(pub OrgAccess);

impl std::ops::Deref for OrgAdmin {
    type Target = OrgAccess;
    fn deref(&self) -> &OrgAccess {
        &self.0
    }
}

/// The API key from `Authorization: Bearer …` or `X-API-Key: …`.
fn presented_key(req: &HttpRequest) -> Option<String> {
    let headers = req.headers();
    if let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned());
    }
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
}

/// The client's address. With `trusted_proxy_hops` proxies in front, each appends the address
/// it received the request from to `X-Forwarded-For`, so the client is the entry that many
/// places from the right; entries further left were written by the client and are ignored.
/// When the header is shorter than expected the request did not come through the proxies,
/// and the TCP peer is used.
pub fn client_ip(req: &HttpRequest, trusted_proxy_hops: usize) -> Option<String> {
    let peer = || req.peer_addr().map(|addr| addr.ip().to_string());
    if trusted_proxy_hops == 0 {
        return peer();
    }
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    forwarded
        .len()
        .checked_sub(trusted_proxy_hops)
        .and_then(|index| forwarded.get(index))
        .and_then(|entry| parse_ip(entry))
        .or_else(peer)
}

/// An IP address from an `X-Forwarded-For` entry (`203.0.113.9`, `203.0.113.9:4711`,
/// `[2001:db8::1]:443`, `2001:db8::1`).
fn parse_ip(entry: &str) -> Option<String> {
    if let Ok(ip) = entry.parse::<std::net::IpAddr>() {
        return Some(ip.to_string());
    }
    entry
        .parse::<std::net::SocketAddr>()
        .ok()
        .map(|addr| addr.ip().to_string())
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| {
            ApiError(broker::Error::internal(
                "application state is not registered",
            ))
        })
}

/// A caller's credential, as presented.
enum Credential {
    /// `Authorization: Bearer` or `X-API-Key` with an API key.
    ApiKey(String),
    /// The same headers with a setup link's token.
    SetupLink(String),
    /// No header: the browser's session cookie, if any.
    Session,
}

fn credential(req: &HttpRequest) -> Credential {
    match presented_key(req) {
        Some(token) if token.starts_with(broker::setup_link::TOKEN_PREFIX) => {
            Credential::SetupLink(token)
        }
        Some(key) => Credential::ApiKey(key),
        None => Credential::Session,
    }
}

fn setup_link_refused() -> ApiError {
    ApiError::new(
        ErrorCode::SetupLinkNotAllowed,
        "a setup link opens only the SSO set-up: domains, connections and role rules",
    )
}

/// The admin actor behind an API key or an admin's session; `org` is the organization the
/// request is about (the `{org}` path segment), if any.
async fn authenticate(req: &HttpRequest, org: Option<&str>) -> Result<(Broker, Actor), ApiError> {
    let state = state(req)?;
    let ip = client_ip(req, state.config.trusted_proxy_hops);
    let request_id = crate::telemetry::current_request_id();
    let actor = match credential(req) {
        Credential::ApiKey(key) => {
            state
                .broker
                .authenticate_api_key(&key, ip, request_id)
                .await?
        }
        Credential::SetupLink(_) => return Err(setup_link_refused()),
        Credential::Session => {
            crate::admin_session::session_admin(req, &state, org, ip, request_id).await?
        }
    };
    Ok((state.broker.clone(), actor))
}

fn org_segment(req: &HttpRequest) -> Result<String, ApiError> {
    req.match_info()
        .get("org")
        .map(str::to_owned)
        .ok_or_else(|| ApiError(broker::Error::internal("route has no {org} segment")))
}

impl FromRequest for AdminCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(AdminCaller(authenticate(&req, None).await?.1)) })
    }
}

impl FromRequest for OrgAdmin {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let org = org_segment(&req)?;
            let (broker, actor) = authenticate(&req, Some(&org)).await?;
            Ok(OrgAdmin(broker.access_organization(actor, &org).await?))
        })
    }
}

/// A caller allowed to set up SSO in the organization named by `{org}`: an [`OrgAdmin`], or a
/// setup link of that organization. Only the SSO wizard's routes take it.
#[derive(Debug, Clone)]
pub struct OrgSetup(pub OrgAccess);

impl std::ops::Deref for OrgSetup {
    type Target = OrgAccess;
    fn deref(&self) -> &OrgAccess {
        &self.0
    }
}

impl FromRequest for OrgSetup {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let org = org_segment(&req)?;
            let Credential::SetupLink(token) = credential(&req) else {
                let (broker, actor) = authenticate(&req, Some(&org)).await?;
                return Ok(OrgSetup(broker.access_organization(actor, &org).await?));
            };
            let state = state(&req)?;
            let ip = client_ip(&req, state.config.trusted_proxy_hops);
            let request_id = crate::telemetry::current_request_id();
            let actor = state
                .broker
                .authenticate_setup_link(&org, &token, ip, request_id)
                .await?;
            Ok(OrgSetup(
                state.broker.access_organization(actor, &org).await?,
            ))
        })
    }
}

/// Whoever calls: an API key, an admin's browser session (with what they administer) or a
/// setup link (with its organization).
#[derive(Debug, Clone)]
pub enum Caller {
    /// An API key, with its organization when it is limited to one.
    ApiKey(Actor, Option<broker::org::Organization>),
    /// A person signed in to the console.
    User(broker::admin::AdminProfile),
    /// A setup link.
    SetupLink(broker::org::Organization),
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = state(&req)?;
            let ip = client_ip(&req, state.config.trusted_proxy_hops);
            let request_id = crate::telemetry::current_request_id();
            Ok(match credential(&req) {
                Credential::ApiKey(key) => {
                    let actor = state
                        .broker
                        .authenticate_api_key(&key, ip, request_id)
                        .await?;
                    let org = match actor.scope {
                        broker::Scope::Instance => None,
                        broker::Scope::Org(own) => Some(
                            state
                                .broker
                                .access_organization(actor.clone(), &own.to_string())
                                .await?
                                .org()
                                .clone(),
                        ),
                    };
                    Caller::ApiKey(actor, org)
                }
                Credential::SetupLink(token) => {
                    let (_, org, _) = state.broker.open_setup_link(&token, ip, request_id).await?;
                    Caller::SetupLink(org)
                }
                Credential::Session => {
                    Caller::User(crate::admin_session::admin_profile(&req, &state).await?)
                }
            })
        })
    }
}

/// A person signed in at Tessera's pages (the session cookie), with their account.
#[derive(Debug, Clone)]
pub struct EndUser {
    /// The browser session.
    pub session: broker::session::Session,
    /// Who it belongs to.
    pub user: broker::user::User,
}

/// Why there is no [`EndUser`]: pages send the browser to sign in; JSON calls (from the pages'
/// scripts) get a JSON error they can show.
#[derive(Debug)]
pub enum EndUserRejection {
    /// No live session, from a page: go sign in, then come back to the account page.
    SignIn,
    /// No live session, or a failure, answering a JSON call.
    Json(ApiError),
    /// A failure while loading the session, on a page.
    Html(HtmlError),
}

impl std::fmt::Display for EndUserRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SignIn => f.write_str("sign in first"),
            Self::Json(e) => e.fmt(f),
            Self::Html(e) => e.fmt(f),
        }
    }
}

impl actix_web::ResponseError for EndUserRejection {
    fn status_code(&self) -> actix_web::http::StatusCode {
        match self {
            Self::SignIn => actix_web::http::StatusCode::SEE_OTHER,
            Self::Json(e) => e.status_code(),
            Self::Html(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        match self {
            Self::SignIn => crate::browser::see_other("/login?return_to=%2Faccount", None),
            Self::Json(e) => e.error_response(),
            Self::Html(e) => e.error_response(),
        }
    }
}

impl FromRequest for EndUser {
    type Error = EndUserRejection;
    type Future = Pin<Box<dyn Future<Output = Result<Self, EndUserRejection>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let json = req.content_type() == "application/json";
            let fail = |e: broker::Error| {
                if json {
                    EndUserRejection::Json(ApiError(e))
                } else {
                    EndUserRejection::Html(HtmlError(e))
                }
            };
            let state = state(&req).map_err(|e| fail(e.0))?;
            let session = crate::session::current_session(&req, &state.config, &state.broker)
                .await
                .map_err(fail)?;
            let Some(session) = session else {
                return Err(if json {
                    EndUserRejection::Json(ApiError::new(ErrorCode::SignInExpired, "sign in first"))
                } else {
                    EndUserRejection::SignIn
                });
            };
            let user = state.broker.user(session.user_id).await.map_err(fail)?;
            Ok(EndUser { session, user })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn key_comes_from_bearer_or_x_api_key() {
        let req = TestRequest::default()
            .insert_header((AUTHORIZATION, "Bearer tsk_abc"))
            .to_http_request();
        assert_eq!(presented_key(&req).as_deref(), Some("tsk_abc"));
        let req = TestRequest::default()
            .insert_header((AUTHORIZATION, "bearer tsk_abc"))
            .to_http_request();
        assert_eq!(presented_key(&req).as_deref(), Some("tsk_abc"));
        let req = TestRequest::default()
            .insert_header(("X-API-Key", "tsk_xyz"))
            .to_http_request();
        assert_eq!(presented_key(&req).as_deref(), Some("tsk_xyz"));
        let req = TestRequest::default()
            .insert_header((AUTHORIZATION, "Basic dXNlcjpwYXNz"))
            .to_http_request();
        assert_eq!(presented_key(&req), None);
    }

    fn forwarded(hops: usize, values: &[&str]) -> Option<String> {
        let mut req = TestRequest::default().peer_addr("10.0.0.2:5000".parse().unwrap());
        for value in values {
            req = req.append_header(("x-forwarded-for", *value));
        }
        client_ip(&req.to_http_request(), hops)
    }

    #[test]
    fn client_ip_ignores_forwarded_headers_without_trusted_proxies() {
        assert_eq!(forwarded(0, &["203.0.113.9"]).as_deref(), Some("10.0.0.2"));
    }

    #[test]
    fn client_ip_is_counted_from_the_right() {
        // The client wrote "1.1.1.1"; our one proxy appended the address it saw.
        assert_eq!(
            forwarded(1, &["1.1.1.1, 203.0.113.9"]).as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(
            forwarded(2, &["1.1.1.1, 203.0.113.9", "10.0.0.7"]).as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(
            forwarded(1, &["[2001:db8::1]:443"]).as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(
            forwarded(1, &["203.0.113.9:4711"]).as_deref(),
            Some("203.0.113.9")
        );
    }

    #[test]
    fn client_ip_falls_back_to_the_peer() {
        assert_eq!(forwarded(2, &["203.0.113.9"]).as_deref(), Some("10.0.0.2"));
        assert_eq!(forwarded(1, &["not-an-ip"]).as_deref(), Some("10.0.0.2"));
        assert_eq!(forwarded(1, &[]).as_deref(), Some("10.0.0.2"));
    }
}

/// An org's IdP calling the SCIM endpoint of the directory named by `{org}`, with a live SCIM
/// token of that org.
#[derive(Debug, Clone)]
pub struct ScimClient(pub broker::directory::ScimCaller);

impl FromRequest for ScimClient {
    type Error = crate::error::ScimApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = state(&req).map_err(|e| e.0)?;
            let org = req.match_info().get("org").unwrap_or_default().to_owned();
            let token = req
                .headers()
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token.trim().to_owned())
                .ok_or_else(|| {
                    broker::Error::new(
                        ErrorCode::InvalidScimToken,
                        "send the SCIM token as 'Authorization: Bearer <token>'",
                    )
                })?;
            let ip = client_ip(&req, state.config.trusted_proxy_hops);
            let request_id = crate::telemetry::current_request_id();
            let caller = state
                .broker
                .authenticate_scim_token(&org, &token, ip, request_id)
                .await?;
            // For the directory's middleware, which records refused requests by this caller.
            req.extensions_mut().insert(caller.clone());
            Ok(ScimClient(caller))
        })
    }
}
