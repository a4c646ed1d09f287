//! Passkeys and email-link sign-in in a real browser: headless Chromium (Debian's
//! `/usr/bin/chromium`, which scripts/test installs) driven by playwright-core
//! (`tests/e2e/passkeys.mjs`), with a CDP virtual authenticator, against the app in-process
//! at `http://localhost:PORT` (WebAuthn needs a secure context and a host-name RP ID) and a
//! real SMTP sink. Screenshots stay in `target/e2e-screenshots/` as artifacts.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use broker::entities::user;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use tessera_tests::real::free_port;
use tessera_tests::smtp::SmtpSink;
use tessera_tests::{Options, TestApp};

/// How long the whole browser run may take.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// A child process killed (and reaped) when dropped, so a failing test leaves no browser behind.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e")
}

/// `target/e2e-screenshots/` under the workspace root (or under `CARGO_TARGET_DIR`).
fn screenshot_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                workspace.join(dir)
            }
        })
        .unwrap_or_else(|| workspace.join("target"));
    target.join("e2e-screenshots")
}

#[tokio::test]
async fn passkey_sign_up_sign_out_and_usernameless_sign_in_in_chromium() {
    assert!(
        e2e_dir().join("node_modules/playwright-core").is_dir(),
        "tests/e2e/node_modules is missing playwright-core: scripts/test installs the end-to-end \
         peers (npm ci)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: scripts/test installs Debian's chromium"
    );

    let sink = SmtpSink::start();
    // WebAuthn needs a host name, so the browser must reach the app as localhost on a port known
    // before it starts (the public URL, hence the RP ID and origin, follows from it).
    let port = free_port();
    let base = format!("http://localhost:{port}");
    let app = TestApp::spawn_with(Options {
        env: vec![
            ("TESSERA_LISTEN".into(), format!("127.0.0.1:{port}")),
            ("TESSERA_PUBLIC_URL".into(), base.clone()),
            ("TESSERA_SMTP_URL".into(), sink.url()),
        ],
        clock: None,
    })
    .await;
    assert_eq!(app.config.public_base(), base);

    let email = format!("passkey-{}@example.com", uuid::Uuid::new_v4().simple());
    let work = tempfile::tempdir().unwrap();
    let link_file = work.path().join("link.txt");
    let stdout_path = work.path().join("stdout.txt");
    let stderr_path = work.path().join("stderr.txt");
    let screenshots = screenshot_dir();
    for name in ["sign-in", "passkey-prompt", "account", "failure"] {
        let _ = std::fs::remove_file(screenshots.join(format!("{name}.png")));
    }
    std::fs::create_dir_all(&screenshots).unwrap();

    let mut node = KillOnDrop(
        Command::new("node")
            .arg("passkeys.mjs")
            .current_dir(e2e_dir())
            .env("BASE_URL", &base)
            .env("EMAIL", &email)
            .env("LINK_FILE", &link_file)
            .env("SCREENSHOT_DIR", &screenshots)
            .env("CHROMIUM", &chromium)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout_path).unwrap())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .expect("node is missing: scripts/test installs Node.js"),
    );
    let output = || {
        format!(
            "{}\n{}",
            std::fs::read_to_string(&stdout_path).unwrap_or_default(),
            std::fs::read_to_string(&stderr_path).unwrap_or_default()
        )
    };

    // The browser asks for a link; hand it over the way a person reading the mail would.
    let deadline = Instant::now() + SCRIPT_TIMEOUT;
    let mail = loop {
        if let Some(mail) = sink
            .all()
            .into_iter()
            .find(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(&email)))
        {
            break mail;
        }
        if let Some(status) = node.0.try_wait().unwrap() {
            panic!(
                "passkeys.mjs exited ({status}) before the mail arrived:\n{}",
                output()
            );
        }
        assert!(
            Instant::now() < deadline,
            "no mail to {email} within {SCRIPT_TIMEOUT:?}; the sink has {:?}; the script says:\n{}",
            sink.all(),
            output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let link = mail.link();
    assert!(
        link.starts_with(&format!("{base}/login/link?token=tml_")),
        "unexpected link {link} in:\n{}",
        mail.raw
    );
    // Written whole, then renamed, so the script never reads half a link.
    let partial = work.path().join("link.partial");
    std::fs::write(&partial, &link).unwrap();
    std::fs::rename(&partial, &link_file).unwrap();

    let status = loop {
        if let Some(status) = node.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "passkeys.mjs did not finish within {SCRIPT_TIMEOUT:?}:\n{}",
            output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let stdout = std::fs::read_to_string(&stdout_path).unwrap();
    assert!(
        status.success(),
        "passkeys.mjs failed ({status}):\n{}",
        output()
    );
    let result: serde_json::Value = serde_json::from_str(
        stdout
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("no JSON result ({e}):\n{}", output()));
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["email"], email.as_str());
    assert_eq!(result["rp_id"], "localhost");
    for name in ["sign-in", "passkey-prompt", "account"] {
        let file = screenshots.join(format!("{name}.png"));
        let size = std::fs::metadata(&file)
            .unwrap_or_else(|e| panic!("screenshot {} is missing: {e}", file.display()))
            .len();
        assert!(size > 1000, "screenshot {} is nearly empty", file.display());
    }

    // What the app recorded: one passkey, the one in the authenticator, with its backup flags
    // and a last use from the passkey sign-in.
    let broker = app.broker();
    let user = user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(broker.db())
        .await
        .unwrap()
        .expect("the email link created the user");
    let passkeys = broker.passkeys_of(user.id).await.unwrap();
    assert_eq!(passkeys.len(), 1, "{passkeys:?}");
    let passkey = &passkeys[0];
    let credential_id = base64::engine::general_purpose::STANDARD
        .decode(result["credential_id"].as_str().unwrap())
        .unwrap();
    assert_eq!(passkey.credential_id, credential_id);
    assert_eq!(passkey.name, "Work laptop", "renamed on the account page");
    assert!(passkey.backup_eligible, "{passkey:?}");
    assert!(passkey.backup_state, "{passkey:?}");
    let last_used = passkey
        .last_used_at
        .expect("last_used_at set by the passkey sign-in");
    assert!(last_used > passkey.created_at, "{passkey:?}");
    assert!(passkey.sign_count >= 0);

    // The sign-out revoked the first session; the live one is the passkey's.
    let sessions = broker.sessions_of(user.id).await.unwrap();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let amr = &sessions[0].amr;
    assert!(
        amr.as_array()
            .is_some_and(|a| a.iter().any(|m| m == "swk") && a.iter().any(|m| m == "user")),
        "amr {amr}"
    );
    assert!(sessions[0].auth_time >= last_used - chrono::Duration::seconds(5));

    app.stop().await;
}
