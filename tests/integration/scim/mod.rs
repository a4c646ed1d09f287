//! The SCIM endpoint: token isolation, the request sequences Entra ID and Okta send, filters,
//! ETags, concurrent group PATCHes, and what provisioning does to memberships, roles and
//! sessions.

mod scale;
mod search;

use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};
use tessera_tests::{Options, TestApp, expect_status};

pub(crate) const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub(crate) const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub(crate) const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// An org's directory as its IdP sees it.
pub(crate) struct Directory<'a> {
    app: &'a TestApp,
    base: String,
    token: String,
}

impl Directory<'_> {
    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.app
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "application/scim+json")
    }

    pub(crate) async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let request = self.request(method, path);
        let request = match body {
            Some(body) => request.body(body.to_string()),
            None => request,
        };
        request.send().await.unwrap()
    }

    pub(crate) async fn create_user(&self, user_name: &str, email: &str) -> Value {
        let body = json!({
            "schemas": [USER],
            "userName": user_name,
            "name": { "givenName": "Ada", "familyName": "Lovelace" },
            "emails": [{ "value": email, "type": "work", "primary": true }],
            "active": true,
        });
        expect_status(self.send(Method::POST, "/Users", Some(body)).await, 201).await
    }

    pub(crate) async fn list(&self, path: &str) -> Value {
        expect_status(self.send(Method::GET, path, None).await, 200).await
    }
}

pub(crate) async fn directory<'a>(app: &'a TestApp, org: &str) -> Directory<'a> {
    let response = app
        .admin(
            Method::POST,
            &format!("/api/v1/organizations/{org}/scim-tokens"),
        )
        .json(&json!({ "name": "provisioning" }))
        .send()
        .await
        .unwrap();
    let created = expect_status(response, 201).await;
    // The in-process app's public URL has port 0; the path is what the IdP is given.
    let path = format!("/scim/v2/{}", org_id(app, org).await);
    let announced = created["base_url"].as_str().unwrap();
    assert!(announced.ends_with(&path), "{announced}");
    let base = app.url(&path);
    Directory {
        app,
        base,
        token: created["token"].as_str().unwrap().to_owned(),
    }
}

