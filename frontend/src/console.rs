//! The admin console's pages: the console shell (its scripts render every view from the admin
//! API), the setup-link wizard shell, the first-admin page and the "no admin access" page.

use crate::escape;

const CONSOLE_HTML: &str = include_str!("../assets/console.html");
const CONSOLE_DENIED_HTML: &str = include_str!("../assets/console_denied.html");
const SETUP_HTML: &str = include_str!("../assets/setup.html");
const FIRST_ADMIN_HTML: &str = include_str!("../assets/first_admin.html");

/// The console shell; `csrf` goes in its meta tag for the scripts' writes.
pub fn console_page(csrf: &str) -> String {
    CONSOLE_HTML.replace("{{csrf}}", &escape(csrf))
}

/// The page for a signed-in account that administers nothing.
pub fn console_denied_page(email: &str) -> String {
    CONSOLE_DENIED_HTML.replace("{{email}}", &escape(email))
}

/// What the setup-link page shows before its script runs.
#[derive(Debug, Clone, Copy)]
pub struct SetupPage<'a> {
    /// The organization's name.
    pub org_name: &'a str,
    /// Its slug (the script's API paths).
    pub org_slug: &'a str,
    /// When the link stops working, formatted.
    pub expires_at: &'a str,
}

/// The SSO wizard behind a setup link.
pub fn setup_page(page: &SetupPage<'_>) -> String {
    SETUP_HTML
        .replace("{{org_name}}", &escape(page.org_name))
        .replace("{{org_slug}}", &escape(page.org_slug))
        .replace("{{expires_at}}", &escape(page.expires_at))
}

/// The first-admin page: name yourself, create a passkey.
pub fn first_admin_page(csrf: &str, token: &str) -> String {
    FIRST_ADMIN_HTML
        .replace("{{csrf}}", &escape(csrf))
        .replace("{{token}}", &escape(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_page_escapes_the_org_name() {
        let page = setup_page(&SetupPage {
            org_name: "<b>Acme</b>",
            org_slug: "acme",
            expires_at: "2026-12-24 10:00 UTC",
        });
        assert!(page.contains("&lt;b&gt;Acme&lt;/b&gt;"));
        assert!(!page.contains("<b>Acme"));
        assert!(!page.contains("{{"));
    }

    #[test]
    fn console_pages_link_only_embedded_assets() {
        for html in [
            console_page("t"),
            setup_page(&SetupPage {
                org_name: "a",
                org_slug: "a",
                expires_at: "x",
            }),
            first_admin_page("t", "tfa_x"),
            console_denied_page("a@example.com"),
        ] {
            for part in html.split("/assets/").skip(1) {
                let name = part.split('"').next().unwrap_or_default();
                assert!(crate::asset(name).is_some(), "missing asset {name}");
            }
        }
    }
}
