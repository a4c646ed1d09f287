//! Scopes: the RFC 6749 §3.3 syntax, an ordered set, and the scopes OpenID Connect defines.

use crate::error::{Error, ErrorCode, Result};

/// Scopes with a meaning in OpenID Connect; every app may ask for them.
pub const OIDC_SCOPES: [&str; 5] = [
    "openid",
    "profile",
    "email",
    "offline_access",
    "organization",
];

/// The most scopes one request or app may carry.
const MAX_SCOPES: usize = 64;
/// The longest one scope may be.
const MAX_SCOPE_LEN: usize = 128;

/// An ordered set of scope tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

/// Whether `token` is a scope-token: printable ASCII except space, `"` and `\`.
pub fn is_scope_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= MAX_SCOPE_LEN
        && token
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

impl Scopes {
    /// Parses a space-separated `scope` parameter; `code` is the error to report
    /// (`invalid_scope` on the OAuth surfaces, `invalid_scope_name` in the admin API).
    pub fn parse(raw: &str, code: ErrorCode, field: &str) -> Result<Self> {
        Self::from_list(raw.split(' ').filter(|s| !s.is_empty()), code, field)
    }

    /// Validates a list of scope tokens, dropping duplicates and keeping order.
    pub fn from_list<'a>(
        list: impl IntoIterator<Item = &'a str>,
        code: ErrorCode,
        field: &str,
    ) -> Result<Self> {
        let mut scopes: Vec<String> = Vec::new();
        for token in list {
            if !is_scope_token(token) {
                return Err(Error::invalid(
                    code,
                    field,
                    format!(
                        "'{token}' is not a valid scope (printable ASCII, no spaces or quotes)"
                    ),
                ));
            }
            if !scopes.iter().any(|s| s == token) {
                scopes.push(token.to_owned());
            }
        }
        if scopes.len() > MAX_SCOPES {
            return Err(Error::invalid(
                code,
                field,
                format!("at most {MAX_SCOPES} scopes"),
            ));
        }
        Ok(Self(scopes))
    }

    /// Whether `scope` is in the set.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    /// The scopes in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes of `self` that `allowed` does not contain.
    pub fn not_in<'a>(&'a self, allowed: &'a Scopes) -> impl Iterator<Item = &'a str> {
        self.iter().filter(move |s| !allowed.contains(s))
    }

    /// Keeps only the scopes `keep` accepts.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.0.retain(|s| keep(s));
    }

    /// The scopes as a JSON-ready list.
    pub fn to_vec(&self) -> Vec<String> {
        self.0.clone()
    }
}

impl std::fmt::Display for Scopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_tokens_follow_rfc6749() {
        assert!(is_scope_token("openid"));
        assert!(is_scope_token("read:invoices"));
        assert!(is_scope_token("https://api.example.com/read"));
        for bad in ["", "a b", "quo\"te", "back\\slash", "tab\t", "é"] {
            assert!(!is_scope_token(bad), "{bad:?}");
        }
    }

    #[test]
    fn parsing_dedupes_and_keeps_order() {
        let s = Scopes::parse(
            "openid  email openid read",
            ErrorCode::InvalidScope,
            "scope",
        )
        .unwrap();
        assert_eq!(s.to_string(), "openid email read");
        let allowed = Scopes::parse("openid email", ErrorCode::InvalidScope, "scope").unwrap();
        assert_eq!(s.not_in(&allowed).collect::<Vec<_>>(), ["read"]);
    }
}
