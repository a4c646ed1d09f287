//! The broker's error: a stable, documented code, a human message, and the field at fault.
//!
//! Codes are a contract with operators and scripts (they appear in API responses and audit
//! events); never rename one. Every code is listed in `docs/errors.md`, and a test keeps the
//! two in step. The API turns an [`ErrorKind`] into an HTTP status in exactly one place.

use std::time::Duration;

/// What sort of failure this is; the API maps each kind to one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is malformed or a value is invalid (400).
    InvalidInput,
    /// No credentials, or credentials we do not accept (401).
    Unauthenticated,
    /// Authenticated, but not allowed to do this (403).
    Forbidden,
    /// The object does not exist, or belongs to an org the caller cannot see (404).
    NotFound,
    /// The HTTP method is not supported on this path (405).
    MethodNotAllowed,
    /// The request conflicts with existing state (409).
    Conflict,
    /// The body is larger than we accept (413).
    PayloadTooLarge,
    /// The body is not in a format we accept (415).
    UnsupportedMediaType,
    /// Well-formed, but a check on the outside world failed (422).
    Unprocessable,
    /// Too many attempts; retry after the given time (429).
    RateLimited,
    /// A dependency (database, Redis, DNS) is unreachable; retrying later may work (503).
    Unavailable,
    /// A bug or an unexpected failure; details are logged, not returned (500).
    Internal,
}

/// Declares the stable error codes with their kind and a one-line meaning.
macro_rules! error_codes {
    ($($variant:ident = $code:literal, $kind:ident, $doc:literal;)+) => {
        /// Every stable error code Tessera returns.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(#[doc = $doc] $variant,)+
        }

        impl ErrorCode {
            /// All codes, for documentation and tests.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+];

            /// The stable snake_case code.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)+ }
            }

            /// The kind of failure, which decides the HTTP status.
            pub fn kind(self) -> ErrorKind {
                match self { $(ErrorCode::$variant => ErrorKind::$kind,)+ }
            }

            /// What the code means, for docs/errors.md.
            pub fn meaning(self) -> &'static str {
                match self { $(ErrorCode::$variant => $doc,)+ }
            }
        }
    };
}