async fn org_id(app: &TestApp, org: &str) -> String {
    let response = app
        .admin(Method::GET, &format!("/api/v1/organizations/{org}"))
        .send()
        .await
        .unwrap();
    expect_status(response, 200).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn verify_domain(app: &TestApp, org: &str, domain: &str) {
    let path = format!("/api/v1/organizations/{org}/domains");
    let added = app
        .admin(Method::POST, &path)
        .json(&json!({ "domain": domain }))
        .send()
        .await
        .unwrap();
    expect_status(added, 201).await;
    let verified = app
        .admin(Method::POST, &format!("{path}/{domain}/verify"))
        .json(&json!({ "force": true }))
        .send()
        .await
        .unwrap();
    expect_status(verified, 200).await;
}

pub(crate) async fn expect_scim_error(
    response: Response,
    status: u16,
    scim_type: Option<&str>,
) -> Value {
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/scim+json")
    );
    let body = expect_status(response, status).await;
    assert_eq!(
        body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(body["status"], status.to_string());
    assert_eq!(body["scimType"].as_str(), scim_type, "{body}");
    body
}

async fn membership(app: &TestApp, org: &str, user_id: &str) -> Value {
    let response = app
        .admin(
            Method::GET,
            &format!("/api/v1/organizations/{org}/memberships/{user_id}"),
        )
        .send()
        .await
        .unwrap();
    expect_status(response, 200).await
}

#[tokio::test]
async fn scim_token_cannot_read_other_org() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    app.create_org("globex").await;
    let acme = directory(&app, "acme").await;
    let globex = directory(&app, "globex").await;
    acme.create_user("ada@acme.example", "ada@acme.example")
        .await;

    let crossed = Directory {
        app: &app,
        base: globex.base.clone(),
        token: acme.token.clone(),
    };
    let refused = crossed.send(Method::GET, "/Users", None).await;
    assert!(refused.headers().contains_key("www-authenticate"));
    expect_scim_error(refused, 401, None).await;
    let globex_users = globex.list("/Users").await;
    assert_eq!(globex_users["totalResults"], 0);

    let missing = Directory {
        app: &app,
        base: acme.base.clone(),
        token: "tss_not-a-token".into(),
    };
    expect_scim_error(missing.send(Method::GET, "/Users", None).await, 401, None).await;

    let tokens = app
        .admin(Method::GET, "/api/v1/organizations/acme/scim-tokens")
        .send()
        .await
        .unwrap();
    let token_id = expect_status(tokens, 200).await["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = app
        .admin(
            Method::DELETE,
            &format!("/api/v1/organizations/acme/scim-tokens/{token_id}"),
        )
        .send()
        .await
        .unwrap();
    assert!(expect_status(revoked, 200).await["revoked_at"].is_string());
    expect_scim_error(acme.send(Method::GET, "/Users", None).await, 401, None).await;
}

/// The calls Entra ID's provisioning service makes (Microsoft's "Develop a SCIM endpoint"
/// guide): look up by userName, create with the enterprise extension, PATCH with capitalised
/// ops, string booleans and a work-email value path, groups with members added and removed by
/// value, then soft-delete with active "False".
#[tokio::test]
async fn entra_id_provisioning_sequence() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    verify_domain(&app, "acme", "acme.example").await;
    let dir = directory(&app, "acme").await;

    let lookup = dir
        .list("/Users?filter=userName+eq+%22Test_User_ab6490ee%40acme.example%22")
        .await;
    assert_eq!(lookup["totalResults"], 0);
    assert_eq!(lookup["Resources"], json!([]));

    let created = dir
        .send(
            Method::POST,
            "/Users",
            Some(json!({
                "schemas": [USER, ENTERPRISE],
                "externalId": "0a21f0f2-8d2a-4f8e-bf98-7a2ad3f0e8f1",
                "userName": "Test_User_ab6490ee@acme.example",
                "active": true,
                "displayName": "Test User",
                "emails": [{ "primary": true, "type": "work", "value": "Test_User_ab6490ee@acme.example" }],
                "name": { "formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName" },
                ENTERPRISE: { "department": "Engineering", "employeeNumber": "1234" },
                "roles": [],
            })),
        )
        .await;
    assert!(created.headers().contains_key("etag"));
    assert!(created.headers().contains_key("location"));
    let user = expect_status(created, 201).await;
    assert_eq!(user["schemas"], json!([USER, ENTERPRISE]));
    assert_eq!(user[ENTERPRISE]["department"], "Engineering");
    let id = user["id"].as_str().unwrap().to_owned();

    // Case-insensitive userName lookup, as Entra does before every change.
    let found = dir
        .list("/Users?filter=userName+eq+%22test_user_AB6490EE%40acme.example%22")
        .await;
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["id"], id.as_str());

    let duplicate = dir
        .send(
            Method::POST,
            "/Users",
            Some(json!({ "schemas": [USER], "userName": "TEST_USER_ab6490ee@acme.example" })),
        )
        .await;
    expect_scim_error(duplicate, 409, Some("uniqueness")).await;

    let patched = dir
        .send(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(json!({
                "schemas": [PATCH_OP],
                "Operations": [
                    { "op": "Replace", "path": "displayName", "value": "Renamed User" },
                    { "op": "Add", "path": "emails[type eq \"work\"].value", "value": "renamed@acme.example" },
                    { "op": "Replace", "path": "name.familyName", "value": "Lovelace" },
                    { "op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": "26118915-6090-4610-87e4-49d8ca9f808d" },
                ],
            })),
        )
        .await;
    let patched = expect_status(patched, 200).await;
    assert_eq!(patched["displayName"], "Renamed User");
    assert_eq!(patched["emails"][0]["value"], "renamed@acme.example");
    assert_eq!(patched["name"]["familyName"], "Lovelace");

    // The person became a member of the org, through SCIM.
    let person = membership_of_scim(&app, "acme", "test_user_ab6490ee@acme.example").await;
    assert_eq!(person["source"], "scim");
    assert_eq!(person["status"], "active");

    let group = dir
        .send(
            Method::POST,
            "/Groups",
            Some(json!({
                "schemas": [GROUP],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                "displayName": "Engineering",
                "members": [],
            })),
        )
        .await;
    let group = expect_status(group, 201).await;
    let gid = group["id"].as_str().unwrap().to_owned();
    let add = json!({
        "schemas": [PATCH_OP],
        "Operations": [{ "op": "Add", "path": "members", "value": [{ "value": id }] }],
    });
    expect_status(
        dir.send(Method::PATCH, &format!("/Groups/{gid}"), Some(add))
            .await,
        200,
    )
    .await;
    let filtered = dir
        .list(&format!(
            "/Groups?filter=id+eq+%22{gid}%22+and+members%5Bvalue+eq+%22{id}%22%5D&excludedAttributes=members"
        ))
        .await;
    assert_eq!(filtered["totalResults"], 1);
    assert!(filtered["Resources"][0].get("members").is_none());
    let by_name = dir
        .list("/Groups?filter=displayName+eq+%22engineering%22")
        .await;
    assert_eq!(by_name["Resources"][0]["members"][0]["value"], id.as_str());
    let user_groups = dir.list(&format!("/Users?filter=id+eq+%22{id}%22")).await;
    assert_eq!(
        user_groups["Resources"][0]["groups"][0]["display"],
        "Engineering"
    );

    let remove = json!({
        "schemas": [PATCH_OP],
        "Operations": [{ "op": "Remove", "path": "members", "value": [{ "value": id }] }],
    });
    let after = expect_status(
        dir.send(Method::PATCH, &format!("/Groups/{gid}"), Some(remove))
            .await,
        200,
    )
    .await;
    assert!(after.get("members").is_none(), "{after}");

    let disable = json!({
        "schemas": [PATCH_OP],
        "Operations": [{ "op": "Replace", "path": "active", "value": "False" }],
    });
    let disabled = expect_status(
        dir.send(Method::PATCH, &format!("/Users/{id}"), Some(disable))
            .await,
        200,
    )
    .await;
    assert_eq!(disabled["active"], false);
    let person = membership_of_scim(&app, "acme", "renamed@acme.example").await;
    assert_eq!(person["status"], "suspended");
    let inactive = dir.list("/Users?filter=active+eq+false").await;
    assert_eq!(inactive["totalResults"], 1);
}

