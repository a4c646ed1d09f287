// Passkeys and email-link sign-in in a real browser: headless Chromium (Debian's, never a
// downloaded one) driven by playwright-core, with a CDP virtual authenticator standing in for
// the platform authenticator (a resident-key, user-verifying "internal" CTAP2 device whose
// credentials are backup eligible and backed up, like a synced passkey).
//
// The flow: sign up by emailed link (the test reads the mail from its SMTP sink and writes the
// link to LINK_FILE), create a passkey on the prompt that follows, see it on the account page,
// sign out, then sign in again with the passkey alone (usernameless: no email typed).
//
// Environment: BASE_URL (http://localhost:PORT, a secure context with a host-name RP ID),
// EMAIL, LINK_FILE, SCREENSHOT_DIR, and optionally CHROMIUM (default /usr/bin/chromium).
// Prints one JSON line ({"ok":true,...}) and exits 0, or explains the failure and exits 1.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const base = env('BASE_URL').replace(/\/$/, '');
const email = env('EMAIL');
const linkFile = env('LINK_FILE');
const screenshotDir = env('SCREENSHOT_DIR');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = 20_000;

mkdirSync(screenshotDir, { recursive: true });
const screenshots = {};
const log = [];
let currentStep = 'start';

async function step(name, fn) {
  currentStep = name;
  log.push(name);
  return fn();
}

const pathIs = (expected) => (url) => url.pathname === expected;

async function screenshot(page, name) {
  const file = path.join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  screenshots[name] = file;
}

