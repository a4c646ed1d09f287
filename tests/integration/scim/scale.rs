//! SCIM at scale, with the limits turned down so a handful of rows reach them: groups larger
//! than one response carries, paging through their members with a filter on the users'
//! groups, and list pages read one after another while the directory changes.

use reqwest::Method;
use serde_json::{Value, json};
use tessera_tests::{Options, TestApp, expect_status};

use super::{Directory, GROUP, PATCH_OP, directory, expect_scim_error, urlencode};

/// An app whose SCIM responses carry at most three group members.
async fn small_responses() -> TestApp {
    let app = TestApp::spawn_with(Options {
        env: vec![("TESSERA_SCIM_MAX_MEMBERS_RETURNED".into(), "3".into())],
        ..Options::default()
    })
    .await;
    app.create_org("acme").await;
    app
}

async fn users(dir: &Directory<'_>, names: &[&str]) -> Vec<String> {
    let mut ids = Vec::new();
    for name in names {
        let user = dir.create_user(name, &format!("{name}@acme.example")).await;
        ids.push(user["id"].as_str().unwrap().to_owned());
    }
    ids
}

async fn group(dir: &Directory<'_>, name: &str, members: &[String]) -> Value {
    let members: Vec<Value> = members.iter().map(|id| json!({ "value": id })).collect();
    let body = json!({ "schemas": [GROUP], "displayName": name, "members": members });
    expect_status(dir.send(Method::POST, "/Groups", Some(body)).await, 201).await
}

fn ids_of(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every page of `query` (which ends in `count=…`), read in order as an IdP does.
async fn walk(dir: &Directory<'_>, query: &str, count: usize) -> (Vec<String>, Vec<u64>) {
    let (mut ids, mut totals) = (Vec::new(), Vec::new());
    let mut start = 1;
    loop {
        let page = dir.list(&format!("{query}&startIndex={start}")).await;
        let found = ids_of(&page);
        ids.extend(found.iter().cloned());
        totals.push(page["totalResults"].as_u64().unwrap());
        if found.len() < count {
            return (ids, totals);
        }
        start += count;
    }
}

#[tokio::test]
async fn group_larger_than_a_response_is_read_without_members_or_paged_through_users() {
    let app = small_responses().await;
    let dir = directory(&app, "acme").await;
    let ids = users(&dir, &["ann", "ben", "cat", "dan", "eve"]).await;
    let small = group(&dir, "Small", &ids[..3]).await;
    assert_eq!(small["members"].as_array().unwrap().len(), 3);
    let created = group(&dir, "Everyone", &ids[..4]).await;
    // The creation answers with the members the request named, however many.
    assert_eq!(created["members"].as_array().unwrap().len(), 4);
    let gid = created["id"].as_str().unwrap().to_owned();

    let whole = dir.send(Method::GET, &format!("/Groups/{gid}"), None).await;
    let refused = expect_scim_error(whole, 400, Some("tooMany")).await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("excludedAttributes=members")
    );
    let without = dir
        .list(&format!("/Groups/{gid}?excludedAttributes=members"))
        .await;
    assert_eq!(without["displayName"], "Everyone");
    assert!(without.get("members").is_none());
    let named = dir
        .list(&format!("/Groups/{gid}?attributes=displayName"))
        .await;
    assert_eq!(named["displayName"], "Everyone");
    // A group within the limit still comes whole, alone or in a list.
    let small_id = small["id"].as_str().unwrap();
    let read = dir.list(&format!("/Groups/{small_id}")).await;
    assert_eq!(read["members"].as_array().unwrap().len(), 3);
    let one = dir
        .list(&format!(
            "/Groups?filter={}",
            urlencode("displayName eq \"small\"")
        ))
        .await;
    assert_eq!(one["Resources"][0]["members"].as_array().unwrap().len(), 3);
    // Both groups in one list: seven members in all.
    let all = dir.send(Method::GET, "/Groups", None).await;
    expect_scim_error(all, 400, Some("tooMany")).await;
    let all = dir.list("/Groups?excludedAttributes=members").await;
    assert_eq!(all["totalResults"], 2);

    // Its members, a page at a time, through the users' groups.
    let filter = urlencode(&format!("groups.value eq \"{gid}\""));
    let (mut paged, totals) = walk(&dir, &format!("/Users?filter={filter}&count=2"), 2).await;
    assert_eq!(totals, vec![4, 4, 4]);
    paged.sort();
    let mut expected = ids[..4].to_vec();
    expected.sort();
    assert_eq!(paged, expected);

    // A member PATCH on it answers 204 with the new version; with members excluded, 200.
    let add = |id: &str| json!({ "schemas": [PATCH_OP], "Operations": [{ "op": "add", "path": "members", "value": [{ "value": id }] }] });
    let patched = dir
        .send(Method::PATCH, &format!("/Groups/{gid}"), Some(add(&ids[4])))
        .await;
    assert_eq!(patched.status(), 204);
    assert_eq!(patched.headers()["etag"], "W/\"2\"");
    let remove = json!({ "schemas": [PATCH_OP], "Operations": [{ "op": "remove", "path": format!("members[value eq \"{}\"]", ids[0]) }] });
    let patched = dir
        .send(
            Method::PATCH,
            &format!("/Groups/{gid}?excludedAttributes=members"),
            Some(remove),
        )
        .await;
    let patched = expect_status(patched, 200).await;
    assert_eq!(patched["meta"]["version"], "W/\"3\"");
    assert!(patched.get("members").is_none());
    let members = dir.list(&format!("/Users?filter={filter}")).await;
    assert_eq!(members["totalResults"], 4);
    assert!(!ids_of(&members).contains(&ids[0]));

    // A PATCH that rewrites the whole member list is refused, and changes nothing.
    let mixed = json!({ "schemas": [PATCH_OP], "Operations": [
        { "op": "replace", "path": "displayName", "value": "All" },
        { "op": "add", "path": "members", "value": [{ "value": ids[0] }] },
    ] });
    let refused = dir
        .send(Method::PATCH, &format!("/Groups/{gid}"), Some(mixed))
        .await;
    let refused = expect_scim_error(refused, 400, Some("tooMany")).await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("add and remove")
    );
    let after = dir
        .list(&format!("/Groups/{gid}?excludedAttributes=members"))
        .await;
    assert_eq!(after["displayName"], "Everyone");
    assert_eq!(after["meta"]["version"], "W/\"3\"");
}

