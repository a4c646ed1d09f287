//! Two real `tessera serve` processes on one PostgreSQL database and one Redis namespace behave
//! as one service (`shared_state`, `keys`), and the service rides out the loss of Redis,
//! PostgreSQL or a replica (`faults`). Replicas share state only through PostgreSQL and Redis,
//! so most of these run on CI's second pass (`TEST_DATABASE_URL`, `TEST_REDIS_URL`) and say
//! why they do not run on the first.

mod faults;
mod keys;
mod shared_state;

use broker::Actor;
use broker::session::NewSession;
use reqwest::{Method, Response};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};
use tessera_tests::real::RealServer;
use tessera_tests::replicas::Shared;
use tessera_tests::smtp::SmtpSink;
use tessera_tests::{create_admin_key, expect_status, location_params, pkce_pair};

use crate::provider::flow::{REDIRECT, standard};

/// Replicas A and B of one service, an instance-admin key, and the SMTP sink they mail to.
pub(crate) struct Cluster {
    // Fields drop in this order: the replicas stop before their database goes.
    pub(crate) a: RealServer,
    pub(crate) b: RealServer,
    pub(crate) admin_key: String,
    pub(crate) sink: SmtpSink,
    pub(crate) shared: Shared,
}

impl Cluster {
    /// Starts two replicas together on fresh shared backends, or returns `None` (saying why)
    /// when this run has no PostgreSQL and Redis.
    pub(crate) async fn start(test: &str) -> Option<Self> {
        let shared = Shared::from_env(test).await?;
        let sink = SmtpSink::start();
        let smtp = sink.url();
        let env = [("TESSERA_SMTP_URL", smtp.as_str())];
        // Started at the same moment: both migrate and set up keys on the empty database.
        let (a, b) = tokio::join!(shared.replica(&env), shared.replica(&env));
        let admin_key = create_admin_key(&shared.broker().await, "replicas").await;
        Some(Self {
            a,
            b,
            admin_key,
            sink,
            shared,
        })
    }

    /// An admin API call on `replica`.
    pub(crate) async fn admin(
        &self,
        replica: &RealServer,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        let mut request = http()
            .request(method, format!("{}{path}", replica.base))
            .bearer_auth(&self.admin_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// A confidential web app registered through `replica`: (client_id, client_secret).
    pub(crate) async fn web_app(&self, replica: &RealServer) -> (String, String) {
        let body = json!({
            "name": "web app",
            "type": "confidential",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
        });
        app_credentials(
            self.admin(replica, Method::POST, "/api/v1/clients", Some(body))
                .await,
        )
        .await
    }

    /// A confidential service app (client credentials) registered through `replica`.
    pub(crate) async fn service_app(&self, replica: &RealServer) -> (String, String) {
        let body = json!({
            "name": "billing service",
            "type": "confidential",
            "grant_types": ["client_credentials"],
        });
        app_credentials(
            self.admin(replica, Method::POST, "/api/v1/clients", Some(body))
                .await,
        )
        .await
    }

    /// A signed-in browser session for `email` (the sign-in pages are tested on their own):
    /// (session id, `Cookie` value).
    pub(crate) async fn session(&self, email: &str) -> (String, String) {
        session_for(&self.shared, email).await
    }
}

async fn app_credentials(created: Response) -> (String, String) {
    let created = expect_status(created, 201).await;
    (
        created["client_id"].as_str().unwrap().to_owned(),
        created["client_secret"].as_str().unwrap().to_owned(),
    )
}

/// A session row and its cookie, made as the sign-in pages make them.
pub(crate) async fn session_for(shared: &Shared, email: &str) -> (String, String) {
    let broker = shared.broker().await;
    let user = broker
        .find_or_create_user(&Actor::cli(), email)
        .await
        .unwrap();
    let (session, token) = broker
        .create_session(NewSession {
            user: user.id,
            org: None,
            amr: vec!["email".to_owned()],
            acr: None,
            user_agent: Some("tessera-tests".to_owned()),
            ip: Some("127.0.0.1".to_owned()),
        })
        .await
        .unwrap();
    let cookie = format!("tessera_session={}", token.expose_secret());
    (session.id.to_string(), cookie)
}

/// An HTTP client that does not follow redirects.
pub(crate) fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `/oauth2/authorize?…` for the standard request of `client_id`.
pub(crate) fn authorize_path(client_id: &str, challenge: &str, scope: &str) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(standard(client_id, challenge, scope))
        .finish();
    format!("/oauth2/authorize?{query}")
}

/// Runs authorize on `replica` with a session cookie: (code, PKCE verifier).
pub(crate) async fn code_at(
    replica: &RealServer,
    cookie: &str,
    client_id: &str,
    scope: &str,
) -> (String, String) {
    let (verifier, challenge) = pkce_pair();
    let response = http()
        .get(format!(
            "{}{}",
            replica.base,
            authorize_path(client_id, &challenge, scope)
        ))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302, "{:?}", response.headers());
    let (_, params) = location_params(&response);
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("no code: {params:?}"))
        .clone();
    (code, verifier)
}

/// POSTs a form to a provider endpoint of `base` with HTTP Basic client credentials.
pub(crate) async fn post_form(
    base: &str,
    path: &str,
    creds: (&str, &str),
    form: &[(&str, &str)],
) -> reqwest::Result<Response> {
    http()
        .post(format!("{base}{path}"))
        .basic_auth(creds.0, Some(creds.1))
        .form(form)
        .send()
        .await
}

/// Redeems an authorization code at `base`.
pub(crate) async fn exchange(
    base: &str,
    creds: (&str, &str),
    code: &str,
    verifier: &str,
) -> Response {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ];
    post_form(base, "/oauth2/token", creds, &form)
        .await
        .unwrap()
}

/// A client-credentials access token from `base`.
pub(crate) async fn service_token(base: &str, creds: (&str, &str)) -> String {
    let form = [("grant_type", "client_credentials")];
    let response = post_form(base, "/oauth2/token", creds, &form)
        .await
        .unwrap();
    expect_status(response, 200).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Verifies `token` against the JWKS that `base` publishes, as a relying party would, with
/// `issuer`; returns the header's `kid` and the claims, or why it does not verify.
pub(crate) async fn verify_at(
    base: &str,
    issuer: &str,
    token: &str,
) -> Result<(String, Value), String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.clone().ok_or("no kid")?;
    let jwks: jsonwebtoken::jwk::JwkSet = http()
        .get(format!("{base}/oauth2/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks
        .find(&kid)
        .ok_or_else(|| format!("kid {kid} is not in {base}'s JWKS"))?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.validate_aud = false;
    validation.set_issuer(&[issuer]);
    let data =
        jsonwebtoken::decode::<Value>(token, &key, &validation).map_err(|e| e.to_string())?;
    Ok((kid, data.claims))
}
