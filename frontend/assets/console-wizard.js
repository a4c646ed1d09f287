// The connection wizard: choose the IdP, register Tessera there (values to copy, written
// instructions), connect it (inline errors per field), run a test sign-in in a new tab, map
// groups to roles with a live preview, activate. It runs in the console and behind a setup
// link alike: `ctx` carries the API client, the organization and how to link within the page.
//
// Protocols plug in through PROTOCOLS: each knows how to ask for the IdP's details, what to
// copy into it, and how to keep an existing connection up to date (OIDC: the client secret;
// SAML: the metadata).

import { orgPath } from '/assets/console-api.js';
import { IDPS, idpById, idpOfConnection } from '/assets/console-idps.js';
import { rulesStep } from '/assets/console-rules.js';
import { activateStep, testStep } from '/assets/console-test.js';
import {
  alertBox, badge, card, confirmDialog, copyField, emptyState, field, formatDate, h, mount,
  onSubmit, pageHeader, table, toast,
} from '/assets/console-ui.js';

/** The wizard's steps, in order; the first three come before the connection exists. */
const STEPS = [
  ['idp', 'Choose your IdP'],
  ['register', 'Register Tessera'],
  ['connect', 'Connect'],
  ['test', 'Test sign-in'],
  ['roles', 'Roles'],
  ['activate', 'Activate'],
];

/** How each protocol asks for the IdP's details and builds the create request. */
export const PROTOCOLS = {
  oidc: {
    label: 'OpenID Connect',
    /** Tessera's values to copy into the IdP. */
    copyFields: (idp, endpoints) => [
      copyField(idp.redirectLabel, endpoints.redirect_uri, {
        hint: 'Paste it exactly; the IdP sends people back here after they sign in.',
      }),
    ],
    /** The form's fields for a new connection. */
    fields: (idp, org) => [
      field({ label: 'Connection name', name: 'name', value: `${org.name} ${idp.short}`, hint: 'For you; people never see it.' }),
      field({ label: idp.issuerLabel, name: 'issuer', value: idp.issuerDefault ?? '', placeholder: idp.issuerPlaceholder, hint: idp.issuerHint, required: true }),
      idp.preset === 'entra'
        ? field({ label: 'Directory (tenant) ID', name: 'tenant_id', hint: 'Only with the multi-tenant issuers (…/organizations/v2.0 or …/common/v2.0).' })
        : null,
      field({ label: idp.clientIdLabel, name: 'client_id', required: true, autocomplete: 'off' }),
      field({ label: idp.secretLabel, name: 'client_secret', type: 'password', required: true, autocomplete: 'new-password', hint: 'Stored encrypted; never shown again.' }),
    ],
    body: (idp, id, v) => ({
      kind: 'oidc', id, name: v.name, issuer: v.issuer, client_id: v.client_id, client_secret: v.client_secret,
      ...(idp.preset ? { preset: idp.preset } : {}),
      ...(v.tenant_id ? { tenant_id: v.tenant_id } : {}),
    }),
    connectText: 'Tessera checks the IdP right away: it fetches its discovery document and signing keys, so a typo shows up here, not at someone’s first sign-in.',
    /** What the connection page shows about an existing connection. */
    facts: (c) => [['Issuer', c.issuer], ['Client ID', c.client_id], ['Scopes', (c.scopes ?? []).join(' ')], ['Tenant', c.tenant_id]],
    maintenance: secretRotation,
  },
  saml: {
    label: 'SAML 2.0',
    copyFields: (idp, endpoints) => [
      copyField(idp.entityLabel, endpoints.sp_entity_id, {
        hint: 'Tessera’s name for this connection: the audience of every assertion.',
      }),
      copyField(idp.acsLabel, endpoints.acs_url, {
        hint: 'The IdP posts signed assertions here (HTTP-POST binding).',
      }),
    ],
    fields: (idp, org) => [
      field({ label: 'Connection name', name: 'name', value: `${org.name} ${idp.short}`, hint: 'For you; people never see it.' }),
      idp.metadataAsXml
        ? null
        : field({ label: 'IdP metadata URL', name: 'metadata_url', placeholder: 'https://…/metadata', hint: idp.metadataHint }),
      field({
        label: idp.metadataAsXml ? 'IdP metadata (XML)' : 'Or the metadata XML',
        name: 'metadata_xml', type: 'textarea', rows: 5, placeholder: '<md:EntityDescriptor …>',
        hint: idp.metadataAsXml ? idp.metadataHint : 'Only if the IdP has no metadata URL.',
        required: Boolean(idp.metadataAsXml),
      }),
    ],
    body: (idp, id, v) => ({
      kind: 'saml', id, name: v.name,
      ...(idp.preset ? { preset: idp.preset } : {}),
      ...(v.metadata_url ? { metadata_url: v.metadata_url } : {}),
      ...(v.metadata_xml ? { metadata_xml: v.metadata_xml } : {}),
    }),
    connectText: 'Tessera reads the IdP’s metadata right away (its entity ID, sign-in URL and signing certificates), so a wrong file or URL shows up here.',
    facts: (c) => [
      ['IdP entity ID', c.saml?.idp_entity_id],
      ['IdP sign-in URL', c.saml?.sso_url],
      ['Metadata URL', c.saml?.metadata_url],
      ...(c.saml?.certificates ?? []).map((cert, i) => [`Signing certificate ${i + 1}`, `${cert.sha256.slice(0, 23)}… until ${formatDate(cert.not_after)}`]),
      ['SP entity ID', c.sp_entity_id],
      ['ACS URL', c.acs_url],
    ],
    maintenance: metadataUpkeep,
  },
};

