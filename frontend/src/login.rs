//! Local sign-in pages (email link or code, password, passkeys, second factor) and the account page.

use crate::escape;

const LOGIN_HTML: &str = include_str!("../assets/login.html");
const CHECK_EMAIL_HTML: &str = include_str!("../assets/check_email.html");
const LINK_CONFIRM_HTML: &str = include_str!("../assets/link_confirm.html");
const SECOND_FACTOR_HTML: &str = include_str!("../assets/second_factor.html");
const PASSKEY_PROMPT_HTML: &str = include_str!("../assets/passkey_prompt.html");
const ACCOUNT_HTML: &str = include_str!("../assets/account.html");
const TOTP_SETUP_HTML: &str = include_str!("../assets/totp_setup.html");
const RECOVERY_CODES_HTML: &str = include_str!("../assets/recovery_codes.html");

const STEP_UP_NOTICE: &str =
    "This app asks for a stronger sign-in: use a passkey, or your password and authenticator app.";

/// The sign-in page.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoginPage<'a> {
    /// The CSRF token, put in the page's meta tag and in every form.
    pub csrf: &'a str,
    /// Where to go after signing in; sent back in every form as `return_to`. May be empty.
    pub return_to: &'a str,
    /// Prefill of the email field.
    pub email: &'a str,
    /// An error to show.
    pub error: Option<&'a str>,
    /// A notice to show.
    pub notice: Option<&'a str>,
    /// Whether to offer a password field and a "Sign in with password" button.
    pub password_login: bool,
    /// Whether the app asked for a stronger sign-in than an email link.
    pub step_up: bool,
    /// Social sign-in buttons: (provider name, start URL).
    pub social: &'a [(String, String)],
    /// Whether the error is about the email field (marked invalid and described by it).
    pub email_invalid: bool,
    /// The organization the app's request belongs to, when it has branding to show.
    pub brand: Option<Brand<'a>>,
}

/// An organization's look on its sign-in page.
#[derive(Debug, Clone, Copy)]
pub struct Brand<'a> {
    /// The name to show ("Sign in to …").
    pub name: &'a str,
    /// The accent colour, `#rrggbb` (already checked).
    pub color: Option<&'a str>,
    /// Where the logo is, if there is one.
    pub logo_url: Option<&'a str>,
}

/// The page's heading, and a style element setting the accent colour, for `brand`.
fn branded(brand: Option<Brand<'_>>) -> (String, String) {
    let Some(brand) = brand else {
        return (
            "<h1><span class=\"mark\" aria-hidden=\"true\"></span>Sign in</h1>".to_owned(),
            String::new(),
        );
    };
    let logo = brand.logo_url.map_or_else(
        || "<span class=\"mark\" aria-hidden=\"true\"></span>".to_owned(),
        |url| {
            format!(
                "<img class=\"brand-logo\" src=\"{}\" alt=\"\">",
                escape(url)
            )
        },
    );
    let heading = format!(
        "<h1 class=\"branded\">{logo}<span>Sign in to {}</span></h1>",
        escape(brand.name)
    );
    let style = brand
        .color
        .filter(|c| {
            c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit())
        })
        .map(|c| format!("<style>:root {{ --accent: {c}; }}</style>"))
        .unwrap_or_default();
    (heading, style)
}