/// The member whose email (or SCIM userName) is `email`.
async fn membership_of_scim(app: &TestApp, org: &str, email: &str) -> Value {
    let response = app
        .admin(
            Method::GET,
            &format!("/api/v1/organizations/{org}/memberships"),
        )
        .send()
        .await
        .unwrap();
    let list = expect_status(response, 200).await;
    let items = list["data"].as_array().unwrap();
    let found = items
        .iter()
        .find(|m| m["email"].as_str() == Some(email))
        .or_else(|| items.iter().find(|m| m["source"] == "scim"))
        .unwrap_or_else(|| panic!("no member {email} in {list}"));
    membership(app, org, found["user_id"].as_str().unwrap()).await
}

/// The calls Okta sends (Okta's SCIM 2.0 reference): filtered lookup with startIndex and
/// count, create, PUT of the whole user, path-less replace for deactivation, group create with
/// members, path-less rename that carries the read-only id, member add and remove by filter.
#[tokio::test]
async fn okta_provisioning_sequence() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let dir = directory(&app, "acme").await;
    let lookup = dir
        .list("/Users?filter=userName%20eq%20%22dade%40acme.example%22&startIndex=1&count=100")
        .await;
    assert_eq!(lookup["totalResults"], 0);
    let user = dir
        .create_user("dade@acme.example", "dade@acme.example")
        .await;
    let id = user["id"].as_str().unwrap().to_owned();

    let mut replaced = user.clone();
    replaced["name"]["familyName"] = json!("Murphy");
    replaced["title"] = json!("Engineer");
    let put = expect_status(
        dir.send(Method::PUT, &format!("/Users/{id}"), Some(replaced))
            .await,
        200,
    )
    .await;
    assert_eq!(put["title"], "Engineer");
    assert_eq!(put["meta"]["version"], "W/\"2\"");

    let other = dir
        .create_user("kate@acme.example", "kate@acme.example")
        .await;
    let other_id = other["id"].as_str().unwrap().to_owned();
    let group = dir
        .send(
            Method::POST,
            "/Groups",
            Some(json!({
                "schemas": [GROUP],
                "displayName": "Hackers",
                "members": [{ "value": id, "display": "dade@acme.example" }],
            })),
        )
        .await;
    let group = expect_status(group, 201).await;
    let gid = group["id"].as_str().unwrap().to_owned();
    let rename = json!({
        "schemas": [PATCH_OP],
        "Operations": [{ "op": "replace", "value": { "id": gid, "displayName": "Elite Hackers" } }],
    });
    let renamed = expect_status(
        dir.send(Method::PATCH, &format!("/Groups/{gid}"), Some(rename))
            .await,
        200,
    )
    .await;
    assert_eq!(renamed["displayName"], "Elite Hackers");
    assert_eq!(renamed["members"][0]["value"], id.as_str());

    let members = json!({
        "schemas": [PATCH_OP],
        "Operations": [
            { "op": "add", "path": "members", "value": [{ "value": other_id, "display": "kate@acme.example" }] },
            { "op": "remove", "path": format!("members[value eq \"{id}\"]") },
        ],
    });
    let changed = expect_status(
        dir.send(Method::PATCH, &format!("/Groups/{gid}"), Some(members))
            .await,
        200,
    )
    .await;
    let members = changed["members"].as_array().unwrap();
    assert_eq!(members.len(), 1, "{changed}");
    assert_eq!(members[0]["value"], other_id.as_str());
    assert_eq!(members[0]["type"], "User");
    let reference = members[0]["$ref"].as_str().unwrap();
    assert!(
        reference.ends_with(&format!("/Users/{other_id}")),
        "{reference}"
    );

    let unknown = json!({
        "schemas": [PATCH_OP],
        "Operations": [{ "op": "add", "path": "members", "value": [{ "value": "00000000-0000-0000-0000-000000000000" }] }],
    });
    expect_scim_error(
        dir.send(Method::PATCH, &format!("/Groups/{gid}"), Some(unknown))
            .await,
        400,
        Some("invalidValue"),
    )
    .await;

    let deactivate = json!({
        "schemas": [PATCH_OP],
        "Operations": [{ "op": "replace", "value": { "active": false } }],
    });
    let off = expect_status(
        dir.send(Method::PATCH, &format!("/Users/{id}"), Some(deactivate))
            .await,
        200,
    )
    .await;
    assert_eq!(off["active"], false);

    expect_status(
        dir.send(Method::DELETE, &format!("/Groups/{gid}"), None)
            .await,
        204,
    )
    .await;
    expect_scim_error(
        dir.send(Method::GET, &format!("/Groups/{gid}"), None).await,
        404,
        None,
    )
    .await;
}

