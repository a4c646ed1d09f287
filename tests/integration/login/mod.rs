//! Local sign-in through the real pages: email links and codes read from a real SMTP server,
//! CSRF, rate limits, SSO routing, passwords with a second factor, recovery codes and step-up.
//! Session timeouts, timing and bad input have modules of their own.

mod bad_input;
pub(crate) mod browser;
mod expiry;
mod passkey;
mod timing;

use reqwest::StatusCode;
use serde_json::json;
use tessera_tests::smtp::SmtpSink;
use tessera_tests::{Options, TestApp, location_params, pkce_pair};

use self::browser::{Browser, app_with_mail, ask_for_link, location, open_link, urlencode};
use crate::provider::flow::{REDIRECT, authorize, standard, web_app};
#[tokio::test]
async fn an_emailed_link_signs_up_and_finishes_the_apps_request() {
    let (app, sink) = app_with_mail(&[]).await;
    let (client_id, _) = web_app(&app, json!({})).await;
    let (_, challenge) = pkce_pair();
    let started = authorize(
        &app,
        None,
        &standard(&client_id, &challenge, "openid email"),
    )
    .await;
    assert_eq!(started.status(), 302);
    let (path, params) = location_params(&started);
    assert_eq!(path.path(), "/login", "{path}");
    let return_to = params["return_to"].clone();

    let mut browser = Browser::new(&app);
    let asked = ask_for_link(&mut browser, "New.Person@Example.com", &return_to).await;
    assert_eq!(asked.status(), 303);
    assert!(location(&asked).starts_with("/login/check-email"));

    let mail = sink.wait_for("new.person@example.com", 1).await;
    assert!(mail.raw.contains("Finish creating your Tessera account"));
    let link = mail.link();
    assert!(link.starts_with(&app.config.public_base()), "{link}");

    let confirmed = open_link(&mut browser, &link).await;
    assert_eq!(confirmed.status(), 303);
    // A new account is offered a passkey first, then continues where it was going.
    let next = location(&confirmed);
    assert!(
        next.starts_with("/account/passkey-prompt?return_to="),
        "{next}"
    );
    let resume = browser.get(&return_to).await;
    assert_eq!(resume.status(), 302);
    let (path, params) = location_params(&resume);
    assert!(path.as_str().starts_with(REDIRECT), "{path}");
    assert!(params.contains_key("code"), "{params:?}");

    // The link worked once.
    let token = link.split("token=").nth(1).unwrap();
    let again = browser.get(&format!("/login/link?token={token}")).await;
    assert_eq!(again.status(), 400);
    assert!(again.text().await.unwrap().contains("email_link_invalid"));

    let user = app
        .broker()
        .find_or_create_user(&broker::Actor::cli(), "new.person@example.com")
        .await
        .unwrap();
    assert!(user.email_verified, "the link proved the address");
}

#[tokio::test]
async fn a_link_opened_in_another_browser_signs_in_there_but_goes_to_the_account_page() {
    let (app, sink) = app_with_mail(&[]).await;
    let mut asking = Browser::new(&app);
    ask_for_link(&mut asking, "ann@example.com", "/device").await;
    let link = sink.wait_for("ann@example.com", 1).await.link();
    let mut other = Browser::new(&app);
    let confirmed = open_link(&mut other, &link).await;
    assert_eq!(confirmed.status(), 303);
    assert_eq!(
        location(&confirmed),
        "/account/passkey-prompt?return_to=%2Faccount"
    );
    let account = other.get("/account").await;
    assert_eq!(account.status(), 200);
    assert!(account.text().await.unwrap().contains("ann@example.com"));
}

#[tokio::test]
async fn the_code_signs_in_the_browser_that_asked_and_wrong_codes_burn_it() {
    let (app, sink) = app_with_mail(&[]).await;
    let mut browser = Browser::new(&app);
    ask_for_link(&mut browser, "cody@example.com", "/account").await;
    let mail = sink.wait_for("cody@example.com", 1).await;
    let code = mail.code();
    let (_, csrf) = browser
        .page("/login/check-email?email=cody%40example.com")
        .await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = browser
        .post("/login/code", &[("csrf", &csrf), ("code", wrong)])
        .await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("not right"));
    let accepted = browser
        .post("/login/code", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_eq!(accepted.status(), 303);
    assert!(browser.get("/account").await.status() == 200);

    // A second request: five wrong guesses throw the code away, the right one then fails.
    let mut second = Browser::new(&app);
    ask_for_link(&mut second, "cody@example.com", "/account").await;
    let code = sink.wait_for("cody@example.com", 2).await.code();
    let (_, csrf) = second.page("/login/check-email").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        second
            .post("/login/code", &[("csrf", &csrf), ("code", wrong)])
            .await;
    }
    let too_late = second
        .post("/login/code", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_eq!(too_late.status(), 400);
}

