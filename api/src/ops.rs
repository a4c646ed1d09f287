//! Operations endpoints: liveness, readiness, Prometheus metrics and the landing page.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::server::AppState;
use crate::telemetry;

/// Liveness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the process serves requests.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Readiness answer: each dependency and, when it failed, why.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `unavailable`.
    #[schema(example = "ready")]
    pub status: &'static str,
    /// `ok` or `unavailable` (the reason is in the server log).
    pub database: &'static str,
    /// `ok` or `unavailable` (the reason is in the server log).
    pub store: &'static str,
}

/// Liveness: the process is up and serving.
#[utoipa::path(tag = "operations", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// Readiness: the database and the ephemeral store answer. The endpoint is public, so the
/// body says only which dependency failed; the reason goes to the log.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, body = Readiness),
        (status = 503, body = Readiness, description = "A dependency is down"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let report = state.broker.readiness().await;
    let ready = report.is_ready();
    let summarize = |name: &str, failure: &Option<String>| match failure {
        None => "ok",
        Some(reason) => {
            tracing::warn!(dependency = name, %reason, "not ready");
            "unavailable"
        }
    };
    let body = Readiness {
        status: if ready { "ready" } else { "unavailable" },
        database: summarize("database", &report.database),
        store: summarize("store", &report.store),
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, content_type = "text/plain", body = String))
)]
#[get("/metrics")]
pub async fn metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(telemetry::metrics().render())
}

/// The landing page.
#[get("/")]
pub async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(frontend::INDEX_HTML)
}

/// Static assets embedded in the binary.
#[get("/assets/{name}")]
pub async fn asset(name: web::Path<String>) -> HttpResponse {
    match frontend::asset(&name) {
        Some(asset) => HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header(("cache-control", "public, max-age=3600"))
            .body(asset.bytes),
        None => HttpResponse::NotFound().finish(),
    }
}
