//! Tessera as an OpenID Connect relying party toward an org's IdP, with the `openidconnect`
//! crate: the authorization request (code flow, PKCE S256, state, nonce), the code exchange,
//! ID-token validation (signature by the IdP's JWKS, refetched once on an unknown key; `iss`,
//! `aud`, `azp`, `exp`/`iat` with clock skew, `nonce`), userinfo, and the presets' checks.

pub mod discovery;
pub mod settings;

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreIdToken, CoreIdTokenVerifier,
    CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AuthType, AuthUrl, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RequestTokenError, Scope, SignatureVerificationError, TokenResponse, TokenUrl,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use secrecy::ExposeSecret;
use serde_json::{Map, Value};
use url::Url;

use crate::Broker;
use crate::error::{Error, ErrorCode, Result};
use crate::federation::http::check_url;
use crate::federation::provision::{UpstreamProfile, profile_from_claims};
use crate::federation::{Connection, Preset};

use self::settings::{OidcSettings, TokenAuth};

/// Where to send the browser, and what to remember until it comes back.
#[derive(Debug)]
pub(crate) struct AuthorizationStart {
    pub url: Url,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// How many pages of groups are read from Microsoft Graph on an overage (100 per page).
const MAX_GROUP_PAGES: usize = 10;

const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

fn url_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::internal(format!("stored {what} is not a URL: {e}"))
}

fn jwks_of(settings: &OidcSettings) -> Result<CoreJsonWebKeySet> {
    serde_json::from_value(settings.jwks.clone()).map_err(Error::internal)
}

type Configured = openidconnect::core::CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
>;

fn client(
    settings: &OidcSettings,
    secret: Option<ClientSecret>,
    redirect_uri: &str,
) -> Result<Configured> {
    let issuer =
        IssuerUrl::new(settings.expected_issuer.clone()).map_err(|e| url_error("issuer", e))?;
    // The client builds requests only; ID tokens are checked by `verify_id_token`, which
    // reads the keys itself.
    let mut client = CoreClient::new(
        ClientId::new(settings.client_id.clone()),
        issuer,
        CoreJsonWebKeySet::default(),
    )
    .set_auth_uri(
        AuthUrl::new(settings.authorization_endpoint.clone())
            .map_err(|e| url_error("authorization endpoint", e))?,
    )
    .set_token_uri(
        TokenUrl::new(settings.token_endpoint.clone())
            .map_err(|e| url_error("token endpoint", e))?,
    )
    .set_redirect_uri(
        RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| url_error("redirect URI", e))?,
    )
    .set_auth_type(match settings.token_auth {
        TokenAuth::ClientSecretBasic => AuthType::BasicAuth,
        TokenAuth::ClientSecretPost => AuthType::RequestBody,
    });
    if let Some(secret) = secret {
        client = client.set_client_secret(secret);
    }
    Ok(client)
}

/// The authorization request to the IdP.
pub(crate) fn authorization_request(
    settings: &OidcSettings,
    redirect_uri: &str,
    state: &str,
    login_hint: Option<&str>,
) -> Result<AuthorizationStart> {
    let client = client(settings, None, redirect_uri)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let state = state.to_owned();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            move || CsrfToken::new(state),
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in settings.scopes.iter().filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    if let Some(hint) = login_hint {
        request = request.add_extra_param("login_hint", hint.to_owned());
    }
    let (url, _, nonce) = request.url();
    Ok(AuthorizationStart {
        url,
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
    })
}

fn verification_error(error: &ClaimsVerificationError) -> Error {
    let (code, message) = match error {
        ClaimsVerificationError::InvalidIssuer(m) => (ErrorCode::OidcIssuerMismatch, m.clone()),
        ClaimsVerificationError::InvalidAudience(m) => (ErrorCode::OidcAudienceMismatch, m.clone()),
        ClaimsVerificationError::InvalidNonce(m) => (ErrorCode::OidcNonceMismatch, m.clone()),
        ClaimsVerificationError::Expired(m) => (ErrorCode::OidcTokenExpired, m.clone()),
        ClaimsVerificationError::SignatureVerification(e) => {
            (ErrorCode::OidcSignatureInvalid, e.to_string())
        }
        other => (ErrorCode::OidcIdTokenInvalid, other.to_string()),
    };
    Error::new(
        code,
        format!("the identity provider's ID token was refused: {message}"),
    )
}

fn needs_fresh_keys(error: &ClaimsVerificationError) -> bool {
    matches!(
        error,
        ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey | SignatureVerificationError::CryptoError(_)
        )
    )
}

