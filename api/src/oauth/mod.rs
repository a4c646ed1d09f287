//! The OpenID Connect provider's HTTP endpoints. Their contracts are the RFCs (and the
//! discovery document describes them), so they are not part of the admin API's OpenAPI file.

mod authorize;
mod consent;
mod device;
mod form;
mod logout;
mod registration;
mod userinfo;

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use broker::provider::grant::TokenRequest;

use crate::error::OAuthError;
use crate::server::AppState;

pub use form::{AppClient, OAuthForm, client_auth};

/// Registers the provider's endpoints; `/oauth2/register` only when registration is enabled.
pub fn routes(cfg: &mut web::ServiceConfig, registration: bool) {
    if registration {
        cfg.route(
            broker::provider::discovery::path::REGISTER,
            web::post().to(registration::register),
        );
    }
    // actix-web tries routes in the order registered, so the ones machines call many times a
    // second come first (none of these paths overlap: the order changes nothing else).
    cfg.service(openid_configuration)
        .service(jwks)
        .service(token)
        .service(consent::consent_page)
        .service(consent::consent_answer)
        .service(oauth_metadata)
        .service(authorize::authorize_get)
        .service(authorize::authorize_post)
        .service(authorize::resume)
        .service(device::device_authorization)
        .service(device::device_page)
        .service(device::device_answer)
        .service(logout::end_session_get)
        .service(logout::end_session_post)
        .service(userinfo::userinfo_get)
        .service(userinfo::userinfo_post)
        .service(introspect)
        .service(revoke)
        .service(verify_api_key);
}

/// Endpoints browser apps (SPAs, browser-based MCP clients) call directly: any origin may call
/// them, without cookies (CORS with `*` never sends credentials).
const CORS_PATHS: [&str; 7] = [
    "/oauth2/token",
    "/oauth2/userinfo",
    "/oauth2/revoke",
    "/oauth2/introspect",
    "/oauth2/register",
    "/oauth2/device_authorization",
    "/oauth2/jwks",
];

/// Answers CORS preflights and marks responses of [`CORS_PATHS`] as readable by any origin.
pub async fn cors(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    if !CORS_PATHS.contains(&req.path()) {
        return next.call(req).await.map(|r| r.map_into_boxed_body());
    }
    if req.method() == actix_web::http::Method::OPTIONS {
        let response = HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"))
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "Authorization, Content-Type, DPoP",
            ))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
            .finish();
        return Ok(req.into_response(response));
    }
    let mut response = next.call(req).await?.map_into_boxed_body();
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::HeaderValue::from_static("*"),
    );
    response.headers_mut().insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        header::HeaderValue::from_static("WWW-Authenticate, Retry-After"),
    );
    Ok(response)
}

/// Public, cacheable metadata that browsers may fetch from any origin; caches keep it for
/// five minutes. The header values are constants: formatting a `CacheControl` on every
/// request was a tenth of what serving discovery cost.
fn public_json(body: &str) -> HttpResponse {
    const CACHE_FOR_FIVE_MINUTES: header::HeaderValue =
        header::HeaderValue::from_static("public, max-age=300");
    const ANY_ORIGIN: header::HeaderValue = header::HeaderValue::from_static("*");
    const JSON: header::HeaderValue = header::HeaderValue::from_static("application/json");
    let mut response = HttpResponse::Ok().body(web::Bytes::copy_from_slice(body.as_bytes()));
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, CACHE_FOR_FIVE_MINUTES);
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, ANY_ORIGIN);
    headers.insert(header::CONTENT_TYPE, JSON);
    response
}

/// OpenID Provider metadata (OIDC Discovery 1.0).
#[get("/.well-known/openid-configuration")]
async fn openid_configuration(state: web::Data<AppState>) -> HttpResponse {
    public_json(state.broker.discovery_json())
}

/// Authorization server metadata (RFC 8414).
#[get("/.well-known/oauth-authorization-server")]
async fn oauth_metadata(state: web::Data<AppState>) -> HttpResponse {
    public_json(state.broker.discovery_json())
}

/// The JWK Set: keys that verify Tessera's tokens.
#[get("/oauth2/jwks")]
async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, OAuthError> {
    let keys = state.broker.keys().await?;
    Ok(public_json(keys.jwks_json()))
}

/// The token endpoint (RFC 6749 §3.2).
#[post("/oauth2/token")]
async fn token(state: web::Data<AppState>, app: AppClient) -> Result<HttpResponse, OAuthError> {
    let AppClient { client, form } = app;
    let get = |name: &str| form.get(name).map(str::to_owned);
    let request = TokenRequest {
        grant_type: form.require("grant_type")?.to_owned(),
        scope: get("scope"),
        resources: form.all("resource"),
        code: get("code"),
        redirect_uri: get("redirect_uri"),
        code_verifier: get("code_verifier"),
        refresh_token: get("refresh_token"),
        device_code: get("device_code"),
    };
    let response = state.broker.token(&client, request).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::PRAGMA, "no-cache"))
        .json(response))
}

/// Token introspection (RFC 7662), for confidential apps.
#[post("/oauth2/introspect")]
async fn introspect(
    state: web::Data<AppState>,
    app: AppClient,
) -> Result<HttpResponse, OAuthError> {
    let body = state
        .broker
        .introspect(&app.client, app.form.require("token")?)
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Token revocation (RFC 7009).
#[post("/oauth2/revoke")]
async fn revoke(state: web::Data<AppState>, app: AppClient) -> Result<HttpResponse, OAuthError> {
    state
        .broker
        .revoke(&app.client, app.form.require("token")?)
        .await?;
    Ok(HttpResponse::Ok().finish())
}

/// API-key verification for an app's backend: is this key live, whose is it, what may it do.
#[post("/oauth2/api_keys/verify")]
async fn verify_api_key(
    state: web::Data<AppState>,
    app: AppClient,
) -> Result<HttpResponse, OAuthError> {
    let body = state
        .broker
        .verify_api_key(&app.client, app.form.require("key")?)
        .await?;
    Ok(HttpResponse::Ok().json(body))
}
