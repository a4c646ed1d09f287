//! Bad input on the sign-in pages: bodies far over the limit and addresses that are not
//! addresses. A clear answer (never a 500, never a hang), and nothing sent or created.

use std::time::Duration;

use serde_json::json;
use tessera_tests::expect_error;

use super::browser::{Browser, app_with_mail, audit_events};

const MIB: usize = 1024 * 1024;

#[tokio::test]
async fn oversized_bodies_get_a_clear_413() {
    let (app, sink) = app_with_mail(&[]).await;
    let mut browser = Browser::new(&app);
    browser.client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let (_, csrf) = browser.page("/login").await;

    // A 1 MiB form on the page that sends mail: the page again, saying what is wrong.
    let huge_email = format!("{}@example.com", "a".repeat(MIB));
    let form = browser
        .post("/login/email", &[("csrf", &csrf), ("email", &huge_email)])
        .await;
    assert_eq!(form.status(), 413);
    let page = form.text().await.unwrap();
    assert!(page.contains("payload_too_large"), "{page}");
    assert!(page.contains("at most 16 KiB"), "{page}");

    // A 1 MiB passkey answer: the JSON error the page's script shows.
    let answer = json!({ "ceremony": "x", "credential": { "id": "a".repeat(MIB) } });
    let json = browser.post_json("/login/passkey", &answer).await;
    let body = expect_error(json, 413, "payload_too_large", None).await;
    assert!(body["message"].as_str().unwrap().contains("at most 64 KiB"));

    // The server is still there and nothing was sent.
    assert_eq!(browser.get("/login").await.status(), 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(sink.all().is_empty(), "{:?}", sink.all());
    assert!(audit_events(&app, "user.email_link_sent").await.is_empty());
}

#[tokio::test]
async fn invalid_addresses_are_refused_naming_the_field_and_nothing_is_sent() {
    let (app, sink) = app_with_mail(&[]).await;
    let mut browser = Browser::new(&app);
    let too_long = format!("{}@example.com", "a".repeat(300));
    for bad in [
        "not an email",
        "ada@localhost",
        "@example.com",
        "ada@",
        "ada@@example.com",
        "ada@exa mple.com",
        "<ada>@example.com",
        too_long.as_str(),
    ] {
        let (_, csrf) = browser.page("/login").await;
        let refused = browser
            .post("/login/email", &[("csrf", &csrf), ("email", bad)])
            .await;
        assert_eq!(refused.status(), 400, "{bad}");
        let page = refused.text().await.unwrap();
        assert!(
            page.contains("email must be an email address like name@example.com"),
            "{bad}: {page}"
        );
        // The page keeps what was typed (escaped), so it can be corrected.
        let shown = bad.replace('<', "&lt;").replace('>', "&gt;");
        assert!(
            page.contains(&format!("value=\"{shown}\"")),
            "{bad}: {page}"
        );
        assert!(page.contains("aria-invalid=\"true\""), "{bad}: {page}");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(sink.all().is_empty(), "{:?}", sink.all());
    assert!(audit_events(&app, "user.email_link_sent").await.is_empty());
    assert!(audit_events(&app, "user.created").await.is_empty());
}
