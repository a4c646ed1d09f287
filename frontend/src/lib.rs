//! Tessera's pages and static assets, compiled into the binary so the server needs no files
//! on disk and no build step: HTML templates, CSS and small ES modules.

mod console;
mod login;

pub use console::*;
pub use login::*;

/// The landing page served at `/`.
pub const INDEX_HTML: &str = include_str!("../assets/index.html");

const ERROR_HTML: &str = include_str!("../assets/error.html");
const SIGN_OUT_HTML: &str = include_str!("../assets/sign_out.html");

/// The page shown after signing out.
pub const SIGNED_OUT_HTML: &str = include_str!("../assets/signed_out.html");

const SSO_TEST_HTML: &str = include_str!("../assets/sso_test.html");
const DEVICE_HTML: &str = include_str!("../assets/device.html");
const DEVICE_CONFIRM_HTML: &str = include_str!("../assets/device_confirm.html");
const DEVICE_DONE_HTML: &str = include_str!("../assets/device_done.html");

/// The page where a user types a device's code, with an optional error message.
pub fn device_page(error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    DEVICE_HTML.replace("{{error}}", &error)
}

/// The page asking whether to let the device sign in.
pub fn device_confirm_page(app: &str, user_code: &str, scope: &str, confirmation: &str) -> String {
    DEVICE_CONFIRM_HTML
        .replace("{{app}}", &escape(app))
        .replace("{{user_code}}", &escape(user_code))
        .replace("{{scope}}", &escape(scope))
        .replace("{{confirmation}}", &escape(confirmation))
}

/// The page after the user answered.
pub fn device_done_page(approved: bool) -> String {
    let (title, message) = if approved {
        (
            "Device connected",
            "You can return to your device; it signs in within a few seconds.",
        )
    } else {
        (
            "Request denied",
            "The device was not allowed to sign in. You can close this window.",
        )
    };
    DEVICE_DONE_HTML
        .replace("{{title}}", title)
        .replace("{{message}}", message)
}

const CONSENT_HTML: &str = include_str!("../assets/consent.html");

/// What a third-party app asks for, on the consent page.
#[derive(Debug, Clone, Copy)]
pub struct ConsentRequest<'a> {
    /// The app's name.
    pub app: &'a str,
    /// Where the answer goes.
    pub host: &'a str,
    /// Scopes asked for.
    pub scopes: &'a [String],
    /// APIs the tokens would be for.
    pub resources: &'a [String],
    /// The organization the app would act in.
    pub organization: Option<&'a str>,
    /// The form's confirmation.
    pub confirmation: &'a str,
}

/// The page asking whether a third-party app may sign the user in.
pub fn consent_page(request: ConsentRequest<'_>) -> String {
    let ConsentRequest {
        app,
        host,
        scopes,
        resources,
        organization,
        confirmation,
    } = request;
    let mut items: String = scopes
        .iter()
        .map(|s| format!("<li><code>{}</code></li>", escape(s)))
        .collect();
    for resource in resources {
        items.push_str(&format!(
            "<li>tokens for <code>{}</code></li>",
            escape(resource)
        ));
    }
    if let Some(org) = organization {
        items.push_str(&format!(
            "<li>your role in <strong>{}</strong></li>",
            escape(org)
        ));
    }
    CONSENT_HTML
        .replace("{{app}}", &escape(app))
        .replace("{{host}}", &escape(host))
        .replace("{{scopes}}", &items)
        .replace("{{confirmation}}", &escape(confirmation))
}

/// The page that asks a user to confirm signing out; the form posts `confirmation` back.
pub fn sign_out_page(confirmation: &str, app_name: Option<&str>) -> String {
    let question = match app_name {
        Some(app) => format!("{app} asks to sign you out of Tessera."),
        None => "Do you want to sign out of Tessera?".to_owned(),
    };
    SIGN_OUT_HTML
        .replace("{{question}}", &escape(&question))
        .replace("{{confirmation}}", &escape(confirmation))
}

/// A finished dry-run test login.
#[derive(Debug)]
pub struct SsoTestPage<'a> {
    /// Whether every check passed.
    pub ok: bool,
    /// The failed check's code and message.
    pub failure: Option<(&'a str, &'a str)>,
    /// Labelled facts (email, roles, account action…).
    pub facts: &'a [(&'a str, String)],
    /// The claims received, pretty-printed JSON.
    pub claims: &'a str,
    /// SAML: the signed XML the IdP sent (what was verified and read).
    pub assertion: Option<&'a str>,
}

