//! Configuration: typed settings from `TESSERA_*` environment variables and an optional TOML
//! file, validated at start with messages that name the setting at fault.
//!
//! Written by hand rather than with a layering crate because operators need each message to
//! name exactly where a value came from (`DATABASE_URL` vs `database_url in tessera.toml`), and
//! the set of sources is small and fixed: file, then environment, then defaults.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use broker::MasterKey;
use broker::db::Backend;
use broker::provider::registration::RegistrationPolicy;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// Where log lines go and how they look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Validated settings for every command.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// The issuer and base of every URL Tessera prints (no trailing slash).
    pub public_url: Url,
    /// Where SQLite data and the generated master key live.
    pub data_dir: PathBuf,
    /// SQLite or PostgreSQL URL (may hold a password: print with [`Config::database_url_redacted`]).
    pub database_url: SecretString,
    /// Most database connections this replica opens (`None`: the backend's default).
    pub database_max_connections: Option<u32>,
    /// Redis URL for the ephemeral store; in-process when absent.
    pub redis_url: Option<SecretString>,
    /// Prefix of every key Tessera writes to Redis (several deployments may share one Redis).
    pub redis_namespace: String,
    /// SMTP URL for outgoing mail; mail is written to the log when absent.
    pub smtp_url: Option<SecretString>,
    /// The master key from configuration; generated into the data directory when absent.
    pub master_key: Option<SecretString>,
    /// Log format.
    pub log_format: LogFormat,
    /// Send DNS queries (domain verification) to this server instead of the system resolver.
    pub dns_server: Option<SocketAddr>,
    /// Apply pending migrations when `serve` starts.
    pub auto_migrate: bool,
    /// How many reverse proxies stand in front of Tessera, each appending to
    /// `X-Forwarded-For`; 0 means the TCP peer is the client.
    pub trusted_proxy_hops: usize,
    /// Seconds to let in-flight requests finish on shutdown.
    pub shutdown_timeout_secs: u64,
    /// Lifetime of access and ID tokens, in seconds.
    pub access_token_ttl_secs: u64,
    /// Days a signing key signs before scheduled rotation; 0 turns rotation off.
    pub key_rotation_days: u64,
    /// Lifetime of authorization codes, in seconds.
    pub authorization_code_ttl_secs: u64,
    /// Dynamic client registration: off, open (public apps without a token) or token.
    pub client_registration: broker::provider::registration::RegistrationPolicy,
    /// The sender of Tessera's mail (`Name <address>`).
    pub mail_from: String,
    /// Whether users may set and sign in with passwords.
    pub password_login: bool,
    /// Whether an unknown email may create an account.
    pub signup: bool,
    /// Minutes an emailed sign-in link or code stays valid.
    pub email_link_ttl_mins: u64,
    /// Argon2id memory cost in KiB.
    pub argon2_memory_kib: u32,
    /// Argon2id passes.
    pub argon2_iterations: u32,
    /// Argon2id lanes.
    pub argon2_parallelism: u32,
    /// SCIM requests allowed per token per minute (0: unlimited).
    pub scim_requests_per_minute: u64,
    /// Most group members one SCIM response carries.
    pub scim_max_members_returned: u64,
}

/// A setting that failed validation, with where it came from and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {reason}")]
pub struct ConfigError {
    /// The environment variable or file key (`DATABASE_URL`, `database_url in tessera.toml`).
    pub setting: String,
    /// What is wrong and what to do instead.
    pub reason: String,
}

