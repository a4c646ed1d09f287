//! A signed-in admin's browser session works on the admin API like an API key of the same
//! reach: org admins only ever see and change their own organizations, instance admins see all,
//! writes need the CSRF token, and people without an admin role get nothing.

use reqwest::Method;
use serde_json::json;
use tessera_tests::{TestApp, expect_error, expect_status};

use super::{Console, audit, make_instance_admin, make_org_admin};

#[tokio::test]
async fn org_admin_session_can_never_see_or_change_another_org() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    app.create_org("globex").await;
    let ada = Console::sign_in(&app, "ada@acme.test").await;
    make_org_admin(&app, "acme", "ada@acme.test").await;

    let own = ada
        .request(Method::GET, "/api/v1/organizations/acme")
        .send()
        .await
        .unwrap();
    assert_eq!(expect_status(own, 200).await["slug"], "acme");
    let added = ada
        .request(Method::POST, "/api/v1/organizations/acme/domains")
        .json(&json!({ "domain": "acme.test" }))
        .send()
        .await
        .unwrap();
    expect_status(added, 201).await;

    // Globex is invisible: every read and write is "not found", by slug and by id.
    let globex_id = app
        .admin(Method::GET, "/api/v1/organizations/globex")
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for org in ["globex", globex_id.as_str()] {
        for (method, path, body) in [
            (Method::GET, format!("/api/v1/organizations/{org}"), None),
            (
                Method::PATCH,
                format!("/api/v1/organizations/{org}"),
                Some(json!({ "name": "Pwned" })),
            ),
            (
                Method::GET,
                format!("/api/v1/organizations/{org}/memberships"),
                None,
            ),
            (
                Method::POST,
                format!("/api/v1/organizations/{org}/domains"),
                Some(json!({ "domain": "globex.test" })),
            ),
            (
                Method::GET,
                format!("/api/v1/organizations/{org}/connections"),
                None,
            ),
            (
                Method::GET,
                format!("/api/v1/organizations/{org}/audit-events"),
                None,
            ),
            (
                Method::POST,
                format!("/api/v1/organizations/{org}/setup-links"),
                None,
            ),
            (
                Method::PUT,
                format!("/api/v1/organizations/{org}/branding"),
                Some(json!({ "color": "#0b5394" })),
            ),
        ] {
            let mut request = ada.request(method.clone(), &path);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            expect_error(response, 404, "organization_not_found", None).await;
        }
    }
    // Not through the header on instance-level routes either, nor in listings.
    let header = ada
        .request(Method::GET, "/api/v1/clients")
        .header("x-tessera-organization", "globex")
        .send()
        .await
        .unwrap();
    expect_error(header, 404, "organization_not_found", None).await;
    let listed = ada
        .request(Method::GET, "/api/v1/organizations")
        .send()
        .await
        .unwrap();
    let slugs: Vec<String> = expect_status(listed, 200).await["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(slugs, ["acme"]);
    let audit_all = ada
        .request(
            Method::GET,
            &format!("/api/v1/audit-events?organization_id={globex_id}"),
        )
        .send()
        .await
        .unwrap();
    expect_error(audit_all, 404, "organization_not_found", None).await;

    // Globex is untouched.
    let globex = app
        .admin(Method::GET, "/api/v1/organizations/globex")
        .send()
        .await
        .unwrap();
    assert_eq!(expect_status(globex, 200).await["name"], "Org globex");
}

#[tokio::test]
async fn session_writes_need_the_anti_forgery_token_and_our_origin() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let ada = Console::sign_in(&app, "ada@acme.test").await;
    make_org_admin(&app, "acme", "ada@acme.test").await;
    let body = json!({ "domain": "acme.test" });

    let without = ada
        .bare(Method::POST, "/api/v1/organizations/acme/domains")
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_error(without, 403, "csrf_check_failed", None).await;
    let wrong = ada
        .bare(Method::POST, "/api/v1/organizations/acme/domains")
        .header("x-csrf-token", "not-the-cookie-value-but-forty-three-chars")
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_error(wrong, 403, "csrf_check_failed", None).await;
    let other_site = ada
        .request(Method::POST, "/api/v1/organizations/acme/domains")
        .header("origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_error(other_site, 403, "csrf_check_failed", None).await;
    for (method, path, body) in [
        (
            Method::PATCH,
            "/api/v1/organizations/acme",
            json!({ "name": "Forged" }),
        ),
        (
            Method::PUT,
            "/api/v1/organizations/acme/role-mappings",
            json!({ "rules": [] }),
        ),
        (
            Method::DELETE,
            "/api/v1/organizations/acme/api-keys/0193c8c2-6a1e-7c43-9a57-1f3e3b2f4a10",
            json!({}),
        ),
    ] {
        let response = ada.bare(method, path).json(&body).send().await.unwrap();
        expect_error(response, 403, "csrf_check_failed", None).await;
    }
    let domains = ada
        .request(Method::GET, "/api/v1/organizations/acme/domains")
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(domains, 200).await["data"],
        json!([]),
        "nothing was written"
    );

    // Reads need no token; a write with it (and our origin) goes through.
    let read = ada
        .bare(Method::GET, "/api/v1/organizations/acme")
        .send()
        .await
        .unwrap();
    expect_status(read, 200).await;
    let origin = app.config.public_base();
    let ok = ada
        .request(Method::POST, "/api/v1/organizations/acme/domains")
        .header("origin", origin.trim_end_matches('/'))
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_status(ok, 201).await;

    // The change is audited as the person who made it.
    let events = audit(&app, "acme", "domain.added").await;
    assert_eq!(events[0]["actor"]["kind"], "user");
    assert_eq!(events[0]["actor"]["id"], ada.user_id());
}

