//! Redirect URIs: what an app may register, and how a presented URI is matched (exactly, with
//! the RFC 8252 §7.3 exception for native apps' loopback ports).

use url::{Host, Url};

use crate::error::{Error, ErrorCode, Result};

const MAX_URI_LEN: usize = 2000;
const MAX_URIS: usize = 32;

fn invalid(field: &str, uri: &str, why: &str) -> Error {
    Error::invalid(
        ErrorCode::InvalidRedirectUri,
        field,
        format!("'{uri}' cannot be registered: {why}"),
    )
}

fn is_loopback_ip(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    }
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    is_loopback_ip(url) || url.host_str() == Some("localhost")
}

/// Checks one URI an app wants to register: absolute, no fragment, no wildcard; `https`, or
/// `http` on a loopback host (development, native apps), or a private-use scheme with a dot
/// such as `com.example.app:/callback` (RFC 8252 §7.1).
pub fn validate(field: &str, uri: &str) -> Result<String> {
    if uri.len() > MAX_URI_LEN {
        return Err(invalid(field, uri, "longer than 2000 characters"));
    }
    if uri.contains('*') {
        return Err(invalid(
            field,
            uri,
            "wildcards are not allowed; register each URI",
        ));
    }
    let url =
        Url::parse(uri).map_err(|e| invalid(field, uri, &format!("not an absolute URI ({e})")))?;
    if url.fragment().is_some() {
        return Err(invalid(
            field,
            uri,
            "a redirect URI must not have a fragment",
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(invalid(
                field,
                uri,
                "use https (plain http is allowed only for 127.0.0.1, [::1] and localhost)",
            ));
        }
        scheme if scheme.contains('.') => {}
        _ => {
            return Err(invalid(
                field,
                uri,
                "use https, loopback http, or a private-use scheme such as com.example.app:/cb",
            ));
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            field,
            uri,
            "a redirect URI must not carry credentials",
        ));
    }
    Ok(uri.to_owned())
}

/// Validates a list of URIs to register (duplicates removed).
pub fn validate_all(field: &str, uris: &[String]) -> Result<Vec<String>> {
    if uris.len() > MAX_URIS {
        return Err(Error::invalid(
            ErrorCode::InvalidRedirectUri,
            field,
            format!("at most {MAX_URIS} URIs"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(uris.len());
    for (i, uri) in uris.iter().enumerate() {
        let uri = validate(&format!("{field}[{i}]"), uri)?;
        if !out.contains(&uri) {
            out.push(uri);
        }
    }
    Ok(out)
}

/// Whether `presented` matches one of `registered`: character for character, except that for
/// native apps a registered `http://127.0.0.1/…` or `http://[::1]/…` matches any port
/// (RFC 8252 §7.3), because the app picks a free port at run time.
pub fn matches(registered: &[String], presented: &str, native_loopback: bool) -> bool {
    if registered.iter().any(|r| r == presented) {
        return true;
    }
    if !native_loopback {
        return false;
    }
    let Ok(presented) = Url::parse(presented) else {
        return false;
    };
    if presented.scheme() != "http" || !is_loopback_ip(&presented) {
        return false;
    }
    registered
        .iter()
        .filter_map(|r| Url::parse(r).ok())
        .any(|mut r| {
            if r.scheme() != "http" || !is_loopback_ip(&r) || r.host() != presented.host() {
                return false;
            }
            // Compare everything but the port.
            let _ = r.set_port(presented.port());
            r == presented
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_accepts_https_loopback_and_private_schemes() {
        for ok in [
            "https://app.example.com/callback",
            "http://127.0.0.1/callback",
            "http://[::1]:8400/cb",
            "http://localhost:3000/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(validate("redirect_uris", ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn registration_refuses_the_dangerous_ones() {
        for bad in [
            "http://app.example.com/cb",
            "https://*.example.com/cb",
            "https://app.example.com/cb#frag",
            "javascript:alert(1)",
            "data:text/html,hi",
            "/relative/path",
            "https://user:pass@app.example.com/cb",
        ] {
            let err = validate("redirect_uris[0]", bad).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidRedirectUri, "{bad}");
            assert_eq!(err.field(), Some("redirect_uris[0]"));
        }
    }

    #[test]
    fn matching_is_exact() {
        let registered = vec!["https://app.example.com/callback".to_owned()];
        assert!(matches(
            &registered,
            "https://app.example.com/callback",
            false
        ));
        for near in [
            "https://app.example.com/callback/",
            "https://app.example.com/callback?x=1",
            "https://app.example.com/Callback",
            "https://app.example.com.evil.com/callback",
            "https://app.example.com:443/callback2",
        ] {
            assert!(!matches(&registered, near, true), "{near}");
        }
    }

    #[test]
    fn native_apps_may_use_any_loopback_port() {
        let registered = vec![
            "http://127.0.0.1/callback".to_owned(),
            "http://[::1]/cb".to_owned(),
        ];
        assert!(matches(
            &registered,
            "http://127.0.0.1:51004/callback",
            true
        ));
        assert!(matches(&registered, "http://[::1]:6000/cb", true));
        assert!(!matches(
            &registered,
            "http://127.0.0.1:51004/callback",
            false
        ));
        assert!(!matches(&registered, "http://127.0.0.1:51004/other", true));
        assert!(!matches(
            &registered,
            "http://localhost:51004/callback",
            true
        ));
        assert!(!matches(&registered, "http://[::1]:6000/callback", true));
    }
}
