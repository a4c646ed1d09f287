//! The browser session cookie: `__Host-tessera_session` when Tessera is served over https
//! (Secure, host-only, path /), `tessera_session` on plain-http development setups.

use actix_web::HttpRequest;
use broker::Broker;
use broker::session::{AuthorizingSession, Session};

use crate::config::Config;

/// The cookie's name for this deployment.
pub fn cookie_name(config: &Config) -> &'static str {
    if config.public_url.scheme() == "https" {
        "__Host-tessera_session"
    } else {
        "tessera_session"
    }
}

/// The live session the request's cookie stands for, if any.
pub async fn current_session(
    req: &HttpRequest,
    config: &Config,
    broker: &Broker,
) -> broker::Result<Option<Session>> {
    match req.cookie(cookie_name(config)) {
        Some(cookie) => broker.session_from_token(cookie.value()).await,
        None => Ok(None),
    }
}

/// [`current_session`] with the user's only organization, for pages that authorize a grant.
pub async fn current_authorizing_session(
    req: &HttpRequest,
    config: &Config,
    broker: &Broker,
) -> broker::Result<Option<AuthorizingSession>> {
    match req.cookie(cookie_name(config)) {
        Some(cookie) => broker.authorizing_session(cookie.value()).await,
        None => Ok(None),
    }
}
