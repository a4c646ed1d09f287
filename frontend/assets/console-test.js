// The wizard's test sign-in and activation steps. A test sign-in runs the real flow at the IdP
// in a new tab and records what Tessera received (claims, mapped profile, roles) or the check
// that failed; nothing is created. The page polls for the result.

import { orgPath } from '/assets/console-api.js';
import { HINTS } from '/assets/console-idps.js';
import { alertBox, badge, card, h, mount, table, toast } from '/assets/console-ui.js';

const POLL_MS = 1500;

/** The id of the connection's last test sign-in (kept for the rule preview), per browser tab. */
export function lastTestId(connectionId) {
  return sessionStorage.getItem(`tessera.test.${connectionId}`);
}

function rememberTest(connectionId, testId) {
  sessionStorage.setItem(`tessera.test.${connectionId}`, testId);
}

/** The connection's last test sign-in, if it is still kept (30 minutes). */
export async function lastTest(state) {
  const id = lastTestId(state.connection.id);
  if (!id) return null;
  try {
    return await state.ctx.api.get(`${state.base}/test-logins/${encodeURIComponent(id)}`);
  } catch {
    return null;
  }
}

const ACCOUNT_ACTIONS = {
  create: 'A new Tessera account would be created for this person.',
  sign_in: 'This person already signed in through this connection: they would be signed in.',
  link_by_email: 'An existing account with this verified email would be linked to this IdP.',
};

function claimRows(claims) {
  return Object.entries(claims ?? {}).map(([name, value]) => ({ name, value }));
}

function claimsTable(claims) {
  return table([
    ['Claim', (c) => c.name],
    ['Value', (c) => (Array.isArray(c.value)
      ? h('span', {}, c.value.map((v) => h('span', { class: 'tag' }, String(v))))
      : h('span', { class: 'mono' }, typeof c.value === 'object' ? JSON.stringify(c.value) : String(c.value)))],
  ], claimRows(claims), { caption: 'Claims received from the IdP', empty: 'No claims were received.' });
}

/** SAML: the signed XML the IdP sent, as Tessera verified and read it (folded). */
function assertionBlock(test) {
  if (!test.assertion_xml) return null;
  return h('details', { class: 'assertion' },
    h('summary', {}, 'The signed SAML assertion'),
    h('pre', { class: 'mono code-block', id: 'test-assertion' }, test.assertion_xml));
}

/** What a finished test sign-in showed. */
export function testResult(test) {
  if (test.status === 'succeeded') {
    const profile = test.profile ?? {};
    const roles = test.roles === undefined || test.roles === null
      ? h('span', { class: 'muted' }, 'No role rules yet: add them in the next step.')
      : test.roles.length ? test.roles.map((r) => h('span', { class: 'tag' }, r)) : h('span', { class: 'muted' }, 'none');
    return h('div', { class: 'stack', id: 'test-result', dataset: { status: 'succeeded' } },
      h('div', { class: 'result-head' }, h('span', { class: 'result-icon ok', aria: { hidden: 'true' } }, '✓'),
        h('div', {}, h('h3', {}, 'The test sign-in worked'), h('p', { class: 'muted' }, 'The IdP’s answer passed every check.'))),
      h('dl', { class: 'kv', id: 'mapped-profile' },
        ...[['Email', profile.email], ['Email verified', profile.email_verified === undefined ? undefined : (profile.email_verified ? 'yes' : 'no')],
          ['Name', profile.name], ['Subject', profile.subject]]
          .filter(([, v]) => v !== undefined && v !== null)
          .flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]),
        h('dt', {}, 'Roles'), h('dd', { id: 'test-roles' }, roles),
        h('dt', {}, 'Account'), h('dd', {}, ACCOUNT_ACTIONS[test.account_action] ?? String(test.account_action ?? '—'))),
      h('h3', {}, 'Claims received'),
      claimsTable(test.claims),
      assertionBlock(test));
  }
  const error = test.error ?? {};
  const hint = HINTS[error.code];
  return h('div', { class: 'stack', id: 'test-result', dataset: { status: 'failed' } },
    h('div', { class: 'result-head' }, h('span', { class: 'result-icon fail', aria: { hidden: 'true' } }, '✗'),
      h('div', {}, h('h3', {}, 'The test sign-in failed'), h('p', { class: 'muted' }, 'Nothing was created. Fix what the check says, then run it again.'))),
    h('div', { class: 'alert alert-error', role: 'alert' },
      h('p', {}, h('strong', {}, 'Failed check: '), h('code', { id: 'test-error-code' }, error.code ?? 'unknown')),
      h('p', {}, error.message ?? ''),
      hint ? h('p', {}, h('strong', {}, 'How to fix it: '), hint) : null),
    test.claims ? [h('h3', {}, 'Claims received'), claimsTable(test.claims)] : null);
}

