// Per-org OIDC federation end to end. Two customer IdPs are real oidc-provider instances (an
// OpenID Certified provider) on loopback, one per organization; the app is openid-client (an
// OpenID Certified relying party). Everything Tessera-side is set up through its admin API.
//
//   app --authorize(organization=acme)--> Tessera --/sso/…/start--> IdP A (login + consent)
//       --code--> Tessera callback (ID token checked, JIT user, roles from groups) --> app
//
// The "browser" is fetch() with a cookie jar per host, following redirects and filling the
// IdPs' own login and consent forms. Negative cases use accounts for which IdP A's token
// endpoint re-signs the ID token wrongly (wrong audience, expired, a key it never published).
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import * as client from 'openid-client';
import * as jose from 'jose';
import Provider from 'oidc-provider';
import { CookieBrowser } from './cookie-jar.mjs';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const tessera = env('TESSERA').replace(/\/$/, '');
const apiKey = env('API_KEY');
const results = {};

// ---------------------------------------------------------------- customer IdPs (oidc-provider)

// Accounts at the IdPs: login -> claims. Groups become roles through Tessera's rules.
const accounts = {
  'alice@acme.test': { name: 'Alice Admin', email_verified: true, groups: ['acme-admins', 'everyone'] },
  'bob@acme.test': { name: 'Bob Builder', email_verified: true, groups: ['everyone'] },
  'dana@acme.test': { name: 'Dana Unverified', email_verified: false, groups: [] },
  'rotated@acme.test': { name: 'Rhea Rotated', email_verified: true, groups: ['acme-admins'] },
  'sam@acme.test': { name: 'Sam Scim', email_verified: true, groups: [] },
  'tamper-aud@acme.test': { name: 'T', email_verified: true, groups: [] },
  'tamper-exp@acme.test': { name: 'T', email_verified: true, groups: [] },
  'tamper-sig@acme.test': { name: 'T', email_verified: true, groups: [] },
  'carol@globex.test': { name: 'Carol Globex', email_verified: true, groups: ['globex-ops'] },
  'erin@example.net': { name: 'Erin Social', email_verified: true, groups: [] },
  'pat@contoso.test': { name: 'Pat Contoso', tid: '2f3c1a9e-1d2b-4c3d-8e4f-5a6b7c8d9e0f', groups: [] },
  'mallory@fabrikam.test': { name: 'Mallory', tid: '9a8b7c6d-0000-4000-8000-123456789abc', groups: [] },
  'gil@initech.test': { name: 'Gil Initech', email_verified: true, hd: 'initech.test', groups: [] },
  'gus@gmail.test': { name: 'Gus Personal', email_verified: true, groups: [] },
  'frank@example.net': { name: 'Frank Social', email_verified: true, groups: [] },
};

// ---------------------------------------------------------------- a mailbox (plain SMTP)

