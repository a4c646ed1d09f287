// A SAML 2.0 identity provider for the end-to-end suite, built on samlify (a maintained SAML
// library nobody here wrote): it publishes metadata, parses and verifies Tessera's
// AuthnRequests (HTTP-Redirect, schema-validated with xmllint), and answers with signed (and
// optionally encrypted) responses over HTTP-POST, as an IdP with a signed-in user would.
//
// Imported by scenario scripts (`startSamlIdp()`), or run on its own for the Rust tests:
//   node saml-idp.mjs            # prints "ready <port>" once listening; stops on stdin EOF
//
// Everything a test may change goes through POST /control (JSON):
//   { sp: "<SP metadata XML>" }               register an SP (by its entity ID)
//   { user: {nameId, attributes}|null }       who is signed in at the IdP (null: show a login form)
//   { signWith: "a"|"b"|"rogue", publish: ["a","b"], sha1: bool, signResponse: bool,
//     signAssertion: bool, encrypt: null|{data, key}, tags: {Tag: value}, wantSignedRequests }
// GET /metadata, GET /sso (HTTP-Redirect AuthnRequest), POST /login (the form),
// GET /idp-initiated?sp=<entityID> (unsolicited response).
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import zlib from 'node:zlib';
import forge from 'node-forge';
import * as samlify from 'samlify';
import { validateXML } from 'xmllint-wasm';
import { createRequire } from 'node:module';

// Every AuthnRequest is validated against the OASIS SAML 2.0 schemas with libxml2 (xmllint,
// compiled to WebAssembly); the schema files come from samlify's own validator package.
const require = createRequire(import.meta.url);
const schemaFile = (name) => ({
  fileName: name,
  contents: require(`@authenio/samlify-node-xmllint/build/schemas/${name}.js`).default,
});
// The protocol schema is the one validated against; the others are what it imports.
const schemas = [schemaFile('saml-schema-protocol-2.0.xsd')];
const imported = ['saml-schema-assertion-2.0.xsd', 'xmldsig-core-schema.xsd', 'xenc-schema.xsd',
  'XMLSchema.dtd', 'datatypes.dtd'].map(schemaFile);
samlify.setSchemaValidator({
  validate: async (xml) => {
    const result = await validateXML({ xml: [{ fileName: 'message.xml', contents: xml }], schema: schemas, preload: imported });
    if (!result.valid) throw new Error(`schema: ${result.rawOutput.slice(0, 500)}`);
    return 'SUCCESS_VALIDATE_XML';
  },
});

const { SamlLib } = samlify.default;
const NS = samlify.Constants.namespace;

// Keys from Node's own (native) RSA; forge only wraps them in a self-signed certificate.
function keyPair(name) {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKey = pair.privateKey.export({ type: 'pkcs1', format: 'pem' });
  const keys = {
    privateKey: forge.pki.privateKeyFromPem(privateKey),
    publicKey: forge.pki.publicKeyFromPem(pair.publicKey.export({ type: 'spki', format: 'pem' })),
  };
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  // DER wants the serial a positive INTEGER in its fewest bytes, and forge writes the bytes as
  // given: a leading 01 keeps it both. (A leading 0 let the serial start 00 7a… whenever the
  // random bytes began with a zero byte, which OpenSSL refuses as illegal padding: one
  // certificate in a few hundred, and a SAML test failing now and then.)
  cert.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(8))}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
  const attrs = [{ name: 'commonName', value: `e2e SAML IdP ${name}` }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  const pem = forge.pki.certificateToPem(cert);
  return {
    privateKey,
    cert: pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''),
  };
}

const escapeXml = (s) => String(s).replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

function attributeStatement(attributes) {
  const items = Object.entries(attributes ?? {}).map(([name, value]) => {
    const values = (Array.isArray(value) ? value : [value])
      .map((v) => `<saml:AttributeValue xsi:type="xs:string">${escapeXml(v)}</saml:AttributeValue>`)
      .join('');
    return `<saml:Attribute Name="${escapeXml(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">${values}</saml:Attribute>`;
  });
  return items.length ? `<saml:AttributeStatement>${items.join('')}</saml:AttributeStatement>` : '';
}

const authnStatement = (now, sessionIndex) =>
  `<saml:AuthnStatement AuthnInstant="${now}" SessionIndex="${sessionIndex}"><saml:AuthnContext>` +
  '<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>' +
  '</saml:AuthnContext></saml:AuthnStatement>';