#[tokio::test]
async fn users_filter_on_the_groups_they_belong_to() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let dir = directory(&app, "acme").await;
    let ids = users(&dir, &["ann", "ben", "cat"]).await;
    let eng = group(&dir, "Engineering", &ids[..2]).await;
    let eng = eng["id"].as_str().unwrap();
    group(&dir, "Sales", &ids[1..2]).await;
    let names = |list: Value| -> Vec<String> {
        let mut names: Vec<String> = list["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["userName"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    let find = |filter: &str| format!("/Users?filter={}&attributes=userName", urlencode(filter));
    let cases = [
        (format!("groups eq \"{eng}\""), vec!["ann", "ben"]),
        (format!("groups.value ne \"{eng}\""), vec!["cat"]),
        ("groups.display sw \"SAL\"".to_owned(), vec!["ben"]),
        (
            "groups[display eq \"sales\" or display co \"eer\"]".to_owned(),
            vec!["ann", "ben"],
        ),
        (
            format!("groups[display eq \"Sales\" and value eq \"{eng}\"]"),
            vec![],
        ),
        ("not (groups pr)".to_owned(), vec!["cat"]),
        ("groups.value eq \"not-a-group-id\"".to_owned(), vec![]),
    ];
    for (filter, expected) in cases {
        assert_eq!(names(dir.list(&find(&filter)).await), expected, "{filter}");
    }
    let refused = dir
        .send(Method::GET, &find("groups.type eq \"direct\""), None)
        .await;
    expect_scim_error(refused, 400, Some("invalidFilter")).await;
}

#[tokio::test]
async fn pages_read_in_order_see_every_user_once_while_the_directory_changes() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let dir = directory(&app, "acme").await;
    let names = ["u1", "u2", "u3", "u4", "u5", "u6", "u7"];
    let ids = users(&dir, &names).await;

    let (walked, totals) = walk(&dir, "/Users?count=2", 2).await;
    assert_eq!(walked, ids, "in creation (id) order, each once");
    assert_eq!(totals, vec![7; 4]);
    let (by_name, _) = walk(
        &dir,
        "/Users?sortBy=userName&sortOrder=descending&count=3",
        3,
    )
    .await;
    let mut reversed = ids.clone();
    reversed.reverse();
    assert_eq!(by_name, reversed);
    let (by_creation, _) = walk(&dir, "/Users?sortBy=meta.created&count=3", 3).await;
    assert_eq!(by_creation, ids);
    // A sort pages cannot continue after (everyone has the same given name) uses positions.
    let (by_given_name, totals) = walk(&dir, "/Users?sortBy=name.givenName&count=3", 3).await;
    assert_eq!(by_given_name, ids);
    assert_eq!(totals, vec![7; 3]);
    // A page asked for out of order (no page of this query was read) starts at its position.
    let jump = dir
        .list("/Users?filter=userName%20pr&startIndex=5&count=2")
        .await;
    assert_eq!(ids_of(&jump), ids[4..6].to_vec());
    assert_eq!(jump["totalResults"], 7);
    let last = dir
        .list("/Users?filter=userName%20pr&startIndex=6&count=2")
        .await;
    assert_eq!(ids_of(&last), ids[5..7].to_vec());
    assert_eq!(last["totalResults"], 7);

    // Someone on the first page is deleted before the second is read: the walk goes on from
    // where it was, so nobody is skipped (an offset would now skip u3).
    let first = dir
        .list("/Users?filter=userName%20sw%20%22u%22&count=2")
        .await;
    assert_eq!(ids_of(&first), ids[..2].to_vec());
    expect_status(
        dir.send(Method::DELETE, &format!("/Users/{}", ids[0]), None)
            .await,
        204,
    )
    .await;
    let second = dir
        .list("/Users?filter=userName%20sw%20%22u%22&count=2&startIndex=3")
        .await;
    assert_eq!(ids_of(&second), ids[2..4].to_vec());
    assert_eq!(
        second["totalResults"], 7,
        "the total of the walk's first page"
    );
    let fresh = dir
        .list("/Users?filter=userName%20sw%20%22u%22&count=2")
        .await;
    assert_eq!(fresh["totalResults"], 6);
}