// Tessera mails sign-in links to this loopback SMTP server; the test reads them here.
const inbox = [];
const smtp = net.createServer((socket) => {
  let data = false;
  let message = '';
  socket.write('220 e2e mailbox\r\n');
  let buffer = '';
  socket.on('data', (chunk) => {
    buffer += chunk.toString('utf8');
    let at;
    while ((at = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      if (data) {
        if (line === '.') {
          data = false;
          inbox.push(message);
          message = '';
          socket.write('250 queued\r\n');
        } else {
          message += `${line}\n`;
        }
      } else if (/^(EHLO|HELO)/i.test(line)) {
        socket.write('250 e2e mailbox\r\n');
      } else if (/^DATA/i.test(line)) {
        data = true;
        socket.write('354 go on\r\n');
      } else if (/^QUIT/i.test(line)) {
        socket.end('221 bye\r\n');
      } else {
        socket.write('250 ok\r\n');
      }
    }
  });
});
await new Promise((resolve) => smtp.listen(Number(env('SMTP_PORT')), '127.0.0.1', resolve));

async function linkFor(address) {
  for (let i = 0; i < 100; i += 1) {
    const mail = inbox.find((m) => m.includes(address));
    if (mail) {
      const unfolded = mail.replace(/=\n/g, '').replace(/=3D/g, '=');
      return unfolded.slice(unfolded.indexOf('http')).split(/[\s"<]/)[0];
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no mail for ${address}`);
}

// oidc-provider keeps clients in its adapter; Tessera's redirect URI is known only after the
// connection exists, so the client is stored then.
const stores = new Map();
class MemoryAdapter {
  constructor(model) {
    this.model = model;
    if (!stores.has(model)) stores.set(model, new Map());
    this.store = stores.get(model);
  }
  async upsert(id, payload) { this.store.set(id, payload); }
  async find(id) { return this.store.get(id); }
  async findByUserCode() { return undefined; }
  async findByUid(uid) { return [...this.store.values()].find((p) => p.uid === uid); }
  async consume(id) { const p = this.store.get(id); if (p) p.consumed = Math.floor(Date.now() / 1000); }
  async destroy(id) { this.store.delete(id); }
  async revokeByGrantId(grantId) {
    for (const [id, p] of this.store) if (p.grantId === grantId) this.store.delete(id);
  }
}

// `mount` puts the IdP under a path (Entra's issuers look like /{tenant-id}/v2.0);
// `idTokenClaims` puts the scope's claims in the ID token, as Entra and Google do.
async function startIdp(name, { mount = '', idTokenClaims = false } = {}) {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(privateKey)), kid: `${name}-1`, alg: 'RS256', use: 'sig' };
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}${mount}`;
  const provider = new Provider(issuer, {
    adapter: MemoryAdapter,
    jwks: { keys: [jwk] },
    conformIdTokenClaims: !idTokenClaims,
    claims: {
      openid: ['sub', 'tid', 'hd'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'],
    },
    scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    findAccount: async (ctx, id) => {
      const account = accounts[id];
      if (!account) return undefined;
      return {
        accountId: id,
        claims: async () => ({ sub: id, email: id, ...account }),
      };
    },
    cookies: { keys: ['federation-e2e'] },
  });
  // The tampering token endpoint: only for tamper-* accounts, the real ID token is replaced
  // by one that must be refused.
  const wrongKey = (await jose.generateKeyPair('RS256')).privateKey;
  // A key the IdP starts publishing (and signing with, for rotated-* accounts) only after the
  // connection was created: Tessera must refetch the JWKS to accept it.
  const { privateKey: nextKey, publicKey: nextPublic } = await jose.generateKeyPair('RS256', { extractable: true });
  const nextJwk = { ...(await jose.exportJWK(nextPublic)), kid: `${name}-2`, alg: 'RS256', use: 'sig' };
  let rotated = false;
  provider.use(async (ctx, next) => {
    await next();
    if (rotated && ctx.path === '/jwks' && ctx.body?.keys) {
      ctx.body = { keys: [...ctx.body.keys, nextJwk] };
    }
    if (ctx.path !== '/token' || !ctx.body?.id_token) return;
    const claims = jose.decodeJwt(ctx.body.id_token);
    const sign = (payload, key = privateKey) =>
      new jose.SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: jwk.kid }).sign(key);
    const now = Math.floor(Date.now() / 1000);
    if (claims.sub === 'tamper-aud@acme.test') {
      ctx.body.id_token = await sign({ ...claims, aud: 'someone-else' });
    } else if (claims.sub === 'tamper-exp@acme.test') {
      ctx.body.id_token = await sign({ ...claims, iat: now - 3600, exp: now - 1800 });
    } else if (claims.sub === 'tamper-sig@acme.test') {
      ctx.body.id_token = await sign(claims, wrongKey);
    } else if (claims.sub === 'rotated@acme.test') {
      ctx.body.id_token = await new jose.SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: nextJwk.kid })
        .sign(nextKey);
    }
  });
  const callback = provider.callback();
  server.on('request', (req, res) => {
    // Mounted like Express does it: the provider sees the path below the mount point.
    if (mount && req.url.startsWith(mount)) {
      req.originalUrl = req.url;
      req.url = req.url.slice(mount.length) || '/';
    }
    callback(req, res);
  });
  const register = (clientId, clientSecret, redirectUri) =>
    new MemoryAdapter('Client').upsert(clientId, {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
  return { issuer, server, register, rotate: () => { rotated = true; } };
}

// ---------------------------------------------------------------- Tessera's admin API

async function api(method, path, body, expected = [200, 201, 204]) {
  const response = await fetch(`${tessera}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  assert.ok(
    expected.includes(response.status),
    `${method} ${path} answered ${response.status}: ${text}`,
  );
  return { status: response.status, json };
}

async function setUpOrg(slug, domain, idp, rules) {
  const org = (await api('POST', '/organizations', { name: slug, slug })).json;
  await api('POST', `/organizations/${slug}/domains`, { domain });
  await api('POST', `/organizations/${slug}/domains/${domain}/verify`, { force: true });
  const clientId = `tessera-${slug}`;
  const clientSecret = `secret-${slug}-${Math.random().toString(36).slice(2)}`;
  const connection = (await api('POST', `/organizations/${slug}/connections`, {
    kind: 'oidc',
    name: `${slug} IdP`,
    issuer: `${idp.issuer}/.well-known/openid-configuration`,
    client_id: clientId,
    client_secret: clientSecret,
    preset: 'okta',
  })).json;
  assert.equal(connection.status, 'draft');
  assert.equal(connection.issuer, idp.issuer);
  assert.ok(connection.redirect_uri.startsWith(`${tessera}/sso/oidc/`));
  assert.ok(!JSON.stringify(connection).includes(clientSecret), 'the secret is never returned');
  await idp.register(clientId, clientSecret, connection.redirect_uri);
  await api('PUT', `/organizations/${slug}/role-mappings`, rules);
  return { org, connection };
}

// ---------------------------------------------------------------- the browser

class Browser extends CookieBrowser {
  // Follows redirects and fills the IdP's login and consent forms until the browser reaches
  // `stopAt` (a URL prefix) or a page that is not an IdP form. `seen` records every hop.
  async run(start, { login, stopAt, cancel = false, seen = [] }) {
    let url = start;
    let init = {};
    for (let hop = 0; hop < 30; hop += 1) {
      if (stopAt && url.startsWith(stopAt)) return { url, seen };
      seen.push(url);
      const response = await this.request(url, init);
      init = {};
      if ([301, 302, 303, 307].includes(response.status)) {
        url = new URL(response.headers.get('location'), url).href;
        continue;
      }
      const body = await response.text();
      const form = body.match(/<form[^>]*action="([^"]+)"[^>]*method="post"/);
      const prompt = body.match(/name="prompt" value="(\w+)"/);
      const abort = body.match(/<a href="([^"]+)">\[ Cancel \]<\/a>/);
      if (response.status === 200 && cancel && abort) {
        // The user clicks the IdP's Cancel link instead of signing in.
        url = new URL(abort[1].replaceAll('&amp;', '&'), url).href;
        continue;
      }
      if (response.status === 200 && form && prompt) {
        const fields = new URLSearchParams({ prompt: prompt[1] });
        if (prompt[1] === 'login') {
          fields.set('login', login);
          fields.set('password', 'any password works at this IdP');
        }
        url = new URL(form[1].replaceAll('&amp;', '&'), url).href;
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

// ---------------------------------------------------------------- the app (openid-client)

const app = (await api('POST', '/clients', {
  name: 'federated app',
  type: 'confidential',
  redirect_uris: ['http://127.0.0.1:9/callback'],
  grant_types: ['authorization_code'],
})).json;
const config = await client.discovery(
  new URL(tessera), app.client_id, undefined, client.ClientSecretBasic(app.client_secret),
  { execute: [client.allowInsecureRequests] },
);

async function signInThroughApp(browser, login, organization) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: 'http://127.0.0.1:9/callback',
    scope: 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    organization,
  });
  const end = await browser.run(url.href, { login, stopAt: 'http://127.0.0.1:9/callback' });
  if (!end.url.startsWith('http://127.0.0.1:9/callback')) return { refused: end };
  const tokens = await client.authorizationCodeGrant(config, new URL(end.url), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  return { tokens, claims: tokens.claims(), access: jose.decodeJwt(tokens.access_token), seen: end.seen };
}

function refusalCode(end) {
  const code = end.body?.match(/Error <code>([a-z_]+)<\/code>/);
  return code ? code[1] : `no error page (status ${end.status} at ${end.url})`;
}

// ---------------------------------------------------------------- the run

const idpA = await startIdp('acme');
const idpB = await startIdp('globex');
const idpC = await startIdp('social');
const tenant = '2f3c1a9e-1d2b-4c3d-8e4f-5a6b7c8d9e0f';
const idpEntra = await startIdp('entra', { mount: `/${tenant}/v2.0`, idTokenClaims: true });
const idpGoogle = await startIdp('google', { idTokenClaims: true });
try {
  const acme = await setUpOrg('acme', 'acme.test', idpA, {
    rules: [{ claim: 'groups', op: 'equals', value: 'acme-admins', role: 'admin' }],
    default_role: 'member',
  });
  const globex = await setUpOrg('globex', 'globex.test', idpB, {
    rules: [{ claim: 'groups', op: 'in', value: ['globex-ops', 'globex-dev'], role: 'operator' }],
    deny_unmatched: true,
  });

  // A draft connection is not used for sign-in; a dry-run test login works on it already.
  const test = (await api('POST', `/organizations/acme/connections/${acme.connection.id}/test-logins`)).json;
  assert.equal(test.status, 'pending');
  const testEnd = await new Browser().run(test.url, { login: 'alice@acme.test' });
  assert.match(testEnd.body, /Test login succeeded/);
  const tested = (await api('GET', `/organizations/acme/connections/${acme.connection.id}/test-logins/${test.id}`)).json;
  assert.equal(tested.status, 'succeeded');
  assert.deepEqual(tested.roles, ['admin']);
  assert.equal(tested.account_action, 'create');
  assert.deepEqual(tested.claims.groups, ['acme-admins', 'everyone']);
  const tamperedTest = (await api('POST', `/organizations/acme/connections/${acme.connection.id}/test-logins`)).json;
  await new Browser().run(tamperedTest.url, { login: 'tamper-aud@acme.test' });
  const failedTest = (await api('GET', `/organizations/acme/connections/${acme.connection.id}/test-logins/${tamperedTest.id}`)).json;
  assert.equal(failedTest.status, 'failed');
  assert.equal(failedTest.error.code, 'oidc_audience_mismatch');
  const members = (await api('GET', '/organizations/acme/memberships')).json;
  assert.equal(members.data.length, 0, 'a test login creates nobody');
  results.test_login = { roles: tested.roles, failed: failedTest.error.code };

  await api('POST', `/organizations/acme/connections/${acme.connection.id}/activate`);
  await api('POST', `/organizations/globex/connections/${globex.connection.id}/activate`);

  // Alice (acme-admins) and Bob (no admin group) through IdP A; Carol through IdP B.
  const alice = await signInThroughApp(new Browser(), 'alice@acme.test', 'acme');
  assert.ok(alice.seen.some((u) => u.startsWith(idpA.issuer)), 'the sign-in went through IdP A');
  const bob = await signInThroughApp(new Browser(), 'bob@acme.test', 'acme');
  const carolBrowser = new Browser();
  const carol = await signInThroughApp(carolBrowser, 'carol@globex.test', 'globex');
  assert.ok(carol.seen.some((u) => u.startsWith(idpB.issuer)), 'the sign-in went through IdP B');
  assert.ok(!carol.seen.some((u) => u.startsWith(idpA.issuer)), 'globex never touches IdP A');
  results.alice = { email: alice.claims.email, org_id: alice.access.org_id, roles: alice.access.roles, amr: alice.claims.amr };
  results.bob = { org_id: bob.access.org_id, roles: bob.access.roles };
  results.carol = { org_id: carol.access.org_id, roles: carol.access.roles };
  assert.equal(alice.access.org_id, acme.org.id);
  assert.equal(carol.access.org_id, globex.org.id);

  // The org rotates its client secret at the IdP and in Tessera; sign-in keeps working.
  await idpA.register('tessera-acme', 'rotated-secret', acme.connection.redirect_uri);
  const rotated = (await api('PATCH', `/organizations/acme/connections/${acme.connection.id}`, {
    client_secret: 'rotated-secret',
  })).json;
  assert.ok(!JSON.stringify(rotated).includes('rotated-secret'));
  // The IdP rotates its signing key: Tessera fetches the new JWKS once and accepts it.
  idpA.rotate();
  const rhea = await signInThroughApp(new Browser(), 'rotated@acme.test', 'acme');
  results.key_rotation = rhea.tokens ? rhea.access.roles : refusalCode(rhea.refused);
  // A second sign-in finds the same user by (connection, subject).
  const again = await signInThroughApp(new Browser(), 'alice@acme.test', 'acme');
  assert.equal(again.claims.sub, alice.claims.sub);

  // acme's directory provisions Sam over SCIM, into its group "acme-admins", before Sam ever
  // signs in. Sam then signs in through IdP A (which sends no groups for Sam) as that same
  // user, with the role the directory's group maps to. Deactivated in the directory, Sam is
  // refused at the next sign-in.
  const directory = (await api('POST', '/organizations/acme/scim-tokens', { name: 'acme directory' })).json;
  const scim = async (method, path, body) => {
    const response = await fetch(`${directory.base_url}${path}`, {
      method,
      headers: { authorization: `Bearer ${directory.token}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    assert.ok(response.ok, `SCIM ${method} ${path} answered ${response.status}: ${text}`);
    return JSON.parse(text);
  };
  const samUser = await scim('POST', '/Users', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: 'sam@acme.test',
    name: { givenName: 'Sam', familyName: 'Scim' },
    emails: [{ value: 'sam@acme.test', type: 'work', primary: true }],
    active: true,
  });
  await scim('POST', '/Groups', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
    displayName: 'acme-admins',
    members: [{ value: samUser.id }],
  });
  const provisioned = (await api('GET', '/organizations/acme/memberships')).json.data
    .find((m) => m.email === 'sam@acme.test');
  const sam = await signInThroughApp(new Browser(), 'sam@acme.test', 'acme');
  await scim('PATCH', `/Users/${samUser.id}`, {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [{ op: 'replace', path: 'active', value: false }],
  });
  const samAgain = await signInThroughApp(new Browser(), 'sam@acme.test', 'acme');
  results.scim = {
    provisioned_roles: provisioned.roles,
    same_user: sam.access?.sub === provisioned.user_id,
    org_id: sam.access?.org_id === acme.org.id,
    roles: sam.access?.roles,
    after_deactivation: samAgain.tokens ? 'signed in' : refusalCode(samAgain.refused),
  };

  // Typing an email on Tessera's sign-in page routes to the org's IdP (home-realm discovery).
  const typed = new Browser();
  const login = await typed.request(`${tessera}/login`);
  const csrf = (await login.text()).match(/name="csrf" value="([^"]+)"/)[1];
  const routed = await typed.request(`${tessera}/login/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: tessera },
    body: new URLSearchParams({ csrf, email: 'bob@acme.test', return_to: '/account' }).toString(),
  });
  assert.equal(routed.status, 303);
  const routedEnd = await typed.run(new URL(routed.headers.get('location'), tessera).href, { login: 'bob@acme.test' });
  assert.ok(routedEnd.seen.some((u) => u.startsWith(idpA.issuer)), 'home-realm discovery sent bob to IdP A');
  assert.match(routedEnd.url, /\/account$/);
  assert.equal(routedEnd.status, 200);

  // Negative cases: each ends on Tessera's error page with its stable code, nobody signed in.
  // Dana already has a Tessera account (added to globex by email); IdP A does not vouch for her
  // address, so her acme identity must not take that account over.
  await api('POST', '/organizations/globex/memberships', { email: 'dana@acme.test', roles: [] });
  const refusals = {};
  for (const login of ['tamper-aud@acme.test', 'tamper-exp@acme.test', 'tamper-sig@acme.test', 'dana@acme.test']) {
    const outcome = await signInThroughApp(new Browser(), login, 'acme');
    assert.ok(outcome.refused, `${login} must not get tokens`);
    refusals[login] = refusalCode(outcome.refused);
  }
  // The user cancels at the IdP: it answers access_denied, which Tessera shows as such.
  const cancelled = await new Browser().run(`${tessera}/sso/${acme.connection.id}/start`, { cancel: true });
  refusals.cancelled_at_idp = refusalCode(cancelled);
  // Replaying the IdP's answer (same code and state, same browser) after it was used.
  const replayer = new Browser();
  const first = await signInThroughApp(replayer, 'bob@acme.test', 'acme');
  const callback = first.seen.find((u) => u.startsWith(`${tessera}/sso/oidc/`));
  const replay = await replayer.run(callback, {});
  refusals.replayed_state = refusalCode(replay);
  results.refusals = refusals;
  // Each org sees only its own people.
  const acmeMembers = (await api('GET', '/organizations/acme/memberships')).json.data.map((m) => m.email ?? m.user?.email);
  const globexMembers = (await api('GET', '/organizations/globex/memberships')).json.data.map((m) => m.email ?? m.user?.email);
  results.members = { acme: acmeMembers.sort(), globex: globexMembers.sort() };


  // Social sign-in: an instance-level connection is a "Continue with …" button for everyone.
  const social = (await api('POST', '/connections', {
    kind: 'oidc',
    name: 'Social ID',
    issuer: idpC.issuer,
    client_id: 'tessera-social',
    client_secret: 'social-secret',
  })).json;
  assert.equal(social.organization_id, undefined);
  await idpC.register('tessera-social', 'social-secret', social.redirect_uri);
  await api('POST', `/connections/${social.id}/activate`);
  const continueWith = async (browser, login) => {
    const page = await (await browser.request(`${tessera}/login?return_to=%2Faccount`)).text();
    const button = page.match(/<a class="button secondary social" href="([^"]+)">Continue with Social ID<\/a>/);
    assert.ok(button, 'the sign-in page offers the social connection');
    return browser.run(new URL(button[1].replaceAll('&amp;', '&'), tessera).href, { login });
  };
  // A new person signs up in one click.
  const erin = await continueWith(new Browser(), 'erin@example.net');
  assert.equal(erin.status, 200);
  assert.match(erin.url, /\/account$/);
  assert.match(erin.body, /erin@example\.net/);

  // Frank already has an account (made by an admin); the provider's verified email does not
  // take it over: Frank signs in to it once (by emailed link), and only then is it linked.
  await api('POST', '/organizations/globex/memberships', { email: 'frank@example.net', roles: [] });
  const frank = new Browser();
  const parked = await continueWith(frank, 'frank@example.net');
  assert.match(parked.url, /\/login\?return_to=%2Fsso%2Flink%2F/, JSON.stringify(parked.seen));
  assert.match(parked.body, /already have an account with this email/);
  const csrfFrank = parked.body.match(/name="csrf" value="([^"]+)"/)[1];
  const returnTo = new URL(parked.url).searchParams.get('return_to');
  const asked = await frank.request(`${tessera}/login/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: tessera },
    body: new URLSearchParams({ csrf: csrfFrank, email: 'frank@example.net', return_to: returnTo }).toString(),
  });
  assert.equal(asked.status, 303);
  const link = await linkFor('frank@example.net');
  const confirmPage = await (await frank.request(link)).text();
  const token = new URL(link).searchParams.get('token');
  const csrfLink = confirmPage.match(/name="csrf" value="([^"]+)"/)[1];
  const redeemed = await frank.request(`${tessera}/login/link`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: tessera },
    body: new URLSearchParams({ csrf: csrfLink, token }).toString(),
  });
  assert.equal(redeemed.status, 303);
  const linked = await frank.run(new URL(redeemed.headers.get('location'), tessera).href, {});
  assert.match(linked.url, /\/account$/);
  // From now on the provider signs Frank in directly, into the same account.
  const frankAgain = await continueWith(new Browser(), 'frank@example.net');
  assert.match(frankAgain.url, /\/account$/);
  assert.match(frankAgain.body, /frank@example\.net/);
  assert.match(frankAgain.body, /Social ID/);
  results.social = { erin: 'signed up', frank: 'linked after signing in' };

  // Presets. Entra ID: only the connection's tenant (tid) gets in. Google Workspace: only
  // accounts whose hosted domain (hd) the org verified.
  const presetOrg = async (slug, domain, idp, preset) => {
    await api('POST', '/organizations', { name: slug, slug });
    await api('POST', `/organizations/${slug}/domains`, { domain });
    await api('POST', `/organizations/${slug}/domains/${domain}/verify`, { force: true });
    const created = (await api('POST', `/organizations/${slug}/connections`, {
      kind: 'oidc', name: `${slug} ${preset}`, issuer: idp.issuer, client_id: `tessera-${slug}`,
      client_secret: `secret-${slug}`, preset,
    })).json;
    await idp.register(`tessera-${slug}`, `secret-${slug}`, created.redirect_uri);
    await api('POST', `/organizations/${slug}/connections/${created.id}/activate`);
    return created;
  };
  const contoso = await presetOrg('contoso', 'contoso.test', idpEntra, 'entra');
  assert.equal(contoso.tenant_id, tenant);
  const pat = await signInThroughApp(new Browser(), 'pat@contoso.test', 'contoso');
  const mallory = await signInThroughApp(new Browser(), 'mallory@fabrikam.test', 'contoso');
  await presetOrg('initech', 'initech.test', idpGoogle, 'google');
  const gil = await signInThroughApp(new Browser(), 'gil@initech.test', 'initech');
  const gus = await signInThroughApp(new Browser(), 'gus@gmail.test', 'initech');
  results.presets = {
    entra_same_tenant: pat.tokens ? 'signed in' : refusalCode(pat.refused),
    entra_other_tenant: mallory.tokens ? 'signed in' : refusalCode(mallory.refused),
    google_workspace: gil.tokens ? 'signed in' : refusalCode(gil.refused),
    google_personal: gus.tokens ? 'signed in' : refusalCode(gus.refused),
  };
} finally {
  smtp.close();
  for (const idp of [idpEntra, idpGoogle]) {
    idp.server.close();
    idp.server.closeAllConnections();
  }
  idpC.server.close();
  idpC.server.closeAllConnections();
  idpA.server.close();
  idpB.server.close();
  idpA.server.closeAllConnections();
  idpB.server.closeAllConnections();
}
// Tessera's SMTP pool keeps its connection to the mailbox open: exit instead of waiting.
process.stdout.write(`\n${JSON.stringify(results)}\n`, () => process.exit(0));
