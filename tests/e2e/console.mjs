// The admin console end to end, in headless Chromium (see browser.mjs for the set-up):
//
//   first-admin link → passkey → console → create an org → add a domain, publish its TXT record
//   (the test's DNS server), verify → connection wizard for a real oidc-provider IdP (Okta
//   preset): redirect URI read off the screen and registered at the IdP, a wrong issuer refused
//   inline, a cancelled and a successful test sign-in in a new tab, a group → role rule with a
//   live preview, activate → register an app → open a setup link without an account → sign a
//   user in through the app with openid-client: tokens carry the org and the role.
//
// Environment: BASE_URL, FIRST_ADMIN_LINK, WORK_DIR (DNS hand-over with the test), LINK_FILE,
// SCREENSHOT_DIR, optionally CHROMIUM. Prints one JSON line ({"ok":true,...}).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as client from 'openid-client';
import * as jose from 'jose';
import { TIMEOUT, base, env, run } from './browser.mjs';
import { cancelAtIdp, signInAtIdp, startIdp } from './idp.mjs';
import { startSamlIdp } from './saml-idp.mjs';

const firstAdminLink = env('FIRST_ADMIN_LINK');
const workDir = env('WORK_DIR');
const APP_CALLBACK = 'http://127.0.0.1:9/callback';

/** Asks the test to publish a TXT record, as an admin would at their DNS provider. */
async function publishTxt(name, value) {
  writeFileSync(path.join(workDir, 'dns.partial'), JSON.stringify({ name, value }));
  writeFileSync(path.join(workDir, 'dns.json'), readFileSync(path.join(workDir, 'dns.partial')));
  const deadline = Date.now() + TIMEOUT;
  while (!existsSync(path.join(workDir, 'dns.done'))) {
    if (Date.now() > deadline) throw new Error('the test did not publish the TXT record');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * What a screen reader or keyboard user would miss on the page: form controls without a label,
 * buttons and links without a name, images without alt text, duplicate ids.
 */
function accessibilityProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const named = (el) => (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.textContent.trim()) !== '';
    for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
      if (!el.labels?.length && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')) {
        problems.push(`unlabelled ${el.tagName.toLowerCase()} ${el.name || el.id}`);
      }
    }
    for (const el of document.querySelectorAll('button, a[href]')) {
      if (!named(el)) problems.push(`nameless ${el.tagName.toLowerCase()} ${el.outerHTML.slice(0, 80)}`);
    }
    for (const el of document.querySelectorAll('img:not([alt])')) problems.push(`image without alt ${el.src}`);
    const ids = [...document.querySelectorAll('[id]')].map((el) => el.id);
    for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i))) problems.push(`duplicate id ${id}`);
    if (!document.querySelector('h1')) problems.push('no h1');
    return problems;
  });
}

// The second organization's IdP speaks SAML (samlify), on another site than Tessera.
const samlIdp = await startSamlIdp({ name: 'globex', host: 'localhost' });
const idp = await startIdp('acme', {
  'alice@acme.test': { name: 'Alice Admin', email_verified: true, groups: ['acme-admins', 'everyone'] },
  'bob@acme.test': { name: 'Bob Builder', email_verified: true, groups: ['everyone'] },
});

