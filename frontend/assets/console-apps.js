// Apps (OIDC clients) of an organization: register one, see its secret once, copy a
// configuration snippet, rotate the secret, delete it.

import {
  badge, card, codeBlock, confirmDialog, emptyState, field, formatDate, h, mount, onSubmit,
  pageHeader, table, toast,
} from '/assets/console-ui.js';
import { secretOnce } from '/assets/console-org.js';

const GRANTS = [
  ['authorization_code', 'Sign-in (authorization code with PKCE)', true],
  ['refresh_token', 'Refresh tokens', true],
  ['client_credentials', 'Service-to-service (client credentials)', false],
  ['urn:ietf:params:oauth:grant-type:device_code', 'Devices and CLIs (device code)', false],
];

let issuerCache = null;
/** Tessera's issuer, as its discovery document says. */
async function issuer() {
  if (!issuerCache) {
    const response = await fetch('/.well-known/openid-configuration');
    issuerCache = (await response.json()).issuer;
  }
  return issuerCache;
}

/** What an app's developers paste: environment settings and an openid-client example. */
export function configSnippet(iss, app, secret, org) {
  const redirect = app.redirect_uris[0] ?? 'https://app.example.com/callback';
  const env = [
    `OIDC_ISSUER=${iss}`,
    `OIDC_CLIENT_ID=${app.client_id}`,
    app.type === 'confidential' ? `OIDC_CLIENT_SECRET=${secret ?? '<the secret shown once at registration>'}` : null,
    `OIDC_REDIRECT_URI=${redirect}`,
    'OIDC_SCOPES="openid email profile"',
  ].filter(Boolean).join('\n');
  const node = `import * as client from 'openid-client';

const config = await client.discovery(
  new URL(process.env.OIDC_ISSUER),
  process.env.OIDC_CLIENT_ID,
  ${app.type === 'confidential' ? 'process.env.OIDC_CLIENT_SECRET' : 'undefined'},
);
// Send the user to sign in (keep verifier, state and nonce in the session):
const verifier = client.randomPKCECodeVerifier();
const url = client.buildAuthorizationUrl(config, {
  redirect_uri: process.env.OIDC_REDIRECT_URI,
  scope: process.env.OIDC_SCOPES,
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state: client.randomState(),
  nonce: client.randomNonce(),${org ? `\n  organization: '${org}', // skip the email step: sign in through ${org}'s IdP` : ''}
});
// On the callback, exchange the code; tokens carry org_id and roles:
// const tokens = await client.authorizationCodeGrant(config, currentUrl, { pkceCodeVerifier: verifier, expectedState, expectedNonce });`;
  return h('div', { class: 'stack' },
    h('h3', {}, 'Environment'), codeBlock(env, 'Copy settings'),
    h('h3', {}, 'Node.js (openid-client)'), codeBlock(node, 'Copy code'),
    h('p', { class: 'small muted' }, 'Any certified OpenID Connect library works the same way: point it at the issuer; it reads the rest from ',
      h('code', {}, '/.well-known/openid-configuration'), '.'));
}

function lines(text) {
  return text.split(/\s*\n\s*/).map((l) => l.trim()).filter(Boolean);
}

