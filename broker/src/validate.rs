//! Input rules shared by every surface: slugs, display names, domains, emails and roles.
//! Each parser returns the normalized value or an error naming the field at fault.

use crate::error::{Error, ErrorCode, Result};

const MAX_NAME_CHARS: usize = 128;
const MAX_SLUG_LEN: usize = 63;
const MAX_ROLE_LEN: usize = 64;
const MAX_ROLES: usize = 64;
const MAX_EMAIL_LEN: usize = 254;

/// An organization slug: 1-63 of `a-z 0-9 -`, no leading or trailing hyphen, and never
/// something that parses as a UUID (so `{org}` in a path is unambiguous).
pub fn slug(field: &str, raw: &str) -> Result<String> {
    let fail = |why: &str| {
        Error::invalid(
            ErrorCode::InvalidSlug,
            field,
            format!("{field} {why}; use 1-63 lower-case letters, digits and inner hyphens"),
        )
    };
    if raw.is_empty() || raw.len() > MAX_SLUG_LEN {
        return Err(fail("must be 1 to 63 characters"));
    }
    if !raw
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(fail("has characters other than a-z, 0-9 and '-'"));
    }
    if raw.starts_with('-') || raw.ends_with('-') {
        return Err(fail("must not start or end with '-'"));
    }
    if uuid::Uuid::parse_str(raw).is_ok() {
        return Err(fail("must not look like an id"));
    }
    Ok(raw.to_owned())
}

