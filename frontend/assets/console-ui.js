// The console's building blocks: elements built without innerHTML (every value is text), forms
// whose errors land on the field the API names, copy buttons, tables, dialogs and toasts.

/**
 * Makes an element: `h('button', { class: 'btn', onclick }, 'Save')`. Attributes starting
 * with `on` become listeners; `dataset` and `aria` objects set data-/aria- attributes; strings
 * and numbers among the children become text nodes; null/false children are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'aria') {
      for (const [name, v] of Object.entries(value)) el.setAttribute(`aria-${name}`, v);
    } else if (key === 'class') {
      el.className = value;
    } else if (key === 'value' && 'value' in el) {
      el.value = value;
    } else if (key === 'checked' || key === 'disabled' || key === 'selected') {
      el[key] = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? '' : value);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces `el`'s content with `children`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let ids = 0;
/** A unique element id with `prefix`. */
export function uid(prefix = 'f') {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** Shows a short message at the bottom right; errors stay a little longer. */
export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const item = h('div', { class: `toast ${kind}` }, message);
  box.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

/** A button copying `text()` (or `text`) to the clipboard, announcing the result. */
export function copyButton(text, label = 'Copy') {
  const button = h('button', { type: 'button', class: 'btn btn-secondary btn-sm' }, label);
  button.addEventListener('click', async () => {
    const value = typeof text === 'function' ? text() : text;
    try {
      await navigator.clipboard.writeText(value);
      button.textContent = 'Copied';
      toast('Copied to the clipboard');
    } catch {
      // Clipboard blocked (insecure context, permissions): select the text for the person.
      toast('Select the text and copy it with your keyboard', 'error');
    }
    setTimeout(() => { button.textContent = label; }, 1600);
  });
  return button;
}

/** A labelled read-only value with a copy button. */
export function copyField(label, value, { hint, name } = {}) {
  const id = uid('copy');
  const input = h('input', { id, readonly: true, value, name, spellcheck: 'false', onfocus: (e) => e.target.select() });
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  const copy = copyButton(() => input.value);
  copy.setAttribute('aria-label', `Copy ${label}`);
  return h('div', { class: 'copy-field' }, h('label', { for: id }, label), h('div', { class: 'copy-row' }, input, copy), hintEl);
}

/** Preformatted text with a copy button. */
export function codeBlock(text, label = 'Copy') {
  const copy = copyButton(text, label);
  return h('div', { class: 'code-block' }, h('pre', { tabindex: '0' }, h('code', {}, text)), copy);
}

/** A small status label; `kind` is success, warning, danger, info or neutral. */
export function badge(text, kind = 'neutral') {
  return h('span', { class: `badge ${kind}` }, text);
}

/** A page's title block, with optional breadcrumbs and actions. */
export function pageHeader(title, { subtitle, crumbs = [], actions = [] } = {}) {
  const trail = crumbs.length
    ? h('nav', { class: 'breadcrumbs', aria: { label: 'Breadcrumb' } },
      crumbs.flatMap(([text, href], i) => [i ? ' / ' : null, href ? h('a', { href }, text) : text]))
    : null;
  return h('div', { class: 'page-header' },
    h('div', {}, trail, h('h1', {}, title), subtitle ? h('p', {}, subtitle) : null),
    actions.length ? h('div', { class: 'actions' }, actions) : null);
}

/** A card with a heading and optional header actions. */
export function card(title, body, { actions = [], flush = false, id } = {}) {
  const headingId = uid('card');
  return h('section', { class: `card${flush ? ' flush' : ''}`, aria: { labelledby: headingId }, id },
    h('div', { class: 'card-header' }, h('h2', { id: headingId }, title), actions.length ? h('div', { class: 'actions' }, actions) : null),
    body);
}

/** A message for an empty list. */
export function emptyState(title, text, action) {
  return h('div', { class: 'empty' }, h('h3', {}, title), text ? h('p', {}, text) : null, action ? h('p', {}, action) : null);
}

/**
 * A table: `columns` are [header, (row) => cell]; rows with no entries show `empty`.
 * The first column is the row header for screen readers.
 */
export function table(columns, rows, { caption, empty = 'Nothing here yet.', rowAttrs } = {}) {
  if (!rows.length) return typeof empty === 'string' ? h('p', { class: 'empty' }, empty) : empty;
  const head = h('tr', {}, columns.map(([title]) => h('th', { scope: 'col' }, title)));
  const body = rows.map((row) => h('tr', rowAttrs ? rowAttrs(row) : {}, columns.map(([, cell, opts], i) => {
    const content = cell(row);
    const cls = opts?.actions ? 'actions-cell' : undefined;
    return i === 0 ? h('th', { scope: 'row', class: cls }, content) : h('td', { class: cls }, content);
  })));
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table' }, caption ? h('caption', { class: 'sr-only' }, caption) : null, h('thead', {}, head), h('tbody', {}, body)));
}

/**
 * A form field: label, control, hint and an error slot tied together for assistive
 * technology. `name` is the API's field name, so errors naming it land here.
 */
export function field({ label, name, type = 'text', value = '', hint, required, placeholder, autocomplete, options, rows, inputmode, spellcheck }) {
  const id = uid(name?.replace(/[^a-z0-9]/gi, '-') || 'f');
  let control;
  if (options) {
    control = h('select', { id, name }, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  } else if (type === 'textarea') {
    control = h('textarea', { id, name, rows: rows ?? 3, placeholder, spellcheck: spellcheck ?? 'false' }, value);
  } else {
    control = h('input', { id, name, type, value, placeholder, autocomplete, inputmode, spellcheck: spellcheck ?? (type === 'text' ? 'false' : undefined) });
  }
  if (required) control.required = true;
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  control.setAttribute('aria-describedby', [hintEl?.id, error.id].filter(Boolean).join(' '));
  return h('div', { class: 'field', dataset: { field: name ?? '' } }, h('label', { for: id }, label), control, hintEl, error);
}

/** A checkbox with its label. */
export function checkbox({ label, name, checked, hint }) {
  const id = uid(name || 'check');
  return h('div', { class: 'field' },
    h('label', { class: 'check', for: id }, h('input', { type: 'checkbox', id, name, checked }), h('span', {}, label)),
    hint ? h('p', { class: 'hint' }, hint) : null);
}

/** Clears the errors shown in `form`. */
export function clearErrors(form) {
  form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
  form.querySelectorAll('.field-error').forEach((el) => { el.hidden = true; el.textContent = ''; });
  form.querySelectorAll('.form-alert').forEach((el) => el.remove());
}

/**
 * Shows an API error in `form`: on the control whose `name` (or a `data-field` wrapper) is the
 * error's field, else as an alert at the top of the form. Focuses the control at fault.
 */
export function showError(form, error) {
  clearErrors(form);
  const name = error?.field;
  const find = (n) => form.querySelector(`[name="${CSS.escape(n)}"]`) ??
    form.querySelector(`[data-field="${CSS.escape(n)}"] input, [data-field="${CSS.escape(n)}"] select, [data-field="${CSS.escape(n)}"] textarea`);
  // `redirect_uris[1]` lands on the redirect_uris control when items have no control of their own.
  const control = name ? find(name) ?? find(name.replace(/\[\d+\].*$/, '')) : null;
  if (control) {
    control.setAttribute('aria-invalid', 'true');
    const box = form.querySelector(`#${CSS.escape(control.id)}-error`) ?? control.closest('.field')?.querySelector('.field-error');
    if (box) {
      box.textContent = error.message;
      box.hidden = false;
      control.focus();
      return;
    }
  }
  form.prepend(alertBox(error, 'form-alert'));
  form.querySelector('.form-alert')?.focus();
}

/** An error as a message someone can act on: its text, code and request id. */
export function alertBox(error, extraClass = '') {
  const code = error?.code ? h('code', {}, error.code) : null;
  return h('div', { class: `alert alert-error ${extraClass}`, role: 'alert', tabindex: '-1' },
    h('strong', {}, error?.message ?? String(error)), ' ', code,
    error?.requestId ? h('span', { class: 'muted small' }, ` · request ${error.requestId}`) : null);
}

/** Reads a form's named controls: text as trimmed strings, checkboxes as booleans, radio
 * groups as the checked value. */
export function values(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === 'radio') {
      if (el.checked) out[el.name] = el.value;
      else if (!(el.name in out)) out[el.name] = '';
      continue;
    }
    out[el.name] = el.type === 'checkbox' ? el.checked : el.value.trim();
  }
  return out;
}

