// The identity providers the wizard knows: what to call things, what to register at each IdP
// (written instructions, no screenshots), and which fields to ask for. Each entry names a
// `protocol`; the wizard has one module per protocol (OIDC today). Adding SAML means adding a
// `saml` protocol in console-wizard.js's PROTOCOLS and entries here such as
//   { id: 'saml', protocol: 'saml', name: 'Generic SAML', … }.

/** Tessera's values, shown with copy buttons, are filled in where `{redirect_uri}` appears. */
export const IDPS = [
  {
    id: 'entra',
    protocol: 'oidc',
    preset: 'entra',
    name: 'Microsoft Entra ID',
    short: 'Entra ID',
    summary: 'Azure AD and Microsoft 365 accounts',
    color: '#0a5bb5',
    letter: 'E',
    console: 'Microsoft Entra admin center',
    redirectLabel: 'Redirect URI (platform: Web)',
    register: [
      'Open the Microsoft Entra admin center (entra.microsoft.com) and go to Identity → Applications → App registrations → New registration.',
      'Name it after your product, for example “Tessera SSO”. Supported account types: “Accounts in this organizational directory only (single tenant)”.',
      'Under Redirect URI choose the platform “Web” and paste the redirect URI above. Select Register.',
      'On the app’s Overview page, copy the “Application (client) ID” and the “Directory (tenant) ID”.',
      'Certificates & secrets → Client secrets → New client secret. Copy the secret’s Value (not its Secret ID): Entra shows it only once.',
      'Token configuration → Add groups claim → Security groups, emitted as Group ID, if roles should come from groups. Add the optional claim “email” to the ID token.',
      'API permissions: Microsoft Graph delegated openid, email and profile. If people may be in more than 150 groups, add GroupMember.Read.All and grant admin consent.',
    ],
    issuerLabel: 'Issuer',
    issuerPlaceholder: 'https://login.microsoftonline.com/<directory (tenant) id>/v2.0',
    issuerHint: 'https://login.microsoftonline.com/ followed by your Directory (tenant) ID and /v2.0. Only sign-ins from that tenant are accepted.',
    clientIdLabel: 'Application (client) ID',
    secretLabel: 'Client secret value',
    groupsNote: 'Entra sends groups as object IDs (GUIDs): write rules with the group’s Object ID from Entra.',
  },
  {
    id: 'okta',
    protocol: 'oidc',
    preset: 'okta',
    name: 'Okta',
    short: 'Okta',
    summary: 'Okta Workforce Identity',
    color: '#00297a',
    letter: 'O',
    console: 'Okta Admin Console',
    redirectLabel: 'Sign-in redirect URI',
    register: [
      'In the Okta Admin Console go to Applications → Applications → Create App Integration.',
      'Choose “OIDC - OpenID Connect” and application type “Web Application”. Select Next.',
      'Name it, keep the grant type “Authorization Code”, and paste the redirect URI above as the Sign-in redirect URI. Remove the sample sign-out URI.',
      'Under Assignments, choose who may sign in (everyone, or selected groups). Save.',
      'On the General tab, copy the Client ID and the Client secret.',
      'On the Sign On tab, edit “OpenID Connect ID Token”: Groups claim type “Filter”, claim name groups, “Matches regex” .* (or a narrower filter). Save.',
    ],
    issuerLabel: 'Okta domain (issuer)',
    issuerPlaceholder: 'https://your-company.okta.com',
    issuerHint: 'Your Okta domain. With a custom authorization server: https://your-company.okta.com/oauth2/<server id>.',
    clientIdLabel: 'Client ID',
    secretLabel: 'Client secret',
    groupsNote: 'Okta sends group names, such as “Finance”, in the groups claim.',
  },
  {
    id: 'google',
    protocol: 'oidc',
    preset: 'google',
    name: 'Google Workspace',
    short: 'Google',
    summary: 'Google Workspace accounts of your domains',
    color: '#1a73e8',
    letter: 'G',
    console: 'Google Cloud console',
    redirectLabel: 'Authorized redirect URI',
    register: [
      'In the Google Cloud console (console.cloud.google.com), pick or create a project for sign-in.',
      'APIs & Services → OAuth consent screen: user type “Internal”, so only your Workspace accounts can use it.',
      'APIs & Services → Credentials → Create credentials → OAuth client ID, application type “Web application”.',
      'Under “Authorized redirect URIs” add the redirect URI above. Select Create.',
      'Copy the Client ID and Client secret from the dialog.',
      'Verify your organization’s domain in Tessera (Domains): only accounts whose hosted domain is verified here can sign in.',
    ],
    issuerLabel: 'Issuer',
    issuerPlaceholder: 'https://accounts.google.com',
    issuerDefault: 'https://accounts.google.com',
    issuerHint: 'Always https://accounts.google.com for Google.',
    clientIdLabel: 'Client ID',
    secretLabel: 'Client secret',
    groupsNote: 'Google sends no groups: map roles from email or hd, or give everyone a default role. SCIM brings groups.',
  },
  {
    id: 'oidc',
    protocol: 'oidc',
    preset: null,
    name: 'Other OpenID Connect IdP',
    short: 'OIDC',
    summary: 'Any provider with OpenID Connect discovery (Auth0, Keycloak, PingFederate, JumpCloud…)',
    color: '#4a5563',
    letter: 'ID',
    console: 'your identity provider',
    redirectLabel: 'Redirect URI (callback URL)',
    register: [
      'In your identity provider, create a new application (client) of type “web”, “confidential” or “regular web application”.',
      'Allow the Authorization Code flow (PKCE is used too) and paste the redirect URI above as its redirect or callback URL.',
      'Allow the scopes openid, email and profile. If roles should come from groups, make the IdP put a groups claim in the ID token or userinfo.',
      'Assign the people who may sign in, and copy the client ID and client secret.',
      'Find the issuer: the URL of its /.well-known/openid-configuration document without that suffix (pasting the whole URL works too).',
    ],
    issuerLabel: 'Issuer or discovery URL',
    issuerPlaceholder: 'https://idp.example.com/.well-known/openid-configuration',
    issuerHint: 'The issuer, or the full URL of its .well-known/openid-configuration document.',
    clientIdLabel: 'Client ID',
    secretLabel: 'Client secret',
    groupsNote: 'Use the claim your IdP puts groups in (usually groups).',
  },
];

