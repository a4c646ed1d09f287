// Passkey creation on the account page (#add-passkey) and after sign-up (#create-passkey).

import { clearError, credentialToJSON, postJSON, showError, toCreateOptions, webauthnAvailable } from '/assets/webauthn.js';

function guessName() {
  return 'Passkey on ' + (navigator.userAgentData?.platform || 'this device');
}

async function createPasskey() {
  const { ceremony, options } = await postJSON('/account/passkeys/options', {});
  const cred = await navigator.credentials.create({ publicKey: toCreateOptions(options.publicKey) });
  await postJSON('/account/passkeys', { ceremony, credential: credentialToJSON(cred), name: guessName() });
}

function wire(button, done) {
  if (!button) return;
  if (!webauthnAvailable()) {
    button.hidden = true;
    return;
  }
  button.addEventListener('click', async () => {
    clearError();
    button.disabled = true;
    try {
      await createPasskey();
      done();
    } catch (error) {
      showError(error);
      button.disabled = false;
    }
  });
}

const create = document.getElementById('create-passkey');
wire(create, () => location.assign(create.dataset.returnTo || '/account'));
wire(document.getElementById('add-passkey'), () => location.reload());