/// A display name: trimmed, 1-128 characters, no control characters.
pub fn name(field: &str, raw: &str) -> Result<String> {
    let trimmed = raw.trim();
    let count = trimmed.chars().count();
    if count == 0 || count > MAX_NAME_CHARS {
        return Err(Error::invalid(
            ErrorCode::InvalidName,
            field,
            format!("{field} must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Error::invalid(
            ErrorCode::InvalidName,
            field,
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// A DNS domain an organization can own: normalized to lower-case ASCII (IDNA), at least two
/// labels, not an IP address, and not a public suffix such as `com` or `co.uk`.
pub fn domain(field: &str, raw: &str) -> Result<String> {
    let fail = |why: String| Error::invalid(ErrorCode::InvalidDomain, field, why);
    let trimmed = raw.trim().trim_end_matches('.');
    if trimmed.parse::<std::net::IpAddr>().is_ok() {
        return Err(fail(format!(
            "{field} must be a domain name, not an IP address"
        )));
    }
    let ascii = hostname(trimmed).map_err(|why| fail(format!("{field} {why}")))?;
    if !ascii.contains('.') {
        return Err(fail(format!(
            "{field} must have at least two labels, like example.com"
        )));
    }
    match psl::domain_str(&ascii) {
        Some(_) => Ok(ascii),
        None => Err(fail(format!(
            "{field} '{ascii}' is a public suffix; add the domain your organization registered under it"
        ))),
    }
}

/// Normalizes a host name to lower-case ASCII and checks its labels.
fn hostname(raw: &str) -> std::result::Result<String, String> {
    let ascii = idna::domain_to_ascii(raw).map_err(|_| "is not a valid domain name".to_owned())?;
    if ascii.is_empty() || ascii.len() > 253 {
        return Err("must be 1 to 253 characters".into());
    }
    for label in ascii.split('.') {
        let valid_chars = label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if label.is_empty()
            || label.len() > 63
            || !valid_chars
            || label.starts_with('-')
            || label.ends_with('-')
        {
            return Err(format!("has an invalid label '{label}'"));
        }
    }
    if ascii
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("must not end in a numeric label".into());
    }
    Ok(ascii)
}

/// An email address, lower-cased: `local@domain` with a valid host name as domain.
pub fn email(field: &str, raw: &str) -> Result<String> {
    let fail = || {
        Error::invalid(
            ErrorCode::InvalidEmail,
            field,
            format!("{field} must be an email address like name@example.com"),
        )
    };
    let trimmed = raw.trim();
    if trimmed.len() > MAX_EMAIL_LEN {
        return Err(fail());
    }
    let (local, host) = trimmed.rsplit_once('@').ok_or_else(fail)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.contains('@')
        && local
            .chars()
            .all(|c| !c.is_control() && !c.is_whitespace() && c != '<' && c != '>');
    if !local_ok || !host.contains('.') {
        return Err(fail());
    }
    let host = hostname(host).map_err(|_| fail())?;
    Ok(format!("{}@{host}", local.to_lowercase()))
}

/// One role name: 1-64 of letters, digits, `_ : . -`, starting with a letter or digit.
pub fn role(field: &str, raw: &str) -> Result<String> {
    let valid = !raw.is_empty()
        && raw.len() <= MAX_ROLE_LEN
        && raw
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'.' | b'-'));
    if valid {
        Ok(raw.to_owned())
    } else {
        Err(Error::invalid(
            ErrorCode::InvalidRole,
            field,
            format!("{field} '{raw}' must be 1-64 letters, digits or '_ : . -'"),
        ))
    }
}

/// A list of roles: each valid, at most 64, duplicates removed, order kept.
pub fn roles(field: &str, raw: &[String]) -> Result<Vec<String>> {
    if raw.len() > MAX_ROLES {
        return Err(Error::invalid(
            ErrorCode::InvalidRole,
            field,
            format!("{field} may hold at most {MAX_ROLES} roles"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let r = role(&format!("{field}[{i}]"), r)?;
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_accept_dns_like_labels_only() {
        assert_eq!(slug("slug", "acme-corp").unwrap(), "acme-corp");
        assert_eq!(slug("slug", "a").unwrap(), "a");
        for bad in [
            "",
            "-acme",
            "acme-",
            "Acme",
            "ac me",
            "acme_corp",
            &"a".repeat(64),
        ] {
            let err = slug("slug", bad).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidSlug, "{bad}");
            assert_eq!(err.field(), Some("slug"));
        }
    }

    #[test]
    fn slug_cannot_be_mistaken_for_an_id() {
        let id = uuid::Uuid::now_v7().to_string();
        assert!(slug("slug", &id).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("name", "  Acme Inc. ").unwrap(), "Acme Inc.");
        assert!(name("name", "   ").is_err());
        assert!(name("name", "bad\u{0007}name").is_err());
        assert!(name("name", &"x".repeat(129)).is_err());
        assert!(name("name", &"é".repeat(128)).is_ok());
    }

    #[test]
    fn domains_are_normalized() {
        assert_eq!(domain("domain", "Example.COM.").unwrap(), "example.com");
        assert_eq!(domain("domain", "bücher.de").unwrap(), "xn--bcher-kva.de");
        assert_eq!(domain("domain", "eu.acme.co.uk").unwrap(), "eu.acme.co.uk");
    }

    #[test]
    fn domains_refuse_ips_suffixes_and_junk() {
        for bad in [
            "com",
            "co.uk",
            "localhost",
            "127.0.0.1",
            "::1",
            "exa mple.com",
            "-bad.com",
            "a..com",
            "example.123",
            "",
            "http://example.com",
        ] {
            let err = domain("domain", bad).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidDomain, "{bad}");
        }
    }

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(
            email("email", " Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        for bad in [
            "ada",
            "ada@",
            "@example.com",
            "ada@localhost",
            "a da@example.com",
            "a@b@c.com",
        ] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_are_deduplicated_and_named_by_index() {
        let ok = roles(
            "roles",
            &["admin".into(), "billing:read".into(), "admin".into()],
        )
        .unwrap();
        assert_eq!(ok, vec!["admin", "billing:read"]);
        let err = roles("roles", &["admin".into(), "bad role".into()]).unwrap_err();
        assert_eq!(err.field(), Some("roles[1]"));
    }
}