/// The sign-in page: email link (or code), optional password, and passkeys.
pub fn login_page(page: LoginPage<'_>) -> String {
    let mut messages = String::new();
    if let Some(error) = page.error {
        messages.push_str(&error_paragraph(error).replacen("<p ", "<p id=\"login-error\" ", 1));
    }
    if let Some(notice) = page.notice {
        messages.push_str(&notice_paragraph(notice));
    }
    if page.step_up {
        messages.push_str(&notice_paragraph(STEP_UP_NOTICE));
    }
    let (password_field, password_button) = if page.password_login {
        (
            "<label for=\"password\">Password</label>\n      \
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\">",
            "<button id=\"password-button\" type=\"submit\" formaction=\"/login/password\" class=\"secondary\">Sign in with password</button>",
        )
    } else {
        ("", "")
    };
    let social: String = page
        .social
        .iter()
        .map(|(name, href)| {
            format!(
                "<a class=\"button secondary social\" href=\"{}\">Continue with {}</a>\n      ",
                escape(href),
                escape(name)
            )
        })
        .collect();
    let email_state = if page.email_invalid && page.error.is_some() {
        " aria-invalid=\"true\" aria-describedby=\"login-error\""
    } else {
        ""
    };
    let (heading, brand_style) = branded(page.brand);
    LOGIN_HTML
        .replace("{{heading}}", &heading)
        .replace("{{brand_style}}", &brand_style)
        .replace("{{social}}", &social)
        .replace("{{messages}}", &messages)
        .replace("{{email_state}}", email_state)
        .replace("{{password_field}}", password_field)
        .replace("{{password_button}}", password_button)
        .replace("{{csrf}}", &escape(page.csrf))
        .replace("{{return_to}}", &escape(page.return_to))
        .replace("{{email}}", &escape(page.email))
}

/// The page after a sign-in email was sent: follow the link, or type the code from it.
pub fn check_email_page(csrf: &str, return_to: &str, email: &str, error: Option<&str>) -> String {
    let login_href = if return_to.is_empty() {
        "/login".to_owned()
    } else {
        format!("/login?return_to={}", percent_encode(return_to))
    };
    CHECK_EMAIL_HTML
        .replace("{{error}}", &error.map(error_paragraph).unwrap_or_default())
        .replace("{{login_href}}", &escape(&login_href))
        .replace("{{csrf}}", &escape(csrf))
        .replace("{{return_to}}", &escape(return_to))
        .replace("{{email}}", &escape(email))
}

/// The page a sign-in link opens: a button spends the link, so mail scanners that open links don't.
pub fn link_confirm_page(csrf: &str, token: &str, email: &str) -> String {
    LINK_CONFIRM_HTML
        .replace("{{csrf}}", &escape(csrf))
        .replace("{{token}}", &escape(token))
        .replace("{{email}}", &escape(email))
}

/// The second-factor page, shown after a first factor when the account has more.
#[derive(Debug, Clone, Copy, Default)]
pub struct SecondFactorPage<'a> {
    /// The CSRF token.
    pub csrf: &'a str,
    /// The half-finished sign-in, sent back with the second factor.
    pub ticket: &'a str,
    /// Whether the account has an authenticator app.
    pub totp: bool,
    /// Whether the account has a passkey.
    pub passkey: bool,
    /// Whether the account has unused recovery codes.
    pub recovery_codes: bool,
    /// An error to show.
    pub error: Option<&'a str>,
}

/// The second-factor page: a code from an authenticator app (or a recovery code), or a passkey.
pub fn second_factor_page(page: SecondFactorPage<'_>) -> String {
    let csrf = escape(page.csrf);
    let ticket = escape(page.ticket);
    let code_form = if page.totp || page.recovery_codes {
        let (label, inputmode) = if page.recovery_codes {
            ("Code from your authenticator app or a recovery code", "")
        } else {
            ("Code from your authenticator app", " inputmode=\"numeric\"")
        };
        format!(
            "<form class=\"stack\" method=\"post\" action=\"/login/second-factor\">\n      \
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n      \
             <input type=\"hidden\" name=\"ticket\" value=\"{ticket}\">\n      \
             <label for=\"code\">{label}</label>\n      \
             <input id=\"code\" name=\"code\" autocomplete=\"one-time-code\"{inputmode} spellcheck=\"false\" required autofocus>\n      \
             <button type=\"submit\" class=\"primary\">Verify</button>\n    \
             </form>"
        )
    } else {
        String::new()
    };
    let passkey = if page.passkey {
        let class = if code_form.is_empty() {
            "primary"
        } else {
            "secondary"
        };
        let wrapper = if code_form.is_empty() {
            ""
        } else {
            " class=\"alt\""
        };
        format!(
            "<div{wrapper}>\n      \
             <button id=\"second-factor-passkey\" type=\"button\" class=\"{class}\" data-ticket=\"{ticket}\">Use a passkey</button>\n      \
             <p id=\"passkey-error\" class=\"error\" role=\"alert\" hidden></p>\n    \
             </div>\n    \
             <script type=\"module\" src=\"/assets/login.js\"></script>"
        )
    } else {
        String::new()
    };
    SECOND_FACTOR_HTML
        .replace(
            "{{error}}",
            &page.error.map(error_paragraph).unwrap_or_default(),
        )
        .replace("{{code_form}}", &code_form)
        .replace("{{passkey}}", &passkey)
        .replace("{{csrf}}", &csrf)
}

