//! No account enumeration by timing: a password sign-in for an address with no account, or
//! with an account but no password, takes as long as a wrong password for a real one (each
//! runs Argon2 once), and fails with the same page.

use std::time::{Duration, Instant};

use tessera_tests::TestApp;

use super::browser::{Browser, app_with_mail};

/// Timed tries per kind of address. Each account takes at most four failures here: the fifth
/// would soft-lock it, and a locked account answers without hashing.
const TRIES: usize = 7;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Signs in with `email` and a wrong password; returns how long it took and the page.
async fn try_password(browser: &mut Browser, email: &str) -> (Duration, String) {
    let (_, csrf) = browser.page("/login").await;
    let started = Instant::now();
    let response = browser
        .post(
            "/login/password",
            &[
                ("csrf", csrf.as_str()),
                ("email", email),
                ("password", "not the right password"),
            ],
        )
        .await;
    let elapsed = started.elapsed();
    assert_eq!(response.status(), 401, "{email}");
    let page = response.text().await.unwrap();
    let page = page.replace(email, "EMAIL").replace(&csrf, "CSRF");
    (elapsed, page)
}

async fn user_with_password(app: &TestApp, email: &str) {
    let user = app
        .broker()
        .find_or_create_user(&broker::Actor::cli(), email)
        .await
        .unwrap();
    app.broker()
        .set_password(
            &user,
            "the right password, long enough",
            &broker::login::ClientInfo::default(),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn unknown_addresses_take_as_long_as_wrong_passwords() {
    let (app, _sink) = app_with_mail(&[("TESSERA_PASSWORD_LOGIN", "true")]).await;
    let with_password: Vec<String> = (0..TRIES.div_ceil(4))
        .map(|i| format!("member{i}@example.com"))
        .collect();
    for email in &with_password {
        user_with_password(&app, email).await;
    }
    let mut browser = Browser::new(&app);
    // Warm-up: the first unknown address makes the stand-in hash.
    try_password(&mut browser, "warm-up@example.com").await;

    let (mut wrong_password, mut unknown, mut no_password) = (vec![], vec![], vec![]);
    let mut pages = vec![];
    // Interleaved, so a busy moment on the machine slows all three kinds alike.
    for i in 0..TRIES {
        let (t, page) = try_password(&mut browser, &with_password[i % with_password.len()]).await;
        wrong_password.push(t);
        pages.push(page);
        let (t, page) = try_password(&mut browser, &format!("nobody{i}@example.com")).await;
        unknown.push(t);
        pages.push(page);
        let passwordless = format!("passwordless{i}@example.com");
        app.broker()
            .find_or_create_user(&broker::Actor::cli(), &passwordless)
            .await
            .unwrap();
        let (t, page) = try_password(&mut browser, &passwordless).await;
        no_password.push(t);
        pages.push(page);
    }
    assert!(
        pages.windows(2).all(|w| w[0] == w[1]),
        "every failure shows the same page"
    );
    assert!(pages[0].contains("the email or password is wrong"));

    let known = median(wrong_password).as_secs_f64();
    for (kind, samples) in [("no account", unknown), ("no password", no_password)] {
        let ratio = median(samples).as_secs_f64() / known;
        assert!(
            (0.5..2.0).contains(&ratio),
            "{kind}: {ratio:.2} times the time of a wrong password ({known:.3} s); \
             an attacker could tell the addresses apart"
        );
    }
}
