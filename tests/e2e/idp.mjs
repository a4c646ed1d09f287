// A customer IdP for browser end-to-end runs: a real oidc-provider (OpenID Certified) on
// loopback with its development login and consent pages, accounts with groups, and clients
// registered the way an IdP admin would after reading Tessera's redirect URI off the screen.
import http from 'node:http';
import * as jose from 'jose';
import Provider from 'oidc-provider';

class MemoryAdapter {
  static stores = new Map();
  constructor(model) {
    this.model = model;
    if (!MemoryAdapter.stores.has(model)) MemoryAdapter.stores.set(model, new Map());
    this.store = MemoryAdapter.stores.get(model);
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

/** Starts an IdP whose accounts are `accounts` (login → claims). */
export async function startIdp(name, accounts) {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(privateKey)), kid: `${name}-1`, alg: 'RS256', use: 'sig' };
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    adapter: MemoryAdapter,
    jwks: { keys: [jwk] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    findAccount: async (ctx, id) => {
      const account = accounts[id];
      if (!account) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, email: id, ...account }) };
    },
    cookies: { keys: [`${name}-e2e`] },
  });
  server.on('request', provider.callback());
  return {
    issuer,
    /** Registers Tessera as a confidential client with `redirectUri`. */
    register: (clientId, clientSecret, redirectUri) => new MemoryAdapter('Client').upsert(clientId, {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }),
    close: () => { server.close(); server.closeAllConnections(); },
  };
}

/**
 * Signs in at the IdP's development login page in `page` (on `issuer`), then grants consent
 * when asked; returns once the browser has left the IdP.
 */
export async function signInAtIdp(page, issuer, login) {
  const origin = new URL(issuer).origin;
  const left = (url) => url.origin !== origin;
  await page.waitForSelector('input[name="login"]');
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any password works at this IdP');
  await page.click('button[type="submit"]');
  const consent = page.locator('input[name="prompt"][value="consent"]');
  await Promise.race([consent.waitFor({ state: 'attached' }), page.waitForURL(left)]);
  if (!left(new URL(page.url())) && (await consent.count())) {
    await page.locator('form button[type="submit"]').click();
  }
  await page.waitForURL(left);
}

/** Cancels at the IdP's login page (the person clicks "Cancel"). */
export async function cancelAtIdp(page, issuer) {
  const origin = new URL(issuer).origin;
  await page.waitForSelector('input[name="login"]');
  await page.getByRole('link', { name: /Cancel/ }).click();
  await page.waitForURL((url) => url.origin !== origin);
}