/** OIDC upkeep: replace the client secret after rotating it at the IdP. */
function secretRotation({ ctx, idp, base }) {
  const secret = h('form', { class: 'form inline', novalidate: true },
    field({ label: `New ${idp.secretLabel.toLowerCase()}`, name: 'client_secret', type: 'password', autocomplete: 'new-password' }),
    h('button', { type: 'submit', class: 'btn btn-secondary' }, 'Replace secret'));
  onSubmit(secret, async (v) => {
    await ctx.api.patch(base, { client_secret: v.client_secret });
    toast('Client secret replaced');
    secret.reset();
  });
  return [h('h3', {}, 'Rotate the client secret'),
    h('p', { class: 'muted small' }, 'After creating a new secret at the IdP, paste it here; the old one stops being used at once.'),
    secret];
}

/** SAML upkeep: warnings, Tessera's SP metadata, and refreshing or replacing the IdP's. */
function metadataUpkeep({ ctx, connection, base, reload }) {
  const warnings = (connection.warnings ?? []).map((w) => h('p', { class: 'alert alert-warning', role: 'status' }, h('code', {}, w.code), ' ', w.message));
  const refresh = connection.saml?.metadata_url
    ? h('button', { type: 'button', class: 'btn btn-secondary', id: 'refresh-metadata' }, 'Refresh the metadata now')
    : null;
  refresh?.addEventListener('click', async () => {
    try {
      await ctx.api.post(`${base}/refresh-metadata`);
      toast('Metadata refreshed');
      reload();
    } catch (error) {
      refresh.after(alertBox(error));
    }
  });
  const replace = h('form', { class: 'form', novalidate: true },
    field({ label: 'New IdP metadata URL', name: 'metadata_url', placeholder: 'https://…/metadata' }),
    field({ label: 'Or new metadata XML', name: 'metadata_xml', type: 'textarea', rows: 3 }),
    h('button', { type: 'submit', class: 'btn btn-secondary' }, 'Replace the metadata'));
  onSubmit(replace, async (v) => {
    await ctx.api.patch(base, {
      ...(v.metadata_url ? { metadata_url: v.metadata_url } : {}),
      ...(v.metadata_xml ? { metadata_xml: v.metadata_xml } : {}),
    });
    toast('Metadata replaced');
    reload();
  });
  return [...warnings,
    h('h3', {}, 'Tessera’s SP metadata'),
    h('p', { class: 'muted small' }, 'Some IdPs import it instead of the two values; it also carries the encryption certificate for encrypted assertions.'),
    h('p', {}, h('a', { class: 'btn btn-secondary', href: connection.sp_metadata_url, download: `tessera-sp-${connection.id}.xml` }, 'Download the SP metadata')),
    h('h3', {}, 'The IdP’s metadata'),
    h('p', { class: 'muted small' }, connection.saml?.metadata_url
      ? `Refetched every ${connection.saml.metadata_refresh_hours} hours, so a certificate the IdP adds is picked up on its own.`
      : 'Pasted by hand: paste the new metadata when the IdP changes its certificate.'),
    refresh,
    replace];
}

/** Query parameters of the current hash route. */
export function routeQuery() {
  const hash = location.hash;
  const at = hash.indexOf('?');
  return new URLSearchParams(at >= 0 ? hash.slice(at + 1) : '');
}

function stepper(current, reachable, hrefOf) {
  const currentIndex = STEPS.findIndex(([id]) => id === current);
  return h('nav', { aria: { label: 'Set-up steps' } }, h('ol', { class: 'stepper' }, STEPS.map(([id, label], i) => {
    const done = i < currentIndex && reachable.has(id);
    const content = [h('span', { class: 'num', aria: { hidden: 'true' } }, done ? '✓' : String(i + 1)), h('span', {}, label),
      done ? h('span', { class: 'sr-only' }, ' (done)') : null];
    const attrs = { class: done ? 'done' : '', aria: id === current ? { current: 'step' } : undefined };
    return h('li', {}, reachable.has(id) && id !== current
      ? h('a', { href: hrefOf(id), ...attrs }, content)
      : h('span', { ...attrs, class: `step ${attrs.class}` }, content));
  })));
}

