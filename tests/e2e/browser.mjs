// What the browser end-to-end scripts share: headless Chromium (Debian's, never a downloaded
// one) driven by playwright-core, a CDP virtual authenticator standing in for the platform
// authenticator (a resident-key, user-verifying "internal" CTAP2 device whose credentials are
// backup eligible and backed up, like a synced passkey), the emailed link handed over by the
// test through LINK_FILE, screenshots in SCREENSHOT_DIR, and the one JSON line of the result.
//
// Environment: BASE_URL (http://localhost:PORT, a secure context with a host-name RP ID),
// LINK_FILE, SCREENSHOT_DIR, and optionally CHROMIUM (default /usr/bin/chromium).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const TIMEOUT = 20_000;

export function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

export const base = env('BASE_URL').replace(/\/$/, '');
const linkFile = env('LINK_FILE');
const screenshotDir = env('SCREENSHOT_DIR');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

export const pathIs = (expected) => (url) => url.pathname === expected;

/** Waits for the test to write the emailed link to LINK_FILE. */
export async function readLink() {
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

/**
 * Runs `scenario` in a fresh browser with a virtual authenticator, then prints
 * `{"ok": true, steps, screenshots, console_errors, ...what scenario returned}` and exits 0, or
 * explains the failure (step, URL, page text, console errors, failure.png) and exits 1.
 */
export async function run(scenario) {
  mkdirSync(screenshotDir, { recursive: true });
  const screenshots = {};
  const steps = [];
  const consoleErrors = [];
  let currentStep = 'start';
  let page;
  let exitCode = 0;
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
    // person had picked the passkey from the email field's suggestions; a real browser waits
    // for that choice. Turn autofill off so that a button is what uses the passkey.
    await context.addInitScript(() => {
      if (window.PublicKeyCredential) {
        window.PublicKeyCredential.isConditionalMediationAvailable = async () => false;
      }
    });
    const cdp = await context.newCDPSession(page);
    const t = {
      page,
      context,
      cdp,
      async step(name, fn) {
        currentStep = name;
        steps.push(name);
        return fn();
      },
      async screenshot(name) {
        const file = path.join(screenshotDir, `${name}.png`);
        await page.screenshot({ path: file, fullPage: true });
        screenshots[name] = file;
      },
      /** Clicks `button` and waits for `expected` path, reporting the page's passkey error. */
      async clickAndWait(button, expected) {
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
      },
    };
    t.authenticatorId = await t.step('add a virtual authenticator', async () => {
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
    const result = await scenario(t);
    console.log(
      JSON.stringify({ ok: true, ...result, steps, screenshots, console_errors: consoleErrors }),
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
    console.error(`e2e failed at step "${currentStep}" on ${url}: ${error?.stack ?? error}`);
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
}

/** Asks for an emailed link for `email` on the sign-in page and opens it when it comes. */
export async function signInByLink(t, email, { screenshot } = {}) {
  const { page } = t;
  await t.step('ask for an email link', async () => {
    await page.goto(`${base}/login`);
    assert.ok(
      await page.evaluate(() => window.isSecureContext),
      `${base} is not a secure context: WebAuthn needs localhost or https`,
    );
    await page.locator('#passkey-button').waitFor({ state: 'visible' });
    await page.locator('#email').fill(email);
    if (screenshot) await t.screenshot(screenshot);
    await page.locator('#email-link-button').click();
    await page.waitForURL(pathIs('/login/check-email'));
  });
  await t.step('open the emailed link and continue', async () => {
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
  });
}

/** Signs out through the account page's link and the end-session confirmation. */
export async function signOut(t) {
  const { page, context } = t;
  await t.step('sign out', async () => {
    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.waitForURL(pathIs('/oauth2/end_session'));
    await page.locator('form[action="/oauth2/end_session"] button[type="submit"]').click();
    await page.getByText('You are signed out').waitFor();
    const response = await context.request.get(`${base}/account`, { maxRedirects: 0 });
    assert.equal(response.status(), 303, `GET /account after sign-out answered ${response.status()}`);
    const location = new URL(response.headers().location, base);
    assert.equal(location.pathname, '/login', `GET /account redirects to ${location}`);
  });
}
