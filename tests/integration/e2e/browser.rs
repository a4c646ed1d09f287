//! Runs a browser script from `tests/e2e/` (headless Chromium, Debian's `/usr/bin/chromium`,
//! which scripts/test installs, driven by playwright-core) against the app in-process at
//! `http://localhost:PORT` (WebAuthn needs a secure context and a host-name RP ID), handing it
//! the emailed link from a real SMTP sink. Screenshots stay in `target/e2e-screenshots/`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tessera_tests::real::free_port;
use tessera_tests::smtp::SmtpSink;
use tessera_tests::{Options, TestApp};

/// How long a whole browser run may take.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// A child process killed (and reaped) when dropped, so a failing test leaves no browser behind.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e")
}

/// `target/e2e-screenshots/` under the workspace root (or under `CARGO_TARGET_DIR`).
pub fn screenshot_dir() -> PathBuf {
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

pub fn chromium() -> String {
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
    chromium
}

/// The app, reachable by the browser at `base` (`http://localhost:PORT`), mailing to `sink`.
pub struct LocalApp {
    pub app: TestApp,
    pub sink: SmtpSink,
    pub base: String,
}

/// Starts the app on a port known before it starts (the public URL, hence the RP ID and the
/// origin, follows from it), with `env` added.
pub async fn local_app(env: &[(&str, &str)]) -> LocalApp {
    let sink = SmtpSink::start();
    let port = free_port();
    let base = format!("http://localhost:{port}");
    let mut settings = vec![
        ("TESSERA_LISTEN".to_owned(), format!("127.0.0.1:{port}")),
        ("TESSERA_PUBLIC_URL".to_owned(), base.clone()),
        ("TESSERA_SMTP_URL".to_owned(), sink.url()),
    ];
    settings.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let app = TestApp::spawn_with(Options {
        env: settings,
        clock: None,
    })
    .await;
    assert_eq!(app.config.public_base(), base);
    LocalApp { app, sink, base }
}

/// Runs `tests/e2e/{script}` with `env` for `email`: hands over the link mailed to `email` the
/// way a person reading the mail would, waits for the script, checks that it succeeded and
/// left the `screenshots` named, and returns its JSON result.
pub async fn run_script(
    local: &LocalApp,
    script: &str,
    email: &str,
    env: &[(&str, &str)],
    screenshots: &[&str],
) -> serde_json::Value {
    let chromium = chromium();
    let work = tempfile::tempdir().unwrap();
    let link_file = work.path().join("link.txt");
    let stdout_path = work.path().join("stdout.txt");
    let stderr_path = work.path().join("stderr.txt");
    let screenshot_dir = screenshot_dir();
    for name in screenshots.iter().chain(&["failure"]) {
        let _ = std::fs::remove_file(screenshot_dir.join(format!("{name}.png")));
    }
    std::fs::create_dir_all(&screenshot_dir).unwrap();

    let mut command = Command::new("node");
    command
        .arg(script)
        .current_dir(e2e_dir())
        .env("BASE_URL", &local.base)
        .env("EMAIL", email)
        .env("LINK_FILE", &link_file)
        .env("SCREENSHOT_DIR", &screenshot_dir)
        .env("CHROMIUM", &chromium)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap());
    let mut node = KillOnDrop(
        command
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

    let deadline = Instant::now() + SCRIPT_TIMEOUT;
    let mail = loop {
        if let Some(mail) = local
            .sink
            .all()
            .into_iter()
            .find(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(email)))
        {
            break mail;
        }
        if let Some(status) = node.0.try_wait().unwrap() {
            panic!(
                "{script} exited ({status}) before the mail arrived:\n{}",
                output()
            );
        }
        assert!(
            Instant::now() < deadline,
            "no mail to {email} within {SCRIPT_TIMEOUT:?}; the sink has {:?}; the script says:\n{}",
            local.sink.all(),
            output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let link = mail.link();
    assert!(
        link.starts_with(&format!("{}/login/link?token=tml_", local.base)),
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
            "{script} did not finish within {SCRIPT_TIMEOUT:?}:\n{}",
            output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let stdout = std::fs::read_to_string(&stdout_path).unwrap();
    assert!(
        status.success(),
        "{script} failed ({status}):\n{}",
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
    for name in screenshots {
        let file = screenshot_dir.join(format!("{name}.png"));
        let size = std::fs::metadata(&file)
            .unwrap_or_else(|e| panic!("screenshot {} is missing: {e}", file.display()))
            .len();
        assert!(size > 1000, "screenshot {} is nearly empty", file.display());
    }
    result
}