error_codes! {
    InvalidJson = "invalid_json", InvalidInput, "The body is not valid JSON.";
    InvalidField = "invalid_field", InvalidInput, "A field has the wrong type or shape.";
    MissingField = "missing_field", InvalidInput, "A required field is absent.";
    UnknownField = "unknown_field", InvalidInput, "The body has a field this endpoint does not know.";
    InvalidQuery = "invalid_query", InvalidInput, "A query-string parameter is invalid.";
    InvalidPath = "invalid_path", InvalidInput, "A path segment is not a valid id or slug.";
    InvalidSlug = "invalid_slug", InvalidInput, "A slug is not 1-63 lower-case letters, digits and inner hyphens, or looks like an id.";
    InvalidName = "invalid_name", InvalidInput, "A display name is empty, too long, or has control characters.";
    InvalidDomain = "invalid_domain", InvalidInput, "A domain name is malformed, an IP address, or a public suffix.";
    InvalidEmail = "invalid_email", InvalidInput, "An email address is malformed.";
    InvalidRole = "invalid_role", InvalidInput, "A role name is not 1-64 letters, digits or `_ : . -`.";
    InvalidCursor = "invalid_cursor", InvalidInput, "A pagination cursor was not issued by this endpoint.";
    InvalidExpiry = "invalid_expiry", InvalidInput, "An expiry time is in the past.";
    AmbiguousMember = "ambiguous_member", InvalidInput, "Give exactly one of user_id and email.";
    InvalidRedirectUri = "invalid_redirect_uri", InvalidInput, "A redirect URI is not absolute https (or loopback http, or a private-use scheme), or has a fragment or wildcard.";
    InvalidGrantType = "invalid_grant_type", InvalidInput, "A grant type is unknown, or not allowed for this type of app.";
    InvalidScopeName = "invalid_scope_name", InvalidInput, "A scope is not a valid RFC 6749 scope token.";
    InvalidAuthMethod = "invalid_auth_method", InvalidInput, "The token endpoint authentication method does not fit the app's type.";
    InvalidCustomClaims = "invalid_custom_claims", InvalidInput, "A custom claim is reserved or not of the form {\"value\": …} or {\"from\": …}.";
    InvalidPkceSetting = "invalid_pkce_setting", InvalidInput, "Public apps always require PKCE.";
    PublicClientHasNoSecret = "public_client_has_no_secret", Conflict, "Public apps have no secret to rotate.";
    MissingCredentials = "missing_credentials", Unauthenticated, "No API key was sent (Authorization: Bearer or X-API-Key).";
    InvalidCredentials = "invalid_credentials", Unauthenticated, "The API key is unknown, revoked or expired.";
    InstanceAdminRequired = "instance_admin_required", Forbidden, "Only an instance-admin key may do this.";
    InsufficientKeyScope = "insufficient_key_scope", Forbidden, "The API key is valid but does not carry the admin scope.";
    EmailDomainNotVerified = "email_domain_not_verified", Forbidden, "An organization-scoped key may add members only with emails in the organization's verified domains.";
    OrganizationNotFound = "organization_not_found", NotFound, "No organization with this id or slug is visible to the caller.";
    DomainNotFound = "domain_not_found", NotFound, "The organization has no such domain.";
    UserNotFound = "user_not_found", NotFound, "No such user.";
    ClientNotFound = "client_not_found", NotFound, "No app with this client_id is visible to the caller.";
    MembershipNotFound = "membership_not_found", NotFound, "The user is not a member of the organization.";
    ApiKeyNotFound = "api_key_not_found", NotFound, "No such API key in this scope.";
    ScimTokenNotFound = "scim_token_not_found", NotFound, "The organization has no such SCIM token.";
    InvalidScimToken = "invalid_scim_token", Unauthenticated, "The SCIM bearer token is unknown, revoked, expired or belongs to another organization.";
    RouteNotFound = "route_not_found", NotFound, "No endpoint at this path.";
    MethodNotAllowed = "method_not_allowed", MethodNotAllowed, "The endpoint does not support this HTTP method.";
    SlugTaken = "slug_taken", Conflict, "Another organization already uses this slug.";
    DomainAlreadyAdded = "domain_already_added", Conflict, "The organization already has this domain.";
    DomainOwnedByOtherOrg = "domain_owned_by_other_org", Conflict, "Another organization has verified this domain.";
    MembershipExists = "membership_exists", Conflict, "The user is already a member of the organization.";
    PayloadTooLarge = "payload_too_large", PayloadTooLarge, "The body is larger than the endpoint accepts.";
    UnsupportedMediaType = "unsupported_media_type", UnsupportedMediaType, "Send the body as application/json.";
    DomainVerificationFailed = "domain_verification_failed", Unprocessable, "The DNS TXT record that proves ownership was not found.";
    InvalidRequest = "invalid_request", InvalidInput, "OAuth: the request is missing a parameter, repeats one, or is malformed.";
    InvalidClient = "invalid_client", Unauthenticated, "OAuth: client authentication failed.";
    InvalidGrant = "invalid_grant", InvalidInput, "OAuth: the code, refresh token or device code is invalid, expired, used, or not this app's.";
    UnauthorizedClient = "unauthorized_client", InvalidInput, "OAuth: this app may not use this grant or response type.";
    UnsupportedGrantType = "unsupported_grant_type", InvalidInput, "OAuth: the grant type is not supported.";
    InvalidScope = "invalid_scope", InvalidInput, "OAuth: a requested scope is unknown or not allowed for this app.";
    InvalidTarget = "invalid_target", InvalidInput, "OAuth: a resource indicator is not an absolute URI (RFC 8707).";
    AuthorizationPending = "authorization_pending", InvalidInput, "OAuth device grant: the user has not approved yet; poll again.";
    SlowDown = "slow_down", InvalidInput, "OAuth device grant: polling too fast; add five seconds to the interval.";
    ExpiredToken = "expired_token", InvalidInput, "OAuth device grant: the device code expired; start again.";
    DeviceCodeInvalid = "device_code_invalid", InvalidInput, "Device page: the code typed is unknown, used or expired.";
    InvalidToken = "invalid_token", Unauthenticated, "OAuth: the bearer token is invalid, expired or revoked.";
    InsufficientScope = "insufficient_scope", Forbidden, "OAuth: the bearer token lacks the scope this endpoint needs (RFC 6750).";
    UnsupportedResponseType = "unsupported_response_type", InvalidInput, "OAuth: only response_type=code is supported.";
    RequestNotSupported = "request_not_supported", InvalidInput, "OIDC: request objects are not supported.";
    RequestUriNotSupported = "request_uri_not_supported", InvalidInput, "OIDC: request_uri is not supported.";
    AccessDenied = "access_denied", Forbidden, "OAuth: the user may not use this app (for example, not a member of its organization).";
    LoginRequired = "login_required", InvalidInput, "OIDC: prompt=none, but the user must sign in.";
    ConsentRequired = "consent_required", InvalidInput, "OIDC: prompt=none, but the user must first allow this third-party app.";
    InvalidClientMetadata = "invalid_client_metadata", InvalidInput, "Registration (RFC 7591): a client metadata value is invalid.";
    UnknownClient = "unknown_client", NotFound, "Sign-in page: the link names an app Tessera does not know.";
    RedirectUriMismatch = "redirect_uri_mismatch", InvalidInput, "Sign-in page: the app's redirect_uri is missing or not registered for it.";
    SignInExpired = "sign_in_expired", InvalidInput, "Sign-in page: the sign-in transaction expired or was already finished.";
    CsrfCheckFailed = "csrf_check_failed", Forbidden, "Browser pages: the form's anti-forgery token is missing or does not match the cookie; reload the page and try again.";
    EmailLinkInvalid = "email_link_invalid", InvalidInput, "Sign-in: the email link is unknown, already used or expired; ask for a new one.";
    EmailCodeInvalid = "email_code_invalid", InvalidInput, "Sign-in: the code from the email is wrong or expired.";
    PasskeyRejected = "passkey_rejected", InvalidInput, "Sign-in: the passkey response is malformed, for another site, or does not verify.";
    PasskeyUnknown = "passkey_unknown", InvalidInput, "Sign-in: the passkey is not registered here (it may have been removed).";
    PasskeyAlreadyRegistered = "passkey_already_registered", Conflict, "This authenticator is already registered.";
    PasskeyNotFound = "passkey_not_found", NotFound, "The account has no such passkey.";
    PasskeysUnavailable = "passkeys_unavailable", Unavailable, "Passkeys are off because TESSERA_PUBLIC_URL is an IP address; serve Tessera at a host name.";
    CeremonyExpired = "ceremony_expired", InvalidInput, "Sign-in: the passkey or sign-in step expired or was already used; start again.";
    SessionNotFound = "session_not_found", NotFound, "The account has no such session.";
    SignInFailed = "sign_in_failed", Unauthenticated, "Sign-in: the email or password is wrong.";
    SecondFactorInvalid = "second_factor_invalid", Unauthenticated, "Sign-in: the authenticator code or recovery code is wrong or already used.";
    AccountLocked = "account_locked", RateLimited, "Sign-in: too many failed attempts for this account; wait for Retry-After seconds.";
    PasswordLoginDisabled = "password_login_disabled", Forbidden, "Passwords are turned off on this instance (TESSERA_PASSWORD_LOGIN).";
    WeakPassword = "weak_password", InvalidInput, "The password is too short, too long, too common, or contains the email address.";
    ReauthenticationRequired = "reauthentication_required", Forbidden, "Account page: sign in again (within the last 10 minutes) before changing credentials.";
    TotpNotEnrolled = "totp_not_enrolled", Conflict, "The account has no pending or active authenticator app.";
    TotpAlreadyEnrolled = "totp_already_enrolled", Conflict, "An authenticator app is already set up; remove it before adding another.";
    UnmetAuthenticationRequirements = "unmet_authentication_requirements", Forbidden, "OIDC: the sign-in did not reach the authentication level the app asked for (acr_values).";
    LastCredential = "last_credential", Conflict, "Removing this would leave the account without a way to sign in besides email.";
    InvalidUpstreamUrl = "invalid_upstream_url", InvalidInput, "An IdP URL is not absolute https (plain http is allowed only on 127.0.0.1, ::1 and localhost).";
    InvalidTenantId = "invalid_tenant_id", InvalidInput, "Entra ID: tenant_id is missing for a multi-tenant issuer, is not a GUID, or differs from the issuer's tenant.";
    InvalidConnection = "invalid_connection", InvalidInput, "A connection setting is missing or invalid (the field says which).";
    InvalidRoleMapping = "invalid_role_mapping", InvalidInput, "A role rule has an empty claim path, an unknown operator, a bad value or pattern, or an invalid role.";
    OidcDiscoveryFailed = "oidc_discovery_failed", Unprocessable, "The IdP's discovery document could not be fetched (unreachable, or not HTTP 200).";
    OidcDiscoveryInvalid = "oidc_discovery_invalid", Unprocessable, "The IdP's discovery document is not JSON, lacks a required field, or does not offer the code flow.";
    OidcIssuerMismatch = "oidc_issuer_mismatch", Unprocessable, "The issuer in the discovery document or the ID token is not the connection's issuer.";
    OidcJwksUnusable = "oidc_jwks_unusable", Unprocessable, "The IdP's JWKS could not be fetched or has no public signing keys.";
    ConnectionNotFound = "connection_not_found", NotFound, "No connection with this id is visible to the caller.";
    ConnectionInactive = "connection_inactive", Forbidden, "Sign-in: the connection is not active (draft or deactivated).";
    TestLoginNotFound = "test_login_not_found", NotFound, "No test login with this id for this connection (it may have expired after 30 minutes).";
    SsoStateInvalid = "sso_state_invalid", InvalidInput, "SSO callback: the state is unknown, expired, already used, or was started in another browser.";
    UpstreamAccessDenied = "upstream_access_denied", Forbidden, "SSO: the IdP refused the sign-in (the user cancelled, or is not assigned to the app).";
    UpstreamConsentRequired = "upstream_consent_required", Forbidden, "SSO: the IdP needs an administrator to grant consent to the application.";
    UpstreamError = "upstream_error", Unprocessable, "SSO: the IdP answered with another error (its code and description are shown).";
    OidcTokenExchangeFailed = "oidc_token_exchange_failed", Unprocessable, "SSO: the IdP's token endpoint refused the code or could not be reached (client secret, redirect URI).";
    OidcIdTokenMissing = "oidc_id_token_missing", Unprocessable, "SSO: the IdP's token response has no ID token (is the openid scope allowed?).";
    OidcSignatureInvalid = "oidc_signature_invalid", Unauthenticated, "SSO: the ID token's signature does not verify with the IdP's keys, even after refetching them.";
    OidcAudienceMismatch = "oidc_audience_mismatch", Unauthenticated, "SSO: the ID token is not for this connection's client id (aud, azp).";
    OidcNonceMismatch = "oidc_nonce_mismatch", Unauthenticated, "SSO: the ID token's nonce is not the one this sign-in sent.";
    OidcTokenExpired = "oidc_token_expired", Unauthenticated, "SSO: the ID token expired, or was issued in the future (beyond the allowed clock skew).";
    OidcIdTokenInvalid = "oidc_id_token_invalid", Unauthenticated, "SSO: the ID token is malformed or uses an algorithm Tessera does not accept.";
    OidcUserinfoFailed = "oidc_userinfo_failed", Unprocessable, "SSO: the userinfo endpoint failed, or answered for another subject.";
    OidcTenantMismatch = "oidc_tenant_mismatch", Forbidden, "SSO (Entra ID): the user's tenant (tid) is not the connection's tenant.";
    OidcHostedDomainMismatch = "oidc_hosted_domain_mismatch", Forbidden, "SSO (Google Workspace): the account's hd claim is not one of the organization's verified domains.";
    OidcGroupsUnavailable = "oidc_groups_unavailable", Unprocessable, "SSO (Entra ID): the token signals a groups overage and the groups could not be read from Microsoft Graph.";
    SamlMetadataInvalid = "saml_metadata_invalid", InvalidInput, "SAML: the IdP metadata is not usable (not SAML 2.0 metadata, no IdP, no HTTP-Redirect SingleSignOnService, a bad certificate, a DTD, or too large).";
    SamlMetadataUnsigned = "saml_metadata_unsigned", InvalidInput, "SAML: the IdP metadata has no signing certificate, so responses could not be verified.";
    SamlMetadataMissing = "saml_metadata_missing", Conflict, "SAML: the connection has no IdP metadata yet, so it cannot be activated or used; add metadata_url or metadata_xml.";
    SamlMetadataFetchFailed = "saml_metadata_fetch_failed", Unprocessable, "SAML: the metadata URL could not be read (unreachable, not HTTP 200, or not text).";
    SamlResponseMissing = "saml_response_missing", InvalidInput, "SAML ACS: the POST has no SAMLResponse.";
    SamlResponseMalformed = "saml_response_malformed", InvalidInput, "SAML ACS: the response is not base64, not well-formed XML, has a DTD, is not a SAML 2.0 Response, or lacks a required element.";
    SamlResponseTooLarge = "saml_response_too_large", PayloadTooLarge, "SAML ACS: the response is larger than 1 MiB or nests too deeply.";
    SamlSignatureInvalid = "saml_signature_invalid", Unauthenticated, "SAML: no valid signature by one of the connection's certificates (or a SHA-1 signature) covers the response or assertion.";
    SamlAssertionUnsigned = "saml_assertion_unsigned", Unauthenticated, "SAML: the response is signed but the assertion in it is not, and the connection requires signed assertions.";
    SamlAssertionNotEncrypted = "saml_assertion_not_encrypted", Unauthenticated, "SAML: the connection requires encrypted assertions and the IdP sent a plain one.";
    SamlDecryptionFailed = "saml_decryption_failed", Unauthenticated, "SAML: the encrypted assertion could not be decrypted with the connection's key and verified.";
    SamlIssuerMismatch = "saml_issuer_mismatch", Unauthenticated, "SAML: the response or assertion Issuer is not the connection's IdP entity ID.";
    SamlDestinationMismatch = "saml_destination_mismatch", Unauthenticated, "SAML: the response's Destination is not this connection's ACS URL.";
    SamlRecipientMismatch = "saml_recipient_mismatch", Unauthenticated, "SAML: the assertion's SubjectConfirmationData Recipient is not this connection's ACS URL.";
    SamlAudienceMismatch = "saml_audience_mismatch", Unauthenticated, "SAML: the assertion's audience is not this connection's SP entity ID.";
    SamlExpired = "saml_expired", Unauthenticated, "SAML: the assertion or its subject confirmation expired (beyond the allowed clock skew).";
    SamlNotYetValid = "saml_not_yet_valid", Unauthenticated, "SAML: the assertion is not valid yet (the IdP's clock is ahead beyond the allowed skew).";
    SamlInResponseToMismatch = "saml_in_response_to_mismatch", Unauthenticated, "SAML: the response does not answer the AuthnRequest this sign-in sent.";
    SamlUnsolicitedResponse = "saml_unsolicited_response", Forbidden, "SAML: an IdP-initiated response, and the connection does not accept them.";
    SamlReplayed = "saml_replayed", Unauthenticated, "SAML: this assertion was already used.";
    SamlStatusError = "saml_status_error", Unprocessable, "SAML: the IdP answered with an error status (its codes and message are shown).";
    RoleMappingDenied = "role_mapping_denied", Forbidden, "SSO: no role rule matched the user's claims and the organization denies unmatched users.";
    IdentityLinkRefused = "identity_link_refused", Conflict, "SSO: an account with this email exists, and the IdP's email is unverified or outside the organization's verified domains.";
    MembershipInactive = "membership_inactive", Forbidden, "SSO: the user's membership in the organization is suspended or deprovisioned.";
    SsoRequired = "sso_required", Forbidden, "Sign-in: the organization requires its SSO connection for this email's domain; local sign-in is refused.";
    AdminRoleRequired = "admin_role_required", Forbidden, "Admin console: the signed-in account is neither an instance admin nor an org admin (role `tessera:admin`).";
    OrganizationRequired = "organization_required", InvalidInput, "Admin console: the signed-in account administers several organizations; name one in the X-Tessera-Organization header.";
    InstanceAdminNotFound = "instance_admin_not_found", NotFound, "The user is not an instance administrator.";
    LastInstanceAdmin = "last_instance_admin", Conflict, "The last instance administrator cannot be removed.";
    SetupLinkInvalid = "setup_link_invalid", Unauthenticated, "The setup link is unknown, revoked or expired; ask the organization's admin for a new one.";
    SetupLinkNotAllowed = "setup_link_not_allowed", Forbidden, "A setup link opens only the SSO set-up (domains, connections, role rules), not the rest of the admin API.";
    SetupLinkNotFound = "setup_link_not_found", NotFound, "The organization has no such setup link.";
    FirstAdminLinkInvalid = "first_admin_link_invalid", InvalidInput, "The first-admin link is unknown, expired or used, or an instance admin exists already; restart Tessera for a new link while there is none.";
    InvalidBrandColor = "invalid_brand_color", InvalidInput, "A brand colour is not #rrggbb, or white text on it would be unreadable (contrast below 4.5:1).";
    InvalidLogo = "invalid_logo", InvalidInput, "A logo is not a PNG, JPEG or WebP image of at most 256 KiB.";
    LogoNotFound = "logo_not_found", NotFound, "The organization has no logo.";
    RateLimited = "rate_limited", RateLimited, "Too many attempts; wait for Retry-After seconds.";
    DnsUnavailable = "dns_unavailable", Unavailable, "DNS could not be queried; try again later.";
    ServiceUnavailable = "service_unavailable", Unavailable, "A dependency (database or store) is unreachable; try again later.";
    MasterKeyMismatch = "master_key_mismatch", Internal, "The master key does not decrypt this database's secrets (start-up check).";
    InternalError = "internal_error", Internal, "An unexpected failure; the request id locates it in the logs.";
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failure the caller can act on: a stable code, a message safe to show, and the field at fault.
#[derive(Debug)]
pub struct Error {
    code: ErrorCode,
    message: String,
    field: Option<String>,
    retry_after: Option<Duration>,
    cause: Option<Cause>,
}

/// The broker's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with a code and a message that is safe to show to the caller.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            retry_after: None,
            cause: None,
        }
    }

    /// An invalid value in `field`.
    pub fn invalid(code: ErrorCode, field: &str, message: impl Into<String>) -> Self {
        Self::new(code, message).with_field(field)
    }

    /// An unexpected failure. The cause goes to the log; the caller sees a generic message.
    pub fn internal(cause: impl Into<Cause>) -> Self {
        Self::new(ErrorCode::InternalError, "an unexpected error occurred").with_cause(cause)
    }

    /// A dependency that is down. The cause goes to the log.
    pub fn unavailable(cause: impl Into<Cause>) -> Self {
        Self::new(
            ErrorCode::ServiceUnavailable,
            "a dependency is unavailable; try again later",
        )
        .with_cause(cause)
    }

    /// Too many attempts.
    pub fn rate_limited(retry_after: Duration) -> Self {
        let mut error = Self::new(ErrorCode::RateLimited, "too many attempts; try again later");
        error.retry_after = Some(retry_after);
        error
    }

    /// Tells the caller when to try again (the `Retry-After` header).
    pub fn with_retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = Some(retry_after);
        self
    }

    /// Names the request field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Attaches the underlying cause (logged, never returned to the caller).
    pub fn with_cause(mut self, cause: impl Into<Cause>) -> Self {
        self.cause = Some(cause.into());
        self
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.code.kind()
    }

    /// The message for the caller.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The request field at fault, when one is.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// How long to wait before retrying, for rate limits.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The underlying cause, for the log.
    pub fn cause(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.cause.as_deref()
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(cause) = &self.cause {
            write!(f, " ({cause})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(err: sea_orm::DbErr) -> Self {
        use sea_orm::DbErr;
        match err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => Self::unavailable(err),
            ref failed if is_database_busy(failed) || is_connection_lost(failed) => {
                Self::unavailable(err)
            }
            other => Self::internal(other),
        }
    }
}

