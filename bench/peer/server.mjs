// The benchmark's peer: the npm oidc-provider with one static confidential client per signing
// algorithm, issuing JWT access tokens (RFC 9068) through client credentials, as Tessera does;
// and a web app (`bench-code`) that signs its users in with the authorization code flow,
// refreshes with rotation and introspects its tokens.
//
//   BENCH_PEER_SECRET=… BENCH_PEER_REDIS=redis://… BENCH_PEER_PREFIX=… \
//     node bench/peer/server.mjs PORT [WORKERS]
//
// oidc-provider is single-threaded; node:cluster runs WORKERS copies (default 2, the cores
// Tessera gets) behind one port. The primary generates the signing keys and hands the same
// keys to every worker, so any worker's tokens verify against any worker's JWKS; sessions,
// codes, grants and refresh tokens are in Redis (redis-adapter.mjs), so any worker can finish
// what another started, as with Tessera's replicas.
//
// Sign-in: the interaction pages are this file's (oidc-provider leaves them to the deployer):
// POST /interaction/UID with login=bench-user (or bench-user-N, any number N: as many accounts
// as the benchmark signs in) and password=BENCH_PEER_SECRET signs that account in; POST to a
// consent interaction allows everything asked. Once allowed, later requests of
// the app reuse the grant (oidc-provider's default loadExistingGrant): no interaction per flow.
import cluster from 'node:cluster';
import process from 'node:process';

import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

import { redisAdapter } from './redis-adapter.mjs';

const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
const ACCOUNT = /^bench-user(-[0-9]+)?$/;
const CODE_CLIENT = 'bench-code';
const REDIRECT_URI = 'https://app.bench.example/callback';

const port = Number(process.argv[2]);
const workers = Number(process.argv[3] ?? 2);
const secret = process.env.BENCH_PEER_SECRET;
const redis = process.env.BENCH_PEER_REDIS;
const prefix = process.env.BENCH_PEER_PREFIX ?? 'tessera_bench_peer:';
if (!Number.isInteger(port) || port <= 0 || !secret || !redis) {
  console.error('usage: BENCH_PEER_SECRET=… BENCH_PEER_REDIS=redis://… node server.mjs PORT [WORKERS]');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

// The client id of the app whose tokens are signed with `alg` (bench-rs256, …).
const clientId = (alg) => `bench-${alg.toLowerCase()}`;

async function privateJwks() {
  const keys = [];
  for (const alg of ALGORITHMS) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    keys.push({ ...(await exportJWK(privateKey)), alg, use: 'sig', kid: `bench-${alg}` });
  }
  return { keys };
}

function configuration(jwks) {
  // The code-flow app signs with ES256, as its Tessera counterpart does.
  const algOf = new Map([...ALGORITHMS.map((alg) => [clientId(alg), alg]), [CODE_CLIENT, 'ES256']]);
  return {
    jwks,
    adapter: redisAdapter(redis, prefix),
    cookies: { keys: [secret] },
    clients: [
      ...ALGORITHMS.map((alg) => ({
        client_id: clientId(alg),
        client_secret: secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'bench:read',
      })),
      {
        client_id: CODE_CLIENT,
        client_secret: secret,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'ES256',
        scope: 'openid offline_access bench:read',
      },
    ],
    scopes: ['openid', 'offline_access', 'bench:read'],
    findAccount: (_ctx, id) => (ACCOUNT.test(id)
      ? { accountId: id, claims: async () => ({ sub: id }) }
      : undefined),
    // Tessera's defaults: 10-minute access and ID tokens, 60-second codes, refresh tokens that
    // live 14 days unused.
    ttl: {
      ClientCredentials: 600,
      AccessToken: 600,
      IdToken: 600,
      AuthorizationCode: 60,
      RefreshToken: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
      Session: 14 * 24 * 3600,
      Interaction: 600,
    },
    // Every use of a refresh token returns a new one and retires it (reuse revokes the grant),
    // as Tessera does. oidc-provider only grants offline_access on a request with
    // prompt=consent, which would ask the user every time; instead the app gets refresh tokens
    // because it may use the grant (Tessera: because it asked for offline_access), and they
    // outlive the browser session, as offline_access ones do.
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: async () => false,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Client credentials apps get tokens for the API; the web app names it (or not).
        defaultResource: (_ctx, client) => (client.clientId === CODE_CLIENT ? undefined : `${issuer}/api`),
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, _resource, client) => ({
          scope: 'bench:read',
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: algOf.get(client.clientId) } },
        }),
      },
    },
  };
}

// The body of a form POST, as URLSearchParams.
async function form(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

// The interaction pages: sign an account in (with the bench secret as its password), and
// allow whatever the app asks when consent is the question. GET says which prompt is waiting.
function interactions(provider) {
  return async (ctx, next) => {
    if (!/^\/interaction\/[^/]+$/.test(ctx.path)) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const { prompt, params, session } = details;
    if (ctx.method === 'GET') {
      ctx.type = 'text/plain';
      ctx.body = prompt.name;
      return undefined;
    }
    let result;
    if (prompt.name === 'login') {
      const answer = await form(ctx.req);
      const login = answer.get('login') ?? '';
      if (!ACCOUNT.test(login) || answer.get('password') !== secret) {
        ctx.status = 401;
        ctx.body = 'wrong login or password';
        return undefined;
      }
      result = { login: { accountId: login } };
    } else {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
      if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
      if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
      for (const [resource, scopes] of Object.entries(missingResourceScopes ?? {})) {
        grant.addResourceScope(resource, scopes.join(' '));
      }
      result = { consent: { grantId: await grant.save() } };
    }
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: false,
    }));
    return undefined;
  };
}

if (cluster.isPrimary) {
  const jwks = JSON.stringify(await privateJwks());
  let listening = 0;
  for (let i = 0; i < workers; i += 1) {
    cluster.fork({ BENCH_PEER_JWKS: jwks }).on('listening', () => {
      listening += 1;
      if (listening === workers) console.log(`peer listening on ${issuer} (${workers} workers)`);
    });
  }
  // A worker that dies makes the numbers meaningless: stop the whole peer.
  cluster.on('exit', (worker, code) => {
    console.error(`peer worker ${worker.process.pid} exited (${code}); stopping`);
    process.exit(1);
  });
  process.on('SIGTERM', () => process.exit(0));
} else {
  const provider = new Provider(issuer, configuration(JSON.parse(process.env.BENCH_PEER_JWKS)));
  provider.use(interactions(provider));
  provider.listen(port, '127.0.0.1');
}
