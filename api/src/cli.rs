//! The `tessera` command line: `serve` (default), `migrate`, `openapi`, `healthcheck` and
//! `admin create-key`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use broker::Actor;
use broker::api_key::NewApiKey;
use broker::entities::client::ClientType;
use broker::entities::signing_key::SigningAlg;
use broker::provider::client::NewClient;
use broker::provider::jws::alg_name;
use broker::provider::keys::ALGORITHMS;
use clap::{Parser, Subcommand};
use secrecy::ExposeSecret as _;

use crate::config::{Config, ConfigError};
use crate::{server, telemetry};

/// Tessera: a self-hosted, multi-tenant SSO broker.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, about)]
pub struct Cli {
    /// A TOML configuration file (also TESSERA_CONFIG); environment variables override it.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Print the OpenAPI document (YAML) of the admin API.
    Openapi,
    /// Exit 0 when the server at TESSERA_LISTEN answers /healthz (for container health checks).
    Healthcheck,
    /// Administrative tasks.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Token-signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

/// Signing-key commands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Rotate now: each algorithm's published next key starts signing, the current key retires
    /// (published until its tokens expire), and a new next key is published.
    Rotate {
        /// Only this algorithm (RS256, ES256 or EdDSA); all when omitted.
        #[arg(long, value_parser = ["RS256", "ES256", "EdDSA"])]
        alg: Option<String>,
    },
}

/// Administrative commands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an instance-admin API key; the key is the last line of standard output.
    CreateKey {
        /// A label for the key ("bootstrap", "terraform").
        #[arg(long)]
        name: String,
        /// Days until the key stops working; it never expires when omitted.
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// Register an app (OIDC client) and print it as JSON, with its secret when confidential.
    CreateClient {
        /// Display name.
        #[arg(long)]
        name: String,
        /// confidential (server-side, has a secret) or public (browser or native app).
        #[arg(long = "type", value_parser = ["confidential", "public"])]
        client_type: String,
        /// A redirect URI (repeat for several).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// An allowed grant type (repeat for several); authorization_code and refresh_token
        /// when omitted.
        #[arg(long = "grant-type")]
        grant_types: Vec<String>,
        /// An API scope the app may request (repeat for several).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Restrict the app to this organization (id or slug).
        #[arg(long)]
        organization: Option<String>,
    },
}

/// Runs the parsed command and returns the process exit code.
pub async fn run(cli: Cli) -> ExitCode {
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi = command {
        return report(print_openapi());
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(ConfigError { setting, reason }) => {
            eprintln!("configuration error: {setting}: {reason}");
            return ExitCode::from(2);
        }
    };
    let _log = telemetry::init_logging(config.log_format);
    report(match command {
        Command::Serve => serve(config).await,
        Command::Migrate => run_migrations(config).await,
        Command::Healthcheck => healthcheck(config).await,
        Command::Admin(AdminCommand::CreateKey {
            name,
            expires_in_days,
        }) => create_key(config, name, expires_in_days).await,
        Command::Admin(AdminCommand::CreateClient {
            name,
            client_type,
            redirect_uris,
            grant_types,
            scopes,
            organization,
        }) => {
            let new = NewClient {
                name,
                client_type: Some(if client_type == "public" {
                    ClientType::Public
                } else {
                    ClientType::Confidential
                }),
                redirect_uris,
                grant_types: (!grant_types.is_empty()).then_some(grant_types),
                scopes: (!scopes.is_empty()).then_some(scopes),
                organization,
                ..NewClient::default()
            };
            create_client(config, new).await
        }
        Command::Keys(KeysCommand::Rotate { alg }) => rotate_keys(config, alg).await,
        Command::Openapi => print_openapi(),
    })
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

#[allow(clippy::print_stdout)] // the document is the command's output
fn print_openapi() -> anyhow::Result<()> {
    print!("{}", crate::openapi::yaml()?);
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    tracing::info!(
        database = %config.database_url_redacted(),
        store = if config.redis_url.is_some() { "redis" } else { "in-process" },
        mail = if config.smtp_url.is_some() { "smtp" } else { "log" },
        "starting tessera {}",
        env!("CARGO_PKG_VERSION")
    );
    let public_url = config.public_base();
    let running = server::start(config).await?;
    tracing::info!(address = %running.addr, public_url = %public_url, "listening");
    if let Some(link) = running.broker.first_admin_link().await? {
        tracing::warn!(
            link = %link.expose_secret(),
            "no instance administrator yet: open this one-time link within 24 hours to create \
             the first one with a passkey (restart for a new link)"
        );
    }
    running.wait().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn run_migrations(config: Config) -> anyhow::Result<()> {
    let db = crate::server::open_database(&config).await?;
    let applied = migration::apply(&db).await.context("applying migrations")?;
    if applied.is_empty() {
        eprintln!("the database is up to date");
    }
    for name in applied {
        eprintln!("applied {name}");
    }
    db.close_by_ref().await?;
    Ok(())
}

async fn healthcheck(config: Config) -> anyhow::Result<()> {
    let mut addr = config.listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let url = format!("http://{addr}/healthz");
    let response = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()?
        .get(&url)
        .send()
        .await
        .with_context(|| format!("{url} did not answer"))?;
    anyhow::ensure!(
        response.status().is_success(),
        "{url} answered {}",
        response.status()
    );
    Ok(())
}

#[allow(clippy::print_stdout)] // the app is the command's output
async fn create_client(config: Config, new: NewClient) -> anyhow::Result<()> {
    let broker = server::prepare(&config).await?;
    let created = broker.create_client(&Actor::cli(), new).await;
    broker.db().close_by_ref().await?;
    let view = crate::v1::clients::CreatedClientView::from(created?);
    println!("{}", serde_json::to_string_pretty(&view)?);
    Ok(())
}

async fn rotate_keys(config: Config, alg: Option<String>) -> anyhow::Result<()> {
    let broker = server::prepare(&config).await?;
    let algs: Vec<SigningAlg> = ALGORITHMS
        .into_iter()
        .filter(|a| alg.as_deref().is_none_or(|wanted| wanted == alg_name(*a)))
        .collect();
    let rotations = broker.rotate_signing_keys(&algs).await;
    broker.db().close_by_ref().await?;
    for r in rotations? {
        eprintln!(
            "{}: {} now signs; {} retired (published until {}); {} published as next",
            alg_name(r.alg),
            r.current,
            r.retired,
            r.retired_until.to_rfc3339(),
            r.next
        );
    }
    Ok(())
}

#[allow(clippy::print_stdout)] // the key is the command's output
async fn create_key(
    config: Config,
    name: String,
    expires_in_days: Option<u32>,
) -> anyhow::Result<()> {
    let broker = server::prepare(&config).await?;
    let expires_at =
        expires_in_days.map(|days| broker.now() + chrono::Duration::days(i64::from(days)));
    let created = broker
        .create_instance_api_key(
            &Actor::cli(),
            NewApiKey {
                expires_at,
                ..NewApiKey::admin(name)
            },
        )
        .await?;
    eprintln!(
        "created instance-admin API key {} ({}); it is shown only once:",
        created.api_key.id, created.api_key.name
    );
    println!("{}", created.secret.expose_secret());
    broker.db().close_by_ref().await?;
    Ok(())
}
