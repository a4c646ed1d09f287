//! The test kit: starts the real application in-process on port 0 against a fresh database
//! (SQLite by default; PostgreSQL when `TEST_DATABASE_URL` is set, one database per test) and
//! a fresh ephemeral store (in-process, or Redis under a per-test namespace when
//! `TEST_REDIS_URL` is set), plus a DNS server the test controls.
//!
//! Everything a test starts is stopped and removed when its `TestApp` is dropped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod authenticator;
pub mod dns;
pub mod proxy;
pub mod real;
pub mod receiver;
pub mod redis_server;
pub mod replicas;
pub mod saml_idp;
pub mod smtp;
pub mod static_http;

use std::path::PathBuf;
use std::sync::Arc;

use broker::api_key::NewApiKey;
use broker::{Actor, Broker, Clock, ManualClock, SystemClock};
use reqwest::{Client, Method, RequestBuilder, Response};
use secrecy::ExposeSecret as _;
use serde_json::Value;
use tessera::RunningServer;
use tessera::config::{Config, Sources};

pub use crate::dns::TestDns;

/// Which backends this run uses, from the environment.
#[derive(Debug, Clone)]
pub struct Backends {
    /// A PostgreSQL server URL (any database on it); SQLite when absent.
    pub postgres: Option<String>,
    /// A Redis URL; in-process store when absent.
    pub redis: Option<String>,
}

impl Backends {
    /// Reads `TEST_DATABASE_URL` and `TEST_REDIS_URL`.
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        Self {
            postgres: var("TEST_DATABASE_URL"),
            redis: var("TEST_REDIS_URL"),
        }
    }
}

/// A fresh PostgreSQL database, dropped with the guard.
#[derive(Debug)]
struct PostgresDatabase {
    server_url: String,
    name: String,
}

impl PostgresDatabase {
    async fn create(server_url: &str) -> anyhow::Result<(Self, String)> {
        use sea_orm::ConnectionTrait as _;
        let name = format!("tessera_test_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(server_url).await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await?;
        admin.close().await?;
        let mut url = url::Url::parse(server_url)?;
        url.set_path(&format!("/{name}"));
        Ok((
            Self {
                server_url: server_url.to_owned(),
                name,
            },
            url.to_string(),
        ))
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        // Drop runs outside async context; use a private runtime on a plain thread.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                use sea_orm::ConnectionTrait as _;
                let admin = sea_orm::Database::connect(&server_url).await?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await?;
                admin.close().await?;
                anyhow::Ok(())
            })
        })
        .join();
    }
}

/// A fresh database for one test: a new PostgreSQL database when `TEST_DATABASE_URL` is set
/// (dropped with this value), otherwise `None` so the app uses SQLite in its data directory.
#[derive(Debug)]
pub struct FreshDatabase {
    /// The URL to give the app as `DATABASE_URL`, when not SQLite.
    pub url: Option<String>,
    _guard: Option<PostgresDatabase>,
}

impl FreshDatabase {
    /// Creates the database the environment asks for.
    pub async fn create() -> Self {
        match Backends::from_env().postgres {
            Some(server) => {
                let (guard, url) = PostgresDatabase::create(&server).await.unwrap();
                Self {
                    url: Some(url),
                    _guard: Some(guard),
                }
            }
            None => Self {
                url: None,
                _guard: None,
            },
        }
    }
}

/// A per-test Redis namespace, deleted with the guard.
#[derive(Debug)]
pub(crate) struct RedisNamespace {
    pub(crate) url: String,
    pub(crate) namespace: String,
}

impl Drop for RedisNamespace {
    fn drop(&mut self) {
        let url = self.url.clone();
        let pattern = format!("{}*", self.namespace);
        let _ = std::thread::spawn(move || -> redis::RedisResult<()> {
            let client = redis::Client::open(url)?;
            let mut conn = client.get_connection()?;
            let keys: Vec<String> = redis::cmd("KEYS").arg(&pattern).query(&mut conn)?;
            if !keys.is_empty() {
                redis::cmd("DEL").arg(keys).query::<()>(&mut conn)?;
            }
            Ok(())
        })
        .join();
    }
}