/**
 * Runs `action` when `form` is submitted: the submit button shows progress, API errors go to
 * their fields. Resolves nothing; `action` does the rest.
 */
export function onSubmit(form, action) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = event.submitter ?? form.querySelector('[type="submit"]');
    if (button) { button.disabled = true; button.setAttribute('aria-busy', 'true'); }
    clearErrors(form);
    try {
      await action(values(form), form);
    } catch (error) {
      showError(form, error);
    } finally {
      if (button) { button.disabled = false; button.removeAttribute('aria-busy'); }
    }
  });
  return form;
}

/** Asks a yes/no question in a modal dialog; resolves true when confirmed. */
export function confirmDialog(title, message, { confirm = 'Confirm', danger = false } = {}) {
  return new Promise((resolve) => {
    const titleId = uid('dialog');
    const dialog = h('dialog', { aria: { labelledby: titleId } },
      h('h2', { id: titleId }, title), h('p', {}, message),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dialog.close('cancel') }, 'Cancel'),
        h('button', { type: 'button', class: `btn ${danger ? 'btn-danger solid' : 'btn-primary'}`, onclick: () => dialog.close('ok') }, confirm)));
    dialog.addEventListener('close', () => { dialog.remove(); resolve(dialog.returnValue === 'ok'); });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A date and time in the reader's locale. */
export function formatDate(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** "3 minutes ago", "in 2 days". */
export function relative(iso) {
  if (!iso) return 'never';
  const seconds = Math.round((new Date(iso) - Date.now()) / 1000);
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  for (const [unit, size] of [['day', 86400], ['hour', 3600], ['minute', 60]]) {
    if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  }
  return format.format(seconds, 'second');
}

/** A loading placeholder for `el` while `promise` runs; errors replace it with an alert. */
export async function loading(el, promise) {
  mount(el, h('p', { class: 'loading', role: 'status' }, 'Loading…'));
  try {
    return await promise;
  } catch (error) {
    mount(el, alertBox(error));
    throw error;
  }
}