#[tokio::test]
async fn people_without_an_admin_role_get_nothing() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let bob = Console::sign_in(&app, "bob@acme.test").await;
    let response = app
        .admin(Method::POST, "/api/v1/organizations/acme/memberships")
        .json(&json!({ "email": "bob@acme.test", "roles": ["admin", "member"] }))
        .send()
        .await
        .unwrap();
    expect_status(response, 201).await;

    let me = bob.request(Method::GET, "/api/v1/me").send().await.unwrap();
    expect_error(me, 403, "admin_role_required", None).await;
    let orgs = bob
        .request(Method::GET, "/api/v1/organizations")
        .send()
        .await
        .unwrap();
    expect_error(orgs, 403, "admin_role_required", None).await;
    let acme = bob
        .request(Method::GET, "/api/v1/organizations/acme")
        .send()
        .await
        .unwrap();
    expect_error(acme, 403, "admin_role_required", None).await;
    // The console page says so instead of showing an empty console.
    let page = bob.bare(Method::GET, "/admin").send().await.unwrap();
    assert_eq!(page.status(), 403);
    assert!(page.text().await.unwrap().contains("No admin access"));

    // Taking the role away ends the access at once.
    let ada = Console::sign_in(&app, "ada@acme.test").await;
    make_org_admin(&app, "acme", "ada@acme.test").await;
    let me = ada.request(Method::GET, "/api/v1/me").send().await.unwrap();
    expect_status(me, 200).await;
    let demote = app
        .admin(
            Method::PATCH,
            &format!("/api/v1/organizations/acme/memberships/{}", ada.user_id()),
        )
        .json(&json!({ "roles": ["member"] }))
        .send()
        .await
        .unwrap();
    expect_status(demote, 200).await;
    let me = ada.request(Method::GET, "/api/v1/me").send().await.unwrap();
    expect_error(me, 403, "admin_role_required", None).await;

    // Without a session cookie, the API still asks for a key.
    let anonymous = app
        .client
        .get(app.url("/api/v1/organizations/acme"))
        .send()
        .await
        .unwrap();
    expect_error(anonymous, 401, "missing_credentials", None).await;
}

#[tokio::test]
async fn admins_of_several_orgs_name_the_org_on_routes_without_one() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    app.create_org("globex").await;
    let ada = Console::sign_in(&app, "ada@acme.test").await;
    make_org_admin(&app, "acme", "ada@acme.test").await;
    make_org_admin(&app, "globex", "ada@acme.test").await;

    let me = ada.request(Method::GET, "/api/v1/me").send().await.unwrap();
    let me = expect_status(me, 200).await;
    assert_eq!(me["kind"], "user");
    assert_eq!(me["instance_admin"], false);
    let slugs: Vec<&str> = me["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["acme", "globex"]);

    let app_body = json!({
        "name": "dashboard",
        "type": "public",
        "redirect_uris": ["https://dashboard.acme.test/callback"],
    });
    let ambiguous = ada
        .request(Method::POST, "/api/v1/clients")
        .json(&app_body)
        .send()
        .await
        .unwrap();
    expect_error(ambiguous, 400, "organization_required", None).await;
    let created = ada
        .request(Method::POST, "/api/v1/clients")
        .header("x-tessera-organization", "globex")
        .json(&app_body)
        .send()
        .await
        .unwrap();
    let created = expect_status(created, 201).await;
    let globex = app
        .admin(Method::GET, "/api/v1/organizations/globex")
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(
        created["organization_id"], globex["id"],
        "an org admin's app is restricted to the org it was made in"
    );
    let acme_apps = ada
        .request(Method::GET, "/api/v1/clients")
        .header("x-tessera-organization", "acme")
        .send()
        .await
        .unwrap();
    assert_eq!(expect_status(acme_apps, 200).await["data"], json!([]));
}

#[tokio::test]
async fn instance_admin_sessions_see_every_org_and_api_keys_keep_working() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    app.create_org("globex").await;
    let root = Console::sign_in(&app, "root@ops.test").await;
    make_instance_admin(&app, root.user_id()).await;

    let me = root
        .request(Method::GET, "/api/v1/me")
        .send()
        .await
        .unwrap();
    assert_eq!(expect_status(me, 200).await["instance_admin"], true);
    let created = root
        .request(Method::POST, "/api/v1/organizations")
        .json(&json!({ "name": "Initech", "slug": "initech" }))
        .send()
        .await
        .unwrap();
    expect_status(created, 201).await;
    let listed = root
        .request(Method::GET, "/api/v1/organizations")
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(listed, 200).await["data"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let globex = root
        .request(Method::PATCH, "/api/v1/organizations/globex")
        .json(&json!({ "name": "Globex Corporation" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(globex, 200).await["name"],
        "Globex Corporation"
    );

    // API keys work as before, and a key wins over a cookie sent along.
    let key = app.create_org_key("acme").await;
    let with_both = app
        .client
        .get(app.url("/api/v1/organizations/globex"))
        .bearer_auth(&key)
        .header("cookie", root.signed_in.cookie.clone())
        .send()
        .await
        .unwrap();
    expect_error(with_both, 404, "organization_not_found", None).await;
    let me = app
        .with_key(&key, Method::GET, "/api/v1/me")
        .send()
        .await
        .unwrap();
    let me = expect_status(me, 200).await;
    assert_eq!(me["kind"], "api_key");
    assert_eq!(me["organizations"][0]["slug"], "acme");
}