/// How long a test client reuses an idle connection: less than the server's keep-alive (5 s),
/// so a request never races the server closing the connection it was sent on (which hyper
/// reports as `IncompleteMessage` on a busy machine).
pub const IDLE_CONNECTION_REUSE: std::time::Duration = std::time::Duration::from_secs(2);

/// An HTTP client for talking to the app (see [`IDLE_CONNECTION_REUSE`]).
pub fn client() -> Client {
    Client::builder()
        .pool_idle_timeout(IDLE_CONNECTION_REUSE)
        .build()
        .unwrap()
}

/// Options for [`TestApp::spawn_with`].
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Extra settings, as environment variables (`("TESSERA_TRUSTED_PROXY_HOPS", "1")`).
    pub env: Vec<(String, String)>,
    /// A clock the test controls; the wall clock when absent.
    pub clock: Option<Arc<ManualClock>>,
}

/// A running application and the means to talk to it.
#[derive(Debug)]
pub struct TestApp {
    /// `http://127.0.0.1:{port}`.
    pub base: String,
    /// An instance-admin API key.
    pub admin_key: String,
    /// The DNS server the app resolves TXT records with.
    pub dns: TestDns,
    /// The HTTP client.
    pub client: Client,
    /// The configuration the app runs with.
    pub config: Config,
    server: Option<RunningServer>,
    // Dropped after the server stops: the database, the Redis keys, the data directory.
    _database: FreshDatabase,
    _redis: Option<RedisNamespace>,
    _data_dir: tempfile::TempDir,
}

impl TestApp {
    /// Starts an app on the backends the environment selects.
    pub async fn spawn() -> Self {
        Self::spawn_with(Options::default()).await
    }

    /// Starts an app whose clock stands at 2030-01-01 00:00 UTC until the test moves it.
    pub async fn spawn_with_manual_clock() -> (Self, Arc<ManualClock>) {
        let start = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2030, 1, 1, 0, 0, 0).unwrap();
        let clock = Arc::new(ManualClock::new(start));
        let app = Self::spawn_with(Options {
            clock: Some(clock.clone()),
            ..Options::default()
        })
        .await;
        (app, clock)
    }

    /// Starts an app with extra settings.
    pub async fn spawn_with(options: Options) -> Self {
        let backends = Backends::from_env();
        let data_dir = tempfile::tempdir().unwrap();
        let dns = TestDns::start().await.unwrap();
        let mut env: Vec<(String, String)> = vec![
            ("TESSERA_LISTEN".into(), "127.0.0.1:0".into()),
            (
                "TESSERA_DATA_DIR".into(),
                data_dir.path().display().to_string(),
            ),
            ("TESSERA_DNS_SERVER".into(), dns.addr.to_string()),
            ("TESSERA_SHUTDOWN_TIMEOUT".into(), "1".into()),
        ];
        let database = FreshDatabase::create().await;
        if let Some(url) = &database.url {
            env.push(("DATABASE_URL".into(), url.clone()));
        }
        let redis = backends.redis.as_ref().map(|url| {
            let namespace = format!("tessera-test-{}:", uuid::Uuid::new_v4().simple());
            env.push(("REDIS_URL".into(), url.clone()));
            env.push(("TESSERA_REDIS_NAMESPACE".into(), namespace.clone()));
            RedisNamespace {
                url: url.clone(),
                namespace,
            }
        });
        if options.clock.is_some() {
            // A test that moves time calls the rotation schedule itself, when it means to.
            env.push(("TESSERA_KEY_ROTATION_DAYS".into(), "0".into()));
        }
        env.extend(options.env);
        let config = Config::from_sources(Sources::gather(None, env).unwrap()).unwrap();
        let clock: Arc<dyn Clock> = match options.clock {
            Some(manual) => manual,
            None => Arc::new(SystemClock),
        };
        let broker = tessera::server::prepare_with_clock(&config, clock)
            .await
            .unwrap();
        let server = tessera::start_with(config.clone(), broker).unwrap();
        let base = format!("http://{}", server.addr);
        let admin_key = create_admin_key(&server.broker, "test-admin").await;
        Self {
            base,
            admin_key,
            dns,
            client: client(),
            config,
            server: Some(server),
            _database: database,
            _redis: redis,
            _data_dir: data_dir,
        }
    }

    /// The broker the app runs on (for setting up state the API cannot create).
    pub fn broker(&self) -> &Broker {
        &self.server.as_ref().unwrap().broker
    }

    /// The data directory of this app.
    pub fn data_dir(&self) -> PathBuf {
        self.config.data_dir.clone()
    }

    /// An absolute URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with the instance-admin key.
    pub fn admin(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(&self.admin_key)
    }

    /// A request with `key`.
    pub fn with_key(&self, key: &str, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(key)
    }

    /// Creates an organization through the API and returns its JSON.
    pub async fn create_org(&self, slug: &str) -> Value {
        let response = self
            .admin(Method::POST, "/api/v1/organizations")
            .json(&serde_json::json!({ "name": format!("Org {slug}"), "slug": slug }))
            .send()
            .await
            .unwrap();
        expect_status(response, 201).await
    }

    /// Creates an API key limited to `org` and returns the key.
    pub async fn create_org_key(&self, org: &str) -> String {
        let response = self
            .admin(
                Method::POST,
                &format!("/api/v1/organizations/{org}/api-keys"),
            )
            .json(&serde_json::json!({ "name": "org key" }))
            .send()
            .await
            .unwrap();
        let body = expect_status(response, 201).await;
        body["key"].as_str().unwrap().to_owned()
    }

    /// Stops the server gracefully.
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop(true).await.unwrap();
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop_now();
        }
    }
}

