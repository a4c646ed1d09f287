//! What the login and account pages share: cookies (session, anti-forgery, sign-in flow), the
//! double-submit CSRF check, `return_to` checking, and who is at the browser.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header::{LOCATION, ORIGIN, USER_AGENT};
use actix_web::{HttpRequest, HttpResponse};
use broker::crypto::random_token;
use broker::login::ClientInfo;
use broker::{Error, ErrorCode};

use crate::config::Config;
use crate::session::cookie_name;

/// Where a signed-in user lands when nothing else was asked for.
pub const ACCOUNT_PATH: &str = "/account";

/// The longest `return_to` accepted.
const MAX_RETURN_TO: usize = 2048;

fn https(config: &Config) -> bool {
    config.public_url.scheme() == "https"
}

/// `name`, with the `__Host-` prefix when served over https (host-only, Secure, path /).
fn cookie_named(config: &Config, name: &str) -> String {
    if https(config) {
        format!("__Host-{name}")
    } else {
        name.to_owned()
    }
}

fn cookie(
    config: &Config,
    name: String,
    value: String,
    max_age: Option<CookieDuration>,
) -> Cookie<'static> {
    let mut builder = Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(https(config))
        .same_site(SameSite::Lax);
    if let Some(age) = max_age {
        builder = builder.max_age(age);
    }
    builder.finish()
}

/// The session cookie for a new sign-in.
pub fn session_cookie(config: &Config, token: &str) -> Cookie<'static> {
    let lifetime = broker::session::ABSOLUTE_TIMEOUT.num_seconds();
    cookie(
        config,
        cookie_name(config).to_owned(),
        token.to_owned(),
        Some(CookieDuration::seconds(lifetime)),
    )
}

/// A cookie that removes the session cookie.
pub fn session_removal(config: &Config) -> Cookie<'static> {
    let mut removal = cookie(config, cookie_name(config).to_owned(), String::new(), None);
    removal.make_removal();
    removal
}

const CSRF_COOKIE: &str = "tessera_csrf";
const FLOW_COOKIE: &str = "tessera_login_flow";

/// The anti-forgery token to put in the page's forms, and the cookie to set when the browser
/// has none yet.
pub fn csrf_token(req: &HttpRequest, config: &Config) -> (String, Option<Cookie<'static>>) {
    let name = cookie_named(config, CSRF_COOKIE);
    match req.cookie(&name) {
        Some(existing) if existing.value().len() == 43 => (existing.value().to_owned(), None),
        _ => {
            let token = random_token::<32>();
            let set = cookie(config, name, token.clone(), None);
            (token, Some(set))
        }
    }
}