#[tokio::test]
async fn filters_sorting_and_pages_run_in_the_database() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let dir = directory(&app, "acme").await;
    for (name, email) in [
        ("carol", "carol@acme.com"),
        ("alice", "alice@Example.org"),
        ("bob", "bob@acme.com"),
    ] {
        dir.create_user(name, email).await;
    }
    let filter = |f: &str| format!("/Users?filter={}", urlencode(f));
    let work_acme = dir
        .list(&filter(
            r#"emails[type eq "work" and value co "@ACME.com"]"#,
        ))
        .await;
    assert_eq!(work_acme["totalResults"], 2);
    let not_acme = dir
        .list(&filter(r#"not (emails.value ew "acme.com")"#))
        .await;
    assert_eq!(not_acme["totalResults"], 1);
    assert_eq!(not_acme["Resources"][0]["userName"], "alice");
    let either = dir
        .list(&filter(
            r#"userName sw "a" or (userName eq "BOB" and active eq true)"#,
        ))
        .await;
    assert_eq!(either["totalResults"], 2);
    let absent = dir.list(&filter("title pr")).await;
    assert_eq!(absent["totalResults"], 0);

    let page = dir
        .list(
            "/Users?sortBy=userName&sortOrder=descending&startIndex=2&count=1&attributes=userName",
        )
        .await;
    assert_eq!(page["totalResults"], 3);
    assert_eq!(page["startIndex"], 2);
    assert_eq!(page["itemsPerPage"], 1);
    assert_eq!(
        page["Resources"][0],
        json!({
            "id": page["Resources"][0]["id"],
            "schemas": [USER],
            "userName": "bob",
        })
    );
    let count_only = dir.list("/Users?count=0").await;
    assert_eq!(count_only["totalResults"], 3);
    assert_eq!(count_only["Resources"], json!([]));

    let search = dir
        .send(
            Method::POST,
            "/Users/.search",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": "name.familyName eq \"lovelace\"",
                "excludedAttributes": ["emails", "name"],
                "count": 10,
            })),
        )
        .await;
    let search = expect_status(search, 200).await;
    assert_eq!(search["totalResults"], 3);
    assert!(search["Resources"][0].get("emails").is_none());

    for bad in [
        r#"userName eq"#,
        r#"(userName eq "x""#,
        r#"nosuch eq "x""#,
        r#"userName zz "x""#,
    ] {
        let response = dir.send(Method::GET, &filter(bad), None).await;
        let body = expect_scim_error(response, 400, Some("invalidFilter")).await;
        assert!(!body["detail"].as_str().unwrap().is_empty());
    }
    let deep = format!("{}userName eq \"x\"{}", "(".repeat(40), ")".repeat(40));
    expect_scim_error(
        dir.send(Method::GET, &filter(&deep), None).await,
        400,
        Some("invalidFilter"),
    )
    .await;
}

