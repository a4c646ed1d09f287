// The admin console: who is signed in (/api/v1/me), the organization switcher, the sections
// and a hash router (#/orgs/acme/connections/…) that renders each page from the admin API.

import { createApi, orgPath } from '/assets/console-api.js';
import { appsPage } from '/assets/console-apps.js';
import { apiKeysPage, domainsPage, membersPage, overviewPage, setupLinksPage } from '/assets/console-org.js';
import { scimPage } from '/assets/console-scim.js';
import { auditPage, brandingPage, organizationsPage } from '/assets/console-settings.js';
import { alertBox, h, mount } from '/assets/console-ui.js';
import { connectionPage, connectionsPage, newConnectionPage } from '/assets/console-wizard.js';

const api = createApi();
const main = document.getElementById('main');
let me = null;
let orgs = [];
const orgCache = new Map();

/** The organization's sections: [path, label, page]. */
const ORG_SECTIONS = [
  ['', 'Overview', overviewPage],
  ['/domains', 'Domains', domainsPage],
  ['/connections', 'Connections', connectionsPage],
  ['/scim', 'SCIM provisioning', scimPage],
  ['/members', 'Members', membersPage],
  ['/apps', 'Apps', appsPage],
  ['/api-keys', 'API keys', apiKeysPage],
  ['/setup-links', 'Setup links', setupLinksPage],
  ['/branding', 'Branding', brandingPage],
  ['/audit', 'Audit log', auditPage],
];

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path] = raw.split('?');
  return path.split('/').filter(Boolean).map(decodeURIComponent);
}

async function loadOrgs() {
  orgs = me.instance_admin ? await api.all('/organizations') : me.organizations;
}

async function organization(slug) {
  if (!orgCache.has(slug)) orgCache.set(slug, await api.get(orgPath(slug)));
  return orgCache.get(slug);
}

function orgContext(org) {
  const href = (path) => `#/orgs/${encodeURIComponent(org.slug)}${path}`;
  return {
    api,
    me,
    org,
    href,
    go: (path) => { location.hash = href(path); },
    crumbs: [[org.name, href('')]],
    refreshOrgs: loadOrgs,
  };
}

function renderSidebar(org, current) {
  const nav = document.getElementById('sidebar');
  const link = (href, label, active) => h('li', {}, h('a', { href, aria: active ? { current: 'page' } : undefined }, label));
  const sections = [];
  if (org) {
    sections.push(h('h2', {}, org.name), h('ul', {}, ORG_SECTIONS.map(([path, label]) =>
      link(`#/orgs/${encodeURIComponent(org.slug)}${path}`, label, current === path))));
  }
  if (me.instance_admin || orgs.length > 1) {
    sections.push(h('h2', {}, 'Instance'), h('ul', {},
      link('#/orgs', 'Organizations', current === 'orgs'),
      me.instance_admin ? link('#/audit', 'Audit log', current === 'audit') : null));
  }
  mount(nav, sections);
}

function renderTopbar(org) {
  const switcher = document.getElementById('org-switcher');
  if (orgs.length) {
    const select = h('select', { id: 'org-select', aria: { label: 'Organization' } },
      org ? null : h('option', { value: '' }, 'Choose an organization…'),
      orgs.map((o) => h('option', { value: o.slug, selected: o.slug === org?.slug }, o.name)));
    select.addEventListener('change', () => { if (select.value) location.hash = `#/orgs/${encodeURIComponent(select.value)}`; });
    mount(switcher, select);
  } else {
    mount(switcher);
  }
  const who = me.user?.name ?? me.user?.email ?? 'Administrator';
  mount(document.getElementById('user-menu'),
    h('span', { class: 'muted small' }, who, me.instance_admin ? ' · instance admin' : ''),
    h('a', { class: 'btn btn-ghost btn-sm', href: '/account' }, 'Account'),
    h('a', { class: 'btn btn-secondary btn-sm', href: '/oauth2/end_session' }, 'Sign out'));
}

async function route() {
  const parts = parseHash();
  try {
    if (parts[0] === 'orgs' && parts[1]) {
      const org = await organization(parts[1]);
      const ctx = orgContext(org);
      const rest = parts.slice(2);
      renderTopbar(org);
      if (rest[0] === 'connections' && rest[1] === 'new') {
        renderSidebar(org, '/connections');
        return await newConnectionPage(ctx, main);
      }
      if (rest[0] === 'connections' && rest[1]) {
        renderSidebar(org, '/connections');
        return await connectionPage(ctx, main, rest[1]);
      }
      const path = rest.length ? `/${rest[0]}` : '';
      const section = ORG_SECTIONS.find(([p]) => p === path) ?? ORG_SECTIONS[0];
      renderSidebar(org, section[0]);
      return await section[2](ctx, main);
    }
    renderTopbar(null);
    if (parts[0] === 'audit' && me.instance_admin) {
      renderSidebar(null, 'audit');
      return await auditPage({ api, me, crumbs: [] }, main);
    }
    if (parts[0] !== 'orgs' && !me.instance_admin && orgs.length === 1) {
      location.replace(`#/orgs/${encodeURIComponent(orgs[0].slug)}`);
      return undefined;
    }
    renderSidebar(null, 'orgs');
    return await organizationsPage({ api, me, refreshOrgs: loadOrgs }, main);
  } catch (error) {
    mount(main, alertBox(error));
    return undefined;
  }
}

async function render() {
  await route();
  document.title = `${main.querySelector('h1')?.textContent ?? 'Admin console'} · Tessera`;
  if (!main.contains(document.activeElement)) main.focus({ preventScroll: false });
}

let latest = 0;
let rendering = Promise.resolve();

/** Renders the page the address names: one page at a time, and only the newest, so a slow page
 * (an overview waiting on several requests) cannot finish after, and replace, the page the admin
 * moved on to. */
function navigate() {
  const ticket = ++latest;
  rendering = rendering.then(() => (ticket === latest ? render() : undefined));
  return rendering;
}

async function start() {
  try {
    me = await api.get('/me');
    await loadOrgs();
  } catch (error) {
    mount(main, alertBox(error));
    return;
  }
  window.addEventListener('hashchange', navigate);
  await navigate();
}

start();