await run(async (t) => {
  const { page, context } = t;
  const result = {};
  result.accessibility = {};
  // Full-page screenshots from the top, with the sticky header where it belongs; each page
  // screenshotted is also checked for what assistive technology needs.
  const screenshot = t.screenshot;
  t.screenshot = async (name) => {
    result.accessibility[name] = await accessibilityProblems(page);
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(name);
  };
  const nav = (name) => page.locator('#sidebar ul').first().getByRole('link', { name, exact: true }).click();

  await t.step('create the first admin with a passkey', async () => {
    await page.goto(firstAdminLink);
    await page.fill('#name', 'Rita Root');
    await page.fill('#email', 'rita@ops.test');
    await t.screenshot('console-1-first-admin');
    await page.click('#create-admin');
    await page.waitForURL((url) => url.pathname === '/admin');
    await page.getByRole('heading', { name: 'Organizations', level: 1 }).waitFor();
  });

  await t.step('create an organization', async () => {
    await page.fill('#create-org [name="name"]', 'Acme Corporation');
    assert.equal(await page.inputValue('#create-org [name="slug"]'), 'acme-corporation');
    await page.fill('#create-org [name="slug"]', 'acme');
    await page.click('#create-org button[type="submit"]');
    await page.waitForURL((url) => url.hash === '#/orgs/acme');
    await page.getByRole('heading', { name: 'Acme Corporation', level: 1 }).waitFor();
    await t.screenshot('console-2-org-overview');
    result.org_id = await page.evaluate(async () => (await (await fetch('/api/v1/organizations/acme')).json()).id);
  });

  await t.step('add and verify a domain through DNS', async () => {
    await nav('Domains');
    await page.fill('#add-domain [name="domain"]', 'acme.test');
    await page.click('#add-domain button[type="submit"]');
    const name = await page.locator('[name="txt-name"]').inputValue();
    const value = await page.locator('[name="txt-value"]').inputValue();
    assert.equal(name, '_tessera-challenge.acme.test');
    await t.screenshot('console-3-domain-record');
    await publishTxt(name, value);
    await page.click('[data-verify="acme.test"]');
    await page.getByText('Verified', { exact: true }).first().waitFor();
    await t.screenshot('console-4-domain-verified');
  });

  const clientId = 'tessera-acme';
  const clientSecret = `secret-${Math.random().toString(36).slice(2)}`;
  await t.step('wizard: choose the IdP', async () => {
    await nav('Connections');
    await page.getByRole('link', { name: 'Add connection' }).first().click();
    await page.getByRole('heading', { name: 'Which identity provider do your people use?' }).waitFor();
    // With the keyboard only: into the radio group, arrow to Okta, Enter submits.
    await page.locator('input[name="idp"]').first().focus();
    await page.keyboard.press('Space');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('input[name="idp"]:checked').inputValue(), 'okta');
    await t.screenshot('wizard-1-choose-idp');
    await page.keyboard.press('Enter');
  });

  await t.step('wizard: register Tessera at the IdP with the values shown', async () => {
    await page.getByRole('heading', { name: /Register Tessera in Okta Admin Console/ }).waitFor();
    const redirectUri = await page.getByRole('textbox', { name: 'Sign-in redirect URI', exact: true }).inputValue();
    assert.ok(redirectUri.startsWith(`${base}/sso/oidc/`), redirectUri);
    result.redirect_uri = redirectUri;
    await idp.register(clientId, clientSecret, redirectUri);
    await t.screenshot('wizard-2-register');
    await page.getByRole('link', { name: /I registered it/ }).click();
  });

  await t.step('wizard: connect (a wrong issuer is refused on its field)', async () => {
    await page.getByRole('heading', { name: 'Connect Okta' }).waitFor();
    await page.getByLabel('Okta domain (issuer)', { exact: true }).fill('http://127.0.0.1:9/not-an-idp');
    await page.getByLabel('Client ID', { exact: true }).fill(clientId);
    await page.getByLabel('Client secret', { exact: true }).fill(clientSecret);
    await page.getByRole('button', { name: 'Connect and check' }).click();
    const issuer = page.getByLabel('Okta domain (issuer)', { exact: true });
    await page.waitForFunction(() => document.querySelector('[name="issuer"]')?.getAttribute('aria-invalid') === 'true');
    const described = await issuer.getAttribute('aria-describedby');
    const message = await page.locator(`#${described.split(' ').pop()}`).textContent();
    assert.match(message, /could not reach|discovery/i, message);
    result.inline_error = message;
    await t.screenshot('wizard-3-connect-error');
    await issuer.fill(idp.issuer);
    await page.getByLabel('Client secret', { exact: true }).fill(clientSecret);
    await page.getByRole('button', { name: 'Connect and check' }).click();
    await page.getByRole('heading', { name: 'Test the sign-in' }).waitFor();
    result.connection_id = new URL(page.url()).hash.split('/')[4].split('?')[0];
  });

  await t.step('wizard: a cancelled test sign-in shows the failed check and a hint', async () => {
    await page.click('#start-test');
    const [tab] = await Promise.all([context.waitForEvent('page'), page.click('#open-test')]);
    await cancelAtIdp(tab, idp.issuer);
    await tab.close();
    await page.locator('#test-result[data-status="failed"]').waitFor();
    result.failed_test = (await page.locator('#test-error-code').textContent()).trim();
    assert.match(await page.locator('#test-result').textContent(), /How to fix it/);
    await t.screenshot('wizard-4-test-failed');
  });

  await t.step('wizard: a test sign-in shows claims, profile and roles', async () => {
    await page.click('#start-test');
    const [tab] = await Promise.all([context.waitForEvent('page'), page.click('#open-test')]);
    await signInAtIdp(tab, idp.issuer, 'alice@acme.test');
    await tab.getByText('Test login succeeded').waitFor();
    await tab.close();
    await page.locator('#test-result[data-status="succeeded"]').waitFor();
    const shown = await page.locator('#test-result').textContent();
    assert.match(shown, /alice@acme\.test/);
    assert.match(shown, /acme-admins/);
    await t.screenshot('wizard-4-test');
  });

  await t.step('wizard: map a group to a role with a live preview', async () => {
    await page.click('#to-roles');
    await page.getByRole('heading', { name: 'Map groups to roles' }).waitFor();
    await page.locator('button.chip', { hasText: 'acme-admins' }).click();
    await page.fill('[name="rules[0].role"]', 'admin');
    await page.fill('[name="default_role"]', 'member');
    await page.locator('#preview-outcome', { hasText: 'admin' }).waitFor();
    await page.locator('.rule.matched').waitFor();
    result.preview = (await page.locator('#preview-outcome').textContent()).trim();
    await t.screenshot('wizard-5-roles');
    await page.click('#save-rules');
    await page.locator('#rules-saved').waitFor();
  });

  await t.step('wizard: activate', async () => {
    await page.getByRole('link', { name: 'Continue to activation' }).click();
    await page.getByRole('heading', { name: 'Activate', exact: true }).waitFor();
    await page.click('#activate');
    await page.locator('#activated').waitFor();
    await page.getByLabel('Require single sign-on for people at your verified domains').check();
    await page.getByText('Only single sign-on from now on').waitFor();
    await t.screenshot('wizard-6-activate');
  });

  const app = await t.step('register an app and read its secret once', async () => {
    await nav('Apps');
    await page.fill('#register-app [name="name"]', 'Acme portal');
    await page.fill('#register-app [name="redirect_uris"]', APP_CALLBACK);
    await page.click('#register-app button[type="submit"]');
    await page.locator('#created-app .secret-once').waitFor();
    const secret = await page.locator('#created-app .secret-once input').inputValue();
    const id = (await page.locator('#created-app .secret-once code').textContent()).trim();
    assert.match(await page.locator('#created-app').textContent(), /openid-client/);
    await t.screenshot('console-5-apps');
    return { id, secret };
  });

  await t.step('SCIM, branding and audit pages render', async () => {
    await nav('SCIM provisioning');
    await page.getByRole('textbox', { name: 'SCIM base URL', exact: true }).waitFor();
    await t.screenshot('console-6-scim');
    await nav('Branding');
    await page.fill('#branding-form [name="display_name"]', 'Acme');
    await page.fill('#branding-form [name="color"]', '#0b5394');
    await page.click('#branding-form button[type="submit"]');
    await page.getByText('Branding saved').waitFor();
    await t.screenshot('console-7-branding');
    await nav('Audit log');
    await page.locator('#audit-results code', { hasText: 'connection.activated' }).first().waitFor();
    await t.screenshot('console-8-audit');
  });

  await t.step('a setup link opens the set-up without an account', async () => {
    await nav('Setup links');
    await page.fill('#new-setup-link [name="label"]', 'Jane, Acme IT');
    await page.click('#new-setup-link button[type="submit"]');
    const link = await page.locator('#created-link .secret-once input').inputValue();
    const stranger = await context.browser().newContext();
    const other = await stranger.newPage();
    await other.goto(link);
    await other.getByRole('heading', { name: 'Set up single sign-on for Acme Corporation' }).waitFor();
    assert.match(await other.locator('main').textContent(), /Verified: acme\.test/);
    await other.getByRole('link', { name: 'Open connections' }).click();
    await other.getByRole('link', { name: 'Acme Corporation Okta' }).waitFor();
    result.accessibility['setup-link'] = await accessibilityProblems(other);
    await other.screenshot({ path: path.join(env('SCREENSHOT_DIR'), 'setup-link.png'), fullPage: true });
    // The wizard runs there too, on the link's token alone.
    await other.getByRole('link', { name: 'Add connection' }).click();
    await other.locator('label.idp-option', { hasText: 'Other OpenID Connect IdP' }).click();
    await other.getByRole('button', { name: 'Continue' }).click();
    const uri = await other.getByRole('textbox', { name: 'Redirect URI (callback URL)', exact: true }).inputValue();
    assert.ok(uri.startsWith(`${base}/sso/oidc/`), uri);
    assert.equal((await stranger.cookies()).filter((c) => c.name.includes('session')).length, 0, 'no session');
    await stranger.close();
  });

  result.sign_in = await t.step('sign a user in through the app (openid-client)', async () => {
    const config = await client.discovery(new URL(base), app.id, undefined, client.ClientSecretBasic(app.secret),
      { execute: [client.allowInsecureRequests] });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: APP_CALLBACK, scope: 'openid email profile', state, nonce, organization: 'acme',
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const user = await context.browser().newContext();
    const tab = await user.newPage();
    let callback = null;
    await tab.route(`${APP_CALLBACK}**`, (route) => {
      callback = route.request().url();
      return route.fulfill({ status: 200, contentType: 'text/plain', body: 'signed in' });
    });
    await tab.goto(url.href);
    await signInAtIdp(tab, idp.issuer, 'alice@acme.test');
    await tab.waitForURL((u) => u.href.startsWith(APP_CALLBACK));
    await user.close();
    const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
      pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
    });
    const access = jose.decodeJwt(tokens.access_token);
    return { email: tokens.claims().email, org_id: access.org_id, roles: access.roles };
  });
  // The same wizard for a SAML IdP, in a second organization, ending with a user signed in
  // through the app with the role the rule gives.
  await t.step('SAML wizard: a second organization chooses a SAML 2.0 IdP', async () => {
    await page.goto(`${base}/admin#/`);
    await page.fill('#create-org [name="name"]', 'Globex');
    await page.fill('#create-org [name="slug"]', 'globex');
    await page.click('#create-org button[type="submit"]');
    await page.waitForURL((url) => url.hash === '#/orgs/globex');
    await nav('Connections');
    await page.getByRole('link', { name: 'Add connection' }).first().click();
    await page.locator('label.idp-option', { hasText: 'Other SAML 2.0 IdP' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: /Register Tessera in your identity provider/ }).waitFor();
    const entity = await page.getByRole('textbox', { name: 'SP entity ID (audience, identifier)', exact: true }).inputValue();
    const acs = await page.getByRole('textbox', { name: /^ACS URL/ }).inputValue();
    assert.ok(acs === `${entity}/acs` && entity.startsWith(`${base}/sso/saml/`), `${entity} ${acs}`);
    result.saml_sp = { entity, acs };
    await t.screenshot('wizard-saml-2-register');
    await page.getByRole('link', { name: /I registered it/ }).click();
  });

  await t.step('SAML wizard: connect with the IdP metadata URL (a wrong one is refused inline)', async () => {
    await page.getByRole('heading', { name: 'Connect Other SAML 2.0 IdP' }).waitFor();
    await page.getByLabel('IdP metadata URL', { exact: true }).fill(`${samlIdp.base}/not-metadata`);
    await page.getByRole('button', { name: 'Connect and check' }).click();
    await page.waitForFunction(() => document.querySelector('[name="metadata_url"]')?.getAttribute('aria-invalid') === 'true');
    result.saml_inline_error = (await page.locator('[data-field="metadata_url"] .field-error').textContent()).trim();
    await t.screenshot('wizard-saml-3-connect-error');
    await page.getByLabel('IdP metadata URL', { exact: true }).fill(samlIdp.metadataUrl);
    await page.getByRole('button', { name: 'Connect and check' }).click();
    await page.getByRole('heading', { name: 'Test the sign-in' }).waitFor();
    result.saml_connection_id = new URL(page.url()).hash.split('/')[4].split('?')[0];
    // The IdP admin imports Tessera's SP metadata (with its certificates) from the console.
    const spMetadata = await page.evaluate(async (id) =>
      (await fetch(`/sso/saml/${id}/metadata`)).text(), result.saml_connection_id);
    samlIdp.control({ sp: spMetadata, user: null });
  });

  await t.step('SAML wizard: a test sign-in at the IdP shows attributes, roles and the assertion', async () => {
    await page.click('#start-test');
    const [tab] = await Promise.all([context.waitForEvent('page'), page.click('#open-test')]);
    await tab.waitForSelector('input[name="email"]');
    await tab.fill('input[name="email"]', 'gina@globex.test');
    await tab.click('button[type="submit"]');
    await tab.getByText('Test login succeeded').waitFor();
    await tab.close();
    await page.locator('#test-result[data-status="succeeded"]').waitFor();
    assert.match(await page.locator('#test-result').textContent(), /gina@globex\.test/);
    await page.locator('details.assertion summary').click();
    assert.match(await page.locator('#test-assertion').textContent(), /Assertion/);
    await t.screenshot('wizard-saml-4-test');
  });

  await t.step('SAML wizard: a rule with a live preview, then activate', async () => {
    await page.click('#to-roles');
    await page.getByRole('heading', { name: 'Map groups to roles' }).waitFor();
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.fill('[name="rules[0].claim"]', 'email');
    await page.selectOption('[name="rules[0].op"]', 'matches');
    await page.fill('[name="rules[0].value"]', '.*@globex\\.test');
    await page.fill('[name="rules[0].role"]', 'staff');
    await page.locator('#preview-outcome', { hasText: 'staff' }).waitFor();
    await t.screenshot('wizard-saml-5-roles');
    await page.click('#save-rules');
    await page.locator('#rules-saved').waitFor();
    await page.getByRole('link', { name: 'Continue to activation' }).click();
    await page.click('#activate');
    await page.locator('#activated').waitFor();
    await page.goto(`${base}/admin#/orgs/globex/connections/${result.saml_connection_id}?step=connect`);
    await page.getByRole('link', { name: 'Download the SP metadata' }).waitFor();
    await t.screenshot('wizard-saml-6-connection');
  });

  const globexApp = await t.step('register Globex\'s app', async () => {
    await nav('Apps');
    await page.fill('#register-app [name="name"]', 'Globex portal');
    await page.fill('#register-app [name="redirect_uris"]', APP_CALLBACK);
    await page.click('#register-app button[type="submit"]');
    await page.locator('#created-app .secret-once').waitFor();
    return {
      id: (await page.locator('#created-app .secret-once code').textContent()).trim(),
      secret: await page.locator('#created-app .secret-once input').inputValue(),
    };
  });

  result.saml_sign_in = await t.step('sign a user in through the app and the SAML IdP', async () => {
    const config = await client.discovery(new URL(base), globexApp.id, undefined, client.ClientSecretBasic(globexApp.secret),
      { execute: [client.allowInsecureRequests] });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: APP_CALLBACK, scope: 'openid email profile', state, organization: 'globex',
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const user = await context.browser().newContext();
    const tab = await user.newPage();
    // The app's callback is never served: the request for it carries the code.
    const reached = tab.waitForRequest((request) => request.url().startsWith(APP_CALLBACK));
    await tab.goto(url.href);
    await tab.waitForSelector('input[name="email"]');
    await tab.fill('input[name="email"]', 'gina@globex.test');
    await tab.click('button[type="submit"]');
    const callback = (await reached).url();
    assert.ok(!new URL(callback).searchParams.has("error"), callback);
    await user.close();
    const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
      pkceCodeVerifier: verifier, expectedState: state,
    });
    const access = jose.decodeJwt(tokens.access_token);
    return { email: tokens.claims().email, org_id: access.org_id, roles: access.roles, amr: tokens.claims().amr };
  });
  await samlIdp.close();
  return result;
});