/// The driver's error under a query or statement failure.
fn sqlx_error(err: &sea_orm::DbErr) -> Option<&sea_orm::sqlx::Error> {
    use sea_orm::{DbErr, RuntimeErr};
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => Some(e),
        _ => None,
    }
}

/// True when the database refused for contention that outlasted the busy timeout (SQLite
/// `SQLITE_BUSY`/`SQLITE_LOCKED` and their extended codes) or a serialization failure or
/// deadlock (PostgreSQL `40001`/`40P01`): retrying later may work, so this is a 503, not a bug.
fn is_database_busy(err: &sea_orm::DbErr) -> bool {
    let Some(code) = sqlx_error(err)
        .and_then(|e| e.as_database_error())
        .and_then(|d| d.code())
    else {
        return false;
    };
    let code = code.as_ref();
    matches!(code, "40001" | "40P01")
        || code.parse::<u32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
}

/// True when the connection broke under a statement (the database restarted, a proxy or the
/// network cut it) or the server refused to serve: I/O, TLS and protocol failures, a closed
/// pool, PostgreSQL's connection exceptions (class `08`), shutdowns (`57P01`–`57P03`) and "too
/// many connections" (`53300`). The server rolls back a transaction whose connection dropped;
/// retrying once the database is back works, so this is a 503.
fn is_connection_lost(err: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as E;
    match sqlx_error(err) {
        Some(E::Io(_) | E::Tls(_) | E::Protocol(_) | E::PoolTimedOut | E::PoolClosed) => true,
        Some(E::WorkerCrashed) => true,
        Some(E::Database(db)) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

impl From<crate::store::StoreError> for Error {
    fn from(err: crate::store::StoreError) -> Self {
        match err {
            crate::store::StoreError::Unavailable(_) => Self::unavailable(err),
            crate::store::StoreError::Corrupt { .. } => Self::internal(err),
        }
    }
}

/// Maps "the row disappeared between our read and our write" (a concurrent delete) to the
/// caller's not-found error; anything else stays a database error.
pub(crate) fn gone_or(err: sea_orm::DbErr, gone: impl FnOnce() -> Error) -> Error {
    match err {
        sea_orm::DbErr::RecordNotUpdated | sea_orm::DbErr::RecordNotFound(_) => gone(),
        other => other.into(),
    }
}

/// Maps a unique-constraint violation (a duplicate, or a race lost to another request) to the
/// caller's conflict error; anything else stays a database error.
pub(crate) fn unique_or(err: sea_orm::DbErr, conflict: impl FnOnce() -> Error) -> Error {
    if is_unique_violation(&err) {
        conflict()
    } else {
        err.into()
    }
}

/// True when a database error is a unique-constraint violation (a lost race or a duplicate).
pub(crate) fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_database_connection_is_unavailable_not_internal() {
        use sea_orm::{DbErr, RuntimeErr};
        let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        let io = sea_orm::sqlx::Error::Io(eof);
        let broken = DbErr::Query(RuntimeErr::SqlxError(std::sync::Arc::new(io)));
        assert_eq!(Error::from(broken).kind(), ErrorKind::Unavailable);
        let closed = DbErr::Exec(RuntimeErr::SqlxError(std::sync::Arc::new(
            sea_orm::sqlx::Error::PoolClosed,
        )));
        assert_eq!(Error::from(closed).kind(), ErrorKind::Unavailable);
        let bug = DbErr::Custom("a query we got wrong".into());
        assert_eq!(Error::from(bug).kind(), ErrorKind::Internal);
    }

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(
                s.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{s} is not snake_case"
            );
        }
    }
}
