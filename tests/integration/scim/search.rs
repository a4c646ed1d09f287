//! Searching Users and Groups in one request from the directory's root (RFC 7644 §3.4.3).

use reqwest::Method;
use serde_json::{Value, json};
use tessera_tests::{TestApp, expect_status};

use super::{GROUP, directory, expect_scim_error};

const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

fn names(list: &Value) -> Vec<(String, String)> {
    list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let schema = r["schemas"][0].as_str().unwrap();
            let kind = schema.rsplit(':').next().unwrap().to_owned();
            let name = r["userName"].as_str().or(r["displayName"].as_str());
            (kind, name.unwrap_or_else(|| panic!("{list}")).to_owned())
        })
        .collect()
}

#[tokio::test]
async fn root_search_lists_matching_users_then_groups() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    let dir = directory(&app, "acme").await;
    for name in ["smith", "smithers", "jones"] {
        dir.create_user(name, &format!("{name}@acme.example")).await;
    }
    for name in ["Smiths", "Joneses"] {
        let body = json!({ "schemas": [GROUP], "displayName": name });
        expect_status(dir.send(Method::POST, "/Groups", Some(body)).await, 201).await;
    }
    let search = |body: Value| dir.send(Method::POST, "/.search", Some(body));
    let pair = |kind: &str, name: &str| (kind.to_owned(), name.to_owned());

    // userName exists on Users only; displayName on both (the users have none here).
    let body = json!({
        "schemas": [SEARCH],
        "filter": "userName sw \"smith\" or displayName sw \"smith\"",
        "attributes": ["userName", "displayName"],
        "sortBy": "userName",
        "sortOrder": "descending",
    });
    let found = expect_status(search(body).await, 200).await;
    assert_eq!(found["totalResults"], 3);
    assert_eq!(
        names(&found),
        vec![
            pair("User", "smithers"),
            pair("User", "smith"),
            pair("Group", "Smiths")
        ]
    );
    assert!(found["Resources"][0].get("emails").is_none());

    // Pages run across both types; an absent attribute is unequal to anything.
    let body = json!({
        "schemas": [SEARCH],
        "filter": "userName ne \"smith\"",
        "startIndex": 2,
        "count": 2,
    });
    let page = expect_status(search(body).await, 200).await;
    assert_eq!(page["totalResults"], 4);
    assert_eq!(page["startIndex"], 2);
    assert_eq!(
        names(&page),
        vec![pair("User", "jones"), pair("Group", "Smiths")]
    );
    let body = json!({ "schemas": [SEARCH], "startIndex": 5, "count": 10 });
    let last = expect_status(search(body).await, 200).await;
    assert_eq!(last["totalResults"], 5);
    assert_eq!(names(&last), vec![pair("Group", "Joneses")]);

    // An attribute neither type has matches nothing; a malformed filter is still refused.
    let body = json!({ "schemas": [SEARCH], "filter": "nosuch eq \"x\"" });
    let none = expect_status(search(body).await, 200).await;
    assert_eq!(none["totalResults"], 0);
    let body = json!({ "schemas": [SEARCH], "filter": "userName eq" });
    expect_scim_error(search(body).await, 400, Some("invalidFilter")).await;
}