/// The page offering to create a passkey, right after a new account was created.
pub fn passkey_prompt_page(csrf: &str, return_to: &str) -> String {
    let target = safe_target(return_to).unwrap_or("/account");
    PASSKEY_PROMPT_HTML
        .replace("{{csrf}}", &escape(csrf))
        .replace(
            "{{return_to}}",
            &escape(safe_target(return_to).unwrap_or_default()),
        )
        .replace("{{skip_href}}", &escape(target))
}

/// A passkey, as listed on the account page.
#[derive(Debug, Clone)]
pub struct PasskeyRow {
    /// Its id, used in the rename and delete URLs.
    pub id: String,
    /// The name the user gave it.
    pub name: String,
    /// When it was added, formatted for display.
    pub created: String,
    /// When it was last used, formatted for display.
    pub last_used: Option<String>,
    /// Whether it is synced between devices (backed up).
    pub synced: bool,
}

/// A session, as listed on the account page.
#[derive(Debug, Clone)]
pub struct SessionRow {
    /// Its id, used in the revoke URL.
    pub id: String,
    /// The browser and system, formatted for display.
    pub device: String,
    /// The IP address it was last seen from.
    pub ip: String,
    /// When it was last seen, formatted for display.
    pub last_seen: String,
    /// Whether this is the session showing the page.
    pub current: bool,
}

/// An identity from an upstream connection linked to the account.
#[derive(Debug, Clone)]
pub struct IdentityRow {
    /// The connection's name.
    pub connection: String,
    /// The user's id at the connection.
    pub subject: String,
    /// When the user last signed in through it, formatted for display.
    pub last_login: Option<String>,
}

/// What the account page shows.
#[derive(Debug, Clone, Default)]
pub struct AccountPage<'a> {
    /// The CSRF token.
    pub csrf: &'a str,
    /// The account's email address.
    pub email: &'a str,
    /// Whether the address is verified.
    pub email_verified: bool,
    /// A notice to show.
    pub notice: Option<&'a str>,
    /// An error to show.
    pub error: Option<&'a str>,
    /// The account's passkeys.
    pub passkeys: &'a [PasskeyRow],
    /// The account's sessions.
    pub sessions: &'a [SessionRow],
    /// Identities linked to the account.
    pub identities: &'a [IdentityRow],
    /// Whether password sign-in is enabled, so the password section shows.
    pub password_login: bool,
    /// Whether the account has a password.
    pub has_password: bool,
    /// Whether the account has an authenticator app.
    pub totp: bool,
    /// How many recovery codes are unused.
    pub recovery_codes_left: usize,
}

