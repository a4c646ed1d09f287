// Checks, before anything is measured, that a server's client credentials token is what the
// benchmark claims to compare: a JWT access token (typ at+jwt, RFC 9068) signed with the
// expected algorithm, whose signature verifies against the server's own JWKS, for the asked
// audience and scope. Exits non-zero (and says why) otherwise.
//
//   node check-token.mjs ISSUER TOKEN_URL JWKS_URL CLIENT_ID SECRET RESOURCE ALG
import process from 'node:process';

import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

const [issuer, tokenUrl, jwksUrl, clientId, secret, resource, alg] = process.argv.slice(2);
if (!alg) {
  console.error('usage: node check-token.mjs ISSUER TOKEN_URL JWKS_URL CLIENT_ID SECRET RESOURCE ALG');
  process.exit(2);
}

const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`);
const response = await fetch(tokenUrl, {
  method: 'POST',
  headers: {
    authorization: `Basic ${basic.toString('base64')}`,
    'content-type': 'application/x-www-form-urlencoded',
  },
  body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'bench:read', resource }),
});
if (response.status !== 200) {
  console.error(`${tokenUrl}: HTTP ${response.status}: ${await response.text()}`);
  process.exit(1);
}
const { access_token: token } = await response.json();
const jwks = createLocalJWKSet(await (await fetch(jwksUrl)).json());
try {
  const { payload } = await jwtVerify(token, jwks, {
    issuer,
    audience: resource,
    algorithms: [alg],
    typ: 'at+jwt',
  });
  if (payload.scope !== 'bench:read' || payload.client_id !== clientId) {
    throw new Error(`unexpected claims ${JSON.stringify(payload)}`);
  }
  const { kid } = decodeProtectedHeader(token);
  console.log(`${issuer} ${clientId}: at+jwt ${alg} kid=${kid} ${token.length} bytes`);
} catch (e) {
  console.error(`${issuer} ${clientId}: not an ${alg} at+jwt from this issuer: ${e.message}`);
  console.error(`header: ${JSON.stringify(decodeProtectedHeader(token))}`);
  process.exit(1);
}
