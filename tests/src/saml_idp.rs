//! A real SAML IdP (samlify, driven by `tests/e2e/saml-idp.mjs`) as a child process on a free
//! loopback port: tests register Tessera's SP metadata with it, choose who is signed in and how
//! it signs or encrypts, and read its answers as a browser would (the auto-posting form).
//! Stopped when dropped (its stdin closes, and it is killed).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

use serde_json::{Value, json};

/// The running IdP.
#[derive(Debug)]
pub struct SamlIdp {
    /// `http://127.0.0.1:{port}`.
    pub base: String,
    /// Its entity ID.
    pub entity_id: String,
    child: Child,
    _stdin: ChildStdin,
    http: reqwest::Client,
}

/// What the IdP answered: the form it makes the browser post to the ACS.
#[derive(Debug, Clone)]
pub struct IdpAnswer {
    /// The form's action (the ACS).
    pub acs: String,
    /// The base64 `SAMLResponse`.
    pub saml_response: String,
    /// The `RelayState`, when there is one.
    pub relay_state: Option<String>,
}

impl IdpAnswer {
    /// The response XML.
    pub fn xml(&self) -> String {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&self.saml_response)
            .unwrap();
        String::from_utf8(bytes).unwrap()
    }

    /// The same answer carrying other XML.
    pub fn with_xml(&self, xml: &str) -> Self {
        use base64::Engine as _;
        Self {
            saml_response: base64::engine::general_purpose::STANDARD.encode(xml),
            ..self.clone()
        }
    }
}

fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(unescape(&html[start..end]))
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find("&#") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';').unwrap() + at;
        let code: u32 = rest[at + 2..end].parse().unwrap();
        out.push(char::from_u32(code).unwrap());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

impl SamlIdp {
    /// Starts an IdP (samlify) and waits until it listens.
    pub fn start() -> Self {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e");
        assert!(
            dir.join("node_modules").is_dir(),
            "tests/e2e/node_modules is missing: scripts/test installs the end-to-end peers (npm ci)"
        );
        let mut child = Command::new("node")
            .arg("saml-idp.mjs")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node is missing: scripts/test installs Node.js");
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("saml-idp.mjs did not start: {line}"));
        let base = format!("http://127.0.0.1:{port}");
        Self {
            entity_id: format!("{base}/idp"),
            base,
            child,
            _stdin: stdin,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_idle_timeout(crate::IDLE_CONNECTION_REUSE)
                .build()
                .unwrap(),
        }
    }

    /// The IdP's metadata URL.
    pub fn metadata_url(&self) -> String {
        format!("{}/metadata", self.base)
    }

    /// The IdP's metadata document.
    pub async fn metadata(&self) -> String {
        self.http
            .get(self.metadata_url())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Changes how the IdP behaves (see the script's header).
    pub async fn control(&self, change: Value) {
        let response = self
            .http
            .post(format!("{}/control", self.base))
            .json(&change)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }

    /// Registers an SP by its metadata.
    pub async fn register_sp(&self, sp_metadata: &str) {
        self.control(json!({ "sp": sp_metadata })).await;
    }

    /// Signs `name_id` in at the IdP with these attributes.
    pub async fn sign_in_as(&self, name_id: &str, attributes: Value) {
        self.control(json!({ "user": { "nameId": name_id, "attributes": attributes } }))
            .await;
    }

    /// Follows Tessera's redirect to the IdP (an AuthnRequest URL) and returns the IdP's answer.
    pub async fn answer(&self, authn_request_url: &str) -> IdpAnswer {
        let response = self.http.get(authn_request_url).send().await.unwrap();
        let status = response.status();
        let html = response.text().await.unwrap();
        assert_eq!(status, 200, "the IdP refused the AuthnRequest: {html}");
        Self::parse_form(&html)
    }

    /// An IdP-initiated answer for the SP `sp_entity_id`.
    pub async fn unsolicited(&self, sp_entity_id: &str) -> IdpAnswer {
        let url = format!("{}/idp-initiated", self.base);
        let html = self
            .http
            .get(url)
            .query(&[("sp", sp_entity_id)])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        Self::parse_form(&html)
    }

    /// The AuthnRequests the IdP received (XML, whether signed).
    pub async fn requests(&self) -> Vec<Value> {
        self.http
            .get(format!("{}/requests", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    fn parse_form(html: &str) -> IdpAnswer {
        let action = html
            .split("action=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_else(|| panic!("no form in the IdP's answer: {html}"));
        IdpAnswer {
            acs: unescape(action),
            saml_response: hidden(html, "SAMLResponse").unwrap(),
            relay_state: hidden(html, "RelayState"),
        }
    }
}

impl Drop for SamlIdp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