/// The JSON claims of a (verified) compact JWT.
fn payload_of(jwt: &str) -> Result<Map<String, Value>> {
    let part = jwt
        .split('.')
        .nth(1)
        .ok_or_else(|| Error::new(ErrorCode::OidcIdTokenInvalid, "the ID token is not a JWT"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| Error::new(ErrorCode::OidcIdTokenInvalid, "the ID token is not a JWT"))?;
    serde_json::from_slice(&bytes).map_err(|_| {
        Error::new(
            ErrorCode::OidcIdTokenInvalid,
            "the ID token's claims are not JSON",
        )
    })
}

fn upstream_token_error<RE: std::error::Error + 'static>(
    error: RequestTokenError<RE, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
) -> Error {
    let message = match &error {
        RequestTokenError::ServerResponse(response) => {
            let description = response
                .error_description()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            format!(
                "the identity provider's token endpoint refused the code ({}{description}); check the client id, client secret and registered redirect URI",
                response.error().as_ref()
            )
        }
        RequestTokenError::Request(e) => {
            format!("the identity provider's token endpoint failed: {e}")
        }
        RequestTokenError::Parse(e, _) => {
            format!("the identity provider's token response is malformed: {e}")
        }
        RequestTokenError::Other(e) => {
            format!("the identity provider's token endpoint failed: {e}")
        }
    };
    Error::new(ErrorCode::OidcTokenExchangeFailed, message)
}

impl Broker {
    /// Exchanges the code, validates the ID token, reads userinfo and applies the preset's
    /// checks: the upstream user as a profile.
    pub(crate) async fn oidc_profile(
        &self,
        connection: &Connection,
        code: &str,
        nonce: &str,
        pkce_verifier: &str,
    ) -> Result<UpstreamProfile> {
        let mut settings = Self::oidc_settings(connection)?;
        let secret = self.connection_secret(connection)?;
        let redirect_uri = self.oidc_redirect_uri(connection.id);
        let http = self.upstream_http()?;
        let tokens = client(
            &settings,
            Some(ClientSecret::new(secret.expose_secret().to_owned())),
            &redirect_uri,
        )?
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
        .request_async(&http)
        .await
        .map_err(upstream_token_error)?;
        let id_token = tokens.id_token().ok_or_else(|| {
            Error::new(
                ErrorCode::OidcIdTokenMissing,
                "the identity provider returned no ID token; allow the openid scope for this application",
            )
        })?;
        let now = self.now();
        let subject = match self.verify_id_token(&settings, id_token, nonce, now) {
            Err(first) if needs_fresh_keys(&first) => {
                // The IdP may have rotated its keys: refetch once, remember them, retry.
                settings.jwks = discovery::fetch_jwks(&http, &settings.jwks_uri).await?;
                self.store_oidc_settings(connection, &settings).await?;
                self.verify_id_token(&settings, id_token, nonce, now)
                    .map_err(|e| verification_error(&e))?
            }
            other => other.map_err(|e| verification_error(&e))?,
        };
        let mut claims = payload_of(&id_token.to_string())?;
        let access_token = tokens.access_token().secret().clone();
        if settings.use_userinfo {
            self.merge_userinfo(&settings, &access_token, &subject, &mut claims)
                .await?;
        }
        let preset = connection
            .preset
            .as_deref()
            .and_then(|p| p.parse::<Preset>().ok());
        self.check_preset(connection, preset, &settings, &access_token, &mut claims)
            .await?;
        let amr = claims
            .get("amr")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        Ok(profile_from_claims(
            subject,
            Value::Object(claims),
            &settings.claims,
            amr,
        ))
    }