/// Every setting: its environment variable and its key in the TOML file.
pub const SETTINGS: &[(&str, &str)] = &[
    ("TESSERA_LISTEN", "listen"),
    ("TESSERA_PUBLIC_URL", "public_url"),
    ("TESSERA_DATA_DIR", "data_dir"),
    ("DATABASE_URL", "database_url"),
    (
        "TESSERA_DATABASE_MAX_CONNECTIONS",
        "database_max_connections",
    ),
    ("REDIS_URL", "redis_url"),
    ("TESSERA_REDIS_NAMESPACE", "redis_namespace"),
    ("TESSERA_SMTP_URL", "smtp_url"),
    ("TESSERA_MASTER_KEY", "master_key"),
    ("TESSERA_LOG_FORMAT", "log_format"),
    ("TESSERA_DNS_SERVER", "dns_server"),
    ("TESSERA_AUTO_MIGRATE", "auto_migrate"),
    ("TESSERA_TRUSTED_PROXY_HOPS", "trusted_proxy_hops"),
    ("TESSERA_SHUTDOWN_TIMEOUT", "shutdown_timeout"),
    ("TESSERA_ACCESS_TOKEN_TTL", "access_token_ttl"),
    ("TESSERA_KEY_ROTATION_DAYS", "key_rotation_days"),
    ("TESSERA_AUTHORIZATION_CODE_TTL", "authorization_code_ttl"),
    ("TESSERA_CLIENT_REGISTRATION", "client_registration"),
    ("TESSERA_MAIL_FROM", "mail_from"),
    ("TESSERA_PASSWORD_LOGIN", "password_login"),
    ("TESSERA_SIGNUP", "signup"),
    ("TESSERA_EMAIL_LINK_TTL", "email_link_ttl"),
    ("TESSERA_ARGON2_MEMORY_KIB", "argon2_memory_kib"),
    ("TESSERA_ARGON2_ITERATIONS", "argon2_iterations"),
    ("TESSERA_ARGON2_PARALLELISM", "argon2_parallelism"),
    (
        "TESSERA_SCIM_REQUESTS_PER_MINUTE",
        "scim_requests_per_minute",
    ),
    (
        "TESSERA_SCIM_MAX_MEMBERS_RETURNED",
        "scim_max_members_returned",
    ),
];

/// The environment variable that names the optional TOML file.
pub const CONFIG_FILE_VAR: &str = "TESSERA_CONFIG";

/// One raw value and a label for where it came from.
#[derive(Clone)]
struct Raw {
    value: String,
    source: String,
}

/// Values may be secrets (`TESSERA_MASTER_KEY`, passwords in URLs): show only the source.
impl std::fmt::Debug for Raw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Raw({}: [redacted])", self.source)
    }
}

/// Raw values gathered from the file and the environment, before validation.
#[derive(Debug, Default)]
pub struct Sources {
    values: HashMap<&'static str, Raw>,
}

impl Sources {
    /// Reads the optional file, then the environment (which wins).
    pub fn gather(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut sources = Self::default();
        if let Some(path) = file {
            sources.read_file(path)?;
        }
        let env: HashMap<String, String> = env.into_iter().collect();
        for (var, key) in SETTINGS {
            if let Some(value) = env.get(*var).filter(|v| !v.is_empty()) {
                sources.values.insert(
                    key,
                    Raw {
                        value: value.clone(),
                        source: (*var).to_owned(),
                    },
                );
            }
        }
        Ok(sources)
    }

    fn read_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            setting: CONFIG_FILE_VAR.into(),
            reason: format!("cannot read {shown}: {e}"),
        })?;
        let table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError {
            setting: shown.clone(),
            reason: format!("not valid TOML: {}", e.message()),
        })?;
        for (key, value) in table {
            let Some((_, known)) = SETTINGS.iter().find(|(_, k)| *k == key) else {
                let keys: Vec<&str> = SETTINGS.iter().map(|(_, k)| *k).collect();
                return Err(ConfigError {
                    setting: format!("{key} in {shown}"),
                    reason: format!("unknown setting; known settings are {}", keys.join(", ")),
                });
            };
            let value = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(ConfigError {
                        setting: format!("{key} in {shown}"),
                        reason: format!(
                            "expected a string, number or boolean, got {}",
                            other.type_str()
                        ),
                    });
                }
            };
            self.values.insert(
                known,
                Raw {
                    value,
                    source: format!("{key} in {shown}"),
                },
            );
        }
        Ok(())
    }

    fn take(&mut self, key: &str) -> Option<Raw> {
        self.values.remove(key)
    }
}

impl Raw {
    fn error(&self, reason: impl Into<String>) -> ConfigError {
        ConfigError {
            setting: self.source.clone(),
            reason: reason.into(),
        }
    }

