//! What the sign-in tests share: a cookie-keeping browser that does not follow redirects, an
//! app that mails to a real SMTP sink, asking for and opening emailed links, the audit log.

use std::collections::HashMap;

use reqwest::Response;
use tessera_tests::smtp::SmtpSink;
use tessera_tests::{Options, TestApp};

/// A browser: keeps cookies, never follows redirects.
pub(crate) struct Browser {
    pub(crate) client: reqwest::Client,
    pub(crate) base: String,
    pub(crate) cookies: HashMap<String, String>,
}

impl Browser {
    pub(crate) fn new(app: &TestApp) -> Self {
        Self::at(&app.base)
    }

    /// A browser talking to the server at `base` (change `base` to reach another replica).
    pub(crate) fn at(base: &str) -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_idle_timeout(tessera_tests::IDLE_CONNECTION_REUSE)
                .build()
                .unwrap(),
            base: base.to_owned(),
            cookies: HashMap::new(),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        if let Ok(absolute) = url::Url::parse(path) {
            // Mailed links carry the configured public URL (port 0 in tests): keep the path.
            let query = absolute
                .query()
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
            format!("{}{}{query}", self.base, absolute.path())
        } else {
            format!("{}{path}", self.base)
        }
    }

    pub(crate) fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub(crate) fn keep(&mut self, response: &Response) {
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Response {
        let response = self
            .client
            .get(self.url(path))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(&response);
        response
    }

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Response {
        let response = self
            .client
            .post(self.url(path))
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep(&response);
        response
    }

    /// POSTs JSON the way the pages' scripts do: with the anti-forgery token in a header.
    pub(crate) async fn post_json(&mut self, path: &str, body: &serde_json::Value) -> Response {
        let csrf = self
            .cookies
            .get("tessera_csrf")
            .cloned()
            .unwrap_or_default();
        let response = self
            .client
            .post(self.url(path))
            .header("cookie", self.cookie_header())
            .header("x-csrf-token", csrf)
            .json(body)
            .send()
            .await
            .unwrap();
        self.keep(&response);
        response
    }

    /// GETs a page and returns its text and the CSRF token in its forms.
    pub(crate) async fn page(&mut self, path: &str) -> (String, String) {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        let text = response.text().await.unwrap();
        let csrf = csrf_of(&text);
        (text, csrf)
    }
}

pub(crate) fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field");
    page[at + 19..].split('"').next().unwrap().to_owned()
}

pub(crate) fn location(response: &Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

pub(crate) async fn app_with_mail(extra: &[(&str, &str)]) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start();
    let mut env = vec![("TESSERA_SMTP_URL".to_owned(), sink.url())];
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let app = TestApp::spawn_with(Options { env, clock: None }).await;
    (app, sink)
}

/// Asks for a link for `email` from the sign-in page; returns where the browser went.
pub(crate) async fn ask_for_link(browser: &mut Browser, email: &str, return_to: &str) -> Response {
    let (_, csrf) = browser
        .page(&format!("/login?return_to={}", urlencode(return_to)))
        .await;
    browser
        .post(
            "/login/email",
            &[("csrf", &csrf), ("return_to", return_to), ("email", email)],
        )
        .await
}

pub(crate) fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Opens the mailed link and confirms it; returns the confirmation's response.
pub(crate) async fn open_link(browser: &mut Browser, link: &str) -> Response {
    let (page, csrf) = browser.page(link).await;
    assert!(page.contains("Continue"), "{page}");
    let token = link.split("token=").nth(1).unwrap().to_owned();
    browser
        .post("/login/link", &[("csrf", &csrf), ("token", &token)])
        .await
}

/// A new account signed up by emailed link, in its own browser.
pub(crate) async fn signed_up(app: &TestApp, sink: &SmtpSink, email: &str) -> Browser {
    let mut browser = Browser::new(app);
    let before = sink
        .all()
        .iter()
        .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(email)))
        .count();
    ask_for_link(&mut browser, email, "/account").await;
    let link = sink.wait_for(email, before + 1).await.link();
    let confirmed = open_link(&mut browser, &link).await;
    assert_eq!(confirmed.status(), 303);
    browser
}

/// The events recorded for `action`, newest first.
pub(crate) async fn audit_events(app: &TestApp, action: &str) -> Vec<serde_json::Value> {
    let response = app
        .admin(
            reqwest::Method::GET,
            &format!("/api/v1/audit-events?action={action}"),
        )
        .send()
        .await
        .unwrap();
    let body = tessera_tests::expect_status(response, 200).await;
    body["data"].as_array().unwrap().clone()
}
