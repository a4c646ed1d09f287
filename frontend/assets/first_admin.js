// The first-admin page: the person behind the one-time link gives their name and email and
// creates a passkey; Tessera makes them the first instance administrator and signs them in.

import { credentialToJSON, postJSON, showError, toCreateOptions, webauthnAvailable } from '/assets/webauthn.js';

const form = document.getElementById('first-admin');
const button = document.getElementById('create-admin');
const base = `/admin/first-admin/${encodeURIComponent(form.dataset.token)}`;

function fieldError(name, message) {
  const input = document.getElementById(name);
  const box = document.getElementById(`${name}-error`);
  input.setAttribute('aria-invalid', 'true');
  input.setAttribute('aria-describedby', box.id);
  box.textContent = message;
  box.hidden = false;
  input.focus();
}

function clearErrors() {
  for (const name of ['name', 'email']) {
    document.getElementById(name).removeAttribute('aria-invalid');
    const box = document.getElementById(`${name}-error`);
    box.hidden = true;
    box.textContent = '';
  }
  document.getElementById('passkey-error').hidden = true;
}

if (!webauthnAvailable()) {
  showError(new Error('This browser cannot create passkeys here. Open the link in a current browser, at the address Tessera is configured with (TESSERA_PUBLIC_URL).'));
  button.disabled = true;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors();
  const name = form.elements.name.value.trim();
  const email = form.elements.email.value.trim();
  if (!name) return fieldError('name', 'Enter your name.');
  if (!email) return fieldError('email', 'Enter your work email.');
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    const { ceremony, options } = await postJSON(`${base}/options`, { email, name });
    const cred = await navigator.credentials.create({ publicKey: toCreateOptions(options.publicKey) });
    const { redirect } = await postJSON(base, { ceremony, credential: credentialToJSON(cred) });
    location.assign(redirect);
  } catch (error) {
    if (error.field === 'email' || error.field === 'name') fieldError(error.field, error.message);
    else showError(error);
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
});
