//! Authentication context classes (`acr`): how strongly a session's user was authenticated,
//! and whether that satisfies an app's `acr_values` (step-up, RFC 9470).

/// One factor: an email link or a password alone.
pub const SINGLE_FACTOR: &str = "urn:tessera:acr:1fa";
/// Two factors: a password with an authenticator code, recovery code or passkey.
pub const MULTI_FACTOR: &str = "urn:tessera:acr:mfa";
/// Phishing-resistant: a passkey with user verification (OpenID EAP ACR value `phr`).
pub const PHISHING_RESISTANT: &str = "phr";

/// The values Tessera understands, weakest first (advertised in discovery).
pub const SUPPORTED: &[&str] = &[SINGLE_FACTOR, MULTI_FACTOR, PHISHING_RESISTANT];

fn rank(acr: &str) -> Option<usize> {
    SUPPORTED.iter().position(|known| *known == acr)
}

/// The weakest level among the known values in `acr_values` (space-separated, in order of
/// preference); `None` when it names none Tessera knows, which asks for nothing.
pub fn requirement(acr_values: Option<&str>) -> Option<&'static str> {
    acr_values?
        .split_ascii_whitespace()
        .filter_map(rank)
        .min()
        .map(|i| SUPPORTED[i])
}

/// Whether a session that reached `achieved` meets `required`.
pub fn satisfies(achieved: Option<&str>, required: &str) -> bool {
    match (achieved.and_then(rank), rank(required)) {
        (Some(have), Some(need)) => have >= need,
        (_, None) => true,
        (None, Some(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stronger_levels_satisfy_weaker_ones() {
        assert!(satisfies(Some(PHISHING_RESISTANT), MULTI_FACTOR));
        assert!(satisfies(Some(MULTI_FACTOR), SINGLE_FACTOR));
        assert!(!satisfies(Some(SINGLE_FACTOR), MULTI_FACTOR));
        assert!(!satisfies(Some(MULTI_FACTOR), PHISHING_RESISTANT));
        assert!(!satisfies(None, SINGLE_FACTOR));
    }

    #[test]
    fn requirement_is_the_weakest_known_value() {
        assert_eq!(
            requirement(Some("phr urn:tessera:acr:mfa")),
            Some(MULTI_FACTOR)
        );
        assert_eq!(requirement(Some("gold silver")), None);
        assert_eq!(requirement(Some("x phr")), Some(PHISHING_RESISTANT));
        assert_eq!(requirement(None), None);
    }
}