/** Polls `test` until it finishes (or the panel leaves the page), rendering into `box`. */
async function follow(state, test, box, panel) {
  const waiting = h('p', { class: 'row', role: 'status' }, h('span', { class: 'pulse', aria: { hidden: 'true' } }),
    'Waiting for the sign-in in the other tab to finish…');
  mount(box, waiting);
  let current = test;
  while (current.status === 'pending') {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    if (!panel.isConnected) return;
    try {
      current = await state.ctx.api.get(`${state.base}/test-logins/${encodeURIComponent(test.id)}`);
    } catch (error) {
      mount(box, alertBox(error));
      return;
    }
  }
  mount(box, testResult(current));
  box.querySelector('h3')?.setAttribute('tabindex', '-1');
  box.querySelector('h3')?.focus();
}

/** Step 4: run a test sign-in in a new tab and show what came back. */
export async function testStep(state) {
  const { ctx, base, hrefOf, idp } = state;
  const result = h('div', { id: 'test-area', aria: { live: 'polite' } });
  const start = h('button', { type: 'button', class: 'btn btn-primary', id: 'start-test' }, 'Start a test sign-in');
  const opener = h('p', { hidden: true });
  const panel = h('section', { class: 'card stack', aria: { labelledby: 'step-title' } },
    h('h2', { id: 'step-title', tabindex: '-1' }, 'Test the sign-in'),
    h('p', { class: 'muted' }, `Sign in at ${idp.name} in a new tab, as yourself or a colleague. Tessera shows what it received and what a real sign-in would do; nobody is signed in and no account is created.`),
    h('div', { class: 'actions' }, start), opener, result,
    h('div', { class: 'actions' }, h('a', { class: 'btn btn-secondary', href: hrefOf('roles'), id: 'to-roles' }, 'Continue to roles')));
  start.addEventListener('click', async () => {
    start.disabled = true;
    // The previous test's link works once: it goes before the new one is asked for.
    mount(opener);
    opener.hidden = true;
    try {
      const test = await ctx.api.post(`${base}/test-logins`);
      rememberTest(state.connection.id, test.id);
      mount(opener, h('a', { href: test.url, target: '_blank', rel: 'noopener', id: 'open-test', class: 'btn btn-secondary' },
        `Open the ${idp.short} sign-in in a new tab`), h('span', { class: 'muted small' }, ' The link works once, for 30 minutes.'));
      opener.hidden = false;
      start.textContent = 'Start another test sign-in';
      opener.querySelector('a').focus();
      follow(state, test, result, panel);
    } catch (error) {
      mount(result, alertBox(error));
    } finally {
      start.disabled = false;
    }
  });
  const previous = await lastTest(state);
  if (previous && previous.status !== 'pending') mount(result, testResult(previous));
  return panel;
}

