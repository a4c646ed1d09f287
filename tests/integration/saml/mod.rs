//! Per-org SAML federation against a real SAML IdP (samlify, `tests/e2e/saml-idp.mjs`): the
//! round trip, encrypted assertions, certificate rotation, IdP-initiated sign-in, and every
//! check the ACS makes, each refusal with its stable code and no session.

mod admin;
mod attacks;
mod checks;

use reqwest::{Method, Response};
use serde_json::{Value, json};
use tessera_tests::saml_idp::{IdpAnswer, SamlIdp};
use tessera_tests::{Options, TestApp, expect_status};

use crate::login::browser::Browser;

/// An org (`acme`, verified domain `acme.test`) with an active SAML connection to a real IdP.
pub(crate) struct Saml {
    pub(crate) app: TestApp,
    pub(crate) idp: SamlIdp,
    pub(crate) id: String,
    pub(crate) connection: Value,
}

impl Saml {
    /// Sets it up; `settings` are merged into the connection's create request.
    pub(crate) async fn start(settings: Value) -> Self {
        Self::start_with(Options::default(), settings, |_| {}).await
    }

    /// Sets it up with app options, changing the IdP before the connection reads its metadata.
    pub(crate) async fn start_with(
        options: Options,
        settings: Value,
        before: impl FnOnce(&mut Value),
    ) -> Self {
        let app = TestApp::spawn_with(options).await;
        app.create_org("acme").await;
        let domain = app
            .admin(Method::POST, "/api/v1/organizations/acme/domains")
            .json(&json!({"domain": "acme.test"}))
            .send()
            .await
            .unwrap();
        expect_status(domain, 201).await;
        let verify = app
            .admin(
                Method::POST,
                "/api/v1/organizations/acme/domains/acme.test/verify",
            )
            .json(&json!({"force": true}))
            .send()
            .await
            .unwrap();
        expect_status(verify, 200).await;
        let idp = SamlIdp::start();
        let mut control = json!({});
        before(&mut control);
        if control.as_object().is_some_and(|o| !o.is_empty()) {
            idp.control(control).await;
        }
        let mut body = json!({
            "kind": "saml",
            "name": "Acme SAML",
            "metadata_url": idp.metadata_url(),
        });
        merge(&mut body, settings);
        let created = app
            .admin(Method::POST, "/api/v1/organizations/acme/connections")
            .json(&body)
            .send()
            .await
            .unwrap();
        let connection = expect_status(created, 201).await;
        let id = connection["id"].as_str().unwrap().to_owned();
        let saml = Self {
            app,
            idp,
            id,
            connection,
        };
        saml.idp.register_sp(&saml.sp_metadata().await).await;
        saml.set_status("activate").await;
        saml
    }

    /// The connection's SP metadata, as the IdP downloads it.
    pub(crate) async fn sp_metadata(&self) -> String {
        let response = self
            .app
            .client
            .get(self.app.url(&format!("/sso/saml/{}/metadata", self.id)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    pub(crate) async fn set_status(&self, action: &str) {
        let response = self
            .app
            .admin(
                Method::POST,
                &format!(
                    "/api/v1/organizations/acme/connections/{}/{action}",
                    self.id
                ),
            )
            .send()
            .await
            .unwrap();
        expect_status(response, 200).await;
    }

    /// Changes the connection (PATCH).
    pub(crate) async fn patch(&self, body: Value) -> Response {
        self.app
            .admin(
                Method::PATCH,
                &format!("/api/v1/organizations/acme/connections/{}", self.id),
            )
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Sets the org's role rules.
    pub(crate) async fn rules(&self, rules: Value) {
        let response = self
            .app
            .admin(Method::PUT, "/api/v1/organizations/acme/role-mappings")
            .json(&rules)
            .send()
            .await
            .unwrap();
        expect_status(response, 200).await;
    }

    /// Starts a sign-in in `browser` and returns the IdP's answer.
    pub(crate) async fn idp_answer(&self, browser: &mut Browser) -> IdpAnswer {
        self.idp_answer_from(browser, &format!("/sso/{}/start", self.id))
            .await
    }

    pub(crate) async fn idp_answer_from(&self, browser: &mut Browser, start: &str) -> IdpAnswer {
        let started = browser.get(start).await;
        assert_eq!(started.status(), 303, "{}", started.text().await.unwrap());
        let location = started.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(&self.idp.base), "{location}");
        self.idp.answer(&location).await
    }

    /// Posts an answer to the ACS as the browser would.
    pub(crate) async fn post(&self, browser: &mut Browser, answer: &IdpAnswer) -> Response {
        let mut form = vec![("SAMLResponse", answer.saml_response.as_str())];
        if let Some(relay) = &answer.relay_state {
            form.push(("RelayState", relay.as_str()));
        }
        browser.post(&answer.acs, &form).await
    }

    /// Posts the answer and follows the ACS's redirect to the continuation.
    pub(crate) async fn finish(&self, browser: &mut Browser, answer: &IdpAnswer) -> Response {
        let accepted = self.post(browser, answer).await;
        if accepted.status() != 303 {
            return accepted;
        }
        let next = accepted.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            next.starts_with(&format!("/sso/saml/{}/continue", self.id)),
            "{next}"
        );
        browser.get(&next).await
    }

    /// A whole sign-in as `name_id` with `attributes`; the final response.
    pub(crate) async fn sign_in(&self, name_id: &str, attributes: Value) -> (Browser, Response) {
        self.idp.sign_in_as(name_id, attributes).await;
        let mut browser = Browser::new(&self.app);
        let answer = self.idp_answer(&mut browser).await;
        let done = self.finish(&mut browser, &answer).await;
        (browser, done)
    }

    /// The org's members as `email -> roles`.
    pub(crate) async fn members(&self) -> Vec<(String, Value)> {
        let response = self
            .app
            .admin(Method::GET, "/api/v1/organizations/acme/memberships")
            .send()
            .await
            .unwrap();
        let body = expect_status(response, 200).await;
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["email"].as_str().unwrap_or_default().to_owned(),
                    m["roles"].clone(),
                )
            })
            .collect()
    }
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(into), Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
}

