// An organization's pages: overview, domains (add, publish the TXT record, verify), members
// and roles, API keys and setup links. Domains also run behind a setup link.

import { orgPath } from '/assets/console-api.js';
import {
  alertBox, badge, card, codeBlock, confirmDialog, copyField, emptyState, field, formatDate, h,
  mount, onSubmit, pageHeader, relative, table, toast,
} from '/assets/console-ui.js';

const ADMIN_ROLE = 'tessera:admin';

/** "Shown once" box for a new secret, with a copy button. */
export function secretOnce(title, label, value, extra) {
  return h('div', { class: 'secret-once', role: 'status', tabindex: '-1' },
    h('strong', {}, title), copyField(label, value), extra,
    h('p', { class: 'small' }, 'Copy it now: Tessera stores only a hash and cannot show it again.'));
}

/** The organization at a glance, with what to do next. */
export async function overviewPage(ctx, main) {
  const p = (rest) => orgPath(ctx.org.slug, rest);
  const [domains, connections, members, tokens] = await Promise.all([
    ctx.api.all(p('/domains')), ctx.api.all(p('/connections')), ctx.api.all(p('/memberships')), ctx.api.all(p('/scim-tokens')),
  ]);
  const verified = domains.filter((d) => d.verified).length;
  const active = connections.filter((c) => c.status === 'active');
  const liveTokens = tokens.filter((t) => !t.revoked_at);
  const stat = (label, value, note, href) => h('a', { class: 'stat', href },
    h('div', { class: 'label' }, label), h('div', { class: 'value' }, String(value)), h('div', { class: 'note' }, note));
  const next = [];
  if (!verified) next.push(['Verify a domain', 'Prove you own your email domain so its people are recognised.', '/domains']);
  if (!active.length) next.push(['Connect your identity provider', 'Entra ID, Okta, Google Workspace or any OpenID Connect IdP.', '/connections/new']);
  if (!liveTokens.length) next.push(['Provision users with SCIM', 'Let your IdP create and deactivate accounts.', '/scim']);
  mount(main,
    pageHeader(ctx.org.name, { subtitle: `Slug ${ctx.org.slug} · created ${formatDate(ctx.org.created_at)}` }),
    h('div', { class: 'stats' },
      stat('Verified domains', verified, `${domains.length} claimed`, ctx.href('/domains')),
      stat('Active connections', active.length, active.length ? active.map((c) => c.name).join(', ') : 'Single sign-on is off', ctx.href('/connections')),
      stat('Members', members.length, `${members.filter((m) => m.roles.includes(ADMIN_ROLE)).length} administrators`, ctx.href('/members')),
      stat('SCIM tokens', liveTokens.length, liveTokens.length ? 'Provisioning configured' : 'Not configured', ctx.href('/scim'))),
    next.length
      ? card('Next steps', h('ol', { class: 'instructions' }, next.map(([title, text, path]) => h('li', {},
        h('a', { href: ctx.href(path) }, title), h('span', { class: 'muted' }, ` — ${text}`)))))
      : h('p', { class: 'alert alert-success' }, 'Single sign-on is set up: domains verified, a connection active and provisioning configured.'));
}

function txtRecord(domain) {
  return h('div', { class: 'stack' },
    h('p', {}, 'At your DNS provider, add this TXT record, then select Verify. DNS changes can take a few minutes to show.'),
    h('dl', { class: 'kv' }, h('dt', {}, 'Type'), h('dd', { class: 'mono' }, 'TXT')),
    copyField('Name (host)', domain.txt_record.name, { name: 'txt-name' }),
    copyField('Value', domain.txt_record.value, { name: 'txt-value' }));
}

