//! DNS TXT lookups for domain verification, behind a trait so the resolver can be pointed at a
//! specific server (`TESSERA_DNS_SERVER`), as tests and split-horizon setups need.

use std::net::SocketAddr;

use async_trait::async_trait;
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

/// Why a TXT lookup gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// The resolver could not be reached or failed (SERVFAIL, timeout); retrying may work.
    #[error("DNS lookup failed: {0}")]
    Unavailable(String),
}

/// Looks up TXT records.
#[async_trait]
pub trait TxtResolver: Send + Sync + std::fmt::Debug {
    /// The TXT strings published at `name` (character-strings of one record joined); an empty
    /// list when the name has no TXT records or does not exist.
    async fn txt(&self, name: &str) -> Result<Vec<String>, DnsError>;
}

/// A resolver using the system configuration (`/etc/resolv.conf`) or one given server.
#[derive(Debug, Clone)]
pub struct HickoryTxtResolver {
    resolver: TokioResolver,
}

impl HickoryTxtResolver {
    /// Uses the operating system's resolver configuration.
    pub fn system() -> Result<Self, DnsError> {
        let builder = TokioResolver::builder_tokio()
            .map_err(|e| DnsError::Unavailable(format!("cannot read system DNS config: {e}")))?;
        Self::finish(builder)
    }

    /// Sends every query to `server` (UDP, falling back to TCP).
    pub fn with_server(server: SocketAddr) -> Result<Self, DnsError> {
        let mut udp = ConnectionConfig::udp();
        udp.port = server.port();
        let mut tcp = ConnectionConfig::tcp();
        tcp.port = server.port();
        let mut name_server = NameServerConfig::udp_and_tcp(server.ip());
        name_server.connections = vec![udp, tcp];
        let config = ResolverConfig::from_name_servers(vec![name_server]);
        Self::finish(TokioResolver::builder_with_config(
            config,
            TokioRuntimeProvider::default(),
        ))
    }

    fn finish(
        mut builder: hickory_resolver::ResolverBuilder<TokioRuntimeProvider>,
    ) -> Result<Self, DnsError> {
        // Verification must see a record the moment it is published: no answer caching.
        builder.options_mut().cache_size = 0;
        let resolver = builder
            .build()
            .map_err(|e| DnsError::Unavailable(format!("cannot build DNS resolver: {e}")))?;
        Ok(Self { resolver })
    }
}

#[async_trait]
impl TxtResolver for HickoryTxtResolver {
    async fn txt(&self, name: &str) -> Result<Vec<String>, DnsError> {
        // A trailing dot makes the name absolute, so no search domains are tried.
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match self.resolver.txt_lookup(fqdn).await {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter_map(|record| match &record.data {
                    RData::TXT(txt) => Some(txt),
                    _ => None,
                })
                .map(|txt| {
                    txt.txt_data
                        .iter()
                        .map(|part| String::from_utf8_lossy(part))
                        .collect::<String>()
                })
                .collect()),
            Err(e) if is_no_records(&e) => Ok(Vec::new()),
            Err(e) => Err(DnsError::Unavailable(e.to_string())),
        }
    }
}

fn is_no_records(error: &hickory_resolver::net::NetError) -> bool {
    error.is_no_records_found() || error.is_nx_domain()
}
