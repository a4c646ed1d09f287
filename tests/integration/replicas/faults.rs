//! Faults: Redis killed and restarted in the middle of a sign-in, PostgreSQL taken away and given
//! back (through a proxy the test controls; the shared servers are never touched), a replica
//! killed while apps request tokens. Clients get a retryable answer (503 with `Retry-After`,
//! OAuth `temporarily_unavailable`, SCIM 503) or a dropped connection, never a 500 or
//! internals; nothing is half-written; the service recovers by itself and `/readyz` says so.

use std::time::{Duration, Instant};

use broker::entities::refresh_token;
use futures::future::join_all;
use reqwest::Response;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tessera_tests::proxy::TcpProxy;
use tessera_tests::real::RealServer;
use tessera_tests::redis_server::OwnRedis;
use tessera_tests::replicas::Shared;
use tessera_tests::smtp::SmtpSink;
use tessera_tests::{create_admin_key, expect_status, location_params, pkce_pair};

use super::{Cluster, authorize_path, code_at, exchange, http, post_form, service_token};
use crate::login::browser::{Browser, ask_for_link};

/// How long a dependency's return may take to show (reconnection backoff, pool timeouts).
const RECOVERY: Duration = Duration::from_secs(20);

/// Waits until `/readyz` at `base` answers `status`; returns its body.
async fn readiness(base: &str, status: u16) -> Value {
    let deadline = Instant::now() + RECOVERY;
    loop {
        let response = http().get(format!("{base}/readyz")).send().await.unwrap();
        if response.status() == status {
            return response.json().await.unwrap();
        }
        assert!(Instant::now() < deadline, "/readyz never answered {status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A retryable refusal: 503 with `Retry-After`, and a body that names no host, port or
/// driver (`hidden`).
async fn unavailable(response: Response, hidden: &[&str]) -> String {
    assert_eq!(response.status(), 503);
    assert!(
        response.headers().contains_key("retry-after"),
        "{response:?}"
    );
    let body = response.text().await.unwrap();
    for secret in hidden {
        assert!(!body.to_lowercase().contains(secret), "{secret} in: {body}");
    }
    body
}

#[tokio::test]
async fn a_sign_in_survives_a_redis_restart_and_503s_while_it_is_down() {
    let mut redis = OwnRedis::start();
    let sink = SmtpSink::start();
    let (redis_url, smtp) = (redis.url(), sink.url());
    let server = RealServer::start(&[
        ("REDIS_URL", redis_url.as_str()),
        ("TESSERA_SMTP_URL", smtp.as_str()),
    ])
    .await;
    let key = create_admin_key(&server.broker().await, "faults").await;
    let (client_id, secret) = web_app_on(&server.base, &key, &["authorization_code"]).await;
    let (client_id, creds) = (client_id.as_str(), (client_id.as_str(), secret.as_str()));
    let (verifier, challenge) = pkce_pair();
    let mut browser = Browser::at(&server.base);
    let started = browser
        .get(&authorize_path(client_id, &challenge, "openid"))
        .await;
    let return_to = location_params(&started).1["return_to"].clone();
    ask_for_link(&mut browser, "dee@example.com", &return_to).await;
    let code = sink.wait_for("dee@example.com", 1).await.code();

    redis.kill();
    let ready = readiness(&server.base, 503).await;
    assert_eq!(ready["store"], "unavailable");
    assert_eq!(ready["database"], "ok");
    let hidden = ["redis", &redis.port.to_string()];
    let (_, csrf) = browser.page("/login/check-email").await;
    let page = browser
        .post("/login/code", &[("csrf", &csrf), ("code", &code)])
        .await;
    let page = unavailable(page, &hidden).await;
    // The form comes back with the reason, ready to be sent again.
    assert!(
        page.contains("try again later") && page.contains("action=\"/login/code\""),
        "{page}"
    );
    let token = exchange(&server.base, creds, "a-code", &verifier).await;
    let body: Value = serde_json::from_str(&unavailable(token, &hidden).await).unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");

    // Redis comes back with what it had written (append-only file): the sign-in goes on.
    redis.restart();
    readiness(&server.base, 200).await;
    let accepted = browser
        .post("/login/code", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_eq!(accepted.status(), 303);
    let resumed = browser.get(&return_to).await;
    let code = location_params(&resumed).1["code"].clone();
    expect_status(exchange(&server.base, creds, &code, &verifier).await, 200).await;
}

/// An org with a SCIM token on `replica`: (SCIM base URL, token).
async fn directory(cluster_key: &str, replica: &RealServer) -> (String, String) {
    let admin = |path: &str, body: Value| {
        http()
            .post(format!("{}{path}", replica.base))
            .bearer_auth(cluster_key)
            .json(&body)
            .send()
    };
    let org = admin(
        "/api/v1/organizations",
        json!({ "name": "Acme", "slug": "acme" }),
    );
    let org_id = expect_status(org.await.unwrap(), 201).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = admin(
        "/api/v1/organizations/acme/scim-tokens",
        json!({ "name": "idp" }),
    );
    let token = expect_status(token.await.unwrap(), 201).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    (format!("{}/scim/v2/{org_id}", replica.base), token)
}

fn scim_user(base: &str, token: &str, i: usize) -> impl Future<Output = reqwest::Result<Response>> {
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": format!("user{i}@acme.example"),
        "emails": [{ "value": format!("user{i}@acme.example"), "primary": true }],
    });
    http()
        .post(format!("{base}/Users"))
        .bearer_auth(token)
        .header("content-type", "application/scim+json")
        .body(user.to_string())
        .send()
}

/// A confidential web app registered through the admin API at `base`.
async fn web_app_on(base: &str, key: &str, grants: &[&str]) -> (String, String) {
    let body = json!({ "name": "web", "type": "confidential",
        "redirect_uris": [crate::provider::flow::REDIRECT], "grant_types": grants });
    let created = http()
        .post(format!("{base}/api/v1/clients"))
        .bearer_auth(key)
        .json(&body)
        .send();
    let created = expect_status(created.await.unwrap(), 201).await;
    let field = |name: &str| created[name].as_str().unwrap().to_owned();
    (field("client_id"), field("client_secret"))
}

/// One replica's admin API, OAuth and SCIM surfaces, as the PostgreSQL outage test uses them.
struct Surfaces {
    base: String,
    admin_key: String,
    app: (String, String),
    refresh_token: String,
    scim_base: String,
    scim_token: String,
}

impl Surfaces {
    async fn set_up(shared: &Shared, server: &RealServer) -> Self {
        let admin_key = create_admin_key(&shared.broker().await, "faults").await;
        let (scim_base, scim_token) = directory(&admin_key, server).await;
        let grants = ["authorization_code", "refresh_token"];
        let (id, secret) = web_app_on(&server.base, &admin_key, &grants).await;
        let (_, cookie) = super::session_for(shared, "eve@example.com").await;
        let (code, verifier) = code_at(server, &cookie, &id, "openid offline_access").await;
        let creds = (id.as_str(), secret.as_str());
        let tokens = expect_status(exchange(&server.base, creds, &code, &verifier).await, 200);
        let refresh_token = tokens.await["refresh_token"].as_str().unwrap().to_owned();
        Self {
            base: server.base.clone(),
            admin_key,
            app: (id, secret),
            refresh_token,
            scim_base,
            scim_token,
        }
    }

    fn organizations(&self) -> impl Future<Output = reqwest::Result<Response>> + use<> {
        let url = format!("{}/api/v1/organizations", self.base);
        http().get(url).bearer_auth(&self.admin_key).send()
    }

    fn refresh(&self) -> impl Future<Output = reqwest::Result<Response>> + use<> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", self.refresh_token.as_str()),
        ];
        let request = http()
            .post(format!("{}/oauth2/token", self.base))
            .basic_auth(&self.app.0, Some(&self.app.1))
            .form(&form);
        request.send()
    }

    fn scim_users(&self) -> impl Future<Output = reqwest::Result<Response>> + use<> {
        let url = format!("{}/Users?count=100", self.scim_base);
        http().get(url).bearer_auth(&self.scim_token).send()
    }
}