/// The account page: email, passkeys, password, authenticator app, recovery codes, sessions.
pub fn account_page(page: &AccountPage<'_>) -> String {
    let csrf = escape(page.csrf);
    let csrf_input = format!("<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">");

    let mut messages = String::new();
    if let Some(error) = page.error {
        messages.push_str(&error_paragraph(error).replacen("<p ", "<p id=\"login-error\" ", 1));
    }
    if let Some(notice) = page.notice {
        messages.push_str(&notice_paragraph(notice));
    }

    let passkeys = if page.passkeys.is_empty() {
        "<p>No passkeys yet.</p>".to_owned()
    } else {
        let rows: String = page
            .passkeys
            .iter()
            .map(|p| passkey_row(p, &csrf_input))
            .collect();
        format!(
            "<table>\n        <thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Created</th>\
             <th scope=\"col\">Last used</th><th scope=\"col\"><span class=\"sr-only\">Synced</span></th>\
             <th scope=\"col\"><span class=\"sr-only\">Remove</span></th></tr></thead>\n        \
             <tbody>{rows}</tbody>\n      </table>"
        )
    };

    let password_section = if page.password_login {
        let (intro, button) = if page.has_password {
            ("You can sign in with your password.", "Change password")
        } else {
            ("You have no password.", "Set password")
        };
        let remove = if page.has_password {
            format!(
                "\n      <form method=\"post\" action=\"/account/password/delete\">{csrf_input}\
                 <button type=\"submit\" class=\"secondary\">Remove password</button></form>"
            )
        } else {
            String::new()
        };
        format!(
            "<section aria-labelledby=\"password-heading\">\n      \
             <h2 id=\"password-heading\">Password</h2>\n      \
             <p>{intro}</p>\n      \
             <form class=\"stack\" method=\"post\" action=\"/account/password\">{csrf_input}\n        \
             <label for=\"new-password\">New password (at least 15 characters)</label>\n        \
             <input id=\"new-password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" minlength=\"15\" required>\n        \
             <div class=\"actions\"><button type=\"submit\" class=\"secondary\">{button}</button></div>\n      \
             </form>{remove}\n    \
             </section>"
        )
    } else {
        String::new()
    };

    let totp = if page.totp {
        format!(
            "<p>On</p>\n      <form method=\"post\" action=\"/account/totp/delete\">{csrf_input}\
             <button type=\"submit\" class=\"secondary\">Remove</button></form>"
        )
    } else {
        format!(
            "<form method=\"post\" action=\"/account/totp\">{csrf_input}\
             <button type=\"submit\" class=\"secondary\">Set up an authenticator app</button></form>"
        )
    };

    let sessions = if page.sessions.is_empty() {
        "<p>None</p>".to_owned()
    } else {
        let rows: String = page
            .sessions
            .iter()
            .map(|s| session_row(s, &csrf_input))
            .collect();
        format!(
            "<table>\n        <thead><tr><th scope=\"col\">Device</th><th scope=\"col\">IP address</th>\
             <th scope=\"col\">Last seen</th><th scope=\"col\"><span class=\"sr-only\">Sign out</span></th></tr></thead>\n        \
             <tbody>{rows}</tbody>\n      </table>"
        )
    };

    let identities = if page.identities.is_empty() {
        "<p>None</p>".to_owned()
    } else {
        let items: String = page
            .identities
            .iter()
            .map(|i| {
                let last = i
                    .last_login
                    .as_deref()
                    .map(|l| format!(" · last sign-in {}", escape(l)))
                    .unwrap_or_default();
                format!(
                    "<li><strong>{}</strong> <code>{}</code>{last}</li>",
                    escape(&i.connection),
                    escape(&i.subject)
                )
            })
            .collect();
        format!("<ul>{items}</ul>")
    };

    let email_status = if page.email_verified {
        "verified"
    } else {
        "not verified"
    };

    ACCOUNT_HTML
        .replace("{{messages}}", &messages)
        .replace("{{passkeys}}", &passkeys)
        .replace("{{password_section}}", &password_section)
        .replace("{{totp}}", &totp)
        .replace("{{sessions}}", &sessions)
        .replace("{{identities}}", &identities)
        .replace("{{email_status}}", email_status)
        .replace(
            "{{recovery_codes_left}}",
            &page.recovery_codes_left.to_string(),
        )
        .replace("{{email}}", &escape(page.email))
        .replace("{{csrf}}", &csrf)
}

fn passkey_row(passkey: &PasskeyRow, csrf_input: &str) -> String {
    let id = escape(&passkey.id);
    let path = escape(&percent_encode(&passkey.id));
    let name = escape(&passkey.name);
    let created = escape(&passkey.created);
    let last_used = passkey
        .last_used
        .as_deref()
        .map(escape)
        .unwrap_or_else(|| "never".to_owned());
    let synced = if passkey.synced {
        "<span class=\"tag\">synced</span>"
    } else {
        ""
    };
    format!(
        "\n        <tr data-passkey-id=\"{id}\">\
         <td><form class=\"inline\" method=\"post\" action=\"/account/passkeys/{path}/rename\">{csrf_input}\
         <input name=\"name\" value=\"{name}\" aria-label=\"Passkey name\" required>\
         <button type=\"submit\" class=\"secondary\">Rename</button></form></td>\
         <td>{created}</td><td>{last_used}</td><td>{synced}</td>\
         <td><form class=\"inline\" method=\"post\" action=\"/account/passkeys/{path}/delete\">{csrf_input}\
         <button type=\"submit\" class=\"secondary\">Remove</button></form></td></tr>"
    )
}

fn session_row(session: &SessionRow, csrf_input: &str) -> String {
    let id = escape(&session.id);
    let action = if session.current {
        "<span class=\"tag\">this device</span>".to_owned()
    } else {
        format!(
            "<form class=\"inline\" method=\"post\" action=\"/account/sessions/{}/revoke\">{csrf_input}\
             <button type=\"submit\" class=\"secondary\">Sign out</button></form>",
            escape(&percent_encode(&session.id))
        )
    };
    format!(
        "\n        <tr data-session-id=\"{id}\"><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
        escape(&session.device),
        escape(&session.ip),
        escape(&session.last_seen)
    )
}

/// The page for adding an authenticator app. `qr_svg` is inserted as is: it must be markup
/// generated by the server (the `qrcode` crate), never user input. Other values are escaped.
pub fn totp_setup_page(
    csrf: &str,
    qr_svg: &str,
    secret_base32: &str,
    uri: &str,
    error: Option<&str>,
) -> String {
    // Inserted last so that nothing in the SVG is taken for a placeholder.
    TOTP_SETUP_HTML
        .replace("{{error}}", &error.map(error_paragraph).unwrap_or_default())
        .replace("{{csrf}}", &escape(csrf))
        .replace("{{secret}}", &escape(secret_base32))
        .replace("{{uri}}", &escape(uri))
        .replace("{{qr_svg}}", strip_xml_declaration(qr_svg))
}

/// The page showing freshly made recovery codes, once.
pub fn recovery_codes_page(codes: &[String]) -> String {
    let items: String = codes
        .iter()
        .map(|c| format!("<li><code>{}</code></li>", escape(c)))
        .collect();
    RECOVERY_CODES_HTML.replace("{{codes}}", &items)
}

fn error_paragraph(text: &str) -> String {
    format!("<p class=\"error\" role=\"alert\">{}</p>", escape(text))
}

fn notice_paragraph(text: &str) -> String {
    format!("<p class=\"notice\" role=\"status\">{}</p>", escape(text))
}

/// `<?xml ...?>` is not HTML; the `qrcode` crate's SVG starts with one.
fn strip_xml_declaration(svg: &str) -> &str {
    let trimmed = svg.trim_start();
    if trimmed.starts_with("<?xml")
        && let Some(end) = trimmed.find("?>")
    {
        return trimmed[end + 2..].trim_start();
    }
    svg
}

/// `return_to` if it is safe to navigate to from a link or script: a same-site path, or an
/// http(s) URL. Anything else (`javascript:`, `//host`) is refused.
fn safe_target(return_to: &str) -> Option<&str> {
    let lower = return_to.to_ascii_lowercase();
    let path =
        return_to.starts_with('/') && !return_to.starts_with("//") && !return_to.starts_with("/\\");
    let absolute = lower.starts_with("https://") || lower.starts_with("http://");
    let clean = !return_to.chars().any(|c| c.is_control() || c == '\\');
    (clean && (path || absolute)).then_some(return_to)
}

/// Percent-encodes everything but RFC 3986 unreserved characters, for a query value or path segment.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset;

    const EVIL: &str = "<b>x</b>\"'{{csrf}}";
    const EVIL_ESCAPED: &str = "&lt;b&gt;x&lt;/b&gt;&quot;&#39;&#123;&#123;csrf&#125;&#125;";

    fn rows() -> (Vec<PasskeyRow>, Vec<SessionRow>, Vec<IdentityRow>) {
        (
            vec![
                PasskeyRow {
                    id: EVIL.to_owned(),
                    name: EVIL.to_owned(),
                    created: EVIL.to_owned(),
                    last_used: Some(EVIL.to_owned()),
                    synced: true,
                },
                PasskeyRow {
                    id: "pk2".to_owned(),
                    name: "Laptop".to_owned(),
                    created: "2024-01-01".to_owned(),
                    last_used: None,
                    synced: false,
                },
            ],
            vec![
                SessionRow {
                    id: EVIL.to_owned(),
                    device: EVIL.to_owned(),
                    ip: EVIL.to_owned(),
                    last_seen: EVIL.to_owned(),
                    current: false,
                },
                SessionRow {
                    id: "s2".to_owned(),
                    device: "Firefox".to_owned(),
                    ip: "192.0.2.1".to_owned(),
                    last_seen: "now".to_owned(),
                    current: true,
                },
            ],
            vec![IdentityRow {
                connection: EVIL.to_owned(),
                subject: EVIL.to_owned(),
                last_login: Some(EVIL.to_owned()),
            }],
        )
    }

    /// Every page, rendered with hostile values everywhere, in every variant.
    fn all_pages() -> Vec<(&'static str, String)> {
        let (passkeys, sessions, identities) = rows();
        let mut pages = Vec::new();
        let social = [(EVIL.to_owned(), EVIL.to_owned())];
        for flag in [false, true] {
            pages.push((
                "login",
                login_page(LoginPage {
                    csrf: EVIL,
                    return_to: EVIL,
                    email: EVIL,
                    error: Some(EVIL),
                    notice: Some(EVIL),
                    password_login: flag,
                    step_up: flag,
                    social: &social,
                    email_invalid: flag,
                    brand: flag.then_some(Brand {
                        name: EVIL,
                        color: Some(EVIL),
                        logo_url: Some(EVIL),
                    }),
                }),
            ));
            pages.push((
                "second factor",
                second_factor_page(SecondFactorPage {
                    csrf: EVIL,
                    ticket: EVIL,
                    totp: flag,
                    passkey: true,
                    recovery_codes: !flag,
                    error: Some(EVIL),
                }),
            ));
            pages.push((
                "account",
                account_page(&AccountPage {
                    csrf: EVIL,
                    email: EVIL,
                    email_verified: flag,
                    notice: Some(EVIL),
                    error: Some(EVIL),
                    passkeys: if flag { &passkeys } else { &[] },
                    sessions: if flag { &sessions } else { &[] },
                    identities: if flag { &identities } else { &[] },
                    password_login: true,
                    has_password: flag,
                    totp: flag,
                    recovery_codes_left: 7,
                }),
            ));
        }
        pages.push((
            "check email",
            check_email_page(EVIL, EVIL, EVIL, Some(EVIL)),
        ));
        pages.push(("link confirm", link_confirm_page(EVIL, EVIL, EVIL)));
        pages.push(("passkey prompt", passkey_prompt_page(EVIL, EVIL)));
        pages.push((
            "passkey prompt (path)",
            passkey_prompt_page(EVIL, "/oauth2/authorize?x=<b>"),
        ));
        pages.push((
            "totp setup",
            totp_setup_page(EVIL, "<svg></svg>", EVIL, EVIL, Some(EVIL)),
        ));
        pages.push(("recovery codes", recovery_codes_page(&[EVIL.to_owned()])));
        pages
    }

    #[test]
    fn every_page_escapes_user_values_and_fills_every_placeholder() {
        for (name, page) in all_pages() {
            assert!(!page.contains("{{"), "{name} has an unfilled placeholder");
            assert!(!page.contains("<b>"), "{name} shows unescaped markup");
            assert!(!page.contains("\"'"), "{name} lets a quote out");
        }
    }

    #[test]
    fn escaped_email_shows_on_pages_that_show_it() {
        let email = "<b>x</b>";
        let escaped = "&lt;b&gt;x&lt;/b&gt;";
        let pages = [
            login_page(LoginPage {
                email,
                ..LoginPage::default()
            }),
            check_email_page("c", "", email, None),
            link_confirm_page("c", "t", email),
            account_page(&AccountPage {
                email,
                ..AccountPage::default()
            }),
        ];
        for page in pages {
            assert!(page.contains(escaped) && !page.contains(email));
        }
    }

    #[test]
    fn hostile_values_appear_escaped() {
        let page = login_page(LoginPage {
            csrf: EVIL,
            email: EVIL,
            error: Some(EVIL),
            ..LoginPage::default()
        });
        assert!(page.contains(&format!(
            "<meta name=\"csrf-token\" content=\"{EVIL_ESCAPED}\">"
        )));
        assert!(page.contains(&format!(
            "<input type=\"hidden\" name=\"csrf\" value=\"{EVIL_ESCAPED}\">"
        )));
        assert!(page.contains(&format!(
            "<p id=\"login-error\" class=\"error\" role=\"alert\">{EVIL_ESCAPED}</p>"
        )));
    }

    #[test]
    fn login_page_offers_passkey_autofill() {
        let page = login_page(LoginPage::default());
        assert!(page.contains("autocomplete=\"username webauthn\""));
        assert!(page.contains("id=\"passkey-button\""));
        assert!(page.contains("id=\"email-link-button\""));
        assert!(page.contains("<script type=\"module\" src=\"/assets/login.js\"></script>"));
        assert_eq!(page.matches("<form").count(), 1);
        assert!(!page.contains("class=\"notice\""));
    }

    #[test]
    fn login_page_shows_the_password_field_only_when_enabled() {
        let without = login_page(LoginPage::default());
        assert!(!without.contains("type=\"password\""));
        assert!(!without.contains("/login/password"));
        let with = login_page(LoginPage {
            password_login: true,
            ..LoginPage::default()
        });
        assert!(with.contains(
            "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\">"
        ));
        assert!(with.contains("formaction=\"/login/password\""));
    }

    #[test]
    fn login_page_marks_the_email_field_it_complains_about() {
        let page = login_page(LoginPage {
            error: Some("email must be an email address like name@example.com"),
            email_invalid: true,
            ..LoginPage::default()
        });
        assert!(page.contains("<p id=\"login-error\" class=\"error\" role=\"alert\">"));
        assert!(page.contains("aria-invalid=\"true\" aria-describedby=\"login-error\""));
        assert!(!login_page(LoginPage::default()).contains("aria-invalid"));
    }

    #[test]
    fn login_page_explains_step_up() {
        let page = login_page(LoginPage {
            step_up: true,
            ..LoginPage::default()
        });
        assert!(page.contains(STEP_UP_NOTICE));
    }

    #[test]
    fn check_email_page_links_back_with_return_to() {
        let page = check_email_page("c", "/oauth2/authorize?a=1&b=é", "a@b", None);
        assert!(
            page.contains("href=\"/login?return_to=%2Foauth2%2Fauthorize%3Fa%3D1%26b%3D%C3%A9\"")
        );
        let page = check_email_page("c", "", "a@b", None);
        assert!(page.contains("href=\"/login\""));
    }

    #[test]
    fn second_factor_page_shows_only_available_factors() {
        let page = second_factor_page(SecondFactorPage {
            totp: true,
            ..SecondFactorPage::default()
        });
        assert!(page.contains("/login/second-factor\""));
        assert!(page.contains(">Code from your authenticator app</label>"));
        assert!(!page.contains("second-factor-passkey") && !page.contains("login.js"));

        let page = second_factor_page(SecondFactorPage {
            ticket: "t1",
            passkey: true,
            recovery_codes: true,
            ..SecondFactorPage::default()
        });
        assert!(page.contains("or a recovery code</label>"));
        assert!(page.contains("data-ticket=\"t1\""));
        assert!(page.contains("/assets/login.js"));
    }

    #[test]
    fn passkey_prompt_refuses_script_urls() {
        let page = passkey_prompt_page("c", "javascript:alert(1)");
        assert!(!page.contains("javascript:"));
        assert!(page.contains("href=\"/account\""));
        let page = passkey_prompt_page("c", "/next?a=1&b=2");
        assert!(page.contains("href=\"/next?a=1&amp;b=2\""));
        assert!(page.contains("data-return-to=\"/next?a=1&amp;b=2\""));
    }

    #[test]
    fn account_page_lists_passkeys_and_sessions() {
        let (passkeys, sessions, identities) = rows();
        let page = account_page(&AccountPage {
            csrf: "c",
            passkeys: &passkeys,
            sessions: &sessions,
            identities: &identities,
            ..AccountPage::default()
        });
        assert!(page.contains("<tr data-passkey-id=\"pk2\">"));
        assert!(page.contains("action=\"/account/passkeys/pk2/rename\""));
        assert!(page.contains("action=\"/account/passkeys/pk2/delete\""));
        assert!(page.contains("<td>never</td>"));
        assert!(page.contains("<tr data-session-id=\"s2\">"));
        assert!(!page.contains("/account/sessions/s2/revoke"));
        assert!(page.contains("this device"));
        // Ids in URLs are percent-encoded.
        assert!(page.contains("/account/passkeys/%3Cb%3Ex%3C%2Fb%3E"));
        assert!(!page.contains("id=\"password-heading\""));
        // Every POST form carries the token.
        for form in page.split("<form").skip(1) {
            assert!(form.contains("<input type=\"hidden\" name=\"csrf\" value=\"c\">"));
        }
    }

    #[test]
    fn every_post_form_carries_the_csrf_token() {
        for (name, page) in all_pages() {
            for form in page.split("<form").skip(1) {
                assert!(
                    form.contains(&format!("name=\"csrf\" value=\"{EVIL_ESCAPED}\"")),
                    "{name} has a form without the token"
                );
            }
            if page.contains("<form") {
                assert!(page.contains(&format!(
                    "<meta name=\"csrf-token\" content=\"{EVIL_ESCAPED}\">"
                )));
            }
        }
    }

    #[test]
    fn totp_setup_inserts_only_the_qr_code_raw() {
        let svg = "<?xml version=\"1.0\" standalone=\"yes\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><path d=\"M0 0h1\"/></svg>";
        let page = totp_setup_page("c", svg, "<b>SECRET</b>", "otpauth://totp/a?b=1&c=\"", None);
        assert!(page.contains(
            "<figure id=\"totp-qr\"><svg xmlns=\"http://www.w3.org/2000/svg\"><path d=\"M0 0h1\"/></svg></figure>"
        ));
        assert!(!page.contains("<?xml"));
        assert!(page.contains("<code id=\"totp-secret\">&lt;b&gt;SECRET&lt;/b&gt;</code>"));
        assert!(page.contains("href=\"otpauth://totp/a?b=1&amp;c=&quot;\""));
    }

    #[test]
    fn recovery_codes_are_listed() {
        let page = recovery_codes_page(&["abcd-efgh".to_owned(), "ijkl-mnop".to_owned()]);
        assert!(page.contains("<li><code>abcd-efgh</code></li><li><code>ijkl-mnop</code></li>"));
        assert!(page.contains("href=\"/account\""));
    }

    #[test]
    fn pages_use_only_embedded_assets_and_no_inline_scripts() {
        for (name, page) in all_pages() {
            for part in page.split("/assets/").skip(1) {
                let file = part.split('"').next().unwrap_or_default();
                assert!(asset(file).is_some(), "{name} links missing asset {file}");
            }
            for script in page.split("<script").skip(1) {
                assert!(
                    script.starts_with(" type=\"module\" src=\"/assets/"),
                    "{name} has an inline script"
                );
            }
            assert!(
                !has_inline_handler(&page),
                "{name} has an inline event handler"
            );
        }
    }

    /// Whether `html` has an attribute like ` onclick=`.
    fn has_inline_handler(html: &str) -> bool {
        html.match_indices(" on").any(|(i, _)| {
            let rest = &html[i + 3..];
            let name_len = rest.chars().take_while(char::is_ascii_alphabetic).count();
            name_len > 0 && rest[name_len..].starts_with('=')
        })
    }

    #[test]
    fn scripts_import_only_embedded_assets() {
        for file in ["login.js", "account.js", "webauthn.js"] {
            let script = asset(file).expect("embedded script");
            assert_eq!(script.content_type, "text/javascript; charset=utf-8");
            let text = std::str::from_utf8(script.bytes).expect("utf-8");
            for part in text.split("'/assets/").skip(1) {
                let name = part.split('\'').next().unwrap_or_default();
                assert!(asset(name).is_some(), "{file} imports missing asset {name}");
            }
        }
    }
}
