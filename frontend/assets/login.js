// Passkey sign-in on the sign-in page (autofill and button) and on the second-factor page.

import { clearError, credentialToJSON, postJSON, showError, toGetOptions, webauthnAvailable } from '/assets/webauthn.js';

let conditional = null;

function returnTo() {
  return document.querySelector('input[name="return_to"]')?.value ?? '';
}

async function getAssertion(mediation, signal) {
  const { ceremony, options } = await postJSON('/login/passkey/options', {});
  const request = { publicKey: toGetOptions(options.publicKey) };
  if (mediation) request.mediation = mediation;
  if (signal) request.signal = signal;
  const cred = await navigator.credentials.get(request);
  return { ceremony, credential: credentialToJSON(cred) };
}

async function finishLogin({ ceremony, credential }) {
  const { redirect } = await postJSON('/login/passkey', { ceremony, credential, return_to: returnTo() });
  location.assign(redirect);
}

/** Offers passkeys in the email field's autofill, when the browser can. */
async function startConditional() {
  if (!(await window.PublicKeyCredential?.isConditionalMediationAvailable?.())) return;
  const controller = new AbortController();
  conditional = controller;
  try {
    await finishLogin(await getAssertion('conditional', controller.signal));
  } catch (error) {
    // The background autofill request was not something the user asked for: a browser that
    // cancels it (no passkey saved, dismissed) is not an error worth showing.
    const quiet = ['AbortError', 'NotAllowedError'].includes(error?.name);
    if (!quiet && !controller.signal.aborted) showError(error);
  } finally {
    if (conditional === controller) conditional = null;
  }
}

const passkeyButton = document.getElementById('passkey-button');
if (passkeyButton) {
  if (!webauthnAvailable()) {
    passkeyButton.hidden = true;
  } else {
    startConditional().catch(showError);
    passkeyButton.addEventListener('click', async () => {
      conditional?.abort();
      conditional = null;
      clearError();
      passkeyButton.disabled = true;
      try {
        await finishLogin(await getAssertion());
      } catch (error) {
        if (error?.name !== 'AbortError') showError(error);
        passkeyButton.disabled = false;
        startConditional().catch(showError);
      }
    });
  }
}

// Enter in the password field signs in with the password, not by email link (the form's
// first button).
const password = document.getElementById('password');
const passwordButton = document.getElementById('password-button');
if (password && passwordButton) {
  password.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.isComposing && password.value !== '') {
      event.preventDefault();
      password.form?.requestSubmit(passwordButton);
    }
  });
}

const secondFactor = document.getElementById('second-factor-passkey');
if (secondFactor) {
  if (!webauthnAvailable()) {
    secondFactor.hidden = true;
  } else {
    secondFactor.addEventListener('click', async () => {
      clearError();
      secondFactor.disabled = true;
      try {
        const { ceremony, credential } = await getAssertion();
        const { redirect } = await postJSON('/login/second-factor/passkey', {
          ceremony,
          credential,
          ticket: secondFactor.dataset.ticket,
        });
        location.assign(redirect);
      } catch (error) {
        if (error?.name !== 'AbortError') showError(error);
        secondFactor.disabled = false;
      }
    });
  }
}