/// Checks the double-submit token (form field or `X-CSRF-Token` header against the cookie)
/// and, when the browser sends one, the `Origin` header against the public URL.
pub fn check_csrf(
    req: &HttpRequest,
    config: &Config,
    submitted: Option<&str>,
) -> Result<(), Error> {
    let fail = |why: &str| {
        Error::new(
            ErrorCode::CsrfCheckFailed,
            format!("{why}; reload the page and try again"),
        )
    };
    if let Some(origin) = req.headers().get(ORIGIN).and_then(|o| o.to_str().ok()) {
        let expected = config.public_url.origin().ascii_serialization();
        // Browsers send `Origin: null` for same-origin posts under some referrer policies;
        // their own `Sec-Fetch-Site` still says where the form came from.
        let same_site_null = origin == "null"
            && req
                .headers()
                .get("sec-fetch-site")
                .is_some_and(|v| v.as_bytes() == b"same-origin");
        if origin != expected && !same_site_null {
            return Err(fail("the form was sent from another site"));
        }
    }
    let submitted = submitted
        .or_else(|| {
            req.headers()
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
        })
        .ok_or_else(|| fail("the form has no anti-forgery token"))?;
    let cookie = req
        .cookie(&cookie_named(config, CSRF_COOKIE))
        .ok_or_else(|| fail("the anti-forgery cookie is missing"))?;
    if !constant_time_eq(cookie.value().as_bytes(), submitted.as_bytes()) {
        return Err(fail("the anti-forgery token does not match"));
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The browser's sign-in flow secret (binds an emailed link to the browser that asked for
/// it), and the cookie to set when it is new.
pub fn flow_secret(req: &HttpRequest, config: &Config) -> (String, Option<Cookie<'static>>) {
    let name = cookie_named(config, FLOW_COOKIE);
    match req.cookie(&name) {
        Some(existing) if existing.value().len() == 43 => (existing.value().to_owned(), None),
        _ => {
            let secret = random_token::<32>();
            let age = CookieDuration::hours(24);
            let set = cookie(config, name, secret.clone(), Some(age));
            (secret, Some(set))
        }
    }
}

/// The flow secret the browser holds, if any.
pub fn existing_flow(req: &HttpRequest, config: &Config) -> Option<String> {
    req.cookie(&cookie_named(config, FLOW_COOKIE))
        .map(|c| c.value().to_owned())
}

/// `return_to` if it is a path on Tessera itself (never another site: no scheme, no `//`, no
/// backslashes or control characters), else `None`.
pub fn safe_return_to(raw: Option<&str>) -> Option<String> {
    let path = raw?.trim();
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && path.len() <= MAX_RETURN_TO
        && !path.chars().any(|c| c.is_control() || c == '\\');
    ok.then(|| path.to_owned())
}

/// Percent-encodes a query-string value.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The path that starts signing in through `connection` (its IdP), returning to `return_to`.
pub fn sso_start_path(
    connection: broker::entities::ConnectionId,
    login_hint: Option<&str>,
    return_to: &str,
) -> String {
    let hint = login_hint
        .map(|h| format!("login_hint={}&", encode(h)))
        .unwrap_or_default();
    format!(
        "/sso/{connection}/start?{hint}return_to={}",
        encode(return_to)
    )
}

/// Who is at the browser.
pub fn client_info(req: &HttpRequest, config: &Config) -> ClientInfo {
    let user_agent = req
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(256).collect());
    ClientInfo {
        ip: crate::extract::client_ip(req, config.trusted_proxy_hops),
        user_agent,
        request_id: crate::telemetry::current_request_id(),
    }
}

/// An HTML page, setting any cookies given.
pub fn page(
    status: actix_web::http::StatusCode,
    body: String,
    cookies: impl IntoIterator<Item = Cookie<'static>>,
) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.content_type("text/html; charset=utf-8");
    for c in cookies {
        response.cookie(c);
    }
    response.body(body)
}

/// A 303 to `location` after a form post, setting any cookies given.
pub fn see_other(
    location: &str,
    cookies: impl IntoIterator<Item = Cookie<'static>>,
) -> HttpResponse {
    let mut response = HttpResponse::SeeOther();
    response.insert_header((LOCATION, location.to_owned()));
    for c in cookies {
        response.cookie(c);
    }
    response.finish()
}

/// A page that may show an error: the error's status and `Retry-After` (so a form refused by
/// a rate limit still says when to try again), or 200 without one.
pub fn page_for(
    error: Option<&Error>,
    body: String,
    cookies: impl IntoIterator<Item = Cookie<'static>>,
) -> HttpResponse {
    let status = error.map_or(actix_web::http::StatusCode::OK, |e| {
        crate::error::status_of(e.kind())
    });
    let mut response = page(status, body, cookies);
    if let Some(wait) = error.and_then(crate::error::retry_after_of)
        && let Ok(value) = wait.as_secs().max(1).to_string().parse()
    {
        response
            .headers_mut()
            .insert(actix_web::http::header::RETRY_AFTER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::safe_return_to;

    #[test]
    fn return_to_stays_on_this_site() {
        assert_eq!(
            safe_return_to(Some("/oauth2/authorize/resume?transaction=x")).as_deref(),
            Some("/oauth2/authorize/resume?transaction=x")
        );
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "evil",
            "/a\r\nb",
            "",
        ] {
            assert_eq!(safe_return_to(Some(bad)), None, "{bad}");
        }
    }
}