#[tokio::test]
async fn forms_without_the_anti_forgery_token_are_refused() {
    let (app, _sink) = app_with_mail(&[]).await;
    let mut browser = Browser::new(&app);
    browser.page("/login").await;
    let missing = browser
        .post("/login/email", &[("email", "x@example.com")])
        .await;
    assert_eq!(missing.status(), 403);
    assert!(missing.text().await.unwrap().contains("csrf_check_failed"));
    let (_, csrf) = browser.page("/login").await;
    let cross_site = browser
        .client
        .post(browser.url("/login/email"))
        .header("cookie", browser.cookie_header())
        .header("origin", "https://evil.example")
        .form(&[("csrf", csrf.as_str()), ("email", "x@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    // Chromium sends `Origin: null` on same-origin posts under some referrer policies.
    let null_origin = |same_site: bool| {
        let mut request = browser
            .client
            .post(browser.url("/login/email"))
            .header("cookie", browser.cookie_header())
            .header("origin", "null");
        if same_site {
            request = request.header("sec-fetch-site", "same-origin");
        }
        request
            .form(&[("csrf", csrf.as_str()), ("email", "x@example.com")])
            .send()
    };
    assert_eq!(null_origin(true).await.unwrap().status(), 303);
    assert_eq!(null_origin(false).await.unwrap().status(), 403);
    let no_cookie = app
        .browser()
        .post(app.url("/login/email"))
        .form(&[("csrf", csrf.as_str()), ("email", "x@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_cookie.status(), 403);
}

#[tokio::test]
async fn known_and_unknown_addresses_get_the_same_answer_and_mail_is_rate_limited() {
    let (app, sink) = app_with_mail(&[]).await;
    app.broker()
        .find_or_create_user(&broker::Actor::cli(), "known@example.com")
        .await
        .unwrap();
    let mut browser = Browser::new(&app);
    let known = ask_for_link(&mut browser, "known@example.com", "/account").await;
    let unknown = ask_for_link(&mut browser, "unknown@example.com", "/account").await;
    assert_eq!(known.status(), unknown.status());
    assert_eq!(
        location(&known).replace("known", ""),
        location(&unknown).replace("unknown", "")
    );
    assert!(
        sink.wait_for("known@example.com", 1)
            .await
            .raw
            .contains("sign-in link")
    );
    sink.wait_for("unknown@example.com", 1).await;

    // Five mails per address per hour; the sixth is refused with Retry-After.
    for _ in 0..4 {
        let sent = ask_for_link(&mut browser, "known@example.com", "/account").await;
        assert_eq!(sent.status(), 303);
    }
    let limited = ask_for_link(&mut browser, "known@example.com", "/account").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0 && wait <= 3600);

    let invalid = ask_for_link(&mut browser, "not an email", "/account").await;
    assert_eq!(invalid.status(), 400);
    assert!(invalid.text().await.unwrap().contains("email address"));
}

/// Verifies `domain` for the org and gives it an active connection record (enough for
/// routing; the SSO round trip itself is tested end to end against a real IdP).
async fn sso_connection(
    app: &TestApp,
    org_id: broker::entities::OrgId,
    domain: &str,
) -> broker::entities::ConnectionId {
    use broker::entities::{connection as c, domain as d};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let connection = broker::entities::ConnectionId::new();
    let now = app.broker().now();
    d::ActiveModel {
        id: Set(broker::entities::DomainId::new()),
        org_id: Set(org_id),
        domain: Set(domain.into()),
        verified: Set(true),
        verification_token: Set("t".into()),
        verification_method: Set(Some(broker::entities::VerificationMethod::Manual)),
        verified_at: Set(Some(now)),
        created_at: Set(now),
    }
    .insert(app.broker().db())
    .await
    .unwrap();
    c::ActiveModel {
        id: Set(connection),
        org_id: Set(Some(org_id)),
        kind: Set(broker::entities::ConnectionKind::Oidc),
        name: Set("Acme Okta".into()),
        preset: Set(None),
        status: Set(broker::entities::ConnectionStatus::Active),
        config: Set(json!({})),
        secrets_encrypted: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(app.broker().db())
    .await
    .unwrap();
    connection
}

#[tokio::test]
async fn an_org_that_requires_sso_refuses_local_sign_in_for_its_domain() {
    let (app, sink) = app_with_mail(&[]).await;
    let org = app.create_org("acme").await;
    let org_id: broker::entities::OrgId = org["id"].as_str().unwrap().parse().unwrap();
    // Two links asked before the org claimed the domain: local sign-in for now.
    let mut first = Browser::new(&app);
    ask_for_link(&mut first, "worker@acme.test", "/account").await;
    let mut second = Browser::new(&app);
    ask_for_link(&mut second, "worker@acme.test", "/account").await;
    sink.wait_for("worker@acme.test", 2).await;
    let links: Vec<String> = sink
        .all()
        .iter()
        .filter(|m| m.to.iter().any(|t| t.contains("worker@acme.test")))
        .map(|m| m.link())
        .collect();
    sso_connection(&app, org_id, "acme.test").await;

    // The org has SSO but does not require it: the local link still works.
    let allowed = open_link(&mut first, &links[0]).await;
    assert_eq!(allowed.status(), 303);

    let patched = app
        .admin(reqwest::Method::PATCH, "/api/v1/organizations/acme")
        .json(&json!({ "require_sso": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    assert_eq!(
        patched.json::<serde_json::Value>().await.unwrap()["require_sso"],
        true
    );

    let refused = open_link(&mut second, &links[1]).await;
    assert_eq!(refused.status(), 403);
    let page = refused.text().await.unwrap();
    assert!(page.contains("sso_required"), "{page}");
    assert!(
        second.cookies.keys().all(|k| !k.contains("session")),
        "no session was started"
    );
}

#[tokio::test]
async fn an_sso_domain_is_sent_to_its_connection() {
    let (app, sink) = app_with_mail(&[]).await;
    let org = app.create_org("acme").await;
    let org_id: broker::entities::OrgId = org["id"].as_str().unwrap().parse().unwrap();
    let connection = sso_connection(&app, org_id, "acme.test").await;
    let mut browser = Browser::new(&app);
    let routed = ask_for_link(&mut browser, "worker@ACME.test", "/account").await;
    assert_eq!(routed.status(), 303);
    assert!(
        location(&routed).starts_with(&format!(
            "/sso/{connection}/start?login_hint=worker%40acme.test"
        )),
        "{}",
        location(&routed)
    );
    let other = ask_for_link(&mut browser, "someone@elsewhere.test", "/account").await;
    assert!(location(&other).starts_with("/login/check-email"));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        sink.all()
            .iter()
            .all(|m| !m.to.iter().any(|t| t.contains("acme.test")))
    );
}

fn totp_now(secret_base32: &str, now: u64) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret_base32).unwrap())
        .with_account_name("x")
        .build()
        .unwrap();
    totp.generate(now).to_string()
}

#[tokio::test]
async fn password_with_an_authenticator_app_and_single_use_recovery_codes() {
    let (app, sink) = app_with_mail(&[("TESSERA_PASSWORD_LOGIN", "true")]).await;
    let email = "pat@example.com";
    let mut browser = Browser::new(&app);
    ask_for_link(&mut browser, email, "/account").await;
    let link = sink.wait_for(email, 1).await.link();
    open_link(&mut browser, &link).await;

    // Weak passwords are refused with the field named; a long one is accepted.
    let (_, csrf) = browser.page("/account").await;
    let weak = browser
        .post(
            "/account/password",
            &[("csrf", &csrf), ("password", "short")],
        )
        .await;
    assert_eq!(weak.status(), 400);
    assert!(weak.text().await.unwrap().contains("at least 15"));
    let password = "violet staple canyon drift";
    let set = browser
        .post(
            "/account/password",
            &[("csrf", &csrf), ("password", password)],
        )
        .await;
    assert_eq!(set.status(), 303);

    // Authenticator app: the page shows the QR code and the secret; a first code turns it on
    // and shows ten recovery codes.
    let started = browser.post("/account/totp", &[("csrf", &csrf)]).await;
    let page = started.text().await.unwrap();
    assert!(page.contains("<svg"), "a QR code");
    let at = page.find("id=\"totp-secret\">").unwrap();
    let secret = page[at + 17..].split('<').next().unwrap().to_owned();
    let wrong = browser
        .post(
            "/account/totp/confirm",
            &[("csrf", &csrf), ("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status(), 401);
    let confirmed = browser
        .post(
            "/account/totp/confirm",
            &[
                ("csrf", &csrf),
                (
                    "code",
                    &totp_now(&secret, app.broker().now().timestamp() as u64),
                ),
            ],
        )
        .await;
    let codes_page = confirmed.text().await.unwrap();
    let codes: Vec<String> = codes_page
        .split("<li><code>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "{codes_page}");

    // A new browser: the password alone is not enough.
    let mut fresh = Browser::new(&app);
    let (_, csrf) = fresh.page("/login").await;
    let wrong_password = fresh
        .post(
            "/login/password",
            &[
                ("csrf", &csrf),
                ("email", email),
                ("password", "not the password at all"),
            ],
        )
        .await;
    assert_eq!(wrong_password.status(), 401);
    let unknown_user = fresh
        .post(
            "/login/password",
            &[
                ("csrf", &csrf),
                ("email", "nobody@example.com"),
                ("password", password),
            ],
        )
        .await;
    assert_eq!(unknown_user.status(), 401);
    assert_eq!(
        wrong_password
            .text()
            .await
            .unwrap()
            .contains("email or password is wrong"),
        unknown_user
            .text()
            .await
            .unwrap()
            .contains("email or password is wrong"),
    );
    let first = fresh
        .post(
            "/login/password",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await;
    assert_eq!(first.status(), 303);
    let second_step = location(&first);
    assert!(second_step.starts_with("/login/second-factor?ticket="));
    assert_eq!(fresh.get("/account").await.status(), 303, "no session yet");
    let ticket = second_step.split("ticket=").nth(1).unwrap().to_owned();
    let (_, csrf) = fresh.page(&second_step).await;
    let wrong_code = fresh
        .post(
            "/login/second-factor",
            &[("csrf", &csrf), ("ticket", &ticket), ("code", "123456")],
        )
        .await;
    assert_eq!(wrong_code.status(), 401);
    let recovered = fresh
        .post(
            "/login/second-factor",
            &[
                ("csrf", &csrf),
                ("ticket", &ticket),
                ("code", &codes[0].to_uppercase()),
            ],
        )
        .await;
    assert_eq!(recovered.status(), 303);
    assert_eq!(fresh.get("/account").await.status(), 200);

    // The same recovery code does not work twice.
    let mut third = Browser::new(&app);
    let (_, csrf) = third.page("/login").await;
    let first = third
        .post(
            "/login/password",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await;
    let step = location(&first);
    let ticket = step.split("ticket=").nth(1).unwrap().to_owned();
    let replay = third
        .post(
            "/login/second-factor",
            &[("csrf", &csrf), ("ticket", &ticket), ("code", &codes[0])],
        )
        .await;
    assert_eq!(replay.status(), 401);
    let events = app
        .admin(
            reqwest::Method::GET,
            "/api/v1/audit-events?action=recovery_code.used",
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(events.contains("\"remaining\":9"), "{events}");
}

#[tokio::test]
async fn repeated_failures_soft_lock_the_account_with_retry_after() {
    let (app, sink) = app_with_mail(&[("TESSERA_PASSWORD_LOGIN", "true")]).await;
    let email = "lock@example.com";
    let mut browser = Browser::new(&app);
    ask_for_link(&mut browser, email, "/account").await;
    open_link(&mut browser, &sink.wait_for(email, 1).await.link()).await;
    let (_, csrf) = browser.page("/account").await;
    let password = "a perfectly long passphrase";
    browser
        .post(
            "/account/password",
            &[("csrf", &csrf), ("password", password)],
        )
        .await;

    let mut attacker = Browser::new(&app);
    let (_, csrf) = attacker.page("/login").await;
    for _ in 0..5 {
        let r = attacker
            .post(
                "/login/password",
                &[
                    ("csrf", &csrf),
                    ("email", email),
                    ("password", "guess guess guess!"),
                ],
            )
            .await;
        assert_eq!(r.status(), 401);
    }
    let locked = attacker
        .post(
            "/login/password",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn passwords_are_off_unless_enabled() {
    let (app, _sink) = app_with_mail(&[]).await;
    let mut browser = Browser::new(&app);
    let (page, csrf) = browser.page("/login").await;
    assert!(!page.contains("type=\"password\""));
    assert!(page.contains("autocomplete=\"username webauthn\""));
    let refused = browser
        .post(
            "/login/password",
            &[
                ("csrf", &csrf),
                ("email", "a@example.com"),
                ("password", "whatever it is here"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn an_app_asking_for_a_stronger_sign_in_sends_a_link_user_back_to_sign_in() {
    let (app, sink) = app_with_mail(&[]).await;
    let (client_id, _) = web_app(&app, json!({})).await;
    let mut browser = Browser::new(&app);
    ask_for_link(&mut browser, "weak@example.com", "/account").await;
    open_link(
        &mut browser,
        &sink.wait_for("weak@example.com", 1).await.link(),
    )
    .await;
    let (_, challenge) = pkce_pair();
    let mut params = standard(&client_id, &challenge, "openid");
    params.push(("acr_values", "phr"));
    let query = serde_urlencoded_pairs(&params);
    let stepped = browser.get(&format!("/oauth2/authorize?{query}")).await;
    assert_eq!(stepped.status(), 302);
    let (path, found) = location_params(&stepped);
    assert_eq!(path.path(), "/login");
    assert_eq!(found["acr"], "phr");
    let page = browser.get(&location(&stepped)).await.text().await.unwrap();
    assert!(page.contains("stronger sign-in"));
}

fn serde_urlencoded_pairs(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test]
async fn sessions_are_listed_and_signed_out_from_the_account_page() {
    let (app, sink) = app_with_mail(&[]).await;
    let email = "two@example.com";
    let mut laptop = Browser::new(&app);
    ask_for_link(&mut laptop, email, "/account").await;
    open_link(&mut laptop, &sink.wait_for(email, 1).await.link()).await;
    let mut phone = Browser::new(&app);
    ask_for_link(&mut phone, email, "/account").await;
    open_link(&mut phone, &sink.wait_for(email, 2).await.link()).await;

    let (page, csrf) = laptop.page("/account").await;
    assert_eq!(page.matches("data-session-id=").count(), 2, "{page}");
    let user = app
        .broker()
        .find_or_create_user(&broker::Actor::cli(), email)
        .await
        .unwrap();
    let sessions = app.broker().sessions_of(user.id).await.unwrap();
    // The phone signed in last, so its session is the newest.
    let phone_session = sessions.iter().max_by_key(|s| s.created_at).unwrap().id;
    let revoked = laptop
        .post(
            &format!("/account/sessions/{phone_session}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(revoked.status(), 303);
    assert_eq!(
        phone.get("/account").await.status(),
        303,
        "the phone is signed out"
    );
    assert_eq!(laptop.get("/account").await.status(), 200);
    let (page, _) = laptop.page("/account").await;
    assert_eq!(page.matches("data-session-id=").count(), 1);

    // Another user's session, or a made-up one, is not found.
    let unknown = laptop
        .post(
            &format!(
                "/account/sessions/{}/revoke",
                broker::entities::SessionId::new()
            ),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn changing_how_one_signs_in_needs_a_recent_sign_in() {
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let clock = std::sync::Arc::new(broker::ManualClock::new(start));
    let sink = SmtpSink::start();
    let app = TestApp::spawn_with(Options {
        env: vec![
            ("TESSERA_SMTP_URL".into(), sink.url()),
            ("TESSERA_PASSWORD_LOGIN".into(), "true".into()),
        ],
        clock: Some(clock.clone()),
    })
    .await;
    let email = "old@example.com";
    let mut browser = Browser::new(&app);
    ask_for_link(&mut browser, email, "/account").await;
    open_link(&mut browser, &sink.wait_for(email, 1).await.link()).await;
    clock.advance(chrono::Duration::minutes(11));
    let (_, csrf) = browser.page("/account").await;
    let refused = browser
        .post(
            "/account/password",
            &[("csrf", &csrf), ("password", "long enough to be accepted")],
        )
        .await;
    assert_eq!(refused.status(), 303);
    assert_eq!(location(&refused), "/login?return_to=%2Faccount&reauth=1");
    assert!(
        !app.broker()
            .has_password(
                app.broker()
                    .find_or_create_user(&broker::Actor::cli(), email)
                    .await
                    .unwrap()
                    .id
            )
            .await
            .unwrap()
    );
    let options = browser
        .client
        .post(browser.url("/account/passkeys/options"))
        .header("cookie", browser.cookie_header())
        .header("x-csrf-token", &csrf)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(options.status(), 403);
    let body: serde_json::Value = options.json().await.unwrap();
    assert_eq!(body["code"], "reauthentication_required");
}
