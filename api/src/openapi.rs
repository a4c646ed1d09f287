//! The OpenAPI document: generated from the handlers' annotations, committed as openapi.yaml
//! (a test fails when the two differ), served at `/openapi.json` and browsable at `/docs`.
//! The error responses every admin API operation shares are declared here, once.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder, Type};
use utoipa::openapi::{ObjectBuilder, PathItem};
use utoipa::{Modify, OpenApi};

/// The fixed parts of the document; paths and schemas are collected from the routes.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Tessera admin API",
        description = "Manage organizations, domains, memberships, API keys and the audit log of a \
                       Tessera SSO broker. Authenticate with an API key: \
                       `Authorization: Bearer <key>` (or `X-API-Key: <key>`). The admin \
                       console calls the same API with its session cookie (writes send \
                       `X-CSRF-Token`; `X-Tessera-Organization` names the organization on \
                       routes without one); a setup link's token opens the SSO set-up routes \
                       of its organization (domains, connections, role rules). Errors are \
                       `{code, message, field?, request_id}` with the stable codes listed in \
                       docs/errors.md.",
        license(name = "Apache-2.0"),
    ),
    modifiers(&ApiKeyAuth),
    tags(
        (name = "organizations", description = "Tenants"),
        (name = "domains", description = "Domains an organization owns, proven through DNS"),
        (name = "memberships", description = "Users in an organization and their roles"),
        (name = "api-keys", description = "Keys limited to one organization"),
        (name = "clients", description = "Apps (OIDC clients) that get tokens from Tessera"),
        (name = "connections", description = "Upstream IdPs an organization signs in with (OIDC), dry-run test logins, and the instance's social sign-in"),
        (name = "role-mappings", description = "Rules that turn IdP claims and groups into roles"),
        (name = "scim-tokens", description = "Bearer tokens for the organization's SCIM 2.0 endpoint (/scim/v2/{org_id}), where its IdP pushes users and groups"),
        (name = "audit", description = "What changed, who changed it, when"),
        (name = "setup-links", description = "Time-limited links that let someone without an account set up the organization's SSO"),
        (name = "branding", description = "Display name, colour and logo of the organization's sign-in pages"),
        (name = "console", description = "Who is calling (the admin console starts here)"),
        (name = "instance-admins", description = "People with authority over every organization"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
pub struct ApiDoc;

struct ApiKeyAuth;

impl Modify for ApiKeyAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key (`tsk_…`)"))
                    .build(),
            ),
        );
    }
}

/// An error response that many admin API operations can give, declared once under
/// `components/responses` and referenced by each operation it applies to (unless the
/// operation declares that status itself, more precisely).
struct SharedResponse {
    status: &'static str,
    name: &'static str,
    description: &'static str,
    /// A header the response carries: name, type and description.
    header: Option<(&'static str, Type, &'static str)>,
    applies_to: fn(&Operation) -> bool,
}

fn always(_: &Operation) -> bool {
    true
}

fn has_input(operation: &Operation) -> bool {
    operation.request_body.is_some() || operation.parameters.as_ref().is_some_and(|p| !p.is_empty())
}

fn has_body(operation: &Operation) -> bool {
    operation.request_body.is_some()
}

const SHARED_RESPONSES: [SharedResponse; 7] = [
    SharedResponse {
        status: "400",
        name: "BadRequest",
        description: "The request is malformed: `invalid_path`, `invalid_query`, `invalid_json`, \
                      `missing_field`, `unknown_field`, `invalid_field` or a check of one \
                      field's value; `field` names the part at fault.",
        header: None,
        applies_to: has_input,
    },
    SharedResponse {
        status: "401",
        name: "Unauthenticated",
        description: "No usable credential: `missing_credentials`, `invalid_credentials` (an \
                      unknown, revoked or expired API key) or `setup_link_invalid`.",
        header: Some((
            "WWW-Authenticate",
            Type::String,
            "`Bearer realm=\"tessera\"`",
        )),
        applies_to: always,
    },
    SharedResponse {
        status: "403",
        name: "Forbidden",
        description: "The credential may not do this: `insufficient_key_scope` (a key without \
                      the admin scope), `instance_admin_required`, `admin_role_required`, \
                      `setup_link_not_allowed` or, for console sessions, `csrf_check_failed`.",
        header: None,
        applies_to: always,
    },
    SharedResponse {
        status: "413",
        name: "PayloadTooLarge",
        description: "`payload_too_large`: the body is larger than the operation accepts \
                      (64 KiB for JSON).",
        header: None,
        applies_to: has_body,
    },
    SharedResponse {
        status: "415",
        name: "UnsupportedMediaType",
        description: "`unsupported_media_type`: the body's `Content-Type` is not the one the \
                      operation takes.",
        header: None,
        applies_to: has_body,
    },
    SharedResponse {
        status: "429",
        name: "RateLimited",
        description: "`rate_limited`: too many failed credential checks from this address (or \
                      too many of a costly operation); retry after `Retry-After` seconds.",
        header: Some((
            "Retry-After",
            Type::Integer,
            "Seconds to wait before trying again.",
        )),
        applies_to: always,
    },
    SharedResponse {
        status: "503",
        name: "Unavailable",
        description: "`service_unavailable`: the database or the store cannot be reached; \
                      retry after `Retry-After` seconds.",
        header: Some((
            "Retry-After",
            Type::Integer,
            "Seconds to wait before trying again.",
        )),
        applies_to: always,
    },
];

impl SharedResponse {
    fn response(&self) -> Response {
        let body = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .build();
        let mut response = ResponseBuilder::new()
            .description(self.description)
            .content("application/json", body);
        if let Some((name, schema_type, description)) = &self.header {
            let header = HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(schema_type.clone())))
                .description(Some(*description))
                .build();
            response = response.header(*name, header);
        }
        response.build()
    }
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

/// Declares the shared error responses and adds them to every `/api/v1` operation they apply
/// to: the extractors, the JSON reader and the error mapping give them on any route.
fn add_shared_responses(document: &mut utoipa::openapi::OpenApi) {
    let components = document.components.get_or_insert_with(Default::default);
    for shared in &SHARED_RESPONSES {
        components
            .responses
            .insert(shared.name.to_owned(), RefOr::T(shared.response()));
    }
    for (path, item) in document.paths.paths.iter_mut() {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        for operation in operations_mut(item) {
            for shared in &SHARED_RESPONSES {
                if (shared.applies_to)(operation) {
                    operation
                        .responses
                        .responses
                        .entry(shared.status.to_owned())
                        .or_insert_with(|| Ref::from_response_name(shared.name).into());
                }
            }
        }
    }
}

/// The complete document for the current build.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut document = crate::server::openapi();
    document.info.version = env!("CARGO_PKG_VERSION").to_owned();
    add_shared_responses(&mut document);
    document
}

/// The document as YAML, exactly as committed in openapi.yaml.
pub fn yaml() -> anyhow::Result<String> {
    Ok(document().to_yaml()?)
}