/// A refusal: the error page's status and stable code, and no session cookie.
pub(crate) async fn refused(response: Response, code: &str) {
    let status = response.status();
    let has_session = response.headers().get_all("set-cookie").iter().any(|c| {
        c.to_str()
            .unwrap_or_default()
            .starts_with("tessera_session=")
    });
    let page = response.text().await.unwrap();
    assert!(
        status.is_client_error(),
        "expected a refusal with {code}, got {status}: {page}"
    );
    assert!(page.contains(code), "expected {code} in the page: {page}");
    assert!(!has_session, "a refused response set a session");
}

fn session_of(browser: &Browser) -> Option<&String> {
    browser.cookies.get("tessera_session")
}

#[tokio::test]
async fn saml_sign_in_provisions_a_member_with_roles_from_groups() {
    let saml = Saml::start(json!({})).await;
    saml.rules(json!({"rules": [
        {"claim": "groups", "op": "equals", "value": "acme-admins", "role": "admin"}
    ], "default_role": "member"}))
        .await;
    let (browser, done) = saml
        .sign_in(
            "alice@acme.test",
            json!({"email": "alice@acme.test", "name": "Alice Admin",
                   "groups": ["everyone", "acme-admins"]}),
        )
        .await;
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], "/account");
    assert!(session_of(&browser).is_some(), "signed in");
    let (_, bob) = saml
        .sign_in(
            "bob@acme.test",
            json!({"email": "bob@acme.test", "groups": ["everyone"]}),
        )
        .await;
    assert_eq!(bob.status(), 303);
    let mut members = saml.members().await;
    members.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        members,
        vec![
            ("alice@acme.test".to_owned(), json!(["admin"])),
            ("bob@acme.test".to_owned(), json!(["member"])),
        ]
    );
    // The IdP got schema-valid AuthnRequests (samlify validates them) from this connection,
    // unsigned since its metadata does not ask for signatures.
    let requests = saml.idp.requests().await;
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0]["signed"], false);
    assert_eq!(
        requests[0]["issuer"],
        saml.connection["sp_entity_id"].as_str().unwrap()
    );
}

#[tokio::test]
async fn the_console_admin_role_given_by_hand_survives_sso_unless_the_rules_manage_it() {
    let saml = Saml::start(json!({})).await;
    saml.rules(json!({"rules": [
        {"claim": "groups", "op": "equals", "value": "staff", "role": "member"}
    ]}))
    .await;
    let ivy = json!({"email": "ivy@acme.test", "groups": ["staff"]});
    let (_, first) = saml.sign_in("ivy@acme.test", ivy.clone()).await;
    assert_eq!(first.status(), 303);
    let list = saml
        .app
        .admin(Method::GET, "/api/v1/organizations/acme/memberships")
        .send()
        .await
        .unwrap();
    let user_id = expect_status(list, 200).await["data"][0]["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/organizations/acme/memberships/{user_id}");
    let promoted = saml
        .app
        .admin(Method::PATCH, &path)
        .json(&json!({"roles": ["member", "tessera:admin"]}))
        .send()
        .await
        .unwrap();
    expect_status(promoted, 200).await;
    // The rules give only `member`; the console role an admin gave by hand stays.
    saml.sign_in("ivy@acme.test", ivy.clone()).await;
    assert_eq!(
        saml.members().await,
        vec![(
            "ivy@acme.test".to_owned(),
            json!(["member", "tessera:admin"])
        )]
    );
    // Once a rule manages the console role, the IdP's groups decide it.
    saml.rules(json!({"rules": [
        {"claim": "groups", "op": "equals", "value": "staff", "role": "member"},
        {"claim": "groups", "op": "equals", "value": "it-admins", "role": "tessera:admin"}
    ]}))
    .await;
    saml.sign_in("ivy@acme.test", ivy).await;
    assert_eq!(
        saml.members().await,
        vec![("ivy@acme.test".to_owned(), json!(["member"]))]
    );
}
