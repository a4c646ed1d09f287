// Per-org SAML federation end to end: the real binary as the SP, samlify (a SAML library
// nobody here wrote) as the customer's IdP, openid-client (OpenID Certified) as the app, and
// headless Chromium for the cross-site POST a real browser makes to the ACS.
//
//   app --authorize(organization=acme)--> Tessera --AuthnRequest (Redirect)--> IdP
//       --SAMLResponse (auto-posted form)--> Tessera ACS --> continue --> app, with roles
//
// Everything Tessera-side is set up through its admin API. Prints one JSON line of results.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import * as client from 'openid-client';
import * as jose from 'jose';
import { chromium } from 'playwright-core';
import { CookieBrowser } from './cookie-jar.mjs';
import { startSamlIdp } from './saml-idp.mjs';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const tessera = env('TESSERA').replace(/\/$/, '');
const apiKey = env('API_KEY');
const screenshots = env('SCREENSHOT_DIR');
const results = {};

async function api(method, route, body, expected = [200, 201, 204]) {
  const response = await fetch(`${tessera}/api/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(expected.includes(response.status), `${method} ${route} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

// Follows redirects and posts the IdP's auto-submitting forms, as a browser with scripts on
// would, until it reaches `stopAt` or a page that is not such a form.
class Browser extends CookieBrowser {
  async run(start, { stopAt, seen = [] }) {
    let url = start;
    let init = {};
    for (let hop = 0; hop < 20; hop += 1) {
      if (stopAt && url.startsWith(stopAt)) return { url, seen };
      seen.push(url);
      const response = await this.request(url, init);
      init = {};
      if ([301, 302, 303, 307].includes(response.status)) {
        url = new URL(response.headers.get('location'), url).href;
        continue;
      }
      const body = await response.text();
      const form = body.match(/<form method="post" action="([^"]+)">/);
      if (response.status === 200 && form && body.includes('document.forms[0].submit()')) {
        const unescape = (v) => v.replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c)));
        const fields = new URLSearchParams();
        for (const [, name, value] of body.matchAll(/name="(\w+)" value="([^"]*)"/g)) {
          fields.set(name, unescape(value));
        }
        url = unescape(form[1]);
        init = {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: fields.toString(),
        };
        continue;
      }
      return { url, status: response.status, body, seen };
    }
    throw new Error(`too many hops from ${start}`);
  }
}

