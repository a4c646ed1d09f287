//! `/api/v1/organizations/{org}/connection-endpoints`: a connection id and the values to
//! register at the IdP for it, before the connection exists (the wizard's first step).

use actix_web::{get, web};
use broker::entities::ConnectionKind;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, ErrorBody};
use crate::extract::OrgSetup;
use crate::query::Query;
use crate::server::AppState;

/// Which kind of connection.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EndpointsQuery {
    /// `oidc` (the default) or `saml`.
    #[param(pattern = "^(oidc|saml)$")]
    pub kind: Option<String>,
    /// An id handed out earlier (within 30 days): the same values again.
    pub id: Option<Uuid>,
}

/// What to register at the IdP, and the id to create the connection with.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionEndpointsView {
    /// Pass as `id` when creating the connection (within 30 days).
    pub id: Uuid,
    /// OIDC: the redirect URI (also called reply URL or callback URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// SAML: Tessera's entity ID for the connection (the IdP's "Identifier" or "Audience URI").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sp_entity_id: Option<String>,
    /// SAML: the Assertion Consumer Service URL (the IdP's "Reply URL" or "Single sign-on URL").
    /// The SP metadata (certificates) exists once the connection is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acs_url: Option<String>,
}

/// Hands out a connection id (or takes back one handed out earlier) and the values to register
/// at the IdP for it; nothing is stored until the connection is created with that id.
#[utoipa::path(
    tag = "connections",
    params(("org" = String, Path, description = "Organization id or slug"), EndpointsQuery),
    responses(
        (status = 200, body = ConnectionEndpointsView),
        (status = 400, body = ErrorBody, description = "invalid_query, invalid_connection"),
        (status = 404, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[get("/organizations/{org}/connection-endpoints")]
pub async fn get_connection_endpoints(
    state: web::Data<AppState>,
    _access: OrgSetup,
    query: Query<EndpointsQuery>,
) -> Result<web::Json<ConnectionEndpointsView>, ApiError> {
    let kind = match query.kind.as_deref() {
        None | Some("oidc") => ConnectionKind::Oidc,
        Some("saml") => ConnectionKind::Saml,
        Some(other) => {
            return Err(ApiError(broker::Error::invalid(
                broker::ErrorCode::InvalidQuery,
                "kind",
                format!("kind '{other}' is not oidc or saml"),
            )));
        }
    };
    let endpoints = state
        .broker
        .connection_endpoints(kind, query.id.map(Into::into))?;
    Ok(web::Json(ConnectionEndpointsView {
        id: endpoints.id.as_uuid(),
        redirect_uri: endpoints.redirect_uri,
        sp_entity_id: endpoints.sp_entity_id,
        acs_url: endpoints.acs_url,
    }))
}