/// Twelve SCIM users created at once while the proxy cuts the database away; returns the
/// numbers of those answered 201 (the others must be 503).
async fn writes_racing_a_cut(surfaces: &Surfaces, proxy: &TcpProxy) -> Vec<usize> {
    let (base, token) = (&surfaces.scim_base, &surfaces.scim_token);
    let writes = join_all((0..12).map(|i| scim_user(base, token, i)));
    let cut = async {
        tokio::time::sleep(Duration::from_millis(40)).await;
        proxy.cut().await;
    };
    let (written, ()) = tokio::join!(writes, cut);
    let mut created = Vec::new();
    for (i, response) in written.into_iter().enumerate() {
        let response = response.unwrap();
        match response.status().as_u16() {
            201 => created.push(i),
            503 => {}
            other => panic!("user{i}: {other} {}", response.text().await.unwrap()),
        }
    }
    created
}

/// While the database is away: 503s with `Retry-After` in each surface's own format, and no
/// internals; the JWKS is still served from memory.
async fn refused_while_down(surfaces: &Surfaces, proxy_port: u16) {
    let ready = readiness(&surfaces.base, 503).await;
    assert_eq!(ready["database"], "unavailable");
    assert_eq!(ready["store"], "ok");
    let hidden = ["postgres", "sqlx", &proxy_port.to_string()];
    let parse = |body: String| serde_json::from_str::<Value>(&body).unwrap();
    let orgs = unavailable(surfaces.organizations().await.unwrap(), &hidden).await;
    assert_eq!(parse(orgs)["code"], "service_unavailable");
    let refreshed = unavailable(surfaces.refresh().await.unwrap(), &hidden).await;
    assert_eq!(parse(refreshed)["error"], "temporarily_unavailable");
    let listed = unavailable(surfaces.scim_users().await.unwrap(), &hidden).await;
    assert_eq!(parse(listed)["status"], "503");
    let jwks = http().get(format!("{}/oauth2/jwks", surfaces.base)).send();
    let jwks = expect_status(jwks.await.unwrap(), 200).await;
    assert!(!jwks["keys"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_postgres_outage_answers_503_everywhere_and_heals_by_itself() {
    let test = "a_postgres_outage_answers_503_everywhere_and_heals_by_itself";
    let Some(shared) = Shared::from_env(test).await else {
        return;
    };
    let direct = url::Url::parse(shared.database_url()).unwrap();
    let target = format!("127.0.0.1:{}", direct.port().unwrap_or(5432));
    let proxy = TcpProxy::start(target.parse().unwrap());
    let mut proxied = direct.clone();
    proxied.set_port(Some(proxy.port)).unwrap();
    let server = shared.replica(&[("DATABASE_URL", proxied.as_str())]).await;
    let surfaces = Surfaces::set_up(&shared, &server).await;

    // Writes in flight when the database goes away each land whole or not at all.
    let created_users = writes_racing_a_cut(&surfaces, &proxy).await;
    refused_while_down(&surfaces, proxy.port).await;

    // The database comes back: no restart, and no 500 on the way.
    proxy.restore().await;
    readiness(&server.base, 200).await;
    let orgs = retry_until_ok(|| surfaces.organizations()).await;
    assert_eq!(orgs["data"][0]["slug"], "acme");
    let refreshed = retry_until_ok(|| surfaces.refresh()).await;
    assert!(refreshed["refresh_token"].is_string());
    let listed = retry_until_ok(|| surfaces.scim_users()).await;
    let resources = listed["Resources"].as_array().unwrap();
    assert_eq!(
        listed["totalResults"],
        resources.len(),
        "the count and the rows agree"
    );
    for i in created_users {
        let name = format!("user{i}@acme.example");
        let user = resources.iter().find(|r| r["userName"] == name);
        let user = user.unwrap_or_else(|| panic!("{name} was answered 201 but is missing"));
        assert_eq!(user["emails"][0]["value"], name);
    }
}

/// Sends a request until it answers 200 (within [`RECOVERY`]); every other answer on the way
/// must be a 503. Returns the JSON body.
async fn retry_until_ok<F: Future<Output = reqwest::Result<Response>>>(
    send: impl Fn() -> F,
) -> Value {
    let deadline = Instant::now() + RECOVERY;
    loop {
        let response = send().await.unwrap();
        if response.status() == 200 {
            return response.json().await.unwrap();
        }
        let status = response.status();
        assert_eq!(status, 503, "{}", response.text().await.unwrap());
        assert!(Instant::now() < deadline, "still 503 after {RECOVERY:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What one token request got: a status, or a dropped connection.
type Outcome = Result<u16, String>;

/// Requests client-credentials tokens from `base` until `until`.
async fn keep_requesting(base: String, creds: (String, String), until: Instant) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    let form = [("grant_type", "client_credentials")];
    while Instant::now() < until {
        let sent = post_form(&base, "/oauth2/token", (&creds.0, &creds.1), &form).await;
        outcomes.push(sent.map(|r| r.status().as_u16()).map_err(|e| e.to_string()));
    }
    outcomes
}

/// Rotates a refresh token on `first` until `until`; when `first` stops answering, presents
/// the last token it holds to `second`. Returns the statuses.
async fn keep_refreshing(
    (first, second): (String, String),
    creds: (String, String),
    mut token: String,
    until: Instant,
) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    let mut base = first;
    while Instant::now() < until {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", token.as_str()),
        ];
        match post_form(&base, "/oauth2/token", (&creds.0, &creds.1), &form).await {
            Ok(response) if response.status() == 200 => {
                outcomes.push(Ok(200));
                let body: Value = response.json().await.unwrap();
                token = body["refresh_token"].as_str().unwrap().to_owned();
            }
            Ok(response) => {
                // invalid_grant: the lost rotation had committed, so presenting the old token
                // again is reuse (and revokes the family). The family is over either way.
                outcomes.push(Ok(response.status().as_u16()));
                break;
            }
            Err(e) => {
                outcomes.push(Err(e.to_string()));
                base.clone_from(&second);
            }
        }
    }
    outcomes
}

#[tokio::test]
async fn a_replica_killed_during_token_requests_leaves_the_service_whole() {
    let test = "a_replica_killed_during_token_requests_leaves_the_service_whole";
    let Some(mut cluster) = Cluster::start(test).await else {
        return;
    };
    let (service_id, service_secret) = cluster.service_app(&cluster.a).await;
    let (web_id, web_secret) = cluster.web_app(&cluster.a).await;
    let web = (web_id.as_str(), web_secret.as_str());
    let (_, cookie) = cluster.session("fay@example.com").await;
    let mut families = Vec::new();
    for _ in 0..4 {
        let (code, verifier) = code_at(&cluster.a, &cookie, &web_id, "openid offline_access").await;
        let tokens =
            expect_status(exchange(&cluster.a.base, web, &code, &verifier).await, 200).await;
        families.push(tokens["refresh_token"].as_str().unwrap().to_owned());
    }

    let until = Instant::now() + Duration::from_millis(2500);
    let (a, b) = (cluster.a.base.clone(), cluster.b.base.clone());
    let service = (service_id.clone(), service_secret.clone());
    let mut load = Vec::new();
    for base in [&a, &a, &b, &b] {
        load.push(tokio::spawn(keep_requesting(
            base.clone(),
            service.clone(),
            until,
        )));
    }
    let mut rotations = Vec::new();
    for token in families {
        let bases = (a.clone(), b.clone());
        let creds = (web_id.clone(), web_secret.clone());
        rotations.push(tokio::spawn(keep_refreshing(bases, creds, token, until)));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    cluster.a.kill();

    let on_a: Vec<Outcome> = load
        .remove(0)
        .await
        .unwrap()
        .into_iter()
        .chain(load.remove(0).await.unwrap())
        .collect();
    let on_b: Vec<Outcome> = load
        .remove(0)
        .await
        .unwrap()
        .into_iter()
        .chain(load.remove(0).await.unwrap())
        .collect();
    assert!(
        on_a.iter().any(Result::is_err),
        "A was killed while serving"
    );
    assert!(
        on_a.iter().all(|o| matches!(o, Ok(200) | Err(_))),
        "{on_a:?}"
    );
    assert!(
        !on_b.is_empty() && on_b.iter().all(|o| *o == Ok(200)),
        "{on_b:?}"
    );
    for rotation in rotations {
        let outcomes = rotation.await.unwrap();
        assert!(
            outcomes.iter().all(|o| matches!(o, Ok(200 | 400) | Err(_))),
            "{outcomes:?}"
        );
    }

    // Nothing half-written: no family has more than one live refresh token.
    let db = cluster.shared.broker().await;
    let live = refresh_token::Entity::find()
        .filter(refresh_token::Column::RotatedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .all(db.db())
        .await
        .unwrap();
    let mut per_family = std::collections::HashMap::new();
    for token in live {
        *per_family.entry(token.family_id).or_insert(0) += 1;
    }
    assert!(per_family.values().all(|n| *n == 1), "{per_family:?}");

    // A replacement replica serves at once, with keys the survivor's JWKS publishes.
    let replacement = cluster.shared.replica(&[]).await;
    readiness(&replacement.base, 200).await;
    let creds = (service_id.as_str(), service_secret.as_str());
    let token = service_token(&replacement.base, creds).await;
    let issuer = &cluster.shared.public_url;
    super::verify_at(&cluster.b.base, issuer, &token)
        .await
        .unwrap();
}
