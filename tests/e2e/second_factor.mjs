// A passkey as the second factor after a password, in a real browser (see browser.mjs).
//
// The flow: sign up by emailed link, skip the passkey prompt, set a password and add a passkey
// on the account page, sign out; then an app sends the browser to sign in (AUTHORIZE_URL): the
// email and password lead to the second-factor page, the passkey finishes the sign-in, and the
// browser goes back to the app's redirect URI (REDIRECT_URI; the request is what counts, the
// site need not exist) with a code, which the test exchanges for tokens.
//
// Environment: BASE_URL, EMAIL, PASSWORD, AUTHORIZE_URL, REDIRECT_URI, LINK_FILE,
// SCREENSHOT_DIR, optionally CHROMIUM.
import assert from 'node:assert/strict';
import { base, env, pathIs, run, signInByLink, signOut } from './browser.mjs';

const email = env('EMAIL');
const password = env('PASSWORD');
const authorizeUrl = env('AUTHORIZE_URL');
const redirectUri = env('REDIRECT_URI');

await run(async (t) => {
  const { page } = t;

  await signInByLink(t, email);
  await t.step('skip the passkey prompt', async () => {
    await page.locator('#skip-passkey').click();
    await page.waitForURL(pathIs('/account'));
  });

  await t.step('set a password on the account page', async () => {
    await page.locator('#new-password').fill(password);
    await Promise.all([
      page.waitForURL(pathIs('/account')),
      page.getByRole('button', { name: 'Set password' }).click(),
    ]);
    await page.getByText('You can sign in with your password.').waitFor();
  });

  await t.step('add a passkey on the account page', async () => {
    await page.locator('#add-passkey').click();
    const rows = page.locator('tr[data-passkey-id]');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1, 'the account page lists one passkey');
    await t.screenshot('account-password-and-passkey');
  });

  await signOut(t);

  await t.step('the app sends the browser to sign in; email and password', async () => {
    await page.goto(authorizeUrl);
    await page.waitForURL(pathIs('/login'));
    await page.locator('#email').fill(email);
    await page.locator('#password').fill(password);
    await page.locator('#password-button').click();
    await page.waitForURL(pathIs('/login/second-factor'));
  });

  await t.step('the second-factor page offers the passkey', async () => {
    const button = page.locator('#second-factor-passkey');
    await button.waitFor({ state: 'visible' });
    assert.match(await page.locator('h1').textContent(), /Two-step verification/);
    await t.screenshot('second-factor');
    const response = await page.context().request.get(`${base}/account`, { maxRedirects: 0 });
    assert.equal(response.status(), 303, 'the password alone did not sign in');
  });

  // The app's redirect URI is not a real site: the request the browser makes to it, with the
  // code, is what the app would receive.
  const redirected = await t.step('the passkey finishes the sign-in and sends the browser back', async () => {
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.url().startsWith(redirectUri) && r.isNavigationRequest()),
      page.locator('#second-factor-passkey').click(),
    ]);
    return request.url();
  });

  const url = new URL(redirected);
  assert.ok(url.searchParams.get('code'), `no code in ${redirected}`);
  return { email, code: url.searchParams.get('code'), state: url.searchParams.get('state') };
});