function frame(ctx, { title, crumb, current, reachable, hrefOf, panel }) {
  return [
    pageHeader(title, { crumbs: [['Connections', ctx.href('/connections')], [crumb]] }),
    h('div', { class: 'wizard' }, stepper(current, reachable, hrefOf), panel),
  ];
}

function stepCard(title, intro, ...body) {
  return h('section', { class: 'card stack', aria: { labelledby: 'step-title' } },
    h('h2', { id: 'step-title', tabindex: '-1' }, title), intro ? h('p', { class: 'muted' }, intro) : null, ...body);
}

/** The organization's connections. */
export async function connectionsPage(ctx, main) {
  const connections = await ctx.api.all(orgPath(ctx.org.slug, '/connections'));
  const add = h('a', { class: 'btn btn-primary', href: ctx.href('/connections/new') }, 'Add connection');
  const statusBadge = (c) => badge(c.status === 'active' ? 'Active' : c.status === 'draft' ? 'Draft' : 'Disabled',
    c.status === 'active' ? 'success' : c.status === 'draft' ? 'warning' : 'neutral');
  const list = table([
    ['Connection', (c) => h('a', { href: ctx.href(`/connections/${c.id}`) }, c.name)],
    ['Identity provider', (c) => `${idpOfConnection(c).name} · ${PROTOCOLS[c.kind]?.label ?? c.kind}`],
    ['Status', statusBadge],
    ['Created', (c) => formatDate(c.created_at)],
    ['', (c) => h('a', { class: 'btn btn-secondary btn-sm', href: ctx.href(`/connections/${c.id}?step=${c.status === 'draft' ? 'test' : 'activate'}`) },
      c.status === 'draft' ? 'Continue set-up' : 'Manage'), { actions: true }],
  ], connections, {
    caption: 'Connections',
    empty: emptyState('No connection yet', 'Connect your identity provider so your people sign in with their work accounts.', add.cloneNode(true)),
  });
  mount(main,
    pageHeader('Single sign-on connections', {
      subtitle: 'Your people sign in through these identity providers. Emails at your verified domains go to the active connection.',
      crumbs: ctx.crumbs ?? [],
      actions: [add],
    }),
    card('Connections', list, { flush: true }));
}

/** The wizard before the connection exists: `?idp=…&id=…&step=…`. */
export async function newConnectionPage(ctx, main) {
  const query = routeQuery();
  const step = query.get('step') ?? 'idp';
  const idp = query.get('idp') ? idpById(query.get('idp')) : null;
  const id = query.get('id');
  const hrefOf = (s) => ctx.href(`/connections/new?${new URLSearchParams({ ...(idp ? { idp: idp.id } : {}), ...(id ? { id } : {}), step: s })}`);
  const reachable = new Set(['idp', ...(idp && id ? ['register', 'connect'] : [])]);
  const current = reachable.has(step) ? step : 'idp';
  let panel;
  if (current === 'idp') {
    panel = chooseIdp(ctx, idp);
  } else {
    const endpoints = await ctx.api.get(orgPath(ctx.org.slug, `/connection-endpoints?kind=${idp.protocol}&id=${encodeURIComponent(id)}`));
    panel = current === 'register' ? registerStep(idp, endpoints, hrefOf('connect')) : connectStep(ctx, idp, id);
  }
  mount(main, ...frame(ctx, { title: 'Add a connection', crumb: 'New', current, reachable, hrefOf, panel }));
  main.querySelector('#step-title')?.focus();
}

