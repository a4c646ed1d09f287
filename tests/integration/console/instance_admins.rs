//! Instance administrators manage each other: only they may, an added person's session gets
//! instance authority, and the last one cannot be removed.

use reqwest::Method;
use serde_json::json;
use tessera_tests::{TestApp, expect_error, expect_status};

use super::{Console, make_instance_admin, make_org_admin};

#[tokio::test]
async fn instance_admins_add_and_remove_each_other_but_never_the_last() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let root = Console::sign_in(&app, "root@ops.test").await;
    make_instance_admin(&app, root.user_id()).await;
    let ada = Console::sign_in(&app, "ada@acme.test").await;
    make_org_admin(&app, "acme", "ada@acme.test").await;

    // Org admins and org keys may not.
    let by_org_admin = ada
        .request(Method::POST, "/api/v1/instance-admins")
        .json(&json!({ "email": "ada@acme.test" }))
        .send()
        .await
        .unwrap();
    expect_error(by_org_admin, 403, "instance_admin_required", None).await;
    let key = app.create_org_key("acme").await;
    let by_key = app
        .with_key(&key, Method::GET, "/api/v1/instance-admins")
        .send()
        .await
        .unwrap();
    expect_error(by_key, 403, "instance_admin_required", None).await;

    let added = root
        .request(Method::POST, "/api/v1/instance-admins")
        .json(&json!({ "email": "Ops@Example.com" }))
        .send()
        .await
        .unwrap();
    let added = expect_status(added, 201).await;
    assert_eq!(added["email"], "ops@example.com");
    let ops = Console::sign_in(&app, "ops@example.com").await;
    assert_eq!(ops.user_id(), added["user_id"].as_str().unwrap());
    let me = ops.request(Method::GET, "/api/v1/me").send().await.unwrap();
    assert_eq!(expect_status(me, 200).await["instance_admin"], true);
    let listed = root
        .request(Method::GET, "/api/v1/instance-admins")
        .send()
        .await
        .unwrap();
    let emails: Vec<String> = expect_status(listed, 200).await["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["email"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(emails, ["root@ops.test", "ops@example.com"]);

    // Removing ends the authority at once; the last one stays.
    let removed = ops
        .request(
            Method::DELETE,
            &format!("/api/v1/instance-admins/{}", root.user_id()),
        )
        .send()
        .await
        .unwrap();
    expect_status(removed, 204).await;
    let me = root
        .request(Method::GET, "/api/v1/me")
        .send()
        .await
        .unwrap();
    expect_error(me, 403, "admin_role_required", None).await;
    let last = ops
        .request(
            Method::DELETE,
            &format!("/api/v1/instance-admins/{}", ops.user_id()),
        )
        .send()
        .await
        .unwrap();
    expect_error(last, 409, "last_instance_admin", None).await;
    let not_admin = ops
        .request(
            Method::DELETE,
            &format!("/api/v1/instance-admins/{}", ada.user_id()),
        )
        .send()
        .await
        .unwrap();
    expect_error(not_admin, 404, "instance_admin_not_found", None).await;

    let events = app
        .admin(
            Method::GET,
            "/api/v1/audit-events?action=instance_admin.removed",
        )
        .send()
        .await
        .unwrap();
    let events = expect_status(events, 200).await;
    assert_eq!(events["data"][0]["target"]["id"], root.user_id());
    assert_eq!(events["data"][0]["actor"]["id"], ops.user_id());
}
