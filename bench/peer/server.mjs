// The benchmark's peer: the npm oidc-provider with one static confidential client per signing
// algorithm, issuing JWT access tokens (RFC 9068) through client credentials, as Tessera does.
//
//   BENCH_PEER_SECRET=… node bench/peer/server.mjs PORT [WORKERS]
//
// oidc-provider is single-threaded; node:cluster runs WORKERS copies (default 2, the cores
// Tessera gets) behind one port. The primary generates the signing keys and hands the same
// keys to every worker, so any worker's tokens verify against any worker's JWKS.
import cluster from 'node:cluster';
import process from 'node:process';

import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];

const port = Number(process.argv[2]);
const workers = Number(process.argv[3] ?? 2);
const secret = process.env.BENCH_PEER_SECRET;
if (!Number.isInteger(port) || port <= 0 || !secret) {
  console.error('usage: BENCH_PEER_SECRET=… node server.mjs PORT [WORKERS]');
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
  const algOf = new Map(ALGORITHMS.map((alg) => [clientId(alg), alg]));
  return {
    jwks,
    clients: ALGORITHMS.map((alg) => ({
      client_id: clientId(alg),
      client_secret: secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'bench:read',
    })),
    scopes: ['bench:read'],
    ttl: { ClientCredentials: 600 }, // Tessera's default access token lifetime
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => `${issuer}/api`,
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
  provider.listen(port, '127.0.0.1');
}