function chooseIdp(ctx, selected) {
  const options = IDPS.filter((idp) => PROTOCOLS[idp.protocol]).map((idp) => h('label', { class: 'idp-option' },
    h('input', { type: 'radio', name: 'idp', value: idp.id, checked: idp.id === selected?.id, required: true }),
    h('span', { class: 'idp-card' },
      h('span', { class: 'idp-logo', style: `background:${idp.color}`, aria: { hidden: 'true' } }, idp.letter),
      h('span', { class: 'idp-name' }, idp.name),
      h('span', { class: 'muted small' }, idp.summary),
      h('span', { class: 'idp-protocol' }, PROTOCOLS[idp.protocol].label))));
  const form = h('form', { class: 'form', novalidate: true },
    h('fieldset', {}, h('legend', { class: 'sr-only' }, 'Identity provider'), h('div', { class: 'idp-grid', role: 'radiogroup' }, options)),
    h('p', { class: 'field-error', id: 'idp-error', hidden: true }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Continue')));
  onSubmit(form, async (v) => {
    if (!v.idp) {
      const error = form.querySelector('#idp-error');
      error.textContent = 'Choose the identity provider your people sign in with.';
      error.hidden = false;
      form.querySelector('input[name="idp"]').focus();
      return;
    }
    const idp = idpById(v.idp);
    const endpoints = await ctx.api.get(orgPath(ctx.org.slug, `/connection-endpoints?kind=${idp.protocol}`));
    ctx.go(`/connections/new?${new URLSearchParams({ idp: idp.id, id: endpoints.id, step: 'register' })}`);
  });
  return stepCard('Which identity provider do your people use?', 'Pick the one that holds your employees’ accounts. You can add more connections later.', form);
}

function registerStep(idp, endpoints, nextHref) {
  return stepCard(`Register Tessera in ${idp.console}`,
    `Create an application for Tessera in ${idp.name} with these values, then come back with the details it gives you.`,
    h('div', { class: 'stack' }, PROTOCOLS[idp.protocol].copyFields(idp, endpoints)),
    h('h3', {}, `In ${idp.console}`),
    h('ol', { class: 'instructions' }, idp.register.map((text) => h('li', {}, text))),
    idp.groupsNote ? h('p', { class: 'alert alert-info' }, idp.groupsNote) : null,
    h('div', { class: 'actions' }, h('a', { class: 'btn btn-primary', href: nextHref }, 'I registered it — continue')));
}

function connectStep(ctx, idp, id) {
  const protocol = PROTOCOLS[idp.protocol];
  const form = h('form', { class: 'form', novalidate: true }, protocol.fields(idp, ctx.org),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Connect and check')));
  onSubmit(form, async (v) => {
    const created = await ctx.api.post(orgPath(ctx.org.slug, '/connections'), protocol.body(idp, id, v));
    toast(`${created.name} is connected as a draft`);
    ctx.go(`/connections/${created.id}?step=test`);
  });
  return stepCard(`Connect ${idp.name}`, protocol.connectText, form);
}

/** The wizard for an existing connection: `/connections/{id}?step=…`. */
export async function connectionPage(ctx, main, id) {
  const base = orgPath(ctx.org.slug, `/connections/${encodeURIComponent(id)}`);
  const connection = await ctx.api.get(base);
  const idp = idpOfConnection(connection);
  const query = routeQuery();
  const current = query.get('step') && query.get('step') !== 'idp' ? query.get('step') : 'connect';
  const hrefOf = (s) => ctx.href(`/connections/${connection.id}?step=${s}`);
  const reachable = new Set(['register', 'connect', 'test', 'roles', 'activate']);
  const state = { ctx, connection, idp, base, hrefOf, reload: () => connectionPage(ctx, main, id) };
  const steps = {
    register: () => registerStep(idp, connection, hrefOf('connect')),
    connect: () => connectionSummary(state),
    test: () => testStep(state),
    roles: () => rulesStep(state),
    activate: () => activateStep(state),
  };
  const panel = await (steps[current] ?? steps.connect)();
  mount(main, ...frame(ctx, { title: connection.name, crumb: connection.name, current, reachable, hrefOf, panel }));
  main.querySelector('#step-title')?.focus();
}

function connectionSummary(state) {
  const { ctx, connection, idp, base, hrefOf } = state;
  const protocol = PROTOCOLS[connection.kind];
  const facts = protocol?.facts(connection) ?? [];
  const status = badge(connection.status, connection.status === 'active' ? 'success' : 'warning');
  const remove = h('button', { type: 'button', class: 'btn btn-danger' }, 'Delete connection');
  remove.addEventListener('click', async () => {
    const sure = await confirmDialog('Delete this connection?',
      `${connection.name} stops working at once and the accounts linked through it lose that link.`, { confirm: 'Delete', danger: true });
    if (!sure) return;
    try {
      await ctx.api.del(base);
      toast('Connection deleted');
      ctx.go('/connections');
    } catch (error) {
      remove.after(alertBox(error));
    }
  });
  return stepCard(`${idp.name} is connected`, null,
    h('dl', { class: 'kv' }, h('dt', {}, 'Status'), h('dd', {}, status),
      facts.filter(([, v]) => v).flatMap(([k, v]) => [h('dt', {}, k), h('dd', { class: 'mono' }, v)])),
    protocol?.maintenance(state) ?? null,
    h('div', { class: 'spread' }, h('a', { class: 'btn btn-primary', href: hrefOf('test') }, 'Continue to the test sign-in'), remove));
}
