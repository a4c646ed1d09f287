//! The admin API, version 1 (`/api/v1`): shared request and response shapes, and the routes.

mod api_keys;
mod audit;
mod branding;
pub mod clients;
mod connection_endpoints;
mod connections;
mod domains;
mod instance_admins;
mod me;
mod memberships;
mod organizations;
mod role_mappings;
mod saml;
mod scim_tokens;
mod setup_links;

use actix_web::body::BoxBody;
use actix_web::dev::HttpServiceFactory;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Responder};
use broker::{Page, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::OpenApiFactory;

use crate::error::ApiError;

/// Where handlers are registered: a worker's route table (plain actix-web), or the OpenAPI
/// collector (utoipa-actix-web), which also builds every operation's description. That
/// description is megabytes of allocations, so it is built once per process for the document,
/// not once per worker for routing (each worker's allocator arena would keep it resident).
pub trait Routes {
    /// Registers one handler.
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static;

    /// Registers the `/api/v1` scope with every handler of [`routes`].
    fn api_v1(&mut self) -> &mut Self;
}

impl Routes for actix_web::web::ServiceConfig {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static,
    {
        actix_web::web::ServiceConfig::service(self, factory)
    }

    fn api_v1(&mut self) -> &mut Self {
        actix_web::web::ServiceConfig::service(
            self,
            actix_web::web::scope(PREFIX).configure(routes),
        )
    }
}

impl Routes for utoipa_actix_web::service_config::ServiceConfig<'_> {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static,
    {
        utoipa_actix_web::service_config::ServiceConfig::service(self, factory)
    }

    fn api_v1(&mut self) -> &mut Self {
        let scope = utoipa_actix_web::scope::scope(PREFIX).configure(|cfg| routes(cfg));
        utoipa_actix_web::service_config::ServiceConfig::service(self, scope)
    }
}

/// Where the admin API is served.
const PREFIX: &str = "/api/v1";

/// Registers every `/api/v1` handler.
pub fn routes(cfg: &mut impl Routes) {
    cfg.service(organizations::create_organization)
        .service(organizations::list_organizations)
        .service(organizations::get_organization)
        .service(organizations::update_organization)
        .service(organizations::delete_organization)
        .service(domains::add_domain)
        .service(domains::list_domains)
        .service(domains::get_domain)
        .service(domains::verify_domain)
        .service(domains::remove_domain)
        .service(memberships::add_membership)
        .service(memberships::list_memberships)
        .service(memberships::get_membership)
        .service(memberships::update_membership)
        .service(memberships::remove_membership)
        .service(api_keys::create_api_key)
        .service(api_keys::list_api_keys)
        .service(api_keys::revoke_api_key)
        .service(clients::create_client)
        .service(clients::list_clients)
        .service(clients::get_client)
        .service(clients::update_client)
        .service(clients::rotate_client_secret)
        .service(clients::delete_client)
        .service(connections::create_connection)
        .service(connections::list_connections)
        .service(connections::get_connection)
        .service(connections::update_connection)
        .service(connections::refresh_connection_metadata)
        .service(connections::activate_connection)
        .service(connections::deactivate_connection)
        .service(connections::delete_connection)
        .service(connections::create_test_login)
        .service(connections::get_test_login)
        .service(connections::create_social_connection)
        .service(connections::list_social_connections)
        .service(connections::activate_social_connection)
        .service(connections::delete_social_connection)
        .service(role_mappings::get_role_mappings)
        .service(role_mappings::put_role_mappings)
        .service(role_mappings::preview_role_mappings)
        .service(connection_endpoints::get_connection_endpoints)
        .service(setup_links::create_setup_link)
        .service(setup_links::list_setup_links)
        .service(setup_links::revoke_setup_link)
        .service(branding::get_branding)
        .service(branding::put_branding)
        .service(branding::put_logo)
        .service(branding::delete_logo)
        .service(me::get_me)
        .service(instance_admins::list_instance_admins)
        .service(instance_admins::add_instance_admin)
        .service(instance_admins::remove_instance_admin)
        .service(scim_tokens::create_scim_token)
        .service(scim_tokens::list_scim_tokens)
        .service(scim_tokens::revoke_scim_token)
        .service(audit::list_audit_events)
        .service(audit::list_org_audit_events);
}

/// Pagination parameters accepted by every list endpoint.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Items per page, 1-200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
}

impl ListQuery {
    fn page(&self) -> Result<PageRequest, ApiError> {
        Ok(PageRequest::new(self.limit, self.after.as_deref())?)
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    /// The items on this page.
    pub data: Vec<T>,
    /// Pass as `after` to fetch the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> List<T> {
    fn from_page<M>(page: Page<M>, view: impl FnMut(M) -> T) -> Self {
        Self {
            data: page.items.into_iter().map(view).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// A `201 Created` JSON response.
#[derive(Debug)]
pub struct Created<T>(pub T);

impl<T: Serialize> Responder for Created<T> {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        HttpResponse::build(StatusCode::CREATED).json(self.0)
    }
}
