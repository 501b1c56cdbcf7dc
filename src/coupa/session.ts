/**
 * What a page tells about the Coupa session: signed in, sent to sign-in (Coupa's form or a corporate
 * identity provider), or shown an error page. Written against coupa-notes.md, not against the stand-in.
 */
import type { Page, Response } from 'playwright-core';

/** Words in an identity provider's address (host or path). */
const IDP_WORDS = /login|signin|sign_in|sso|saml|oauth|okta|openid|pingfederate|authorization|adfs/i;
/** Coupa's own sign-in paths. */
const COUPA_SIGN_IN_PATH = /^\/(sessions(\/|$)|users\/sign_in|login|sso|saml|oauth|okta|openid)/i;

/** The texts of the error pages Coupa answers with (English; other languages still show the same elements). */
export const ERROR_PAGE_TEXTS = [
  /oops!? we couldn.t find what you wanted/i,
  /you are not authorized/i,
  /access denied/i,
  /the page you were looking for doesn.t exist/i,
  /not authorized to (view|access)/i,
];
const ERROR_SELECTORS = 'div.flash_error, #error_explanation, h1';

export function trimBase(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}

/**
 * True for Coupa's sign-in pages and for identity-provider pages. On the Coupa host only the path
 * counts, so a PO page whose query mentions "login" (a return_to, say) is not taken for one.
 */
export function isSignInUrl(url: string, baseUrl: string): boolean {
  let target: URL;
  let base: URL;
  try {
    target = new URL(url);
    base = new URL(baseUrl);
  } catch {
    return false;
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return false;
  if (target.host === base.host) return COUPA_SIGN_IN_PATH.test(target.pathname);
  return IDP_WORDS.test(target.host) || IDP_WORDS.test(target.pathname);
}

/** The error message a Coupa error page shows, or undefined when the page is not one. */
export async function errorPageMessage(page: Page): Promise<string | undefined> {
  const texts = await page.locator(ERROR_SELECTORS).allInnerTexts().catch(() => [] as string[]);
  for (const text of texts) {
    if (ERROR_PAGE_TEXTS.some((re) => re.test(text))) return text.trim().replace(/\s+/g, ' ').slice(0, 200);
  }
  return undefined;
}

/** A sign-in form on the page, whatever its URL (some tenants render it in place). */
export async function hasPasswordField(page: Page): Promise<boolean> {
  return (await page.locator('#user_password, input[type="password"]').count().catch(() => 0)) > 0;
}

export type SessionState = 'alive' | 'signed-out' | 'unreachable';

/**
 * Loads `<base>/`, which needs a session. `signed-out` covers both ways an ended session shows:
 * a redirect to sign-in, and the generic error page some tenants answer instead (see the notes).
 */
export async function sessionState(page: Page, baseUrl: string, timeoutMs = 15_000): Promise<SessionState> {
  let response: Response | null;
  try {
    response = await page.goto(`${trimBase(baseUrl)}/`, { waitUntil: 'domcontentloaded', timeout: timeoutMs });
  } catch {
    return 'unreachable';
  }
  const status = response?.status() ?? 0;
  if (status >= 500 || status === 429) return 'unreachable';
  if (isSignInUrl(page.url(), baseUrl) || (await hasPasswordField(page))) return 'signed-out';
  if (status >= 400 || (await errorPageMessage(page)) !== undefined) return 'signed-out';
  return 'alive';
}

export async function checkSessionAlive(page: Page, baseUrl: string, timeoutMs?: number): Promise<boolean> {
  return (await sessionState(page, baseUrl, timeoutMs)) === 'alive';
}

/**
 * Visits Coupa's sign-in page: while the identity provider still knows the user, it sends them
 * straight back in (possibly through several redirects or auto-submitted forms). Gives up early
 * when a form waits for a person to type a password.
 */
export async function ssoRoundTrip(page: Page, baseUrl: string, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  const base = new URL(baseUrl);
  try {
    await page.goto(`${trimBase(baseUrl)}/sessions/new`, { waitUntil: 'domcontentloaded', timeout: timeoutMs });
  } catch {
    return false;
  }
  let lastUrl = '';
  let stableSince = Date.now();
  while (Date.now() < until) {
    const url = page.url();
    let host = '';
    try {
      host = new URL(url).host;
    } catch {
      // about:blank and the like: keep waiting
    }
    if (host === base.host && !isSignInUrl(url, baseUrl)) return true;
    if (url !== lastUrl) {
      lastUrl = url;
      stableSince = Date.now();
    } else if (Date.now() - stableSince > 1_500 && (await hasPasswordField(page))) {
      return false;
    }
    await page.waitForTimeout(200).catch(() => undefined);
    if (page.isClosed()) return false;
  }
  return false;
}

/**
 * Signs in with Coupa's own form (the stand-in, tenants without SSO, and `po-pool login`). True when
 * the browser ends on a Coupa page that is not a sign-in page.
 */
export async function signInWithPassword(page: Page, baseUrl: string, email: string, password: string, timeoutMs = 30_000): Promise<boolean> {
  await page.goto(`${trimBase(baseUrl)}/sessions/new`, { waitUntil: 'domcontentloaded', timeout: timeoutMs });
  if (!isSignInUrl(page.url(), baseUrl)) return true;
  await page.locator('#user_email').fill(email, { timeout: timeoutMs });
  await page.locator('#user_password').fill(password, { timeout: timeoutMs });
  const signedIn = page.waitForURL((u) => !isSignInUrl(u.href, baseUrl), { timeout: timeoutMs, waitUntil: 'domcontentloaded' }).then(() => true);
  // A wrong password re-renders the form with a flash message instead of navigating away.
  // (After a navigation: the form may have shown a flash before, e.g. "please sign in".)
  const refused = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: timeoutMs })
    .then(() => page.locator('div.flash_error, #error_explanation').first().waitFor({ timeout: timeoutMs }))
    .then(() => false);
  const submit = page.locator('form #user_password').locator('xpath=ancestor::form//*[@type="submit"]').first();
  if ((await submit.count()) > 0) await submit.click({ timeout: timeoutMs });
  else await page.locator('#user_password').press('Enter');
  const ok = await Promise.race([signedIn, refused]).catch(() => false);
  signedIn.catch(() => undefined);
  refused.catch(() => undefined);
  return ok && !isSignInUrl(page.url(), baseUrl);
}
