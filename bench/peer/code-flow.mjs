// The authorization code flow, headless, for bench/run's setup (the same code for both servers):
// signing in at the peer once, and code flows with an existing browser session that hand out
// the refresh tokens the refresh scenario rotates and the access token introspection asks about.
// The first flow's tokens are checked before anything is measured: an ID token and (with a
// resource) an at+jwt access token, both ES256 and verified against the server's own JWKS, and
// a refresh token.
//
//   node code-flow.mjs session ISSUER CLIENT_ID SECRET REDIRECT_URI LOGIN PASSWORD RESOURCE
//       signs LOGIN in at the peer's interaction pages (bench/peer/server.mjs) and allows the
//       app; prints the session's Cookie header
//   node code-flow.mjs tokens ISSUER CLIENT_ID SECRET REDIRECT_URI COOKIE COUNT [RESOURCE]
//       COUNT flows with the session in COOKIE; prints "REFRESH_TOKEN ACCESS_TOKEN" per flow
import { createHash, randomBytes } from 'node:crypto';
import process from 'node:process';

import { createLocalJWKSet, jwtVerify } from 'jose';

const SCOPE = 'openid offline_access bench:read';

const [command, issuer, clientId, secret, redirectUri, ...rest] = process.argv.slice(2);
const fail = (message) => {
  console.error(`code-flow: ${message}`);
  process.exit(1);
};

const metadata = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
const cookies = new Map();

function keep(response) {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const at = pair.indexOf('=');
    cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1));
  }
}

const cookieHeader = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');

async function get(url, cookie = cookieHeader()) {
  const response = await fetch(url, { redirect: 'manual', headers: { cookie } });
  keep(response);
  return response;
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(challenge, resource, extra = {}) {
  const url = new URL(metadata.authorization_endpoint);
  const params = {
    response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: SCOPE,
    state: randomBytes(8).toString('hex'), code_challenge: challenge,
    code_challenge_method: 'S256', ...(resource ? { resource } : {}), ...extra,
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.href;
}

// The code in a redirect to the app, or a failure that says where the browser was sent.
function codeOf(response, url) {
  const location = response.headers.get('location');
  const target = location && new URL(location, url);
  const code = target?.href.startsWith(redirectUri) && target.searchParams.get('code');
  if (!code) fail(`${url}: HTTP ${response.status} to ${location}`);
  return code;
}

async function redeem(code, verifier) {
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`);
  const response = await fetch(metadata.token_endpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${basic.toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier,
    }),
  });
  const body = await response.json();
  if (response.status !== 200) fail(`token: HTTP ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

async function check(tokens, resource) {
  const jwks = createLocalJWKSet(await (await fetch(metadata.jwks_uri)).json());
  const options = { issuer: metadata.issuer, algorithms: ['ES256'] };
  await jwtVerify(tokens.id_token ?? '', jwks, { ...options, audience: clientId });
  if (resource) {
    await jwtVerify(tokens.access_token, jwks, { ...options, audience: resource, typ: 'at+jwt' });
  }
  if (!tokens.refresh_token) fail(`no refresh token: ${JSON.stringify(tokens)}`);
  console.error(`${issuer} ${clientId}: ES256 id_token,` +
    ` ${resource ? 'ES256 at+jwt' : 'opaque or JWT'} access token, refresh token`);
}

// Follows the sign-in: the login interaction, then consent, until the app gets its code.
async function signIn(login, password, resource) {
  const { verifier, challenge } = pkce();
  let url = authorizeUrl(challenge, resource, { prompt: 'consent' });
  for (let hop = 0; hop < 10; hop += 1) {
    const response = await get(url);
    const location = response.headers.get('location');
    if (location?.startsWith(redirectUri)) {
      await check(await redeem(codeOf(response, url), verifier), resource);
      return;
    }
    if (response.status === 200 && new URL(url).pathname.startsWith('/interaction/')) {
      const answer = await fetch(url, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ login, password }),
      });
      keep(answer);
      url = new URL(answer.headers.get('location') ?? fail(`${url}: HTTP ${answer.status}`), url).href;
    } else if (location) {
      url = new URL(location, url).href;
    } else {
      fail(`${url}: HTTP ${response.status}: ${await response.text()}`);
    }
  }
  fail('the sign-in did not end with a code');
}

if (command === 'session') {
  const [login, password, resource] = rest;
  await signIn(login, password, resource);
  for (const name of cookies.keys()) if (!name.startsWith('_session')) cookies.delete(name);
  console.log(cookieHeader());
} else if (command === 'tokens') {
  const [cookie, count, resource] = rest;
  for (let i = 0; i < Number(count); i += 1) {
    const { verifier, challenge } = pkce();
    const url = authorizeUrl(challenge, resource);
    const tokens = await redeem(codeOf(await get(url, cookie), url), verifier);
    if (i === 0) await check(tokens, resource);
    console.log(`${tokens.refresh_token} ${tokens.access_token}`);
  }
} else {
  fail('usage: code-flow.mjs session|tokens ISSUER CLIENT_ID SECRET REDIRECT_URI …');
}