/// Creates an instance-admin key the way `tessera admin create-key` does.
pub async fn create_admin_key(broker: &Broker, name: &str) -> String {
    let created = broker
        .create_instance_api_key(&Actor::cli(), NewApiKey::admin(name))
        .await
        .unwrap();
    created.secret.expose_secret().to_owned()
}

/// Asserts the status and returns the JSON body (`Value::Null` when empty).
pub async fn expect_status(response: Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(actual, status, "unexpected status; body: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }
}

/// Asserts an admin API error: status, stable code and (when given) the field at fault.
pub async fn expect_error(
    response: Response,
    status: u16,
    code: &str,
    field: Option<&str>,
) -> Value {
    let body = expect_status(response, status).await;
    assert_eq!(body["code"], code, "body: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "body: {body}"
    );
    assert!(body["request_id"].as_str().is_some(), "body: {body}");
    if let Some(field) = field {
        assert_eq!(body["field"], field, "body: {body}");
    }
    body
}

/// The path of the `tessera` binary built by `cargo build` (the test command builds it first).
pub fn tessera_bin() -> PathBuf {
    if let Ok(path) = std::env::var("TESSERA_BIN") {
        return PathBuf::from(path);
    }
    // target/<profile>/deps/<test binary> → target/<profile>/tessera
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let bin = profile_dir.join("tessera");
    assert!(
        bin.exists(),
        "{} is missing: build it first (`cargo build --bin tessera`), as scripts/test does",
        bin.display()
    );
    bin
}

/// Registers an app through the admin API and returns its JSON (with `client_secret`).
pub async fn create_client(app: &TestApp, body: Value) -> Value {
    let response = app
        .admin(Method::POST, "/api/v1/clients")
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_status(response, 201).await
}

/// A confidential service app allowed the client credentials grant with `scopes`.
pub async fn service_client(app: &TestApp, scopes: &[&str]) -> (String, String) {
    let created = create_client(
        app,
        serde_json::json!({
            "name": "billing service",
            "type": "confidential",
            "grant_types": ["client_credentials"],
            "scopes": scopes,
        }),
    )
    .await;
    (
        created["client_id"].as_str().unwrap().to_owned(),
        created["client_secret"].as_str().unwrap().to_owned(),
    )
}

/// POSTs a form to a provider endpoint with HTTP Basic client credentials.
pub async fn post_form(
    app: &TestApp,
    path: &str,
    client: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> Response {
    let mut request = app.client.post(app.url(path)).form(form);
    if let Some((id, secret)) = client {
        request = request.basic_auth(id, Some(secret));
    }
    request.send().await.unwrap()
}

/// Verifies `token` against the JWKS the server publishes, the way a relying party would, and
/// returns its header and claims.
pub async fn verify_with_jwks(app: &TestApp, token: &str) -> (jsonwebtoken::Header, Value) {
    let header = jsonwebtoken::decode_header(token).unwrap();
    let kid = header.kid.clone().expect("kid in every token header");
    let jwks: jsonwebtoken::jwk::JwkSet = app
        .client
        .get(app.url("/oauth2/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks
        .find(&kid)
        .unwrap_or_else(|| panic!("kid {kid} is not in the JWKS"));
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.validate_aud = false;
    validation.set_issuer(&[app.config.public_base()]);
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation).unwrap();
    (header, data.claims)
}

/// A user signed in to the app under test, as the sign-in pages would leave them.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The user's id.
    pub user_id: String,
    /// The session id.
    pub session_id: String,
    /// The `Cookie` header value that carries the session.
    pub cookie: String,
}

impl TestApp {
    /// Signs `email` in (creating the user if needed), the way the login pages will: a session
    /// row and its cookie. A test helper, not a product route.
    pub async fn sign_in(&self, email: &str, org: Option<&str>, amr: &[&str]) -> SignedIn {
        let broker = self.broker();
        let user = broker
            .find_or_create_user(&Actor::cli(), email)
            .await
            .unwrap();
        let org = match org {
            Some(key) => Some(
                broker
                    .access_organization(Actor::cli(), key)
                    .await
                    .unwrap()
                    .org_id(),
            ),
            None => None,
        };
        let (session, token) = broker
            .create_session(broker::session::NewSession {
                user: user.id,
                org,
                amr: amr.iter().map(|a| (*a).to_owned()).collect(),
                acr: None,
                user_agent: Some("tessera-tests".into()),
                ip: Some("127.0.0.1".into()),
            })
            .await
            .unwrap();
        SignedIn {
            user_id: user.id.to_string(),
            session_id: session.id.to_string(),
            cookie: format!(
                "{}={}",
                tessera::session::cookie_name(&self.config),
                token.expose_secret()
            ),
        }
    }

    /// Marks the user `user_id` disabled, as an operator's change to the row would (there is no
    /// product route for it yet). A test helper, not a product route.
    pub async fn disable_user(&self, user_id: &str) {
        use broker::entities::user;
        use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
        let id: broker::entities::UserId = user_id.parse().unwrap();
        let mut row: user::ActiveModel = user::Entity::find_by_id(id)
            .one(self.broker().db())
            .await
            .unwrap()
            .unwrap()
            .into();
        row.status = Set(user::UserStatus::Disabled);
        row.update(self.broker().db()).await.unwrap();
    }

    /// An HTTP client that does not follow redirects (to read `Location`).
    pub fn browser(&self) -> Client {
        Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(IDLE_CONNECTION_REUSE)
            .build()
            .unwrap()
    }
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce_pair() -> (String, String) {
    use base64::Engine as _;
    use sha2::Digest as _;
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The query parameters of a redirect's `Location`.
pub fn location_params(
    response: &Response,
) -> (url::Url, std::collections::HashMap<String, String>) {
    let location = response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location on a {} response", response.status()))
        .to_str()
        .unwrap();
    let url = url::Url::parse(location).unwrap();
    let params = url.query_pairs().into_owned().collect();
    (url, params)
}