    fn boolean(&self) -> Result<bool, ConfigError> {
        match self.value.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(self.error(format!("'{}' is not true or false", self.value))),
        }
    }

    fn number(&self, range: std::ops::RangeInclusive<u64>, unit: &str) -> Result<u64, ConfigError> {
        self.value
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                self.error(format!(
                    "must be a number of {unit} from {} to {}",
                    range.start(),
                    range.end()
                ))
            })
    }

    fn socket_addr(&self, example: &str) -> Result<SocketAddr, ConfigError> {
        self.value.parse().map_err(|_| {
            self.error(format!(
                "'{}' is not an address:port such as {example}",
                self.value
            ))
        })
    }
}

/// Defaults used when a setting is absent.
const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
const DEFAULT_DATA_DIR: &str = "./data";

impl Config {
    /// Loads settings from the process environment and the file named by `TESSERA_CONFIG`
    /// (or `file`, which wins).
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let from_env = env
            .iter()
            .find(|(k, _)| k == CONFIG_FILE_VAR)
            .map(|(_, v)| PathBuf::from(v));
        let file = file.map(Path::to_path_buf).or(from_env);
        Self::from_sources(Sources::gather(file.as_deref(), env)?)
    }

    /// Validates gathered values and fills in defaults.
    pub fn from_sources(mut sources: Sources) -> Result<Self, ConfigError> {
        let listen = match sources.take("listen") {
            Some(raw) => raw.socket_addr(DEFAULT_LISTEN)?,
            None => DEFAULT_LISTEN.parse().map_err(|_| ConfigError {
                setting: "TESSERA_LISTEN".into(),
                reason: "built-in default is invalid".into(),
            })?,
        };
        let public_url = match sources.take("public_url") {
            Some(raw) => public_url(&raw)?,
            None => default_public_url(listen)?,
        };
        let data_dir = sources.take("data_dir").map_or_else(
            || PathBuf::from(DEFAULT_DATA_DIR),
            |r| PathBuf::from(r.value),
        );
        let database_url = match sources.take("database_url") {
            Some(raw) => database_url(&raw)?,
            None => default_database_url(&data_dir),
        };
        let redis_url = sources
            .take("redis_url")
            .map(|raw| url_with_scheme(&raw, &["redis", "rediss"], "redis://host:6379"))
            .transpose()?;
        let redis_namespace = match sources.take("redis_namespace") {
            None => "tessera:".to_owned(),
            Some(raw) => {
                let ok = (1..=64).contains(&raw.value.len())
                    && raw.value.bytes().all(|b| b.is_ascii_graphic());
                if !ok {
                    return Err(raw.error("must be 1-64 printable characters without spaces"));
                }
                raw.value
            }
        };
        let smtp_url = sources
            .take("smtp_url")
            .map(|raw| url_with_scheme(&raw, &["smtp", "smtps"], "smtp://user:pass@host:587"))
            .transpose()?;
        let master_key = sources
            .take("master_key")
            .map(|raw| {
                MasterKey::from_base64(&raw.value)
                    .map(|_| SecretString::from(raw.value.clone()))
                    .map_err(|e| raw.error(e.to_string()))
            })
            .transpose()?;
        let log_format = match sources.take("log_format") {
            None => LogFormat::Text,
            Some(raw) => match raw.value.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => return Err(raw.error(format!("'{other}' is not text or json"))),
            },
        };
        let dns_server = sources
            .take("dns_server")
            .map(|raw| raw.socket_addr("1.1.1.1:53"))
            .transpose()?;
        let auto_migrate = sources
            .take("auto_migrate")
            .map(|raw| raw.boolean())
            .transpose()?
            .unwrap_or(true);
        let trusted_proxy_hops = match sources.take("trusted_proxy_hops") {
            None => 0,
            Some(raw) => raw
                .value
                .parse::<usize>()
                .ok()
                .filter(|hops| *hops <= 8)
                .ok_or_else(|| raw.error("must be the number of proxies in front, 0 to 8"))?,
        };
        let shutdown_timeout_secs = match sources.take("shutdown_timeout") {
            None => 30,
            Some(raw) => raw
                .value
                .parse::<u64>()
                .ok()
                .filter(|s| *s <= 3600)
                .ok_or_else(|| raw.error("must be a number of seconds from 0 to 3600"))?,
        };
        let access_token_ttl_secs = sources
            .take("access_token_ttl")
            .map(|raw| raw.number(60..=86_400, "seconds"))
            .transpose()?
            .unwrap_or(600);
        let key_rotation_days = sources
            .take("key_rotation_days")
            .map(|raw| raw.number(0..=3650, "days (0 turns rotation off)"))
            .transpose()?
            .unwrap_or(90);
        let authorization_code_ttl_secs = sources
            .take("authorization_code_ttl")
            .map(|raw| raw.number(1..=600, "seconds"))
            .transpose()?
            .unwrap_or(60);
        let client_registration = match sources.take("client_registration") {
            None => RegistrationPolicy::Off,
            Some(raw) => match raw.value.as_str() {
                "off" => RegistrationPolicy::Off,
                "open" => RegistrationPolicy::Open,
                "token" => RegistrationPolicy::Token,
                other => return Err(raw.error(format!("'{other}' is not off, open or token"))),
            },
        };
        let mail_from = match sources.take("mail_from") {
            None => format!(
                "Tessera <no-reply@{}>",
                public_url.host_str().unwrap_or("localhost")
            ),
            Some(raw) => {
                if !broker::mail::is_valid_sender(&raw.value) {
                    return Err(
                        raw.error("must be an address such as Tessera <no-reply@example.com>")
                    );
                }
                raw.value
            }
        };
        let password_login = sources
            .take("password_login")
            .map(|raw| raw.boolean())
            .transpose()?
            .unwrap_or(false);
        let signup = sources
            .take("signup")
            .map(|raw| raw.boolean())
            .transpose()?
            .unwrap_or(true);
        let email_link_ttl_mins = sources
            .take("email_link_ttl")
            .map(|raw| raw.number(1..=1440, "minutes"))
            .transpose()?
            .unwrap_or(15);
        let defaults = broker::login::PasswordParams::default();
        let argon2_memory_kib = sources
            .take("argon2_memory_kib")
            .map(|raw| raw.number(8..=4_194_304, "KiB"))
            .transpose()?
            .map_or(defaults.memory_kib, |n| n as u32);
        let argon2_iterations = sources
            .take("argon2_iterations")
            .map(|raw| raw.number(1..=64, "passes"))
            .transpose()?
            .map_or(defaults.iterations, |n| n as u32);
        let argon2_parallelism = sources
            .take("argon2_parallelism")
            .map(|raw| raw.number(1..=64, "lanes"))
            .transpose()?
            .map_or(defaults.parallelism, |n| n as u32);
        let database_max_connections = sources
            .take("database_max_connections")
            .map(|raw| raw.number(1..=1_000, "connections"))
            .transpose()?
            .map(|n| n as u32);
        let scim_requests_per_minute = sources
            .take("scim_requests_per_minute")
            .map(|raw| raw.number(0..=10_000_000, "requests"))
            .transpose()?
            .unwrap_or(broker::directory::DirectorySettings::default().requests_per_minute);
        let scim_max_members_returned = sources
            .take("scim_max_members_returned")
            .map(|raw| raw.number(1..=1_000_000, "members"))
            .transpose()?
            .unwrap_or(broker::directory::DirectorySettings::default().max_members_returned);
        Ok(Self {
            scim_requests_per_minute,
            scim_max_members_returned,
            mail_from,
            password_login,
            signup,
            email_link_ttl_mins,
            argon2_memory_kib,
            argon2_iterations,
            argon2_parallelism,
            listen,
            public_url,
            data_dir,
            database_url,
            database_max_connections,
            redis_url,
            redis_namespace,
            smtp_url,
            master_key,
            log_format,
            dns_server,
            auto_migrate,
            trusted_proxy_hops,
            shutdown_timeout_secs,
            access_token_ttl_secs,
            key_rotation_days,
            authorization_code_ttl_secs,
            client_registration,
        })
    }

    /// The database URL with any password replaced, for logs and messages.
    pub fn database_url_redacted(&self) -> String {
        broker::db::redact_url(self.database_url.expose_secret())
    }

    /// Which database the URL selects.
    pub fn database_backend(&self) -> Backend {
        Backend::of_url(self.database_url.expose_secret()).unwrap_or(Backend::Sqlite)
    }

    /// The OIDC provider's settings.
    pub fn provider(&self) -> broker::provider::ProviderSettings {
        let mut settings = broker::provider::ProviderSettings::new(self.public_base());
        let ttl = std::time::Duration::from_secs(self.access_token_ttl_secs);
        settings.access_token_ttl = ttl;
        settings.id_token_ttl = ttl;
        settings.code_ttl = std::time::Duration::from_secs(self.authorization_code_ttl_secs);
        settings.registration = self.client_registration;
        settings.key_rotation_interval = (self.key_rotation_days > 0)
            .then(|| std::time::Duration::from_secs(self.key_rotation_days * 24 * 3600));
        settings
    }

    /// Local sign-in settings; fails when passkeys cannot work at the public URL.
    pub fn login(&self) -> broker::Result<broker::login::LoginSettings> {
        let mut settings = broker::login::LoginSettings::new(self.public_url.clone())?;
        settings.email_link_ttl = std::time::Duration::from_secs(self.email_link_ttl_mins * 60);
        settings.password_login = self.password_login;
        settings.signup = self.signup;
        settings.password_params = broker::login::PasswordParams {
            memory_kib: self.argon2_memory_kib,
            iterations: self.argon2_iterations,
            parallelism: self.argon2_parallelism,
        };
        Ok(settings)
    }

    /// The public base URL as a string without a trailing slash.
    pub fn public_base(&self) -> String {
        self.public_url.as_str().trim_end_matches('/').to_owned()
    }
}

