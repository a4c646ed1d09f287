// The role-rule editor: ordered rules (claim, comparison, value, role), a default role and
// "refuse people no rule matches", previewed live against the last test sign-in's claims by
// the API (the same code that decides real sign-ins), and saved whole.

import { orgPath } from '/assets/console-api.js';
import { lastTest } from '/assets/console-test.js';
import { alertBox, checkbox, clearErrors, field, h, mount, showError, toast, uid } from '/assets/console-ui.js';

const OPS = [
  ['equals', 'equals'],
  ['in', 'is one of'],
  ['contains', 'contains'],
  ['matches', 'matches pattern'],
];

/** The console role that makes a member an administrator of the organization. */
const ADMIN_ROLE = 'tessera:admin';

function ruleRow(rule, index, onChange, onRemove) {
  const row = h('div', { class: 'rule', dataset: { index: String(index) } },
    field({ label: 'Claim', name: `rules[${index}].claim`, value: rule.claim ?? 'groups' }),
    field({ label: 'Comparison', name: `rules[${index}].op`, value: rule.op ?? 'equals', options: OPS }),
    field({ label: 'Value', name: `rules[${index}].value`, value: Array.isArray(rule.value) ? rule.value.join(', ') : (rule.value ?? ''),
      hint: rule.op === 'in' ? 'Comma-separated' : undefined }),
    field({ label: 'Role', name: `rules[${index}].role`, value: rule.role ?? '' }),
    h('button', { type: 'button', class: 'btn btn-ghost btn-sm remove', aria: { label: `Remove rule ${index + 1}` }, onclick: onRemove }, 'Remove'));
  row.addEventListener('input', onChange);
  row.addEventListener('change', onChange);
  return row;
}

/** The rules as the API takes them, read from the editor. */
function readMapping(form) {
  const rules = [...form.querySelectorAll('.rule')].map((row, i) => {
    const get = (name) => row.querySelector(`[name="rules[${i}].${name}"]`).value.trim();
    const op = get('op');
    const raw = get('value');
    return { claim: get('claim'), op, value: op === 'in' ? raw.split(',').map((v) => v.trim()).filter(Boolean) : raw, role: get('role') };
  });
  const defaultRole = form.querySelector('[name="default_role"]').value.trim();
  return {
    rules,
    default_role: defaultRole || null,
    deny_unmatched: form.querySelector('[name="deny_unmatched"]').checked,
  };
}

/** Chips for the claim values of the test sign-in: a click adds a rule for that value. */
function claimChips(claims, addRule) {
  const lists = Object.entries(claims ?? {}).filter(([, v]) => Array.isArray(v) && v.length);
  if (!lists.length) return null;
  return h('div', { class: 'stack' }, lists.map(([name, items]) => h('div', {},
    h('p', { class: 'small muted' }, `Values of ${name} in the test sign-in (select one to add a rule):`),
    h('div', { class: 'chips' }, items.slice(0, 50).map((item) => h('button', {
      type: 'button', class: 'chip', onclick: () => addRule({ claim: name, op: 'equals', value: String(item), role: '' }),
    }, String(item)))))));
}

