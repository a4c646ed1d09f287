//! The OpenAPI document: generated from the handlers' annotations, committed as openapi.yaml
//! (a test fails when the two differ), served at `/openapi.json` and browsable at `/docs`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
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

/// The complete document for the current build.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut document = crate::server::openapi();
    document.info.version = env!("CARGO_PKG_VERSION").to_owned();
    document
}

/// The document as YAML, exactly as committed in openapi.yaml.
pub fn yaml() -> anyhow::Result<String> {
    Ok(document().to_yaml()?)
}