/** Domains: claim one, publish its TXT record, verify. */
export async function domainsPage(ctx, main) {
  const domains = await ctx.api.all(orgPath(ctx.org.slug, '/domains'));
  const add = h('form', { class: 'form inline', novalidate: true, id: 'add-domain' },
    field({ label: 'Domain', name: 'domain', placeholder: 'acme.com', hint: 'The domain of your people’s email addresses.' }),
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add domain'));
  onSubmit(add, async (v) => {
    await ctx.api.post(orgPath(ctx.org.slug, '/domains'), { domain: v.domain });
    toast(`${v.domain} added: publish its TXT record`);
    await domainsPage(ctx, main);
  });
  const pending = domains.filter((d) => !d.verified).map((d) => pendingDomain(ctx, main, d));
  const rows = table([
    ['Domain', (d) => d.domain],
    ['Status', (d) => (d.verified ? badge('Verified', 'success') : badge('Waiting for DNS', 'warning'))],
    ['Verified', (d) => (d.verified_at ? `${formatDate(d.verified_at)}${d.verification_method === 'manual' ? ' (by an instance admin)' : ''}` : '—')],
    ['', (d) => (ctx.setupLink ? null : removeButton(ctx, main, d)), { actions: true }],
  ], domains, { caption: 'Domains', empty: emptyState('No domain yet', 'Add the domain of your email addresses.') });
  mount(main,
    pageHeader('Domains', { subtitle: 'A verified domain routes its people to your connection and lets Tessera trust the email addresses your IdP sends.', crumbs: ctx.crumbs ?? [] }),
    h('div', { class: 'stack' }, card('Add a domain', add), ...pending, card('Your domains', rows, { flush: true })));
}

function pendingDomain(ctx, main, domain) {
  const result = h('div', { aria: { live: 'polite' } });
  const verify = h('button', { type: 'button', class: 'btn btn-primary', dataset: { verify: domain.domain } }, 'Verify');
  verify.addEventListener('click', async () => {
    verify.disabled = true;
    mount(result);
    try {
      await ctx.api.post(orgPath(ctx.org.slug, `/domains/${encodeURIComponent(domain.domain)}/verify`));
      toast(`${domain.domain} is verified`);
      await domainsPage(ctx, main);
    } catch (error) {
      mount(result, alertBox(error));
      verify.disabled = false;
    }
  });
  return card(`Verify ${domain.domain}`, h('div', { class: 'stack' }, txtRecord(domain), h('div', { class: 'actions' }, verify), result));
}

function removeButton(ctx, main, domain) {
  const button = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', aria: { label: `Remove ${domain.domain}` } }, 'Remove');
  button.addEventListener('click', async () => {
    if (!(await confirmDialog(`Remove ${domain.domain}?`, 'Its people are no longer routed to your connection.', { confirm: 'Remove', danger: true }))) return;
    await ctx.api.del(orgPath(ctx.org.slug, `/domains/${encodeURIComponent(domain.domain)}`));
    toast(`${domain.domain} removed`);
    await domainsPage(ctx, main);
  });
  return button;
}

function rolesOf(text) {
  return text.split(',').map((r) => r.trim()).filter(Boolean);
}

/** Members and their roles. */
export async function membersPage(ctx, main) {
  const members = await ctx.api.all(orgPath(ctx.org.slug, '/memberships'));
  const add = h('form', { class: 'form', novalidate: true },
    h('div', { class: 'grid-2' },
      field({ label: 'Email', name: 'email', type: 'email', placeholder: 'ada@acme.com' }),
      field({ label: 'Roles', name: 'roles', placeholder: 'member, billing', hint: 'Comma-separated; apps receive them in tokens.' })),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'admin' }), h('span', {}, 'Administrator of this organization (can use this console)')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add member')));
  onSubmit(add, async (v) => {
    const roles = rolesOf(v.roles);
    if (v.admin) roles.push(ADMIN_ROLE);
    await ctx.api.post(orgPath(ctx.org.slug, '/memberships'), { email: v.email, roles });
    toast(`${v.email} added`);
    await membersPage(ctx, main);
  });
  const editRoles = (m) => {
    const form = h('form', { class: 'form inline', novalidate: true },
      field({ label: `Roles of ${m.email ?? m.user_id}`, name: 'roles', value: m.roles.join(', ') }),
      h('button', { type: 'submit', class: 'btn btn-secondary btn-sm' }, 'Save'));
    onSubmit(form, async (v) => {
      await ctx.api.patch(orgPath(ctx.org.slug, `/memberships/${m.user_id}`), { roles: rolesOf(v.roles) });
      toast('Roles saved');
      await membersPage(ctx, main);
    });
    return form;
  };
  const remove = (m) => h('button', {
    type: 'button', class: 'btn btn-ghost btn-sm', aria: { label: `Remove ${m.email ?? m.user_id}` },
    onclick: async () => {
      if (!(await confirmDialog('Remove this member?', `${m.email ?? m.user_id} leaves ${ctx.org.name}.`, { confirm: 'Remove', danger: true }))) return;
      await ctx.api.del(orgPath(ctx.org.slug, `/memberships/${m.user_id}`));
      toast('Member removed');
      await membersPage(ctx, main);
    },
  }, 'Remove');
  const list = table([
    ['Member', (m) => h('div', {}, h('div', {}, m.name ?? m.email ?? m.user_id), m.name ? h('div', { class: 'muted small' }, m.email) : null)],
    ['Roles', (m) => editRoles(m)],
    ['Status', (m) => badge(m.status, m.status === 'active' ? 'success' : 'warning')],
    ['Joined', (m) => h('span', {}, formatDate(m.created_at), h('div', { class: 'muted small' }, { admin: 'added by an admin', jit: 'first sign-in', scim: 'provisioned' }[m.source] ?? m.source))],
    ['', remove, { actions: true }],
  ], members, { caption: 'Members', empty: emptyState('No members yet', 'People join at their first sign-in, through SCIM, or when you add them.') });
  mount(main,
    pageHeader('Members', { subtitle: `People in ${ctx.org.name} and their roles. ${ADMIN_ROLE} makes someone an administrator here.`, crumbs: ctx.crumbs ?? [] }),
    h('div', { class: 'stack' }, card('Add a member', add), card('Members', list, { flush: true })));
}