const idp = await startSamlIdp({ name: 'acme', host: 'localhost' });
let chromeBrowser;
try {
  // The org, its verified domain, the SAML connection from the IdP's metadata URL, role rules.
  const org = await api('POST', '/organizations', { name: 'Acme', slug: 'acme' });
  await api('POST', '/organizations/acme/domains', { domain: 'acme.test' });
  await api('POST', '/organizations/acme/domains/acme.test/verify', { force: true });
  const connection = await api('POST', '/organizations/acme/connections', {
    kind: 'saml', name: 'Acme SAML', metadata_url: idp.metadataUrl,
  });
  assert.equal(connection.status, 'draft');
  const spMetadata = await (await fetch(connection.sp_metadata_url)).text();
  idp.control({ sp: spMetadata });
  await api('PUT', '/organizations/acme/role-mappings', {
    rules: [{ claim: 'groups', op: 'equals', value: 'acme-admins', role: 'admin' }],
    default_role: 'member',
  });
  await api('POST', `/organizations/acme/connections/${connection.id}/activate`);

  // The app.
  const app = await api('POST', '/clients', {
    name: 'SAML-federated app', type: 'confidential',
    redirect_uris: ['http://127.0.0.1:9/callback'], grant_types: ['authorization_code'],
  });
  const config = await client.discovery(
    new URL(tessera), app.client_id, undefined, client.ClientSecretBasic(app.client_secret),
    { execute: [client.allowInsecureRequests] },
  );
  async function signIn(user, attributes) {
    idp.control({ user: { nameId: user, attributes: { email: user, ...attributes } } });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: 'http://127.0.0.1:9/callback', scope: 'openid email profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256', state, nonce, organization: 'acme',
    });
    const end = await new Browser().run(url.href, { stopAt: 'http://127.0.0.1:9/callback' });
    if (!end.url.startsWith('http://127.0.0.1:9/callback')) {
      const code = end.body?.match(/Error <code>([a-z_]+)<\/code>/);
      return { refused: code ? code[1] : `status ${end.status} at ${end.url}` };
    }
    assert.ok(end.seen.some((u) => u.startsWith(idp.base)), 'the sign-in went through the IdP');
    const tokens = await client.authorizationCodeGrant(config, new URL(end.url), {
      pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
    });
    const claims = tokens.claims();
    const access = jose.decodeJwt(tokens.access_token);
    return { email: claims.email, amr: claims.amr, org_id: access.org_id, roles: access.roles };
  }

  const alice = await signIn('alice@acme.test', { name: 'Alice Admin', groups: ['everyone', 'acme-admins'] });
  assert.equal(alice.org_id, org.id);
  results.alice = alice;

  // The IdP rolls its signing certificate: publishes the next one, signs with it; Tessera
  // refuses until the metadata is refreshed, then accepts.
  idp.control({ publish: ['a', 'b'], signWith: 'b' });
  results.rotated_before_refresh = (await signIn('carol@acme.test', {})).refused;
  const refreshed = await api('POST', `/organizations/acme/connections/${connection.id}/refresh-metadata`);
  assert.equal(refreshed.saml.certificates.length, 2);
  results.rotated = await signIn('carol@acme.test', { groups: ['acme-admins'] });

  // The org turns on assertion encryption (AES-256-CBC to the SP's encryption certificate),
  // and Tessera then refuses plain assertions.
  await api('PATCH', `/organizations/acme/connections/${connection.id}`, { require_encrypted_assertions: true });
  results.plain_after_encryption_required = (await signIn('bob@acme.test', {})).refused;
  idp.control({ encrypt: { data: 'http://www.w3.org/2001/04/xmlenc#aes256-cbc', key: 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p' }, signResponse: false });
  results.encrypted = await signIn('bob@acme.test', { groups: ['everyone'] });

  // A real browser: Tessera on 127.0.0.1, the IdP on localhost (another site), so the ACS
  // receives a cross-site POST without Tessera's SameSite=Lax cookies; the continuation it
  // redirects to brings them back.
  await api('PATCH', `/organizations/acme/connections/${connection.id}`, { require_encrypted_assertions: false });
  idp.control({ user: null, encrypt: null, signResponse: true });
  mkdirSync(screenshots, { recursive: true });
  chromeBrowser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await (await chromeBrowser.newContext({ viewport: { width: 1000, height: 800 } })).newPage();
  page.setDefaultTimeout(20_000);
  await page.goto(`${tessera}/login`);
  await page.fill('input[name=email]', 'dora@acme.test');
  await Promise.all([page.waitForURL((u) => u.host === new URL(idp.base).host), page.keyboard.press('Enter')]);
  await page.screenshot({ path: path.join(screenshots, 'saml-idp-login.png') });
  await page.fill('input[name=email]', 'dora@acme.test');
  try {
    await Promise.all([
      page.waitForURL((u) => u.origin === tessera && u.pathname === '/account'),
      page.click('button[type=submit]'),
    ]);
  } catch (error) {
    await page.screenshot({ path: path.join(screenshots, 'saml-failure.png'), fullPage: true });
    throw new Error(`Chromium stopped at ${page.url()}: ${(await page.textContent('body'))?.slice(0, 500)}`, { cause: error });
  }
  await page.screenshot({ path: path.join(screenshots, 'saml-account.png'), fullPage: true });
  const text = await page.textContent('body');
  assert.ok(text.includes('dora@acme.test'), text);
  results.chromium = { landed: new URL(page.url()).pathname, email_shown: true };

  const members = await api('GET', '/organizations/acme/memberships');
  results.members = members.data.map((m) => `${m.email}:${m.roles.join('+')}`).sort();
} finally {
  await chromeBrowser?.close();
  await idp.close();
}
process.stdout.write(`${JSON.stringify(results)}\n`);