fn public_url(raw: &Raw) -> Result<Url, ConfigError> {
    // The value is not echoed: a mistyped URL may carry credentials.
    let url = Url::parse(&raw.value).map_err(|e| raw.error(format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(raw.error("must start with https:// (or http:// for local development)"));
    }
    if url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() {
        return Err(raw.error("must be a base URL with a host and no query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(raw.error("must not contain credentials"));
    }
    Ok(url)
}

/// `http://localhost:{port}`: `localhost` rather than an IP, because browsers accept it as a
/// secure context and WebAuthn relying-party id, which an IP address never is.
fn default_public_url(listen: SocketAddr) -> Result<Url, ConfigError> {
    Url::parse(&format!("http://localhost:{}", listen.port())).map_err(|e| ConfigError {
        setting: "TESSERA_PUBLIC_URL".into(),
        reason: format!("cannot derive a default from TESSERA_LISTEN: {e}"),
    })
}

fn database_url(raw: &Raw) -> Result<SecretString, ConfigError> {
    let scheme = raw
        .value
        .split_once(':')
        .map(|(s, _)| s)
        .unwrap_or_default();
    match Backend::of_url(&raw.value) {
        Some(Backend::Postgres) => {
            Url::parse(&raw.value)
                .map_err(|e| raw.error(format!("not a valid PostgreSQL URL: {e}")))?;
        }
        Some(Backend::Sqlite) => {}
        None => {
            return Err(raw.error(format!(
                "unsupported scheme '{scheme}'; use postgres://user:pass@host/db or sqlite://path/tessera.db"
            )));
        }
    }
    Ok(SecretString::from(raw.value.clone()))
}

fn default_database_url(data_dir: &Path) -> SecretString {
    SecretString::from(format!(
        "sqlite://{}?mode=rwc",
        data_dir.join("tessera.db").display()
    ))
}

fn url_with_scheme(
    raw: &Raw,
    schemes: &[&str],
    example: &str,
) -> Result<SecretString, ConfigError> {
    let url = Url::parse(&raw.value)
        .map_err(|_| raw.error(format!("not a URL; expected something like {example}")))?;
    if !schemes.contains(&url.scheme()) {
        return Err(raw.error(format!(
            "unsupported scheme '{}'; expected {}",
            url.scheme(),
            schemes.join(" or ")
        )));
    }
    Ok(SecretString::from(raw.value.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        Config::from_sources(Sources::gather(None, env)?)
    }

    #[test]
    fn zero_config_defaults() {
        let c = config(&[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url.as_str(), "http://localhost:8080/");
        assert_eq!(c.database_backend(), Backend::Sqlite);
        assert!(c.database_url.expose_secret().contains("data/tessera.db"));
        assert!(c.redis_url.is_none() && c.smtp_url.is_none() && c.master_key.is_none());
        assert_eq!(c.log_format, LogFormat::Text);
        assert!(c.auto_migrate);
        assert_eq!(
            c.database_max_connections, None,
            "the backend's default pool"
        );
        let sized = config(&[("TESSERA_DATABASE_MAX_CONNECTIONS", "40")]).unwrap();
        assert_eq!(sized.database_max_connections, Some(40));
    }

    #[test]
    fn bad_database_url_names_the_setting_and_the_fix() {
        let err = config(&[("DATABASE_URL", "mysql://db/tessera")]).unwrap_err();
        assert_eq!(err.setting, "DATABASE_URL");
        assert!(err.reason.contains("unsupported scheme 'mysql'"), "{err}");
        assert!(err.reason.contains("postgres://"), "{err}");
    }

    #[test]
    fn bad_values_are_refused_with_their_variable() {
        for (var, value) in [
            ("TESSERA_LISTEN", "8080"),
            ("TESSERA_PUBLIC_URL", "ftp://sso.example.com"),
            ("TESSERA_MASTER_KEY", "c2hvcnQ="),
            ("TESSERA_LOG_FORMAT", "xml"),
            ("REDIS_URL", "http://cache"),
            ("TESSERA_SMTP_URL", "not a url"),
            ("TESSERA_AUTO_MIGRATE", "maybe"),
            ("TESSERA_TRUSTED_PROXY_HOPS", "yes"),
            ("TESSERA_ACCESS_TOKEN_TTL", "5"),
            ("TESSERA_KEY_ROTATION_DAYS", "-1"),
            ("TESSERA_CLIENT_REGISTRATION", "yes"),
            ("TESSERA_DATABASE_MAX_CONNECTIONS", "0"),
        ] {
            let err = config(&[(var, value)]).unwrap_err();
            assert_eq!(err.setting, var, "{err}");
        }
    }

    #[test]
    fn public_url_follows_the_listen_port_by_default() {
        let c = config(&[("TESSERA_LISTEN", "0.0.0.0:9000")]).unwrap();
        assert_eq!(c.public_url.as_str(), "http://localhost:9000/");
    }

    #[test]
    fn redaction_hides_database_password() {
        let c = config(&[("DATABASE_URL", "postgres://u:s3cret@db/tessera")]).unwrap();
        assert!(!c.database_url_redacted().contains("s3cret"));
        assert!(!format!("{c:?}").contains("s3cret"));
        let env = [("TESSERA_MASTER_KEY".to_owned(), "c2VjcmV0".to_owned())];
        let sources = Sources::gather(None, env).unwrap();
        assert!(!format!("{sources:?}").contains("c2VjcmV0"));
    }

    #[test]
    fn file_values_apply_and_environment_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:7000\"\nlog_format = \"json\"\nauto_migrate = false\n",
        )
        .unwrap();
        let env = [("TESSERA_LOG_FORMAT".to_owned(), "text".to_owned())];
        let c = Config::from_sources(Sources::gather(Some(&path), env).unwrap()).unwrap();
        assert_eq!(c.listen.port(), 7000);
        assert_eq!(c.log_format, LogFormat::Text);
        assert!(!c.auto_migrate);
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera.toml");
        std::fs::write(&path, "databse_url = \"sqlite://x\"\n").unwrap();
        let err = Sources::gather(Some(&path), []).unwrap_err();
        assert!(err.setting.starts_with("databse_url in "), "{err}");
        assert!(err.reason.contains("database_url"), "{err}");
    }
}
