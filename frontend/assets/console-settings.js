// Organizations (for instance admins and people administering several), an organization's
// sign-in branding with a live preview, and the audit log with filters.

import { orgPath } from '/assets/console-api.js';
import {
  alertBox, badge, card, field, formatDate, h, mount, onSubmit, pageHeader, table, toast, uid,
} from '/assets/console-ui.js';

/** Every organization the person may open; instance admins create new ones here. */
export async function organizationsPage(ctx, main) {
  const orgs = ctx.me.instance_admin ? await ctx.api.all('/organizations') : ctx.me.organizations;
  const list = table([
    ['Organization', (o) => h('a', { href: `#/orgs/${encodeURIComponent(o.slug)}` }, o.name)],
    ['Slug', (o) => h('code', {}, o.slug)],
    ['Created', (o) => (o.created_at ? formatDate(o.created_at) : '—')],
  ], orgs, { caption: 'Organizations', empty: 'No organization yet.' });
  let create = null;
  if (ctx.me.instance_admin) {
    create = h('form', { class: 'form inline', novalidate: true, id: 'create-org' },
      field({ label: 'Name', name: 'name', placeholder: 'Acme Inc.' }),
      field({ label: 'Slug', name: 'slug', placeholder: 'acme', hint: 'Lower-case letters, digits and hyphens; apps use it.' }),
      h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create organization'));
    const name = create.querySelector('[name="name"]');
    const slug = create.querySelector('[name="slug"]');
    name.addEventListener('input', () => {
      if (!slug.dataset.touched) slug.value = name.value.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
    });
    slug.addEventListener('input', () => { slug.dataset.touched = '1'; });
    onSubmit(create, async (v) => {
      const org = await ctx.api.post('/organizations', { name: v.name, slug: v.slug });
      toast(`${org.name} created`);
      await ctx.refreshOrgs();
      location.hash = `#/orgs/${encodeURIComponent(org.slug)}`;
    });
  }
  mount(main,
    pageHeader('Organizations', { subtitle: 'Each organization is a customer or tenant with its own domains, identity provider, people and apps.' }),
    h('div', { class: 'stack' }, create ? card('New organization', create) : null, card('Organizations', list, { flush: true }),
      ctx.me.instance_admin ? await instanceAdmins(ctx, main) : null));
}

/** The people with authority over every organization. */
async function instanceAdmins(ctx, main) {
  const { data } = await ctx.api.get('/instance-admins');
  const add = h('form', { class: 'form inline', novalidate: true, id: 'add-instance-admin' },
    field({ label: 'Email', name: 'email', type: 'email', placeholder: 'ops@example.com', hint: 'They sign in with a passkey or an emailed link.' }),
    h('button', { type: 'submit', class: 'btn btn-secondary' }, 'Add instance admin'));
  onSubmit(add, async (v) => {
    await ctx.api.post('/instance-admins', { email: v.email });
    toast(`${v.email} is an instance admin`);
    await organizationsPage(ctx, main);
  });
  const remove = (a) => (a.user_id === ctx.me.user?.id || data.length === 1 ? null : h('button', {
    type: 'button', class: 'btn btn-ghost btn-sm', aria: { label: `Remove ${a.email ?? a.user_id}` },
    onclick: async () => {
      await ctx.api.del(`/instance-admins/${a.user_id}`);
      toast('Instance admin removed');
      await organizationsPage(ctx, main);
    },
  }, 'Remove'));
  return card('Instance administrators', h('div', { class: 'stack' }, add, table([
    ['Person', (a) => a.name ?? a.email],
    ['Email', (a) => a.email ?? '—'],
    ['Since', (a) => formatDate(a.since)],
    ['', remove, { actions: true }],
  ], data, { caption: 'Instance administrators' })));
}

function preview(values, logoUrl, orgName) {
  const color = /^#[0-9a-f]{6}$/i.test(values.color) ? values.color : '#3d5afe';
  const logo = logoUrl ? h('img', { src: logoUrl, alt: '' }) : h('span', { class: 'mark', aria: { hidden: 'true' } });
  return h('div', { class: 'brand-preview', aria: { label: 'Preview of the sign-in page' }, role: 'img' },
    h('div', { class: 'mini-card' },
      h('h3', {}, logo, `Sign in to ${values.display_name || orgName}`),
      h('div', { class: 'fake-input' }, 'Email'),
      h('div', { class: 'fake-button', style: `background:${color}` }, 'Email me a link')));
}

/** Name, colour and logo on the organization's sign-in pages. */
export async function brandingPage(ctx, main) {
  const path = orgPath(ctx.org.slug, '/branding');
  const branding = await ctx.api.get(path);
  const previewBox = h('div', {});
  let logoUrl = branding.logo_url ?? null;
  const colorId = uid('color');
  const form = h('form', { class: 'form', novalidate: true, id: 'branding-form' },
    field({ label: 'Display name', name: 'display_name', value: branding.display_name ?? '', placeholder: ctx.org.name, hint: 'Shown as “Sign in to …”. Empty: the organization’s name.' }),
    h('div', { class: 'field', dataset: { field: 'color' } },
      h('label', { for: colorId }, 'Accent colour'),
      h('div', { class: 'row' },
        h('input', { type: 'color', value: branding.color ?? '#3d5afe', aria: { label: 'Pick a colour' }, oninput: (e) => { form.elements.color.value = e.target.value; redraw(); } }),
        h('input', { id: colorId, name: 'color', value: branding.color ?? '', placeholder: '#0b5394', style: 'max-width:10rem', 'aria-describedby': `${colorId}-hint ${colorId}-error` })),
      h('p', { class: 'hint', id: `${colorId}-hint` }, 'Buttons and links. White text on it must stay readable (contrast at least 4.5:1).'),
      h('p', { class: 'field-error', id: `${colorId}-error`, hidden: true })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save')));
  const redraw = () => mount(previewBox, preview({ display_name: form.elements.display_name.value.trim(), color: form.elements.color.value.trim() }, logoUrl, ctx.org.name));
  form.addEventListener('input', redraw);
  onSubmit(form, async (v) => {
    await ctx.api.put(path, { display_name: v.display_name || null, color: v.color || null });
    toast('Branding saved');
  });
  const fileId = uid('logo');
  const result = h('div', { aria: { live: 'polite' } });
  const upload = h('input', { type: 'file', id: fileId, accept: 'image/png,image/jpeg,image/webp' });
  upload.addEventListener('change', async () => {
    const file = upload.files[0];
    if (!file) return;
    mount(result);
    try {
      const saved = await ctx.api.upload(`${path}/logo`, file);
      logoUrl = saved.logo_url;
      toast('Logo saved');
      redraw();
    } catch (error) {
      mount(result, alertBox(error));
    }
  });
  const removeLogo = h('button', {
    type: 'button', class: 'btn btn-ghost',
    onclick: async () => {
      await ctx.api.del(`${path}/logo`);
      logoUrl = null;
      toast('Logo removed');
      redraw();
    },
  }, 'Remove logo');
  redraw();
  mount(main,
    pageHeader('Branding', { subtitle: 'How sign-in looks for apps that belong to this organization (apps restricted to it, or sign-ins that name it).', crumbs: ctx.crumbs ?? [] }),
    h('div', { class: 'grid-2' },
      h('div', { class: 'stack' }, card('Name and colour', form),
        card('Logo', h('div', { class: 'stack' }, h('div', { class: 'field' }, h('label', { for: fileId }, 'Upload a logo'), upload,
          h('p', { class: 'hint' }, 'PNG, JPEG or WebP, at most 256 KiB; shown about 32 pixels high.')), h('div', { class: 'actions' }, removeLogo), result))),
      card('Preview', previewBox)));
}

const ACTOR_KINDS = [['', 'Anyone'], ['user', 'People (console, sign-in)'], ['api_key', 'API keys'], ['setup_link', 'Setup links'],
  ['scim_token', 'SCIM tokens'], ['cli', 'Command line'], ['system', 'Tessera'], ['anonymous', 'Not signed in']];

/** The audit log, newest first, with filters; `ctx.org` absent means the whole instance. */
export async function auditPage(ctx, main) {
  const base = ctx.org ? orgPath(ctx.org.slug, '/audit-events') : '/audit-events';
  const results = h('div', { id: 'audit-results' });
  const actions = uid('actions');
  const form = h('form', { class: 'form inline', novalidate: true, id: 'audit-filters', role: 'search' },
    h('div', { class: 'field' }, h('label', { for: `${actions}-input` }, 'Action'),
      h('input', { id: `${actions}-input`, name: 'action', list: actions, placeholder: 'e.g. connection.activated' }),
      h('datalist', { id: actions }), h('p', { class: 'field-error', id: `${actions}-input-error`, hidden: true })),
    field({ label: 'Actor', name: 'actor_kind', options: ACTOR_KINDS }),
    field({ label: 'Since', name: 'since', type: 'date' }),
    field({ label: 'Until', name: 'until', type: 'date' }),
    h('button', { type: 'submit', class: 'btn btn-secondary' }, 'Apply'));
  const query = (v, after) => {
    const q = new URLSearchParams({ limit: '50' });
    if (v.action) q.set('action', v.action);
    if (v.actor_kind) q.set('actor_kind', v.actor_kind);
    if (v.since) q.set('since', new Date(`${v.since}T00:00:00`).toISOString());
    if (v.until) q.set('until', new Date(`${v.until}T23:59:59`).toISOString());
    if (after) q.set('after', after);
    return `${base}?${q}`;
  };
  const seen = new Set();
  const render = (events, next, v) => {
    events.forEach((e) => seen.add(e.action));
    mount(form.querySelector('datalist'), [...seen].sort().map((a) => h('option', { value: a })));
    const rows = table([
      ['When', (e) => formatDate(e.created_at)],
      ['Action', (e) => h('code', {}, e.action)],
      ['Actor', (e) => h('span', {}, badge(e.actor.kind, 'neutral'), ' ', h('code', { class: 'small' }, (e.actor.id ?? '').slice(0, 13)), e.actor.ip ? h('div', { class: 'muted small' }, e.actor.ip) : null)],
      ['Target', (e) => (e.target ? h('span', {}, `${e.target.kind} `, h('code', { class: 'small' }, e.target.id)) : '—')],
      ['Details', (e) => h('code', { class: 'small' }, JSON.stringify(e.data))],
    ], events, { caption: 'Audit events', empty: 'No events match.' });
    const more = next ? h('div', { class: 'pager' }, h('button', {
      type: 'button', class: 'btn btn-secondary',
      onclick: async () => {
        const page = await ctx.api.get(query(v, next));
        render([...events, ...page.data], page.next_cursor, v);
      },
    }, 'Load more')) : null;
    mount(results, rows, more);
  };
  onSubmit(form, async (v) => {
    const page = await ctx.api.get(query(v));
    render(page.data, page.next_cursor, v);
  });
  const first = await ctx.api.get(query({}));
  render(first.data, first.next_cursor, {});
  mount(main,
    pageHeader('Audit log', { subtitle: 'Every change, who made it and from where, newest first.', crumbs: ctx.crumbs ?? [] }),
    h('div', { class: 'stack' }, card('Filter', form), card('Events', results, { flush: true })));
}