/** The catalog entry for `id` (a preset, or `oidc` for a connection without one). */
export function idpById(id) {
  return IDPS.find((idp) => idp.id === id) ?? IDPS.find((idp) => idp.id === 'oidc');
}

/** The entry for an existing connection. */
export function idpOfConnection(connection) {
  return idpById(connection.preset ?? connection.kind);
}

/** What to do about a failed check, by error code (the message says what happened). */
export const HINTS = {
  oidc_discovery_failed: 'Tessera could not fetch the discovery document. Check the issuer URL, and that the IdP is reachable from the Tessera server over HTTPS.',
  oidc_discovery_invalid: 'The URL answered, but not with an OpenID Connect discovery document. Paste the issuer, or the URL ending in /.well-known/openid-configuration.',
  oidc_issuer_mismatch: 'The IdP calls itself by another issuer than the one you entered. Use exactly the issuer its discovery document names (watch for trailing slashes and tenant IDs).',
  oidc_jwks_unusable: 'The IdP publishes no usable signing keys. Check its JWKS URL in the discovery document.',
  invalid_upstream_url: 'IdP URLs must use https.',
  oidc_token_exchange_failed: 'The IdP refused the code. Usually the client secret is wrong or expired, or the redirect URI registered at the IdP differs from the one shown in step 2. Replace the secret in step 3 if needed.',
  oidc_audience_mismatch: 'The ID token was issued to another application. Check that the client ID you entered is the one of the app you registered.',
  oidc_signature_invalid: 'The ID token’s signature did not verify with the IdP’s published keys. Check that the issuer is the IdP that signed in the user.',
  oidc_token_expired: 'The ID token was expired or issued in the future. Check the clock of the IdP or of the Tessera server.',
  oidc_nonce_mismatch: 'The sign-in answered another request. Run the test again from the start.',
  oidc_id_token_missing: 'The IdP returned no ID token: make sure the app may use the openid scope.',
  oidc_id_token_invalid: 'The ID token was malformed or signed with an algorithm Tessera does not accept (it needs RS256, ES256 or EdDSA).',
  oidc_userinfo_failed: 'The userinfo endpoint failed. Check the app’s scopes at the IdP.',
  oidc_tenant_mismatch: 'The account belongs to another Microsoft tenant. Sign in with an account of your directory, or check the tenant ID in the issuer.',
  oidc_hosted_domain_mismatch: 'The Google account is not in one of this organization’s verified domains. Verify the domain first, or sign in with a Workspace account of it.',
  oidc_groups_unavailable: 'The user is in too many groups for the token and Tessera could not read them from Microsoft Graph. Grant GroupMember.Read.All with admin consent.',
  upstream_access_denied: 'The IdP refused the sign-in: the user cancelled, or is not assigned to the application at the IdP. Assign them and try again.',
  upstream_consent_required: 'An administrator of the IdP must grant consent to the application (Entra: API permissions → Grant admin consent).',
  upstream_error: 'The IdP reported an error; its description is above.',
  role_mapping_denied: 'No role rule matched and unmatched users are refused. Add a rule for this user’s groups, or turn off “refuse people no rule matches”.',
  identity_link_refused: 'An account with this email exists already, and the IdP did not vouch for the email or the domain is not verified here. Verify the domain, or make the IdP send email_verified.',
  membership_inactive: 'This person’s membership in the organization is suspended.',
  sso_state_invalid: 'The test was finished in another browser or took too long. Run it again.',
  connection_inactive: 'The connection is not active.',
};