pub(crate) fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn if_match_guards_writes_with_the_etag() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let dir = directory(&app, "acme").await;
    let user = dir.create_user("ada", "ada@acme.example").await;
    let id = user["id"].as_str().unwrap();
    let etag = user["meta"]["version"].as_str().unwrap().to_owned();
    let patch = json!({
        "schemas": [PATCH_OP],
        "Operations": [{ "op": "replace", "path": "title", "value": "CTO" }],
    });
    let stale = dir
        .request(Method::PATCH, &format!("/Users/{id}"))
        .header("if-match", "W/\"41\"")
        .body(patch.to_string())
        .send()
        .await
        .unwrap();
    expect_scim_error(stale, 412, None).await;
    let fresh = dir
        .request(Method::PATCH, &format!("/Users/{id}"))
        .header("if-match", &etag)
        .body(patch.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        fresh.headers().get("etag").unwrap().to_str().unwrap(),
        "W/\"2\""
    );
    let stale_delete = dir
        .request(Method::DELETE, &format!("/Users/{id}"))
        .header("if-match", &etag)
        .send()
        .await
        .unwrap();
    expect_scim_error(stale_delete, 412, None).await;
    let read_only = json!({
        "schemas": [PATCH_OP],
        "Operations": [{ "op": "replace", "path": "groups", "value": [] }],
    });
    expect_scim_error(
        dir.send(Method::PATCH, &format!("/Users/{id}"), Some(read_only))
            .await,
        400,
        Some("mutability"),
    )
    .await;
    let malformed = dir
        .request(Method::POST, "/Users")
        .body("{\"userName\": ")
        .send()
        .await
        .unwrap();
    expect_scim_error(malformed, 400, Some("invalidSyntax")).await;
    let missing = dir
        .send(
            Method::POST,
            "/Users",
            Some(json!({ "schemas": [USER], "displayName": "x" })),
        )
        .await;
    expect_scim_error(missing, 400, Some("invalidValue")).await;
    let users = dir.list("/Users").await;
    assert_eq!(
        users["totalResults"], 1,
        "refused writes left nothing behind"
    );
}