/** API keys for this organization. */
export async function apiKeysPage(ctx, main) {
  const keys = await ctx.api.all(orgPath(ctx.org.slug, '/api-keys'));
  const created = h('div');
  const form = h('form', { class: 'form', novalidate: true },
    h('div', { class: 'grid-2' },
      field({ label: 'Name', name: 'name', placeholder: 'terraform', hint: 'What uses the key.' }),
      field({ label: 'Expires', name: 'expires_at', type: 'date', hint: 'Optional.' })),
    field({ label: 'Scopes', name: 'scopes', value: 'admin', hint: 'admin opens this organization’s admin API; other scopes are for your apps’ APIs (comma-separated).' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create key')));
  onSubmit(form, async (v) => {
    const body = { name: v.name, scopes: rolesOf(v.scopes) };
    if (v.expires_at) body.expires_at = new Date(`${v.expires_at}T23:59:59Z`).toISOString();
    const key = await ctx.api.post(orgPath(ctx.org.slug, '/api-keys'), body);
    form.reset();
    await apiKeysPage(ctx, main);
    main.querySelector('#created-key').replaceWith(h('div', { id: 'created-key' }, secretOnce(`Key “${key.name}” created`, 'API key', key.key)));
    main.querySelector('#created-key .secret-once')?.focus();
  });
  const revoke = (k) => (k.revoked_at ? badge('Revoked', 'neutral') : h('button', {
    type: 'button', class: 'btn btn-ghost btn-sm', aria: { label: `Revoke ${k.name}` },
    onclick: async () => {
      if (!(await confirmDialog(`Revoke ${k.name}?`, 'It stops working at once.', { confirm: 'Revoke', danger: true }))) return;
      await ctx.api.del(orgPath(ctx.org.slug, `/api-keys/${k.id}`));
      toast('Key revoked');
      await apiKeysPage(ctx, main);
    },
  }, 'Revoke'));
  const list = table([
    ['Name', (k) => k.name],
    ['Key', (k) => h('code', {}, `${k.prefix}…`)],
    ['Scopes', (k) => k.scopes.map((s) => h('span', { class: 'tag' }, s))],
    ['Last used', (k) => relative(k.last_used_at)],
    ['Expires', (k) => (k.expires_at ? formatDate(k.expires_at) : 'never')],
    ['', revoke, { actions: true }],
  ], keys, { caption: 'API keys', empty: 'No keys yet.' });
  created.id = 'created-key';
  mount(main,
    pageHeader('API keys', { subtitle: 'Keys for scripts and your apps’ APIs, limited to this organization.', crumbs: ctx.crumbs ?? [] }),
    h('div', { class: 'stack' }, created, card('Create a key', form), card('Keys', list, { flush: true })));
}

/** Setup links: let someone without an account run the SSO wizard for this organization. */
export async function setupLinksPage(ctx, main) {
  const links = await ctx.api.all(orgPath(ctx.org.slug, '/setup-links'));
  const form = h('form', { class: 'form', novalidate: true, id: 'new-setup-link' },
    h('div', { class: 'grid-2' },
      field({ label: 'For', name: 'label', placeholder: 'Jane Doe, Acme IT', hint: 'Who you give it to; shown in the audit log.' }),
      field({ label: 'Valid for', name: 'hours', value: '72', options: [['24', '24 hours'], ['72', '3 days'], ['168', '7 days'], ['720', '30 days']] })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create setup link')));
  onSubmit(form, async (v) => {
    const expires = new Date(Date.now() + Number(v.hours) * 3600 * 1000).toISOString();
    const link = await ctx.api.post(orgPath(ctx.org.slug, '/setup-links'), { ...(v.label ? { label: v.label } : {}), expires_at: expires });
    await setupLinksPage(ctx, main);
    main.querySelector('#created-link').replaceWith(h('div', { id: 'created-link' }, secretOnce('Setup link created', 'Setup link', link.url,
      codeBlock(`Hi${link.label ? ` ${link.label.split(',')[0]}` : ''},\n\nplease set up single sign-on for ${ctx.org.name} here (no account needed; valid until ${formatDate(link.expires_at)}):\n${link.url}\n`, 'Copy message'))));
    main.querySelector('#created-link .secret-once')?.focus();
  });
  const kind = { active: 'success', expired: 'neutral', revoked: 'neutral' };
  const list = table([
    ['For', (l) => l.label ?? h('span', { class: 'muted' }, 'unnamed')],
    ['Status', (l) => badge(l.status, kind[l.status])],
    ['First opened', (l) => (l.used_at ? formatDate(l.used_at) : 'not yet')],
    ['Expires', (l) => formatDate(l.expires_at)],
    ['', (l) => (l.status !== 'active' ? null : h('button', {
      type: 'button', class: 'btn btn-ghost btn-sm', aria: { label: `Revoke the link for ${l.label ?? 'unnamed'}` },
      onclick: async () => {
        await ctx.api.del(orgPath(ctx.org.slug, `/setup-links/${l.id}`));
        toast('Setup link revoked');
        await setupLinksPage(ctx, main);
      },
    }, 'Revoke')), { actions: true }],
  ], links, { caption: 'Setup links', empty: 'No setup links yet.' });
  mount(main,
    pageHeader('Setup links', {
      subtitle: 'A setup link lets your customer’s IT person verify domains, connect their IdP and set role rules for this organization only, without a Tessera account. Everything done with it is in the audit log.',
      crumbs: ctx.crumbs ?? [],
    }),
    h('div', { class: 'stack' }, h('div', { id: 'created-link' }), card('New setup link', form), card('Links', list, { flush: true })));
}
