// SCIM provisioning: the directory's base URL, tokens (shown once), and the last provisioning
// requests the IdP made, read from the audit log.

import { orgPath } from '/assets/console-api.js';
import {
  badge, card, copyField, confirmDialog, emptyState, field, formatDate, h, mount, onSubmit,
  pageHeader, relative, table, toast,
} from '/assets/console-ui.js';
import { secretOnce } from '/assets/console-org.js';

const ACTIONS = {
  'scim.user_created': ['User provisioned', 'success'],
  'scim.user_updated': ['User updated', 'info'],
  'scim.user_deactivated': ['User deactivated', 'warning'],
  'scim.user_deleted': ['User deleted', 'danger'],
  'scim.group_created': ['Group created', 'success'],
  'scim.group_updated': ['Group updated', 'info'],
  'scim.group_deleted': ['Group deleted', 'danger'],
  'scim.request_failed': ['Request refused', 'danger'],
};

const SETUP = [
  ['Microsoft Entra ID', 'Enterprise applications → your app → Provisioning → Automatic. Tenant URL: the base URL; Secret Token: the token. Test Connection, then map userPrincipalName or mail to userName.'],
  ['Okta', 'Your app → General → App Settings → enable SCIM provisioning. Connector base URL: the base URL; unique identifier: userName; authentication: HTTP Header with the token. Then Push Groups.'],
  ['Other IdPs', 'SCIM 2.0 base URL and a bearer token. Users and Groups, filtering, PATCH and ETags are supported.'],
];

function describe(event) {
  const data = event.data ?? {};
  if (event.action === 'scim.request_failed') {
    const why = [data.status, data.scim_type].filter(Boolean).join(' ');
    return h('span', {}, h('code', {}, `${data.method} ${data.path}`),
      h('span', { class: 'muted small' }, ` → ${why}: ${data.detail}`));
  }
  const who = data.user_name ?? data.display_name ?? event.target?.id ?? '';
  const extra = [];
  if (data.active === false) extra.push('inactive');
  if (Array.isArray(data.added) && data.added.length) extra.push(`+${data.added.length} members`);
  if (Array.isArray(data.removed) && data.removed.length) extra.push(`−${data.removed.length} members`);
  if (typeof data.members === 'number') extra.push(`${data.members} members`);
  return h('span', {}, who, extra.length ? h('span', { class: 'muted small' }, ` (${extra.join(', ')})`) : null);
}

/** The organization's SCIM directory. */
export async function scimPage(ctx, main) {
  const p = (rest) => orgPath(ctx.org.slug, rest);
  const [org, tokens, recent] = await Promise.all([
    ctx.api.get(p('')),
    ctx.api.all(p('/scim-tokens')),
    ctx.api.get(p('/audit-events?actor_kind=scim_token&limit=25')),
  ]);
  const names = Object.fromEntries(tokens.map((t) => [t.id, t.name]));
  const created = h('div', { id: 'created-token' });
  const form = h('form', { class: 'form inline', novalidate: true },
    field({ label: 'Token name', name: 'name', placeholder: 'entra-provisioning', hint: 'The IdP it is for.' }),
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create token'));
  onSubmit(form, async (v) => {
    const token = await ctx.api.post(p('/scim-tokens'), { name: v.name });
    await scimPage(ctx, main);
    mount(main.querySelector('#created-token'),
      secretOnce(`Token “${token.name}” created`, 'Bearer token', token.token, copyField('SCIM base URL', token.base_url)));
    main.querySelector('#created-token .secret-once')?.focus();
  });
  const revoke = (t) => (t.revoked_at ? badge('Revoked') : h('button', {
    type: 'button', class: 'btn btn-ghost btn-sm', aria: { label: `Revoke ${t.name}` },
    onclick: async () => {
      if (!(await confirmDialog(`Revoke ${t.name}?`, 'Provisioning with it stops at once.', { confirm: 'Revoke', danger: true }))) return;
      await ctx.api.del(p(`/scim-tokens/${t.id}`));
      toast('Token revoked');
      await scimPage(ctx, main);
    },
  }, 'Revoke'));
  const tokenList = table([
    ['Name', (t) => t.name],
    ['Token', (t) => h('code', {}, `${t.prefix}…`)],
    ['Last used', (t) => relative(t.last_used_at)],
    ['Created', (t) => formatDate(t.created_at)],
    ['', revoke, { actions: true }],
  ], tokens, { caption: 'SCIM tokens', empty: 'No token yet: create one for your IdP.' });
  const activity = table([
    ['When', (e) => h('span', { title: formatDate(e.created_at) }, relative(e.created_at))],
    ['Request', (e) => { const [label, kind] = ACTIONS[e.action] ?? [e.action, 'neutral']; return badge(label, kind); }],
    ['Resource', describe],
    ['Token', (e) => names[e.actor?.id] ?? h('code', {}, (e.actor?.id ?? '').slice(0, 8))],
    ['Request id', (e) => h('code', { class: 'small' }, e.request_id ?? '—')],
  ], recent.data, {
    caption: 'Recent provisioning requests',
    empty: emptyState('No provisioning yet', 'Changes your IdP pushes appear here as they happen.'),
  });
  mount(main,
    pageHeader('SCIM provisioning', {
      subtitle: 'Your IdP creates, updates and deactivates people and groups here. Deactivated people are signed out everywhere; group names feed your role rules.',
      crumbs: ctx.crumbs ?? [],
    }),
    h('div', { class: 'stack' },
      card('Connection details', h('div', { class: 'stack' },
        copyField('SCIM base URL', org.scim_base_url, { hint: 'Also called tenant URL or connector base URL.' }),
        h('dl', { class: 'kv' }, SETUP.flatMap(([idp, text]) => [h('dt', {}, idp), h('dd', {}, text)])))),
      created,
      card('Tokens', h('div', { class: 'stack' }, form, tokenList)),
      card('Recent provisioning requests', activity, { flush: true, id: 'scim-activity' })));
}
