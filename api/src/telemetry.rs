//! Logs, request ids and metrics: one middleware gives every request an id (kept from a sane
//! incoming `X-Request-Id` or generated), a tracing span, a Prometheus sample and an access line.

use std::io::IsTerminal as _;
use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::Instrument as _;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// The response (and accepted request) header carrying the request id.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served on this task, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Log lines formatted but not yet written that the log thread holds; past that, a request
/// waits for it (no line is dropped). A few hundred kilobytes at most.
const LOG_LINES_QUEUED: usize = 2048;

/// Installs the global log subscriber. `RUST_LOG` refines the default filter. Lines go to
/// stderr through a log thread that writes whatever has queued up in one call: a write per
/// line on the request's own thread (the access line at the default `info`) cost a third of
/// the cheapest endpoints' throughput. Hold the returned guard until the process ends: it
/// writes out what is queued when dropped.
pub fn init_logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,hickory_proto=warn"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_LINES_QUEUED)
        .lossy(false)
        .thread_name("tessera-log")
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stderr(),
        ));
    // Colours only for a person at a terminal, not in files, pipes and container logs.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    // A second initialisation (tests starting several apps) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.with_target(false).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    guard
}

/// The process-wide Prometheus recorder (metrics are global by nature; installed once).
pub fn metrics() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                &[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ],
            )
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder is installed; then our handle simply renders nothing.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// How often recorded histogram samples are folded into their buckets.
const METRICS_UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Folds recorded histogram samples into their buckets every few seconds. The recorder keeps
/// each sample until upkeep or a scrape drains it: without this, a server nobody scrapes grows
/// by 8 bytes a request (about 25 MB a minute at 50,000 requests a second).
pub fn spawn_metrics_upkeep() -> tokio::task::JoinHandle<()> {
    let handle = metrics().clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(METRICS_UPKEEP_EVERY);
        loop {
            ticks.tick().await;
            handle.run_upkeep();
        }
    })
}

/// A new request id: a random per-process prefix and a counter (unique, and no system call
/// per request, unlike a random UUID), as 32 hex digits.
fn new_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| u64::from_be_bytes(broker::crypto::random_bytes::<8>()));
    let mut id = String::with_capacity(32);
    for half in [prefix, NEXT.fetch_add(1, Ordering::Relaxed)] {
        push_hex(&mut id, half);
    }
    id
}

/// Appends `value` as 16 lowercase hex digits (what `format!("{value:016x}")` writes, without
/// the formatting machinery on every request).
fn push_hex(out: &mut String, value: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..16).rev() {
        out.push(char::from(DIGITS[(value >> (shift * 4)) as usize & 0xf]));
    }
}

/// Keeps a caller's request id when it is short and plain; otherwise makes a new one.
fn request_id_of(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map_or_else(new_request_id, str::to_owned)
}

/// The request-id, tracing, metrics and access-log middleware.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request_id_of(&req);
    let method = method_label(req.method());
    let span =
        tracing::info_span!("request", request_id = %id, method = %method, path = %req.path());
    let started = Instant::now();
    let mut response = REQUEST_ID
        .scope(id.clone(), next.call(req).instrument(span.clone()))
        .await?;
    let elapsed = started.elapsed();
    let status = response.status();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    record_request(method, &route, status.as_u16(), elapsed);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        // Probes arrive every few seconds from orchestrators; keep them out of info logs.
        if matches!(route.as_str(), "/healthz" | "/readyz" | "/metrics") {
            tracing::debug!(status = status.as_u16(), latency_ms, "request completed");
        } else {
            tracing::info!(status = status.as_u16(), latency_ms, "request completed");
        }
    });
    Ok(response)
}

/// The `method` label: the standard methods by name, any other as `OTHER` (a label value per
/// made-up method would let any client add series to the metrics without end).
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

/// A route's request counter for one method and status, and its duration histogram.
struct RouteMetrics {
    method: &'static str,
    status: u16,
    requests: metrics::Counter,
    duration: metrics::Histogram,
}

thread_local! {
    /// Each worker thread's handles of the series it has recorded, by route. Looking a series
    /// up in the recorder hashes and copies its name and labels every time; a handle goes
    /// straight to the shared atomic counter and histogram. Bounded by routes x methods x
    /// statuses, like the series themselves.
    static ROUTE_METRICS: std::cell::RefCell<std::collections::HashMap<Box<str>, Vec<RouteMetrics>>> =
        std::cell::RefCell::default();
}

/// Counts a request and records its duration in `http_requests_total` and
/// `http_request_duration_seconds`.
fn record_request(method: &'static str, route: &str, status: u16, elapsed: std::time::Duration) {
    ROUTE_METRICS.with_borrow_mut(|routes| {
        if !routes.contains_key(route) {
            routes.insert(route.into(), Vec::new());
        }
        let Some(series) = routes.get_mut(route) else {
            return;
        };
        let index = match series
            .iter()
            .position(|m| m.method == method && m.status == status)
        {
            Some(index) => index,
            None => {
                metrics(); // a handle made before the recorder is installed would count nothing
                series.push(RouteMetrics {
                    method,
                    status,
                    requests: metrics::counter!(
                        "http_requests_total",
                        "method" => method,
                        "route" => route.to_owned(),
                        "status" => status.to_string()
                    ),
                    duration: metrics::histogram!(
                        "http_request_duration_seconds",
                        "method" => method,
                        "route" => route.to_owned()
                    ),
                });
                series.len() - 1
            }
        };
        series[index].requests.increment(1);
        series[index].duration.record(elapsed.as_secs_f64());
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_digits_are_what_format_writes() {
        for value in [0, 1, 0xabc, u64::MAX, 0x0123_4567_89ab_cdef] {
            let mut hex = String::new();
            push_hex(&mut hex, value);
            assert_eq!(hex, format!("{value:016x}"));
        }
    }

    #[test]
    fn only_standard_methods_are_labels_of_their_own() {
        use actix_web::http::Method;
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let made_up = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&made_up), "OTHER");
    }
}