/** The organization's apps. */
export async function appsPage(ctx, main) {
  const api = ctx.api.in(ctx.org.slug);
  const [all, iss] = await Promise.all([api.all('/clients'), issuer()]);
  const apps = all.filter((a) => a.organization_id === ctx.org.id);
  const created = h('div', { id: 'created-app', class: 'stack' });
  const form = h('form', { class: 'form', novalidate: true, id: 'register-app' },
    h('div', { class: 'grid-2' },
      field({ label: 'Name', name: 'name', placeholder: 'Acme dashboard', hint: 'Shown to people on consent and sign-out pages.' }),
      field({ label: 'Type', name: 'type', value: 'confidential', options: [
        ['confidential', 'Server-side web app (has a secret)'],
        ['public', 'Browser or native app (no secret, PKCE)']] })),
    field({ label: 'Redirect URIs', name: 'redirect_uris', type: 'textarea', rows: 2, placeholder: 'https://app.acme.com/callback',
      hint: 'One per line: exact https URLs, http://127.0.0.1 for native apps, or a private-use scheme.' }),
    h('fieldset', { dataset: { field: 'grant_types' } }, h('legend', {}, 'Grants'),
      h('div', { class: 'stack', style: 'gap:0.4rem' }, GRANTS.map(([value, label, on]) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: `grant:${value}`, checked: on }), h('span', {}, label))))),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Register app')));
  onSubmit(form, async (v) => {
    const grants = GRANTS.map(([value]) => value).filter((g) => v[`grant:${g}`]);
    const app = await api.post('/clients', {
      name: v.name, type: v.type, redirect_uris: lines(v.redirect_uris), grant_types: grants, organization: ctx.org.slug,
    });
    await appsPage(ctx, main);
    const box = main.querySelector('#created-app');
    mount(box, app.client_secret
      ? secretOnce(`${app.name} is registered`, 'Client secret', app.client_secret, h('p', {}, 'Client ID: ', h('code', {}, app.client_id)))
      : h('p', { class: 'alert alert-success', role: 'status', tabindex: '-1' }, `${app.name} is registered. Client ID: `, h('code', {}, app.client_id)),
    card('Configuration', configSnippet(iss, app, app.client_secret, ctx.org.slug)));
    box.firstChild.focus();
  });
  const detail = h('div', { id: 'app-detail' });
  const show = (app) => {
    const rotate = app.type === 'confidential' ? h('button', {
      type: 'button', class: 'btn btn-secondary',
      onclick: async () => {
        if (!(await confirmDialog('Rotate the secret?', `${app.name}'s current secret stops working at once.`, { confirm: 'Rotate', danger: true }))) return;
        const rotated = await api.post(`/clients/${app.client_id}/secret`);
        mount(detail, secretOnce('New secret', 'Client secret', rotated.client_secret), card(app.name, configSnippet(iss, app, rotated.client_secret, ctx.org.slug)));
      },
    }, 'Rotate secret') : null;
    const remove = h('button', {
      type: 'button', class: 'btn btn-danger',
      onclick: async () => {
        if (!(await confirmDialog(`Delete ${app.name}?`, 'Its tokens stop working and its refresh tokens are deleted.', { confirm: 'Delete', danger: true }))) return;
        await api.del(`/clients/${app.client_id}`);
        toast('App deleted');
        await appsPage(ctx, main);
      },
    }, 'Delete');
    mount(detail, card(app.name, h('div', { class: 'stack' },
      h('dl', { class: 'kv' }, h('dt', {}, 'Client ID'), h('dd', { class: 'mono' }, app.client_id),
        h('dt', {}, 'Redirect URIs'), h('dd', {}, app.redirect_uris.map((u) => h('div', { class: 'mono' }, u))),
        h('dt', {}, 'Grants'), h('dd', {}, app.grant_types.map((g) => h('span', { class: 'tag' }, g)))),
      configSnippet(iss, app, null, ctx.org.slug)), { actions: [rotate, remove].filter(Boolean) }));
    detail.querySelector('h2')?.setAttribute('tabindex', '-1');
    detail.querySelector('h2')?.focus();
  };
  const list = table([
    ['App', (a) => h('button', { type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => show(a) }, a.name)],
    ['Type', (a) => badge(a.type === 'confidential' ? 'Server-side' : 'Public', 'info')],
    ['Client ID', (a) => h('code', {}, a.client_id)],
    ['Registered', (a) => formatDate(a.created_at)],
  ], apps, { caption: 'Apps', empty: emptyState('No app yet', `Register the apps your people sign in to. Apps registered here accept only ${ctx.org.name}'s people.`) });
  mount(main,
    pageHeader('Apps', { subtitle: `Apps that get tokens from Tessera, restricted to ${ctx.org.name}. Tokens carry org_id and the roles your rules give.`, crumbs: ctx.crumbs ?? [] }),
    h('div', { class: 'stack' }, created, card('Register an app', form), card('Apps', list, { flush: true }), detail));
}