/** Waits for the test to write the emailed link to LINK_FILE. */
async function readLink() {
  const deadline = Date.now() + TIMEOUT;
  while (Date.now() < deadline) {
    if (existsSync(linkFile)) {
      const link = readFileSync(linkFile, 'utf8').trim();
      if (link) return link;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no sign-in link appeared in ${linkFile} within ${TIMEOUT / 1000} s`);
}

/** The text of #passkey-error when it is shown (what the page tells the user went wrong). */
async function passkeyError(page) {
  const box = page.locator('#passkey-error');
  if ((await box.count()) === 0 || !(await box.isVisible())) return null;
  return box.textContent();
}

/** Clicks `button` and waits for `expected` path, reporting the page's passkey error if any. */
async function clickAndWait(page, button, expected) {
  await page.locator(button).click();
  try {
    await page.waitForURL(pathIs(expected), { timeout: TIMEOUT });
  } catch (error) {
    const shown = await passkeyError(page).catch(() => null);
    throw new Error(
      `after clicking ${button}, expected ${expected} but stayed on ${page.url()}` +
        (shown ? `; the page says: ${shown}` : ''),
      { cause: error },
    );
  }
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const consoleErrors = [];
let page;
let exitCode = 0;
try {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  context.setDefaultTimeout(TIMEOUT);
  page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
  page.on('response', (response) => {
    if (response.status() >= 400) {
      consoleErrors.push(`HTTP ${response.status()} ${response.request().method()} ${response.url()}`);
    }
  });

  // The virtual authenticator answers an autofill (conditional) request at once, as if the
  // person had picked the passkey from the email field's suggestions; a real browser waits for
  // that choice. Turn autofill off so that the button is what signs in.
  await context.addInitScript(() => {
    if (window.PublicKeyCredential) {
      window.PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    }
  });
  const cdp = await context.newCDPSession(page);
  const authenticatorId = await step('add a virtual authenticator', async () => {
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
        defaultBackupEligibility: true,
        defaultBackupState: true,
      },
    });
    return authenticatorId;
  });

  await step('ask for an email link', async () => {
    await page.goto(`${base}/login`);
    assert.ok(
      await page.evaluate(() => window.isSecureContext),
      `${base} is not a secure context: WebAuthn needs localhost or https`,
    );
    await page.locator('#passkey-button').waitFor({ state: 'visible' });
    await page.locator('#email').fill(email);
    await screenshot(page, 'sign-in');
    await page.locator('#email-link-button').click();
    await page.waitForURL(pathIs('/login/check-email'));
  });

  await step('open the emailed link and continue', async () => {
    const link = await readLink();
    const url = new URL(link);
    assert.equal(url.origin, new URL(base).origin, `the mailed link ${link} is not on ${base}`);
    assert.equal(url.pathname, '/login/link');
    await page.goto(link);
    assert.ok(
      (await page.locator('main').textContent()).includes(email),
      'the confirm page names the address',
    );
    await page.locator('#continue').click();
    await page.waitForURL(pathIs('/account/passkey-prompt'));
    await screenshot(page, 'passkey-prompt');
  });

  await step('create a passkey', async () => {
    await clickAndWait(page, '#create-passkey', '/account');
    const rows = page.locator('tr[data-passkey-id]');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1, 'the account page lists one passkey');
    assert.match(await rows.first().textContent(), /synced/, 'the passkey is shown as synced');
    await screenshot(page, 'account');
  });

  const credential = await step('check the authenticator holds a resident credential', async () => {
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1, `the authenticator holds ${credentials.length} credentials`);
    const [credential] = credentials;
    assert.equal(credential.isResidentCredential, true, 'the credential is discoverable');
    assert.equal(credential.rpId, new URL(base).hostname);
    assert.ok(credential.userHandle, 'the credential carries a user handle');
    return credential;
  });

  await step('sign out', async () => {
    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.waitForURL(pathIs('/oauth2/end_session'));
    await page.locator('form[action="/oauth2/end_session"] button[type="submit"]').click();
    await page.getByText('You are signed out').waitFor();
    const response = await context.request.get(`${base}/account`, { maxRedirects: 0 });
    assert.equal(response.status(), 303, `GET /account after sign-out answered ${response.status()}`);
    const location = new URL(response.headers().location, base);
    assert.equal(location.pathname, '/login', `GET /account redirects to ${location}`);
    await page.goto(`${base}/account`);
    assert.equal(new URL(page.url()).pathname, '/login', `/account led to ${page.url()}`);
  });

  await step('sign in with the passkey alone', async () => {
    await page.goto(`${base}/login`);
    assert.equal(await page.locator('#email').inputValue(), '', 'no email is typed');
    await clickAndWait(page, '#passkey-button', '/account');
    const shown = await page.locator('section[aria-labelledby="email-heading"] strong').textContent();
    assert.equal(shown.trim(), email, 'the account page shows the signed-in address');
    const rows = page.locator('tr[data-passkey-id]');
    assert.equal(await rows.count(), 1, 'still one passkey');
    assert.doesNotMatch(await rows.first().textContent(), /never/, 'the passkey shows a last use');
  });

  await step('rename the passkey on the account page', async () => {
    const row = page.locator('tr[data-passkey-id]').first();
    await row.locator('input[name="name"]').fill('Work laptop');
    await Promise.all([
      page.waitForURL((url) => new URL(url).pathname === '/account'),
      row.getByRole('button', { name: 'Rename' }).click(),
    ]);
    const renamed = page.locator('tr[data-passkey-id]').first();
    assert.equal(await renamed.locator('input[name="name"]').inputValue(), 'Work laptop');
  });

  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  console.log(
    JSON.stringify({
      ok: true,
      email,
      steps: log,
      credential_id: credential.credentialId,
      rp_id: credential.rpId,
      sign_count: credentials[0]?.signCount,
      screenshots,
      console_errors: consoleErrors,
    }),
  );
} catch (error) {
  exitCode = 1;
  let url = null;
  if (page) {
    url = page.url();
    await page
      .screenshot({ path: path.join(screenshotDir, 'failure.png'), fullPage: true })
      .then(() => {
        screenshots.failure = path.join(screenshotDir, 'failure.png');
      })
      .catch(() => {});
  }
  const text = await page?.locator('body').innerText({ timeout: 1000 }).catch(() => null);
  console.error(`passkeys e2e failed at step "${currentStep}" on ${url}: ${error?.stack ?? error}`);
  if (error?.cause) console.error(`caused by: ${error.cause?.message ?? error.cause}`);
  if (text) console.error(`the page reads:\n${text}`);
  if (consoleErrors.length) console.error(`browser console errors:\n  ${consoleErrors.join('\n  ')}`);
  console.log(
    JSON.stringify({ ok: false, step: currentStep, url, error: String(error?.message ?? error), screenshots }),
  );
} finally {
  await browser.close().catch(() => {});
}
process.exit(exitCode);