// `host`: the name the IdP's URLs use (it listens on 127.0.0.1 either way); a browser test
// uses `localhost` so that the IdP and Tessera (127.0.0.1) are different sites.
export async function startSamlIdp({ name = 'idp', port = 0, host = '127.0.0.1' } = {}) {
  const keys = { a: keyPair(`${name}-a`), b: keyPair(`${name}-b`), rogue: keyPair(`${name}-rogue`) };
  const config = {
    signWith: 'a',
    publish: ['a'],
    sha1: false,
    signResponse: true,
    signAssertion: true,
    encrypt: null,
    tags: {},
    wantSignedRequests: false,
    user: null,
  };
  const sps = new Map(); // entityID -> SP metadata XML
  const requests = []; // AuthnRequests received (parsed), for tests to inspect
  const server = http.createServer();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const base = `http://${host}:${server.address().port}`;
  const entityID = `${base}/idp`;

  // `certs`: the certificates to publish (the signing IdP object carries only its current one).
  const metadata = (certs = config.publish) =>
    samlify.IdentityProvider({
      entityID,
      signingCert: certs.map((k) => keys[k].cert),
      wantAuthnRequestsSigned: config.wantSignedRequests,
      nameIDFormat: ['urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'],
      singleSignOnService: [
        { Binding: NS.binding.redirect, Location: `${base}/sso` },
        { Binding: NS.binding.post, Location: `${base}/sso` },
      ],
      singleLogoutService: [{ Binding: NS.binding.redirect, Location: `${base}/slo` }],
    }).getMetadata();

  // The IdP as it signs now, and the SP as the IdP sees it (samlify decides what to sign from
  // the SP metadata's WantAssertionsSigned and its own wantMessageSigned).
  function entities(spEntityId) {
    const spXml = sps.get(spEntityId);
    if (!spXml) throw new Error(`unknown SP ${spEntityId}`);
    const idp = samlify.IdentityProvider({
      metadata: metadata([config.signWith]),
      privateKey: keys[config.signWith].privateKey,
      requestSignatureAlgorithm: config.sha1
        ? samlify.Constants.algorithms.signature.RSA_SHA1
        : samlify.Constants.algorithms.signature.RSA_SHA256,
      isAssertionEncrypted: Boolean(config.encrypt),
      dataEncryptionAlgorithm: config.encrypt?.data ?? samlify.Constants.algorithms.encryption.data.AES_256,
      keyEncryptionAlgorithm: config.encrypt?.key ?? samlify.Constants.algorithms.encryption.key.RSA_OAEP_MGF1P,
    });
    const asSeen = spXml.replace(/WantAssertionsSigned="(true|false)"/, `WantAssertionsSigned="${config.signAssertion}"`);
    const sp = samlify.ServiceProvider({ metadata: asSeen, wantMessageSigned: config.signResponse });
    return { idp, sp };
  }

  async function respond(spEntityId, requestId, user) {
    const { idp, sp } = entities(spEntityId);
    const now = new Date();
    const iso = (d) => d.toISOString();
    const later = new Date(now.getTime() + 5 * 60_000);
    const acs = sp.entityMeta.getAssertionConsumerService('post');
    const values = {
      ID: `_${crypto.randomUUID()}`,
      AssertionID: `_${crypto.randomUUID()}`,
      Destination: acs,
      Audience: spEntityId,
      SubjectRecipient: acs,
      Issuer: entityID,
      IssueInstant: iso(now),
      StatusCode: 'urn:oasis:names:tc:SAML:2.0:status:Success',
      ConditionsNotBefore: iso(now),
      ConditionsNotOnOrAfter: iso(later),
      SubjectConfirmationDataNotOnOrAfter: iso(later),
      NameIDFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      NameID: user.nameId,
      InResponseTo: requestId ?? null,
      ...config.tags,
    };
    const replace = (template) => {
      const context = template
        .replace('{AuthnStatement}', authnStatement(values.IssueInstant, `_s${crypto.randomUUID()}`))
        .replace('{AttributeStatement}', attributeStatement(user.attributes));
      return { id: values.ID, context: SamlLib.replaceTagsByValue(context, values) };
    };
    const { context } = await idp.createLoginResponse(sp, { extract: { request: { id: requestId } } }, 'post', user, {
      customTagReplacement: replace,
    });
    return { acs, SAMLResponse: context };
  }

  const autoPost = ({ acs, SAMLResponse }, relayState) =>
    '<!doctype html><html><body onload="document.forms[0].submit()">' +
    `<form method="post" action="${escapeXml(acs)}">` +
    `<input type="hidden" name="SAMLResponse" value="${escapeXml(SAMLResponse)}">` +
    (relayState ? `<input type="hidden" name="RelayState" value="${escapeXml(relayState)}">` : '') +
    '<noscript><button type="submit">Continue</button></noscript></form></body></html>';

  // The SP is recognised by the Issuer of its (deflated) AuthnRequest, then samlify parses and
  // verifies the request for real.
  async function parseRequest(url) {
    const query = Object.fromEntries(url.searchParams);
    const xml = zlib.inflateRawSync(Buffer.from(query.SAMLRequest, 'base64')).toString('utf8');
    const issuer = /<(?:\w+:)?Issuer[^>]*>([^<]+)</.exec(xml)?.[1];
    const { idp, sp } = entities(issuer);
    const raw = url.search.slice(1).split('&');
    const octetString = ['SAMLRequest', 'RelayState', 'SigAlg']
      .map((k) => raw.find((p) => p.startsWith(`${k}=`)))
      .filter(Boolean)
      .join('&');
    const parsed = await idp.parseLoginRequest(sp, 'redirect', { query, octetString });
    requests.push({ issuer, xml, signed: Boolean(query.Signature), id: parsed.extract.request.id });
    return { issuer, id: parsed.extract.request.id, relayState: query.RelayState };
  }

  const send = (res, status, body, type = 'text/html; charset=utf-8') => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  };
  const body = (req) =>
    new Promise((resolve) => {
      let data = '';
      req.on('data', (c) => { data += c; });
      req.on('end', () => resolve(data));
    });

  server.on('request', async (req, res) => {
    const url = new URL(req.url, base);
    try {
      if (req.method === 'GET' && url.pathname === '/metadata') {
        return send(res, 200, metadata(config.publish), 'application/samlmetadata+xml');
      }
      if (req.method === 'POST' && url.pathname === '/control') {
        const change = JSON.parse(await body(req));
        if (change.sp) {
          const id = /entityID="([^"]+)"/.exec(change.sp)[1];
          sps.set(id, change.sp);
        }
        for (const k of Object.keys(config)) if (k in change) config[k] = change[k];
        return send(res, 200, JSON.stringify({ entityID, metadata: `${base}/metadata` }), 'application/json');
      }
      if (req.method === 'GET' && url.pathname === '/requests') {
        return send(res, 200, JSON.stringify(requests), 'application/json');
      }
      if (req.method === 'GET' && url.pathname === '/sso') {
        const request = await parseRequest(url);
        if (config.user) {
          return send(res, 200, autoPost(await respond(request.issuer, request.id, config.user), request.relayState));
        }
        // No session at the IdP: a login form that carries the request along.
        return send(res, 200, '<!doctype html><html><body><form method="post" action="/login">' +
          `<input type="hidden" name="request" value="${escapeXml(url.search)}">` +
          '<label>Email <input name="email" autocomplete="username"></label>' +
          '<button type="submit">Sign in</button></form></body></html>');
      }
      if (req.method === 'POST' && url.pathname === '/login') {
        const form = new URLSearchParams(await body(req));
        const original = new URL(`/sso${form.get('request')}`, base);
        const request = await parseRequest(original);
        const user = { nameId: form.get('email'), attributes: { email: form.get('email') } };
        return send(res, 200, autoPost(await respond(request.issuer, request.id, user), request.relayState));
      }
      if (req.method === 'GET' && url.pathname === '/idp-initiated') {
        const user = config.user ?? { nameId: url.searchParams.get('email'), attributes: {} };
        return send(res, 200, autoPost(await respond(url.searchParams.get('sp'), null, user), url.searchParams.get('relay')));
      }
      return send(res, 404, 'not found');
    } catch (error) {
      return send(res, 400, `saml-idp: ${error?.message ?? error}`, 'text/plain');
    }
  });

  return {
    base,
    entityID,
    metadataUrl: `${base}/metadata`,
    metadata,
    control: (change) => {
      if (change.sp) sps.set(/entityID="([^"]+)"/.exec(change.sp)[1], change.sp);
      for (const k of Object.keys(config)) if (k in change) config[k] = change[k];
    },
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

// Standalone: one IdP until stdin closes (the Rust test keeps the pipe open while it runs).
if (import.meta.url === `file://${process.argv[1]}`) {
  const idp = await startSamlIdp({ name: process.env.IDP_NAME ?? 'idp' });
  process.stdout.write(`ready ${new URL(idp.base).port}\n`);
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
