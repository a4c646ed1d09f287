// The app side of the end-to-end suite: openid-client (an OpenID Certified relying-party
// library) runs discovery, the authorization code flow with PKCE, ID-token validation, userinfo
// and refresh against the real tessera binary, as a web app and as a native app with a loopback
// redirect on a random port. The "browser" is fetch() carrying the session cookie the test
// created, following the redirects a browser would.
import assert from 'node:assert/strict';
import http from 'node:http';
import * as client from 'openid-client';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const issuer = new URL(env('ISSUER'));
const cookie = env('SESSION_COOKIE');
const expectedEmail = env('EXPECTED_EMAIL');
const insecure = { execute: [client.allowInsecureRequests] };

// What a browser with the session does with an authorization URL: Tessera answers with a
// redirect to the app; return where it points.
async function followAuthorization(url) {
  const response = await fetch(url, { headers: { cookie }, redirect: 'manual' });
  assert.equal(response.status, 302, `authorize answered ${response.status}`);
  return new URL(response.headers.get('location'));
}

async function webApp() {
  const config = await client.discovery(
    issuer, env('WEB_CLIENT_ID'), undefined, client.ClientSecretBasic(env('WEB_CLIENT_SECRET')), insecure,
  );
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: env('WEB_REDIRECT_URI'),
    scope: 'openid email profile offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const callback = await followAuthorization(url);
  // authorizationCodeGrant checks state, iss (RFC 9207), the ID token's signature against the
  // JWKS, iss, aud, azp, exp, iat and nonce.
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  assert.equal(claims.iss, issuer.href.replace(/\/$/, ''));
  assert.equal(claims.email, expectedEmail);
  assert.ok(tokens.refresh_token, 'offline_access yields a refresh token');

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(userinfo.email, expectedEmail);

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'refresh tokens rotate');
  assert.equal(refreshed.claims().sub, claims.sub);
  await assert.rejects(
    client.refreshTokenGrant(config, tokens.refresh_token),
    (error) => error.error === 'invalid_grant',
    'a rotated refresh token is refused',
  );
  return { sub: claims.sub, org_id: claims.org_id, roles: claims.roles, amr: claims.amr };
}

async function nativeApp() {
  // The desktop app listens on a random loopback port for the browser's redirect (RFC 8252).
  let resolveCallback;
  const arrived = new Promise((resolve) => { resolveCallback = resolve; });
  const server = http.createServer((req, res) => {
    resolveCallback(req.url);
    res.end('You can close this window.');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const redirectUri = `http://127.0.0.1:${server.address().port}/callback`;
  try {
    const config = await client.discovery(issuer, env('NATIVE_CLIENT_ID'), undefined, client.None(), insecure);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid email',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const location = await followAuthorization(url);
    assert.equal(location.origin + location.pathname, redirectUri);
    await fetch(location); // the browser lands on the app's loopback listener
    const received = new URL(await arrived, redirectUri);
    const tokens = await client.authorizationCodeGrant(config, received, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      idTokenExpected: true,
    });
    return { port: server.address().port, sub: tokens.claims().sub };
  } finally {
    server.close();
  }
}

const result = { web: await webApp(), native: await nativeApp() };
process.stdout.write(JSON.stringify(result));