#[tokio::test]
async fn concurrent_member_patches_lose_no_member() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let dir = directory(&app, "acme").await;
    let group = dir
        .send(
            Method::POST,
            "/Groups",
            Some(json!({ "schemas": [GROUP], "displayName": "Everyone" })),
        )
        .await;
    let gid = expect_status(group, 201).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ids = Vec::new();
    for i in 0..16 {
        let user = dir
            .create_user(&format!("user{i}"), &format!("user{i}@acme.example"))
            .await;
        ids.push(user["id"].as_str().unwrap().to_owned());
    }
    // Half add members with the fast path, half through a path-less replace mixed with a
    // rename (the document path, read-modify-write), all at once.
    let path = format!("/Groups/{gid}");
    let requests = ids.iter().enumerate().map(|(i, id)| {
        let operations = if i % 2 == 0 {
            json!([{ "op": "add", "path": "members", "value": [{ "value": id }] }])
        } else {
            json!([
                { "op": "replace", "path": "displayName", "value": format!("Everyone {i}") },
                { "op": "add", "path": "members", "value": [{ "value": id }] },
                { "op": "replace", "path": "externalId", "value": format!("ext-{i}") },
            ])
        };
        dir.send(
            Method::PATCH,
            &path,
            Some(json!({ "schemas": [PATCH_OP], "Operations": operations })),
        )
    });
    for response in futures::future::join_all(requests).await {
        expect_status(response, 200).await;
    }
    let group = dir.list(&format!("/Groups/{gid}")).await;
    let mut members: Vec<String> = group["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_owned())
        .collect();
    members.sort();
    ids.sort();
    assert_eq!(members, ids);
}

