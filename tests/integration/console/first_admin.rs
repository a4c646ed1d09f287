//! The first instance admin, on a fresh install: the first start prints a one-time link; the
//! person who opens it names themselves, creates a passkey and is signed in as instance admin.
//! The link works once, and no link works once an instance admin exists.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::{Method, Response};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};
use tessera_tests::authenticator::SoftAuthenticator;
use tessera_tests::real::RealServer;
use tessera_tests::{TestApp, expect_error, expect_status};

/// The first-admin path (`/admin/first-admin/tfa_…`) in `text`, if any.
fn first_admin_path(text: &str) -> Option<String> {
    let at = text.find("/admin/first-admin/tfa_")?;
    let path: String = text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-'))
        .collect();
    Some(path)
}

#[tokio::test]
async fn the_first_start_prints_a_one_time_link_for_the_first_admin() {
    let server = RealServer::start(&[]).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let path = loop {
        if let Some(path) = first_admin_path(&server.log()) {
            break path;
        }
        assert!(
            Instant::now() < deadline,
            "no first-admin link in the log:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(server.log().matches("/admin/first-admin/").count(), 1);
    let client = reqwest::Client::new();
    let page = client
        .get(format!("{}{path}", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Welcome to Tessera"));
    let guessed = client
        .get(format!("{}/admin/first-admin/tfa_guessed", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(guessed.status(), 400);
}

/// A browser's cookie jar, enough for the first-admin page.
struct Jar<'a> {
    app: &'a TestApp,
    cookies: HashMap<String, String>,
}

impl<'a> Jar<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: HashMap::new(),
        }
    }

    fn header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, response: &Response) {
        for value in response.headers().get_all("set-cookie") {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.insert(name.to_owned(), value.to_owned());
        }
    }

    async fn send(&mut self, method: Method, path: &str, body: Option<Value>) -> Response {
        let mut request = self
            .app
            .browser()
            .request(method, self.app.url(path))
            .header("cookie", self.header());
        if let Some(csrf) = self.cookies.get("tessera_csrf") {
            request = request.header("x-csrf-token", csrf);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        self.keep(&response);
        response
    }
}

#[tokio::test]
async fn the_first_admin_link_makes_one_instance_admin_with_a_passkey() {
    let app = TestApp::spawn().await;
    let origin = app.config.public_url.origin().ascii_serialization();
    let link = app.broker().first_admin_link().await.unwrap().unwrap();
    let path = first_admin_path(link.expose_secret()).unwrap();
    let other = app.broker().first_admin_link().await.unwrap().unwrap();
    let other_path = first_admin_path(other.expose_secret()).unwrap();
    let mut jar = Jar::new(&app);
    assert_eq!(jar.send(Method::GET, &path, None).await.status(), 200);

    let options_path = format!("{path}/options");
    let bad = jar
        .send(
            Method::POST,
            &options_path,
            Some(json!({ "email": "not an email", "name": "Root" })),
        )
        .await;
    expect_error(bad, 400, "invalid_email", Some("email")).await;
    let started = jar
        .send(
            Method::POST,
            &options_path,
            Some(json!({ "email": "Root@Ops.test", "name": "Rita Root" })),
        )
        .await;
    let started = expect_status(started, 200).await;
    let mut authenticator = SoftAuthenticator::new();
    let credential = authenticator.register(&started["options"], &origin);
    let finished = jar
        .send(
            Method::POST,
            &path,
            Some(json!({ "ceremony": started["ceremony"], "credential": credential })),
        )
        .await;
    assert_eq!(expect_status(finished, 200).await["redirect"], "/admin");

    // Signed in as instance admin, in the console.
    let me = expect_status(jar.send(Method::GET, "/api/v1/me", None).await, 200).await;
    assert_eq!(me["instance_admin"], true);
    assert_eq!(me["user"]["email"], "root@ops.test");
    assert_eq!(me["user"]["name"], "Rita Root");
    let console = jar.send(Method::GET, "/admin", None).await;
    assert_eq!(console.status(), 200);
    let created = jar
        .send(
            Method::POST,
            "/api/v1/organizations",
            Some(json!({ "name": "Acme", "slug": "acme" })),
        )
        .await;
    expect_status(created, 201).await;

    // Both links are dead now, and no new one is issued.
    for dead in [&path, &other_path] {
        assert_eq!(jar.send(Method::GET, dead, None).await.status(), 400);
    }
    assert!(app.broker().first_admin_link().await.unwrap().is_none());
    let again = jar
        .send(
            Method::POST,
            &format!("{other_path}/options"),
            Some(json!({ "email": "mallory@evil.test", "name": "M" })),
        )
        .await;
    expect_error(again, 400, "first_admin_link_invalid", None).await;

    // The passkey signs the admin in again later, without typing anything.
    let mut fresh = Jar::new(&app);
    fresh.send(Method::GET, "/login", None).await;
    let options = fresh
        .send(Method::POST, "/login/passkey/options", Some(json!({})))
        .await;
    let options = expect_status(options, 200).await;
    let assertion = authenticator.assert(&options["options"], &origin);
    let signed_in = fresh
        .send(
            Method::POST,
            "/login/passkey",
            Some(json!({ "ceremony": options["ceremony"], "credential": assertion, "return_to": "/admin" })),
        )
        .await;
    assert_eq!(expect_status(signed_in, 200).await["redirect"], "/admin");
    let me = expect_status(fresh.send(Method::GET, "/api/v1/me", None).await, 200).await;
    assert_eq!(me["instance_admin"], true);

    let events = app
        .admin(
            Method::GET,
            "/api/v1/audit-events?action=instance_admin.added",
        )
        .send()
        .await
        .unwrap();
    let events = expect_status(events, 200).await;
    assert_eq!(events["data"].as_array().unwrap().len(), 1);
    assert_eq!(events["data"][0]["data"]["how"], "first_admin_link");
}