    /// Verifies the ID token; the verified subject.
    fn verify_id_token(
        &self,
        settings: &OidcSettings,
        id_token: &CoreIdToken,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> std::result::Result<String, ClaimsVerificationError> {
        let skew = Duration::seconds(i64::from(settings.clock_skew_seconds));
        let issuer = IssuerUrl::new(settings.expected_issuer.clone())
            .map_err(|e| ClaimsVerificationError::Other(e.to_string()))?;
        let jwks = jwks_of(settings).map_err(|e| ClaimsVerificationError::Other(e.to_string()))?;
        let verifier = CoreIdTokenVerifier::new_public_client(
            ClientId::new(settings.client_id.clone()),
            issuer,
            jwks,
        )
        .set_allowed_algs(ALLOWED_ALGS)
        .set_time_fn(move || now - skew)
        .set_issue_time_verifier_fn(move |iat| {
            if iat > now + skew {
                Err(format!("issued in the future ({iat})"))
            } else {
                Ok(())
            }
        });
        let claims = id_token.claims(&verifier, &Nonce::new(nonce.to_owned()))?;
        Ok(claims.subject().as_str().to_owned())
    }

    async fn store_oidc_settings(
        &self,
        connection: &Connection,
        settings: &OidcSettings,
    ) -> Result<()> {
        entities::connection::Entity::update_many()
            .col_expr(
                entities::connection::Column::Config,
                Expr::value(serde_json::json!(settings)),
            )
            .col_expr(
                entities::connection::Column::UpdatedAt,
                Expr::value(self.now()),
            )
            .filter(entities::connection::Column::Id.eq(connection.id))
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// Reads userinfo and adds its claims (the ID token's win on conflict, except that
    /// userinfo may fill what the token lacks). Its `sub` must be the ID token's.
    async fn merge_userinfo(
        &self,
        settings: &OidcSettings,
        access_token: &str,
        subject: &str,
        claims: &mut Map<String, Value>,
    ) -> Result<()> {
        let failed = |why: String| Error::new(ErrorCode::OidcUserinfoFailed, why);
        let endpoint = settings
            .userinfo_endpoint
            .as_deref()
            .ok_or_else(|| failed("the identity provider has no userinfo endpoint".into()))?;
        let url = check_url("userinfo_endpoint", endpoint)?;
        let (status, body) = self
            .upstream_http()?
            .get_json(&url, Some(access_token))
            .await
            .map_err(|e| failed(e.to_string()))?;
        if status != 200 {
            return Err(failed(format!(
                "the userinfo endpoint answered HTTP {status}"
            )));
        }
        let info: Map<String, Value> = serde_json::from_slice(&body).map_err(|_| {
            failed("the userinfo endpoint did not answer with a JSON object (signed userinfo is not supported)".into())
        })?;
        if info.get("sub").and_then(Value::as_str) != Some(subject) {
            return Err(failed(
                "the userinfo endpoint answered for another subject than the ID token".into(),
            ));
        }
        for (name, value) in info {
            claims.entry(name).or_insert(value);
        }
        Ok(())
    }

    /// Entra: `tid` must be the connection's tenant, and a groups overage is resolved through
    /// Microsoft Graph. Google: `hd` must be one of the org's verified domains.
    async fn check_preset(
        &self,
        connection: &Connection,
        preset: Option<Preset>,
        settings: &OidcSettings,
        access_token: &str,
        claims: &mut Map<String, Value>,
    ) -> Result<()> {
        match preset {
            Some(Preset::Entra) => {
                let tid = claims
                    .get("tid")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if settings.tenant_id.as_deref() != Some(&tid.to_ascii_lowercase()) {
                    return Err(Error::new(
                        ErrorCode::OidcTenantMismatch,
                        format!(
                            "this account belongs to Entra tenant '{tid}', not the organization's tenant; sign in with your work account"
                        ),
                    ));
                }
                let overage = claims
                    .get("_claim_names")
                    .and_then(|n| n.get(&settings.claims.groups))
                    .is_some();
                if overage && let Some(endpoint) = &settings.groups_endpoint {
                    let groups = self.graph_groups(endpoint, access_token).await?;
                    claims.insert(settings.claims.groups.clone(), Value::from(groups));
                }
                Ok(())
            }
            Some(Preset::Google) => {
                let hd = claims.get("hd").and_then(Value::as_str).unwrap_or_default();
                let owns = match connection.org_id {
                    Some(org) => {
                        !hd.is_empty() && crate::domain::org_owns_host(self.db(), org, hd).await?
                    }
                    None => true,
                };
                if owns {
                    Ok(())
                } else {
                    Err(Error::new(
                        ErrorCode::OidcHostedDomainMismatch,
                        if hd.is_empty() {
                            "this is a personal Google account; sign in with your organization's Google Workspace account".to_owned()
                        } else {
                            format!(
                                "the Google Workspace domain '{hd}' is not one of the organization's verified domains"
                            )
                        },
                    ))
                }
            }
            Some(Preset::Okta) | None => Ok(()),
        }
    }

    /// The user's group ids from Microsoft Graph (following `@odata.nextLink`, bounded).
    async fn graph_groups(&self, endpoint: &str, access_token: &str) -> Result<Vec<String>> {
        let failed = |why: String| {
            Error::new(
                ErrorCode::OidcGroupsUnavailable,
                format!(
                    "the user is in too many groups for the token, and reading them from Microsoft Graph failed ({why}); grant the app GroupMember.Read.All"
                ),
            )
        };
        let http = self.upstream_http()?;
        let mut next = Some(endpoint.to_owned());
        let mut groups = Vec::new();
        for _ in 0..MAX_GROUP_PAGES {
            let Some(page) = next.take() else { break };
            let url = check_url("groups_endpoint", &page)?;
            let (status, body) = http
                .get_json(&url, Some(access_token))
                .await
                .map_err(|e| failed(e.to_string()))?;
            if status != 200 {
                return Err(failed(format!("HTTP {status}")));
            }
            let doc: Value = serde_json::from_slice(&body).map_err(|e| failed(e.to_string()))?;
            groups.extend(
                doc.get("value")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|g| g.get("id").and_then(Value::as_str))
                    .map(String::from),
            );
            next = doc
                .get("@odata.nextLink")
                .and_then(Value::as_str)
                .map(String::from);
        }
        Ok(groups)
    }
}