#[tokio::test]
async fn groups_map_to_roles_and_deactivation_revokes_access() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    verify_domain(&app, "acme", "acme.example").await;
    let rules = app
        .admin(Method::PUT, "/api/v1/organizations/acme/role-mappings")
        .json(&json!({
            "rules": [{ "claim": "groups", "op": "equals", "value": "Engineering", "role": "engineer" }],
            "default_role": "member",
        }))
        .send()
        .await
        .unwrap();
    expect_status(rules, 200).await;
    // Ada already has an account and a session; provisioning links to it by verified domain.
    let signed_in = app.sign_in("ada@acme.example", None, &["pwd"]).await;
    let dir = directory(&app, "acme").await;
    let user = dir.create_user("ada", "ada@acme.example").await;
    let id = user["id"].as_str().unwrap().to_owned();
    let member = membership(&app, "acme", &signed_in.user_id).await;
    assert_eq!(member["roles"], json!(["member"]));

    let group = dir
        .send(
            Method::POST,
            "/Groups",
            Some(json!({ "schemas": [GROUP], "displayName": "Engineering", "members": [{ "value": id }] })),
        )
        .await;
    let gid = expect_status(group, 201).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        membership(&app, "acme", &signed_in.user_id).await["roles"],
        json!(["engineer"])
    );
    let remove = json!({
        "schemas": [PATCH_OP],
        "Operations": [{ "op": "remove", "path": format!("members[value eq \"{id}\"]") }],
    });
    expect_status(
        dir.send(Method::PATCH, &format!("/Groups/{gid}"), Some(remove))
            .await,
        200,
    )
    .await;
    assert_eq!(
        membership(&app, "acme", &signed_in.user_id).await["roles"],
        json!(["member"])
    );

    let key = app
        .admin(Method::POST, "/api/v1/organizations/acme/api-keys")
        .json(&json!({ "name": "ada's script", "scopes": ["reports:read"], "user_id": signed_in.user_id }))
        .send()
        .await
        .unwrap();
    let key_id = expect_status(key, 201).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let user_id: broker::entities::UserId = signed_in.user_id.parse().unwrap();
    assert_eq!(app.broker().sessions_of(user_id).await.unwrap().len(), 1);

    let disable = json!({
        "schemas": [PATCH_OP],
        "Operations": [{ "op": "replace", "path": "active", "value": false }],
    });
    expect_status(
        dir.send(Method::PATCH, &format!("/Users/{id}"), Some(disable))
            .await,
        200,
    )
    .await;
    assert!(app.broker().sessions_of(user_id).await.unwrap().is_empty());
    let keys = app
        .admin(Method::GET, "/api/v1/organizations/acme/api-keys")
        .send()
        .await
        .unwrap();
    let keys = expect_status(keys, 200).await;
    let key = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == key_id.as_str())
        .unwrap();
    assert!(key["revoked_at"].is_string(), "{key}");
    assert_eq!(
        membership(&app, "acme", &signed_in.user_id).await["status"],
        "suspended"
    );

    expect_status(
        dir.send(Method::DELETE, &format!("/Users/{id}"), None)
            .await,
        204,
    )
    .await;
    let gone = app
        .admin(
            Method::GET,
            &format!(
                "/api/v1/organizations/acme/memberships/{}",
                signed_in.user_id
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    assert_eq!(dir.list("/Users").await["totalResults"], 0);
}

#[tokio::test]
async fn rate_limited_token_gets_429_with_retry_after() {
    let app = TestApp::spawn_with(Options {
        env: vec![("TESSERA_SCIM_REQUESTS_PER_MINUTE".into(), "3".into())],
        ..Options::default()
    })
    .await;
    app.create_org("acme").await;
    let dir = directory(&app, "acme").await;
    for _ in 0..3 {
        expect_status(dir.send(Method::GET, "/Users", None).await, 200).await;
    }
    let limited = dir.send(Method::GET, "/Users", None).await;
    let retry_after: u64 = limited
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    expect_scim_error(limited, 429, None).await;
}

async fn refused_requests_in_audit_log(app: &TestApp, org: &str) -> Vec<Value> {
    let response = app
        .admin(
            Method::GET,
            &format!(
                "/api/v1/organizations/{org}/audit-events?action=scim.request_failed&limit=100"
            ),
        )
        .send()
        .await
        .unwrap();
    let page = expect_status(response, 200).await;
    page["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn refused_requests_are_in_the_orgs_audit_log_for_its_admins() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    app.create_org("globex").await;
    let dir = directory(&app, "acme").await;
    dir.create_user("ada@acme.test", "ada@acme.test").await;

    let duplicate = json!({ "schemas": [USER], "userName": "ada@acme.test" });
    let answer = dir.send(Method::POST, "/Users", Some(duplicate)).await;
    expect_scim_error(answer, 409, Some("uniqueness")).await;
    let filter = format!("/Users?filter={}", urlencode("userName zz \"x\""));
    let answer = dir.send(Method::GET, &filter, None).await;
    expect_scim_error(answer, 400, Some("invalidFilter")).await;
    // A lookup that finds nothing is an answer, not a failure.
    let missing = "/Users/0191d6f2-0000-7000-8000-000000000000";
    expect_scim_error(dir.send(Method::GET, missing, None).await, 404, None).await;

    let events = refused_requests_in_audit_log(&app, "acme").await;
    assert_eq!(events.len(), 2, "{events:#?}");
    let (invalid_filter, duplicate) = (&events[0]["data"], &events[1]["data"]);
    assert_eq!(duplicate["method"], "POST");
    assert_eq!(duplicate["path"], "/Users");
    assert_eq!(duplicate["status"], 409);
    assert_eq!(duplicate["scim_type"], "uniqueness");
    assert!(
        duplicate["detail"].as_str().unwrap().contains("userName"),
        "{duplicate}"
    );
    assert_eq!(invalid_filter["method"], "GET");
    assert_eq!(invalid_filter["path"], "/Users");
    assert_eq!(invalid_filter["scim_type"], "invalidFilter");
    assert_eq!(events[0]["actor"]["kind"], "scim_token");
    assert!(
        refused_requests_in_audit_log(&app, "globex")
            .await
            .is_empty()
    );

    // An IdP stuck retrying a bad request fills at most 30 entries a minute.
    for _ in 0..40 {
        let answer = dir.send(Method::PATCH, missing, Some(json!({}))).await;
        assert!(answer.status().is_client_error(), "{}", answer.status());
    }
    let events = refused_requests_in_audit_log(&app, "acme").await;
    assert_eq!(events.len(), 30, "{events:#?}");
}