/** Step 5: edit the organization's role rules with a live preview. */
export async function rulesStep(state) {
  const { ctx, hrefOf } = state;
  const [mapping, test] = await Promise.all([ctx.api.get(orgPath(ctx.org.slug, '/role-mappings')), lastTest(state)]);
  const claims = test?.status === 'succeeded' ? test.claims : null;
  const rulesBox = h('div', { class: 'rules', id: 'rules' });
  const preview = h('div', { class: 'preview', id: 'rule-preview', aria: { live: 'polite' } });
  const form = h('form', { class: 'form', novalidate: true });
  let rules = mapping.rules.map((r) => ({ ...r }));
  let timer = null;

  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(runPreview, 300);
  };
  const redraw = () => {
    mount(rulesBox, rules.length ? rules.map((rule, i) => ruleRow(rule, i, () => { rules = readMapping(form).rules; schedule(); }, () => {
      rules = readMapping(form).rules;
      rules.splice(i, 1);
      redraw();
      schedule();
    })) : h('p', { class: 'muted' }, 'No rules yet. Everyone gets the default role.'));
  };
  const addRule = (rule) => {
    rules = [...readMapping(form).rules, rule];
    redraw();
    rulesBox.querySelector(`.rule:last-child [name="rules[${rules.length - 1}].${rule.role ? 'claim' : 'role'}"]`)?.focus();
    schedule();
  };

  async function runPreview() {
    if (!claims) return;
    const body = { mapping: readMapping(form), claims };
    clearErrors(form);
    try {
      const result = await ctx.api.post(orgPath(ctx.org.slug, '/role-mappings/preview'), body);
      form.querySelectorAll('.rule').forEach((row, i) => row.classList.toggle('matched', result.matched_rules.includes(i)));
      const who = test.profile?.email ?? 'The tested person';
      mount(preview, h('h3', {}, 'Preview'),
        result.decision === 'denied'
          ? h('p', { id: 'preview-outcome' }, h('strong', {}, `${who} would be refused`), ': no rule matches and unmatched people are refused.')
          : h('p', { id: 'preview-outcome' }, `${who} would sign in with `,
            result.roles.length ? result.roles.map((r) => h('span', { class: 'tag' }, r)) : h('strong', {}, 'no roles'), '.'),
        h('p', { class: 'small muted' }, result.matched_rules.length
          ? `Matching rules: ${result.matched_rules.map((i) => i + 1).join(', ')} (outlined in green).` : 'No rule matches.'));
    } catch (error) {
      if (error.field?.startsWith('mapping.')) {
        showError(form, { ...error, field: error.field.slice('mapping.'.length) });
      } else {
        mount(preview, alertBox(error));
      }
    }
  }

  const defaults = h('div', { class: 'grid-2' },
    field({ label: 'Default role', name: 'default_role', value: mapping.default_role ?? '', hint: 'Given when no rule matches. Leave empty for none.' }),
    checkbox({ label: 'Refuse people no rule matches', name: 'deny_unmatched', checked: mapping.deny_unmatched, hint: 'Their sign-in stops with role_mapping_denied.' }));
  defaults.addEventListener('input', schedule);
  defaults.addEventListener('change', schedule);
  const save = h('button', { type: 'submit', class: 'btn btn-primary', id: 'save-rules' }, 'Save rules');
  const add = h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => addRule({ claim: 'groups', op: 'equals', value: '', role: '' }) }, 'Add rule');
  form.append(rulesBox, h('div', { class: 'actions' }, add), defaults, h('div', { class: 'actions' }, save));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    save.disabled = true;
    clearErrors(form);
    try {
      const saved = await ctx.api.put(orgPath(ctx.org.slug, '/role-mappings'), readMapping(form));
      rules = saved.rules;
      redraw();
      toast('Role rules saved');
      mount(status, h('p', { class: 'alert alert-success', role: 'status', id: 'rules-saved' }, `Saved ${saved.rules.length} rule(s).`));
    } catch (error) {
      showError(form, error);
    } finally {
      save.disabled = false;
    }
  });
  const status = h('div');
  redraw();
  if (claims) runPreview();
  else mount(preview, h('p', { class: 'muted' }, 'Run a test sign-in to preview the rules against real claims. ', h('a', { href: hrefOf('test') }, 'Run a test')));
  const adminNote = ctx.setupLink ? null : h('p', { class: 'alert alert-info' },
    'Rules replace the roles of people signing in through SSO. The console role ', h('code', {}, ADMIN_ROLE),
    ' given on the Members page stays, unless a rule grants it: then your IdP’s groups decide who administers this organization.');
  const headingId = uid('rules');
  return h('section', { class: 'card stack', aria: { labelledby: 'step-title' } },
    h('h2', { id: 'step-title', tabindex: '-1' }, 'Map groups to roles'),
    h('p', { class: 'muted' }, 'Every matching rule grants its role; apps receive the roles in the tokens’ roles claim. A list claim such as groups matches when any item does.'),
    adminNote,
    claims ? claimChips(claims, addRule) : null,
    h('h3', { id: headingId, class: 'sr-only' }, 'Rules'),
    form, status, preview,
    h('div', { class: 'actions' }, h('a', { class: 'btn btn-secondary', href: hrefOf('activate') }, 'Continue to activation')));
}
