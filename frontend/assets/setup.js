// The SSO set-up behind a setup link: the person holding it verifies the organization's domains,
// connects its identity provider, tests it, sets role rules and activates it, with the link's
// token as the only credential (it opens nothing else of the admin API).

import { createApi, orgPath } from '/assets/console-api.js';
import { domainsPage } from '/assets/console-org.js';
import { alertBox, badge, card, h, mount, pageHeader } from '/assets/console-ui.js';
import { connectionPage, connectionsPage, newConnectionPage } from '/assets/console-wizard.js';

const main = document.getElementById('main');
const token = decodeURIComponent(location.pathname.split('/').pop());
const api = createApi({ token });
const slug = document.body.dataset.org;

function context(org) {
  const href = (path) => `#${path || '/'}`;
  return {
    api,
    org,
    href,
    go: (path) => { location.hash = href(path); },
    setupLink: true,
    crumbs: [['Set-up', '#/']],
  };
}

async function home(ctx) {
  const [domains, connections] = await Promise.all([
    api.all(orgPath(slug, '/domains')),
    api.all(orgPath(slug, '/connections')),
  ]);
  const verified = domains.filter((d) => d.verified);
  const active = connections.filter((c) => c.status === 'active');
  const step = (n, title, done, text, action) => card(`${n}. ${title}`, h('div', { class: 'stack' },
    h('p', {}, badge(done ? 'Done' : 'To do', done ? 'success' : 'warning'), ' ', text), h('div', { class: 'actions' }, action)));
  mount(main,
    pageHeader(`Set up single sign-on for ${ctx.org.name}`, {
      subtitle: 'Your contact at this service asked you to connect your company’s identity provider. It takes about ten minutes; everything you do here is recorded for them.',
    }),
    h('div', { class: 'stack' },
      step(1, 'Verify your domain', verified.length > 0,
        verified.length ? `Verified: ${verified.map((d) => d.domain).join(', ')}.` : 'Prove you own your email domain with a DNS TXT record.',
        h('a', { class: `btn ${verified.length ? 'btn-secondary' : 'btn-primary'}`, href: '#/domains' }, verified.length ? 'Manage domains' : 'Verify a domain')),
      step(2, 'Connect your identity provider', active.length > 0,
        active.length ? `Active: ${active.map((c) => c.name).join(', ')}.` : 'Entra ID, Okta, Google Workspace or any OpenID Connect IdP.',
        h('a', { class: `btn ${active.length ? 'btn-secondary' : 'btn-primary'}`, href: connections.length ? '#/connections' : '#/connections/new' },
          connections.length ? 'Open connections' : 'Start the wizard'))));
}

async function route(ctx) {
  const [path] = (location.hash.replace(/^#/, '') || '/').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  try {
    if (parts[0] === 'domains') return await domainsPage(ctx, main);
    if (parts[0] === 'connections' && parts[1] === 'new') return await newConnectionPage(ctx, main);
    if (parts[0] === 'connections' && parts[1]) return await connectionPage(ctx, main, parts[1]);
    if (parts[0] === 'connections') return await connectionsPage(ctx, main);
    return await home(ctx);
  } catch (error) {
    mount(main, alertBox(error));
    return undefined;
  }
}

async function start() {
  let ctx;
  try {
    ctx = context(await api.get(orgPath(slug)));
  } catch (error) {
    mount(main, alertBox(error));
    return;
  }
  const navigate = async () => {
    await route(ctx);
    if (!main.contains(document.activeElement)) main.focus();
  };
  window.addEventListener('hashchange', navigate);
  await navigate();
}

start();
