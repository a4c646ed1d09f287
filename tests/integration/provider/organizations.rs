//! Organizations in tokens: which org a grant carries, roles from the membership, and apps
//! restricted to one org refusing everyone else.

use broker::entities::{OrgId, membership, membership::MembershipStatus};
use reqwest::Method;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use serde_json::json;
use tessera_tests::{TestApp, expect_status, location_params, pkce_pair, verify_with_jwks};

use super::flow::{authorize, exchange, refresh, standard, tokens_for, web_app};

async fn member(app: &TestApp, org: &str, email: &str, roles: &[&str]) {
    let response = app
        .admin(
            Method::POST,
            &format!("/api/v1/organizations/{org}/memberships"),
        )
        .json(&json!({ "email": email, "roles": roles }))
        .send()
        .await
        .unwrap();
    expect_status(response, 201).await;
}

#[tokio::test]
async fn tokens_carry_the_org_and_roles_of_the_membership() {
    let app = TestApp::spawn().await;
    let org = app.create_org("acme").await;
    member(&app, "acme", "ada@acme.example", &["admin", "billing"]).await;
    let (id, secret) = web_app(&app, json!({})).await;
    let user = app.sign_in("ada@acme.example", None, &["pwd"]).await;
    let body = tokens_for(&app, &user, (&id, &secret), "openid").await;
    let (_, id_token) = verify_with_jwks(&app, body["id_token"].as_str().unwrap()).await;
    assert_eq!(id_token["org_id"], org["id"]);
    assert_eq!(id_token["org_slug"], "acme");
    assert_eq!(id_token["roles"], json!(["admin", "billing"]));
    let (_, access) = verify_with_jwks(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(access["org_id"], org["id"]);
    assert_eq!(access["roles"], json!(["admin", "billing"]));
}

#[tokio::test]
async fn the_organization_parameter_picks_among_memberships() {
    let app = TestApp::spawn().await;
    let acme = app.create_org("acme").await;
    let globex = app.create_org("globex").await;
    member(&app, "acme", "ada@example.com", &["admin"]).await;
    member(&app, "globex", "ada@example.com", &["viewer"]).await;
    let (id, secret) = web_app(&app, json!({})).await;
    let user = app.sign_in("ada@example.com", None, &["pwd"]).await;

    let (verifier, challenge) = pkce_pair();
    let mut params = standard(&id, &challenge, "openid");
    params.push(("organization", "globex"));
    let (_, query) = location_params(&authorize(&app, Some(&user), &params).await);
    let body = expect_status(
        exchange(&app, (&id, &secret), &query["code"], &verifier).await,
        200,
    )
    .await;
    let (_, id_token) = verify_with_jwks(&app, body["id_token"].as_str().unwrap()).await;
    assert_eq!(id_token["org_id"], globex["id"]);
    assert_eq!(id_token["roles"], json!(["viewer"]));

    // Member of two organizations and none asked for: no organization in the tokens.
    let body = tokens_for(&app, &user, (&id, &secret), "openid").await;
    let (_, id_token) = verify_with_jwks(&app, body["id_token"].as_str().unwrap()).await;
    assert!(id_token.get("org_id").is_none());

    // A suspended membership (SCIM deactivation) does not count: acme is now the only one,
    // seen by the next request of the same session.
    membership::Entity::update_many()
        .col_expr(
            membership::Column::Status,
            Expr::value(MembershipStatus::Suspended),
        )
        .filter(
            membership::Column::OrgId.eq(globex["id"].as_str().unwrap().parse::<OrgId>().unwrap()),
        )
        .exec(app.broker().db())
        .await
        .unwrap();
    let body = tokens_for(&app, &user, (&id, &secret), "openid").await;
    let (_, id_token) = verify_with_jwks(&app, body["id_token"].as_str().unwrap()).await;
    assert_eq!(id_token["org_id"], acme["id"]);
    assert_eq!(id_token["roles"], json!(["admin"]));
}

#[tokio::test]
async fn an_org_restricted_app_refuses_people_outside_its_org() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    app.create_org("globex").await;
    member(&app, "globex", "eve@globex.example", &["admin"]).await;
    let (id, _) = web_app(&app, json!({ "organization": "acme" })).await;
    let outsider = app.sign_in("eve@globex.example", None, &["pwd"]).await;
    let (_, challenge) = pkce_pair();
    let (_, query) = location_params(
        &authorize(&app, Some(&outsider), &standard(&id, &challenge, "openid")).await,
    );
    assert_eq!(query["error"], "access_denied");

    let mut cross = standard(&id, &challenge, "openid");
    cross.push(("organization", "globex"));
    let (_, query) = location_params(&authorize(&app, Some(&outsider), &cross).await);
    assert_eq!(
        query["error"], "access_denied",
        "asking for another org does not widen the app"
    );
}

#[tokio::test]
async fn removing_a_member_ends_their_refresh_tokens() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    member(&app, "acme", "bob@acme.example", &["member"]).await;
    let (id, secret) = web_app(&app, json!({ "organization": "acme" })).await;
    let user = app.sign_in("bob@acme.example", None, &["pwd"]).await;
    let body = tokens_for(&app, &user, (&id, &secret), "openid offline_access").await;
    let removed = app
        .admin(
            Method::DELETE,
            &format!("/api/v1/organizations/acme/memberships/{}", user.user_id),
        )
        .send()
        .await
        .unwrap();
    expect_status(removed, 204).await;
    let refused = refresh(
        &app,
        (&id, &secret),
        body["refresh_token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(expect_status(refused, 400).await["error"], "invalid_grant");
}

#[tokio::test]
async fn a_refresh_carries_the_members_current_roles_and_ends_when_the_user_is_disabled() {
    let app = TestApp::spawn().await;
    app.create_org("acme").await;
    member(&app, "acme", "bob@acme.example", &["member"]).await;
    let (id, secret) = web_app(&app, json!({ "organization": "acme" })).await;
    let signed_in = app.sign_in("bob@acme.example", None, &["pwd"]).await;
    let body = tokens_for(&app, &signed_in, (&id, &secret), "openid offline_access").await;
    let creds = (id.as_str(), secret.as_str());

    let promoted = app
        .admin(
            Method::PATCH,
            &format!(
                "/api/v1/organizations/acme/memberships/{}",
                signed_in.user_id
            ),
        )
        .json(&json!({ "roles": ["admin"] }))
        .send()
        .await
        .unwrap();
    expect_status(promoted, 200).await;
    let refreshed = expect_status(
        refresh(&app, creds, body["refresh_token"].as_str().unwrap(), None).await,
        200,
    )
    .await;
    let (_, access) = verify_with_jwks(&app, refreshed["access_token"].as_str().unwrap()).await;
    assert_eq!(access["roles"], json!(["admin"]));

    app.disable_user(&signed_in.user_id).await;
    let refused = refresh(
        &app,
        creds,
        refreshed["refresh_token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(expect_status(refused, 400).await["error"], "invalid_grant");
}
