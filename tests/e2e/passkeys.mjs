// Passkeys and email-link sign-in in a real browser (see browser.mjs for the set-up).
//
// The flow: sign up by emailed link (the test reads the mail from its SMTP sink and writes the
// link to LINK_FILE), create a passkey on the prompt that follows, see it on the account page,
// sign out, then sign in again with the passkey alone (usernameless: no email typed).
//
// Environment: BASE_URL, EMAIL, LINK_FILE, SCREENSHOT_DIR, optionally CHROMIUM.
// Prints one JSON line ({"ok":true,...}) and exits 0, or explains the failure and exits 1.
import assert from 'node:assert/strict';
import { base, env, pathIs, run, signInByLink, signOut } from './browser.mjs';

const email = env('EMAIL');

await run(async (t) => {
  const { page, cdp } = t;

  await signInByLink(t, email, { screenshot: 'sign-in' });
  await t.screenshot('passkey-prompt');

  await t.step('create a passkey', async () => {
    await t.clickAndWait('#create-passkey', '/account');
    const rows = page.locator('tr[data-passkey-id]');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1, 'the account page lists one passkey');
    assert.match(await rows.first().textContent(), /synced/, 'the passkey is shown as synced');
    await t.screenshot('account');
  });

  const credential = await t.step('check the authenticator holds a resident credential', async () => {
    const { credentials } = await cdp.send('WebAuthn.getCredentials', {
      authenticatorId: t.authenticatorId,
    });
    assert.equal(credentials.length, 1, `the authenticator holds ${credentials.length} credentials`);
    const [credential] = credentials;
    assert.equal(credential.isResidentCredential, true, 'the credential is discoverable');
    assert.equal(credential.rpId, new URL(base).hostname);
    assert.ok(credential.userHandle, 'the credential carries a user handle');
    return credential;
  });

  await signOut(t);
  await t.step('the account page now asks to sign in', async () => {
    await page.goto(`${base}/account`);
    assert.equal(new URL(page.url()).pathname, '/login', `/account led to ${page.url()}`);
  });

  await t.step('sign in with the passkey alone', async () => {
    await page.goto(`${base}/login`);
    assert.equal(await page.locator('#email').inputValue(), '', 'no email is typed');
    await t.clickAndWait('#passkey-button', '/account');
    const shown = await page.locator('section[aria-labelledby="email-heading"] strong').textContent();
    assert.equal(shown.trim(), email, 'the account page shows the signed-in address');
    const rows = page.locator('tr[data-passkey-id]');
    assert.equal(await rows.count(), 1, 'still one passkey');
    assert.doesNotMatch(await rows.first().textContent(), /never/, 'the passkey shows a last use');
  });

  await t.step('rename the passkey on the account page', async () => {
    const row = page.locator('tr[data-passkey-id]').first();
    await row.locator('input[name="name"]').fill('Work laptop');
    await Promise.all([
      page.waitForURL(pathIs('/account')),
      row.getByRole('button', { name: 'Rename' }).click(),
    ]);
    const renamed = page.locator('tr[data-passkey-id]').first();
    assert.equal(await renamed.locator('input[name="name"]').inputValue(), 'Work laptop');
  });

  const { credentials } = await cdp.send('WebAuthn.getCredentials', {
    authenticatorId: t.authenticatorId,
  });
  return {
    email,
    credential_id: credential.credentialId,
    rp_id: credential.rpId,
    sign_count: credentials[0]?.signCount,
  };
});
