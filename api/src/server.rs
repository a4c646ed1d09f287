//! Assembling and running the HTTP server: start-up (database, migrations, store, keys), the
//! route table, middleware, binding and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context as _;
use broker::crypto::MasterKey;
use broker::dns::{HickoryTxtResolver, TxtResolver};
use broker::provider::registration::RegistrationPolicy;
use broker::store::{EphemeralStore, MemoryStore, RedisStore};
use broker::{Broker, BrokerParts, Clock, ErrorCode, SystemClock};
use secrecy::ExposeSecret as _;
use utoipa::OpenApi as _;
use utoipa_actix_web::AppExt as _;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Config;
use crate::error::ApiError;
use crate::openapi::ApiDoc;
use crate::{oauth, ops, telemetry, v1};

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The domain service.
    pub broker: Broker,
    /// The validated configuration.
    pub config: Arc<Config>,
}

/// Opens the database (migrating it when configured), the ephemeral store, the master key and
/// the DNS resolver, then makes sure signing keys exist.
pub async fn prepare(config: &Config) -> anyhow::Result<Broker> {
    prepare_with_clock(config, Arc::new(SystemClock)).await
}

/// [`prepare`] with a chosen clock (tests move a manual clock to check expiry).
pub async fn prepare_with_clock(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Broker> {
    let needs_data_dir =
        config.database_backend() == broker::db::Backend::Sqlite || config.master_key.is_none();
    if needs_data_dir {
        create_private_dir(&config.data_dir).with_context(|| {
            format!(
                "TESSERA_DATA_DIR: cannot create {}",
                config.data_dir.display()
            )
        })?;
    }
    let db = open_database(config).await?;
    if config.auto_migrate {
        let applied = migration::apply(&db).await.context("applying migrations")?;
        for name in applied {
            tracing::info!(migration = %name, "applied migration");
        }
    } else {
        let pending = migration::pending(&db).await?;
        anyhow::ensure!(
            pending.is_empty(),
            "the database needs {} migration(s); run `tessera migrate` (TESSERA_AUTO_MIGRATE is off)",
            pending.len()
        );
    }
    let store = open_store(config, clock.clone()).await?;
    let master_key = master_key(config)?;
    let dns: Arc<dyn TxtResolver> = Arc::new(match config.dns_server {
        Some(server) => HickoryTxtResolver::with_server(server),
        None => HickoryTxtResolver::system(),
    }?);
    let login = config.login().context("TESSERA_PUBLIC_URL")?;
    let mailer: Arc<dyn broker::mail::Mailer> = match &config.smtp_url {
        Some(url) => Arc::new(
            broker::mail::SmtpMailer::new(url.expose_secret(), &config.mail_from)
                .context("TESSERA_SMTP_URL")?,
        ),
        None => Arc::new(broker::mail::LogMailer),
    };
    let broker = Broker::new(BrokerParts {
        db,
        store,
        clock,
        master_key,
        dns,
        provider: config.provider(),
        login,
        mailer,
        directory: broker::directory::DirectorySettings {
            requests_per_minute: config.scim_requests_per_minute,
            max_members_returned: config.scim_max_members_returned,
        },
    });
    broker.ensure_signing_keys().await?;
    Ok(broker)
}

/// Creates the data directory readable by its owner only (it holds the database and the
/// generated master key); an existing directory is left as the operator made it.
fn create_private_dir(path: &std::path::Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(path)
}

async fn open_store(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Arc<dyn EphemeralStore>> {
    Ok(match &config.redis_url {
        Some(url) => Arc::new(
            RedisStore::connect(url.expose_secret(), &config.redis_namespace)
                .await
                .context("REDIS_URL")?,
        ),
        None => Arc::new(MemoryStore::new(clock)),
    })
}

fn master_key(config: &Config) -> anyhow::Result<MasterKey> {
    if let Some(encoded) = &config.master_key {
        return MasterKey::from_base64(encoded.expose_secret()).context("TESSERA_MASTER_KEY");
    }
    let path = config.data_dir.join("master.key");
    let (key, created) = MasterKey::load_or_create(&path).context("TESSERA_MASTER_KEY")?;
    if created {
        tracing::warn!(
            path = %path.display(),
            "generated a master key; back it up with the database, and set TESSERA_MASTER_KEY \
             to the same value on every replica when running more than one"
        );
    }
    Ok(key)
}

/// The documented routes: health, readiness, metrics and the admin API. Workers register them
/// on their route table; [`openapi`] registers them with the OpenAPI collector, which also
/// builds their descriptions (see [`v1::Routes`]).
fn documented_routes(cfg: &mut impl v1::Routes) {
    cfg.service(ops::healthz)
        .service(ops::readyz)
        .service(ops::metrics)
        .api_v1();
}

/// The OpenAPI document of the admin API and operations endpoints.
pub fn openapi() -> utoipa::openapi::OpenApi {
    App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(|cfg| documented_routes(cfg))
        .split_for_parts()
        .1
}

/// The complete application: routes, docs, error handling and middleware.
fn app(
    state: AppState,
    document: web::Bytes,
    documented: web::Data<crate::fallback::DocumentedPaths>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let registration = state.config.client_registration != RegistrationPolicy::Off;
    // The provider's endpoints first: apps call them most, and the router tries routes in
    // order (the dynamic admin API patterns and the docs' regex cost a match attempt each).
    App::new()
        .configure(|cfg| oauth::routes(cfg, registration))
        .configure(documented_routes)
        .app_data(web::Data::new(state))
        .app_data(documented)
        .app_data(web::PathConfig::default().error_handler(|err, _| {
            ApiError::new(ErrorCode::InvalidPath, format!("invalid path: {err}")).into()
        }))
        .route(
            "/openapi.json",
            web::get().to(move || {
                let document = document.clone();
                async move {
                    actix_web::HttpResponse::Ok()
                        .content_type("application/json")
                        .body(document)
                }
            }),
        )
        .service(
            SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::from("/openapi.json")),
        )
        .service(web::redirect("/docs", "/docs/"))
        .app_data(
            web::FormConfig::default()
                .limit(MAX_FORM_BYTES)
                .error_handler(|err, _| crate::error::HtmlError(form_error(&err)).into()),
        )
        .configure(crate::login::routes)
        .configure(crate::account::routes)
        .configure(crate::console::routes)
        .configure(crate::sso::routes)
        .configure(crate::scim::routes)
        .service(ops::index)
        .service(ops::asset)
        .default_service(web::to(crate::fallback::no_route))
        .wrap(
            DefaultHeaders::new()
                .add(("x-content-type-options", "nosniff"))
                .add(("referrer-policy", "same-origin"))
                .add(("x-frame-options", "DENY"))
                .add(("cache-control", "no-store")),
        )
        .wrap(from_fn(oauth::cors))
        .wrap(from_fn(telemetry::observe))
}

/// The largest form the sign-in and account pages accept.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// A form that could not be read: too large, or not a valid form.
fn form_error(err: &actix_web::error::UrlencodedError) -> broker::Error {
    use actix_web::error::UrlencodedError;
    match err {
        UrlencodedError::Overflow { .. } => broker::Error::new(
            ErrorCode::PayloadTooLarge,
            format!("the form must be at most {} KiB", MAX_FORM_BYTES / 1024),
        ),
        other => broker::Error::new(
            ErrorCode::InvalidField,
            format!("the form is not valid: {other}"),
        ),
    }
}

/// How often each replica runs the schedules (signing-key rotation, SAML metadata refresh,
/// the sweep of ended grants and sessions).
const SCHEDULE_TICK: std::time::Duration = std::time::Duration::from_secs(3600);

/// Rotates signing keys and refetches SAML metadata when due, and deletes the refresh tokens
/// of ended grants and ended sessions. Every replica runs it; the database lets one rotation
/// win, and a metadata refresh and a sweep are idempotent.
fn spawn_schedules(broker: Broker) -> tokio::task::JoinHandle<()> {
    let rotation = broker
        .provider()
        .key_rotation_interval
        .and_then(|i| chrono::Duration::from_std(i).ok());
    tokio::spawn(async move {
        // First run a minute after start (a server that was down past a due date catches up
        // soon, without slowing start-up), then hourly.
        let first = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut ticks = tokio::time::interval_at(first, SCHEDULE_TICK);
        loop {
            ticks.tick().await;
            if let Some(interval) = rotation
                && let Err(e) = broker.rotate_due_signing_keys(interval).await
            {
                tracing::warn!(error = %e, "scheduled key rotation failed; retrying later");
            }
            if let Err(e) = broker.refresh_due_saml_metadata().await {
                tracing::warn!(error = %e, "scheduled SAML metadata refresh failed; retrying later");
            }
            match broker.sweep().await {
                Ok(swept) if swept == Default::default() => {}
                Ok(swept) => tracing::info!(
                    refresh_tokens = swept.refresh_tokens,
                    sessions = swept.sessions,
                    "deleted refresh tokens of ended grants and ended sessions"
                ),
                Err(e) => tracing::warn!(error = %e, "sweeping ended grants and sessions failed"),
            }
        }
    })
}

/// A server running on its own tasks.
#[derive(Debug)]
pub struct RunningServer {
    /// The address actually bound (useful with port 0).
    pub addr: SocketAddr,
    /// The broker the server uses (tests use it to set up state).
    pub broker: Broker,
    handle: ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Schedules and metrics upkeep, stopped with the server.
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningServer {
    /// Stops accepting connections and waits for in-flight requests (graceful) or not.
    pub async fn stop(self, graceful: bool) -> anyhow::Result<()> {
        self.handle.stop(graceful).await;
        self.wait().await
    }

    /// Asks the server to stop at once without waiting (for use in `Drop`).
    pub fn stop_now(&self) {
        // The stop command is sent when `stop` is called; the returned future only waits.
        drop(self.handle.stop(false));
        self.background.iter().for_each(|task| task.abort());
    }

    /// Waits until the server stops (on SIGINT/SIGTERM, gracefully).
    pub async fn wait(self) -> anyhow::Result<()> {
        let served = self.task.await;
        self.background.iter().for_each(|task| task.abort());
        served.context("server task failed")??;
        self.broker.db().close_by_ref().await?;
        Ok(())
    }
}

/// Opens the process's database pool: on SQLite the one pool, sized as configured; on
/// PostgreSQL, when the HTTP workers open their own (`worker_io`), a small one for start-up,
/// migrations, the schedules and the CLI.
pub(crate) async fn open_database(
    config: &Config,
) -> anyhow::Result<migration::sea_orm::DatabaseConnection> {
    broker::db::connect(
        config.database_url.expose_secret(),
        crate::worker_io::PoolSizes::of(config, crate::worker_io::worker_count()).shared,
    )
    .await
    .with_context(|| {
        format!(
            "DATABASE_URL: cannot open {}",
            config.database_url_redacted()
        )
    })
}

/// Prepares everything and starts serving on `config.listen`.
pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    let broker = prepare(&config).await?;
    start_with(config, broker)
}

/// Starts serving with an already prepared broker.
pub fn start_with(config: Config, broker: Broker) -> anyhow::Result<RunningServer> {
    // Built once and shared by every worker (a document per worker cost megabytes).
    let openapi = crate::openapi::document();
    let documented = web::Data::new(crate::fallback::DocumentedPaths::of(&openapi));
    let document = web::Bytes::from(serde_json::to_vec(&openapi)?);
    drop(openapi);
    crate::memory::release_free_heap(); // the document's builders, freed just now
    // Install the metrics recorder before the first request is counted.
    telemetry::metrics();
    let listen = config.listen;
    let shutdown_timeout = config.shutdown_timeout_secs;
    let state = AppState {
        broker: broker.clone(),
        config: Arc::new(config),
    };
    let workers = crate::worker_io::worker_count();
    let server = HttpServer::new(move || {
        // Runs on each worker thread: its requests get connections of their own.
        let state = AppState {
            broker: crate::worker_io::worker_broker(&state.broker, &state.config, workers),
            config: state.config.clone(),
        };
        app(state, document.clone(), documented.clone())
    })
    .workers(workers)
    .shutdown_timeout(shutdown_timeout)
    .bind(listen)
    .with_context(|| format!("TESSERA_LISTEN: cannot listen on {listen}"))?;
    let addr = server
        .addrs()
        .first()
        .copied()
        .context("the server bound no address")?;
    let server = server.run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    let background = vec![
        spawn_schedules(broker.clone()),
        telemetry::spawn_metrics_upkeep(),
        crate::memory::spawn_heap_release(),
    ];
    Ok(RunningServer {
        addr,
        broker,
        handle,
        task,
        background,
    })
}
