//! The SCIM 2.0 endpoints of each organization's directory, under `/scim/v2/{org}`: thin
//! handlers over the `scim` crate's protocol operations, with the broker as storage. Bodies
//! are read as JSON whatever the content type (IdPs send `application/scim+json` or
//! `application/json`); answers are `application/scim+json` with an `ETag`.

use std::collections::HashMap;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpMessage as _, HttpRequest, HttpResponse, web};
use broker::directory::{RefusedRequest, ScimCaller};
use scim::query::{ListParams, ListQuery};
use scim::resource::{Projection, ResourceKind, Stored};
use scim::server::{IfMatch, Server};
use scim::{ScimError, ScimType, discovery};
use serde_json::Value;

use crate::error::ScimApiError;
use crate::extract::ScimClient;
use crate::server::AppState;

/// The largest SCIM request body accepted.
const MAX_BODY_BYTES: usize = 1024 * 1024;

type Params = web::Query<HashMap<String, String>>;

/// Registers the SCIM routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/scim/v2/{org}")
            .wrap(from_fn(record_refusals))
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .service(
                read_only("/ServiceProviderConfig").route(web::get().to(service_provider_config)),
            )
            .service(read_only("/ResourceTypes").route(web::get().to(resource_types)))
            .service(read_only("/ResourceTypes/{name}").route(web::get().to(resource_type)))
            .service(read_only("/Schemas").route(web::get().to(schemas)))
            .service(read_only("/Schemas/{id}").route(web::get().to(schema)))
            .route("/.search", web::post().to(search_all))
            .route("/{resource}", web::get().to(list_resources))
            .route("/{resource}", web::post().to(create_resource))
            .route("/{resource}/.search", web::post().to(search_resources))
            .route("/{resource}/{id}", web::get().to(get_resource))
            .route("/{resource}/{id}", web::put().to(replace_resource))
            .route("/{resource}/{id}", web::patch().to(patch_resource))
            .route("/{resource}/{id}", web::delete().to(delete_resource))
            .default_service(web::to(unknown_endpoint)),
    );
}

/// Records the requests of an authenticated caller that the directory refused, for the org's
/// admins (the console's SCIM page lists them).
async fn record_refusals(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let response = next.call(req).await?;
    let refused = response
        .response()
        .error()
        .and_then(|e| e.as_error::<ScimApiError>())
        .map(|e| e.scim_error().clone());
    let caller = response.request().extensions().get::<ScimCaller>().cloned();
    if let (Some(error), Some(caller)) = (refused, caller)
        && let Some(state) = response.request().app_data::<web::Data<AppState>>()
    {
        let request = response.request();
        let refused = RefusedRequest {
            method: request.method().as_str(),
            path: below_base(request.path()),
            error: &error,
        };
        state.broker.record_scim_failure(&caller, refused).await;
    }
    Ok(response)
}

/// `/Users/…` of `/scim/v2/{org}/Users/…`: the path as the IdP's admin configured it.
fn below_base(path: &str) -> &str {
    let below_org = path
        .strip_prefix("/scim/v2/")
        .and_then(|rest| rest.find('/').map(|slash| &rest[slash..]));
    below_org.unwrap_or("/")
}

/// A discovery endpoint: GET only, other methods answer 405.
fn read_only(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn method_not_allowed(_caller: ScimClient) -> Result<HttpResponse, ScimApiError> {
    Err(ScimError::new(405, "this endpoint is read-only").into())
}

fn base(state: &AppState, caller: &ScimClient) -> String {
    state.broker.scim_base_url(caller.0.org_id)
}

fn kind_of(segment: &str) -> Result<ResourceKind, ScimError> {
    match segment {
        "Users" => Ok(ResourceKind::User),
        "Groups" => Ok(ResourceKind::Group),
        other => Err(ScimError::new(
            404,
            format!("no resource type at '/{other}'"),
        )),
    }
}

fn json_body(bytes: &[u8]) -> Result<Value, ScimError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ScimError::typed(
            ScimType::InvalidSyntax,
            format!("the body is not valid JSON: {e}"),
        )
    })
}

fn projection(params: &Params) -> Result<Projection, ScimError> {
    Projection::parse(
        params.get("attributes").map(String::as_str),
        params.get("excludedAttributes").map(String::as_str),
    )
}

fn if_match(req: &HttpRequest) -> IfMatch {
    IfMatch::parse(
        req.headers()
            .get(header::IF_MATCH)
            .and_then(|v| v.to_str().ok()),
    )
}

fn respond(status: StatusCode, body: &Value, stored: Option<&Stored>) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.content_type("application/scim+json");
    if let Some(stored) = stored
        && let Ok(etag) = HeaderValue::from_str(&stored.etag())
    {
        response.insert_header((header::ETAG, etag));
    }
    if status == StatusCode::CREATED
        && let Some(location) = body.pointer("/meta/location").and_then(Value::as_str)
        && let Ok(location) = HeaderValue::from_str(location)
    {
        response.insert_header((header::LOCATION, location));
    }
    // to_vec, not to_string: Display goes through core::fmt, several times slower on big lists.
    response.body(serde_json::to_vec(body).unwrap_or_default())
}

async fn service_provider_config(state: web::Data<AppState>, caller: ScimClient) -> HttpResponse {
    let docs = state.broker.provider().url("/docs/");
    respond(
        StatusCode::OK,
        &discovery::service_provider_config(&base(&state, &caller), &docs),
        None,
    )
}

async fn resource_types(state: web::Data<AppState>, caller: ScimClient) -> HttpResponse {
    respond(
        StatusCode::OK,
        &discovery::resource_types(&base(&state, &caller)),
        None,
    )
}