/** Step 6: what will happen, the checks that matter, and the switch. */
export async function activateStep(state) {
  const { ctx, connection, base, hrefOf } = state;
  const [domains, mapping, test] = await Promise.all([
    ctx.api.all(orgPath(ctx.org.slug, '/domains')),
    ctx.api.get(orgPath(ctx.org.slug, '/role-mappings')),
    lastTest(state),
  ]);
  const verified = domains.filter((d) => d.verified).map((d) => d.domain);
  const checks = h('ul', { class: 'stack', style: 'list-style:none;padding:0;margin:0' },
    check(verified.length > 0, verified.length ? `Verified domains: ${verified.join(', ')}` : 'No verified domain yet',
      verified.length ? 'People typing an email at these domains are sent to this connection.' : 'Without one, people reach this connection only from apps that name your organization.',
      verified.length ? null : h('a', { href: ctx.href(ctx.domainsPath ?? '/domains') }, 'Verify a domain')),
    check(test?.status === 'succeeded', test?.status === 'succeeded' ? 'A test sign-in succeeded' : 'No successful test sign-in in this browser',
      'Activating without one works, but a failed first sign-in is worse.', test?.status === 'succeeded' ? null : h('a', { href: hrefOf('test') }, 'Run a test')),
    check(mapping.rules.length > 0 || Boolean(mapping.default_role), mapping.rules.length ? `${mapping.rules.length} role rule(s)` : 'No role rules',
      'Without rules, people sign in with no roles.', null));
  const body = h('div', { class: 'stack' });
  const render = (c) => {
    if (c.status === 'active') {
      const off = h('button', { type: 'button', class: 'btn btn-danger' }, 'Deactivate');
      off.addEventListener('click', async () => {
        const updated = await ctx.api.post(`${base}/deactivate`);
        toast('Connection deactivated');
        render(updated);
      });
      mount(body, h('div', { class: 'alert alert-success', role: 'status', id: 'activated' },
        h('strong', {}, 'Single sign-on is on. '), 'Your people now sign in through this connection.'),
      ctx.setupLink ? null : requireSso(ctx), h('div', { class: 'actions' }, off));
    } else {
      const on = h('button', { type: 'button', class: 'btn btn-primary', id: 'activate' }, 'Activate single sign-on');
      on.addEventListener('click', async () => {
        on.disabled = true;
        try {
          const updated = await ctx.api.post(`${base}/activate`);
          toast('Single sign-on is on');
          render(updated);
          body.querySelector('#activated')?.focus();
        } catch (error) {
          body.append(alertBox(error));
          on.disabled = false;
        }
      });
      mount(body, h('div', { class: 'actions' }, on));
    }
  };
  render(connection);
  return h('section', { class: 'card stack', aria: { labelledby: 'step-title' } },
    h('h2', { id: 'step-title', tabindex: '-1' }, 'Activate'),
    h('p', { class: 'muted' }, 'Once active, sign-ins through this connection are real: accounts are created and roles given by your rules.'),
    card('Before you switch it on', checks), body);
}

/** The organization's "SSO only" switch (org admins; a setup link cannot change it). */
function requireSso(ctx) {
  const box = h('input', { type: 'checkbox', id: 'require-sso', checked: ctx.org.require_sso });
  box.addEventListener('change', async () => {
    try {
      const org = await ctx.api.patch(orgPath(ctx.org.slug), { require_sso: box.checked });
      ctx.org.require_sso = org.require_sso;
      toast(org.require_sso ? 'Only single sign-on from now on' : 'Other sign-in methods allowed again');
    } catch (error) {
      box.checked = !box.checked;
      box.closest('.field').append(alertBox(error));
    }
  });
  return h('div', { class: 'field' },
    h('label', { class: 'check', for: 'require-sso' }, box, h('span', {}, 'Require single sign-on for people at your verified domains')),
    h('p', { class: 'hint' }, 'Passkeys, email links and passwords are then refused for them (sso_required); everyone else signs in as before.'));
}

function check(ok, title, text, action) {
  return h('li', { class: 'row', style: 'align-items:flex-start' },
    badge(ok ? 'Done' : 'Check', ok ? 'success' : 'warning'),
    h('div', {}, h('strong', {}, title), h('p', { class: 'muted small' }, text, action ? [' ', action] : null)));
}