/// The roles of the org's only member.
async fn only_member_roles(app: &TestApp) -> Value {
    let response = app
        .admin(Method::GET, "/api/v1/organizations/acme/memberships")
        .send()
        .await
        .unwrap();
    let list = expect_status(response, 200).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "{list}");
    list["data"][0]["roles"].clone()
}

#[tokio::test]
async fn renaming_a_group_recomputes_the_roles_its_name_gave() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
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
    let dir = directory(&app, "acme").await;
    let ids = users(&dir, &["ann"]).await;
    let eng = group(&dir, "Engineering", &ids).await;
    let sales = group(&dir, "Sales", &ids).await;
    assert_eq!(only_member_roles(&app).await, json!(["engineer"]));
    let rename = async |group: &Value, name: &str| {
        let body = json!({ "schemas": [PATCH_OP], "Operations": [{ "op": "replace", "path": "displayName", "value": name }] });
        let path = format!("/Groups/{}", group["id"].as_str().unwrap());
        expect_status(dir.send(Method::PATCH, &path, Some(body)).await, 200).await;
    };
    // A name no rule mentions, renamed: nothing to recompute, nothing changes.
    rename(&sales, "Revenue").await;
    assert_eq!(only_member_roles(&app).await, json!(["engineer"]));
    rename(&eng, "Platform").await;
    assert_eq!(only_member_roles(&app).await, json!(["member"]));
    rename(&eng, "Engineering").await;
    assert_eq!(only_member_roles(&app).await, json!(["engineer"]));
}