async fn resource_type(
    state: web::Data<AppState>,
    caller: ScimClient,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ScimApiError> {
    let body = discovery::resource_type_named(&base(&state, &caller), &path.1)?;
    Ok(respond(StatusCode::OK, &body, None))
}

async fn schemas(state: web::Data<AppState>, caller: ScimClient) -> HttpResponse {
    respond(
        StatusCode::OK,
        &discovery::schemas(&base(&state, &caller)),
        None,
    )
}

async fn schema(
    state: web::Data<AppState>,
    caller: ScimClient,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ScimApiError> {
    let body = discovery::schema_named(&base(&state, &caller), &path.1)?;
    Ok(respond(StatusCode::OK, &body, None))
}

/// Users and Groups in one search (RFC 7644 §3.4.3).
async fn search_all(
    state: web::Data<AppState>,
    caller: ScimClient,
    body: web::Bytes,
) -> Result<HttpResponse, ScimApiError> {
    let query = ListQuery::from_search(&json_body(&body)?)?;
    let directory = state.broker.directory(&caller.0);
    let base = base(&state, &caller);
    let body = Server::new(&directory, &base).search_all(&query).await?;
    Ok(respond(StatusCode::OK, &body, None))
}

async fn unknown_endpoint(
    _caller: ScimClient,
    req: HttpRequest,
) -> Result<HttpResponse, ScimApiError> {
    Err(ScimError::new(404, format!("no SCIM endpoint at {}", req.path())).into())
}

async fn list_resources(
    state: web::Data<AppState>,
    caller: ScimClient,
    path: web::Path<(String, String)>,
    params: Params,
) -> Result<HttpResponse, ScimApiError> {
    let kind = kind_of(&path.1)?;
    let get = |name: &str| params.get(name).cloned();
    let query = ListQuery::from_params(&ListParams {
        filter: get("filter"),
        sort_by: get("sortBy"),
        sort_order: get("sortOrder"),
        start_index: get("startIndex"),
        count: get("count"),
        attributes: get("attributes"),
        excluded_attributes: get("excludedAttributes"),
    })?;
    let directory = state.broker.directory(&caller.0);
    let base = base(&state, &caller);
    let body = Server::new(&directory, &base).list(kind, &query).await?;
    Ok(respond(StatusCode::OK, &body, None))
}

async fn search_resources(
    state: web::Data<AppState>,
    caller: ScimClient,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ScimApiError> {
    let kind = kind_of(&path.1)?;
    let query = ListQuery::from_search(&json_body(&body)?)?;
    let directory = state.broker.directory(&caller.0);
    let base = base(&state, &caller);
    let body = Server::new(&directory, &base).list(kind, &query).await?;
    Ok(respond(StatusCode::OK, &body, None))
}

async fn create_resource(
    state: web::Data<AppState>,
    caller: ScimClient,
    path: web::Path<(String, String)>,
    params: Params,
    body: web::Bytes,
) -> Result<HttpResponse, ScimApiError> {
    let kind = kind_of(&path.1)?;
    let directory = state.broker.directory(&caller.0);
    let base = base(&state, &caller);
    let (stored, out) = Server::new(&directory, &base)
        .create(kind, &json_body(&body)?, &projection(&params)?)
        .await?;
    Ok(respond(StatusCode::CREATED, &out, Some(&stored)))
}

async fn get_resource(
    state: web::Data<AppState>,
    caller: ScimClient,
    path: web::Path<(String, String, String)>,
    params: Params,
) -> Result<HttpResponse, ScimApiError> {
    let kind = kind_of(&path.1)?;
    let directory = state.broker.directory(&caller.0);
    let base = base(&state, &caller);
    let (stored, out) = Server::new(&directory, &base)
        .get(kind, &path.2, &projection(&params)?)
        .await?;
    Ok(respond(StatusCode::OK, &out, Some(&stored)))
}

async fn replace_resource(
    state: web::Data<AppState>,
    caller: ScimClient,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    params: Params,
    body: web::Bytes,
) -> Result<HttpResponse, ScimApiError> {
    let kind = kind_of(&path.1)?;
    let directory = state.broker.directory(&caller.0);
    let base = base(&state, &caller);
    let (stored, out) = Server::new(&directory, &base)
        .replace(
            kind,
            &path.2,
            &json_body(&body)?,
            if_match(&req),
            &projection(&params)?,
        )
        .await?;
    Ok(respond(StatusCode::OK, &out, Some(&stored)))
}

async fn patch_resource(
    state: web::Data<AppState>,
    caller: ScimClient,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    params: Params,
    body: web::Bytes,
) -> Result<HttpResponse, ScimApiError> {
    let kind = kind_of(&path.1)?;
    let directory = state.broker.directory(&caller.0);
    let base = base(&state, &caller);
    let (stored, out) = Server::new(&directory, &base)
        .patch(
            kind,
            &path.2,
            &json_body(&body)?,
            if_match(&req),
            &projection(&params)?,
        )
        .await?;
    Ok(match out {
        Some(out) => respond(StatusCode::OK, &out, Some(&stored)),
        None => HttpResponse::NoContent()
            .insert_header((header::ETAG, stored.etag()))
            .finish(),
    })
}

async fn delete_resource(
    state: web::Data<AppState>,
    caller: ScimClient,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ScimApiError> {
    let kind = kind_of(&path.1)?;
    let directory = state.broker.directory(&caller.0);
    let base = base(&state, &caller);
    Server::new(&directory, &base)
        .delete(kind, &path.2, if_match(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