/// The result page of a test login.
pub fn sso_test_page(page: &SsoTestPage<'_>) -> String {
    let (title, summary) = if page.ok {
        (
            "Test login succeeded",
            "The identity provider's answer passed every check.",
        )
    } else {
        (
            "Test login failed",
            "A check failed; fix it and run the test again.",
        )
    };
    let failure = page
        .failure
        .map(|(code, message)| {
            format!(
                "<p class=\"error\" role=\"alert\"><code>{}</code> {}</p>",
                escape(code),
                escape(message)
            )
        })
        .unwrap_or_default();
    let facts: String = page
        .facts
        .iter()
        .map(|(label, value)| format!("<dt>{}</dt><dd>{}</dd>", escape(label), escape(value)))
        .collect();
    SSO_TEST_HTML
        .replace("{{title}}", title)
        .replace("{{summary}}", summary)
        .replace("{{failure}}", &failure)
        .replace("{{facts}}", &facts)
        .replace("{{claims}}", &escape(page.claims))
        .replace(
            "{{assertion}}",
            &page
                .assertion
                .map(|xml| {
                    format!(
                        "<h2>The signed SAML the identity provider sent</h2><pre class=\"claims\">{}</pre>",
                        escape(xml)
                    )
                })
                .unwrap_or_default(),
        )
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Templates are filled by replacing {{name}}: a value must not look like one.
            '{' => out.push_str("&#123;"),
            '}' => out.push_str("&#125;"),
            c => out.push(c),
        }
    }
    out
}

/// The error page shown when a browser flow cannot go back to the app.
pub fn error_page(title: &str, message: &str, code: &str, request_id: &str) -> String {
    ERROR_HTML
        .replace("{{title}}", &escape(title))
        .replace("{{message}}", &escape(message))
        .replace("{{code}}", &escape(code))
        .replace("{{request_id}}", &escape(request_id))
}

/// An embedded file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// The file's bytes.
    pub bytes: &'static [u8],
    /// Its media type.
    pub content_type: &'static str,
}

/// An embedded asset of `assets/`, by file name, with its media type.
macro_rules! embedded {
    ($name:literal, $content_type:literal) => {
        (
            $name,
            Asset {
                bytes: include_bytes!(concat!("../assets/", $name)),
                content_type: $content_type,
            },
        )
    };
}

/// Files served under `/assets/`.
const ASSETS: &[(&str, Asset)] = &[
    embedded!("tessera.css", "text/css; charset=utf-8"),
    embedded!("login.js", "text/javascript; charset=utf-8"),
    embedded!("account.js", "text/javascript; charset=utf-8"),
    embedded!("webauthn.js", "text/javascript; charset=utf-8"),
    embedded!("console.css", "text/css; charset=utf-8"),
    embedded!("console.js", "text/javascript; charset=utf-8"),
    embedded!("console-api.js", "text/javascript; charset=utf-8"),
    embedded!("console-ui.js", "text/javascript; charset=utf-8"),
    embedded!("console-org.js", "text/javascript; charset=utf-8"),
    embedded!("console-apps.js", "text/javascript; charset=utf-8"),
    embedded!("console-scim.js", "text/javascript; charset=utf-8"),
    embedded!("console-wizard.js", "text/javascript; charset=utf-8"),
    embedded!("console-idps.js", "text/javascript; charset=utf-8"),
    embedded!("console-rules.js", "text/javascript; charset=utf-8"),
    embedded!("console-settings.js", "text/javascript; charset=utf-8"),
    embedded!("console-test.js", "text/javascript; charset=utf-8"),
    embedded!("setup.js", "text/javascript; charset=utf-8"),
    embedded!("first_admin.js", "text/javascript; charset=utf-8"),
];

/// The asset called `name`, if there is one.
pub fn asset(name: &str) -> Option<Asset> {
    ASSETS
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, asset)| *asset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_page_escapes_what_it_shows() {
        let page = error_page("Oops", "<script>alert(1)</script>", "x\"y", "r1");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("<script>"));
        assert!(page.contains("x&quot;y"));
        assert!(!page.contains("{{"));
    }

    #[test]
    fn sign_out_page_escapes_the_app_name() {
        let page = sign_out_page("tok", Some("<b>Evil</b>"));
        assert!(page.contains("&lt;b&gt;Evil&lt;/b&gt;") && page.contains("value=\"tok\""));
    }

    #[test]
    fn scripts_import_only_embedded_modules() {
        for (name, script) in ASSETS.iter().filter(|(n, _)| n.ends_with(".js")) {
            let text = std::str::from_utf8(script.bytes).unwrap_or_default();
            for part in text.split("from '/assets/").skip(1) {
                let module = part.split('\'').next().unwrap_or_default();
                assert!(asset(module).is_some(), "{name} imports missing {module}");
            }
        }
    }

    #[test]
    fn index_links_only_embedded_assets() {
        for part in INDEX_HTML.split("/assets/").skip(1) {
            let name = part.split('"').next().unwrap_or_default();
            assert!(
                asset(name).is_some(),
                "index.html links missing asset {name}"
            );
        }
    }
}
