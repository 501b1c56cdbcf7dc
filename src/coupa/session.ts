/**
 * What a page tells about the Coupa session: signed in, sent to sign-in (Coupa's form or a corporate
 * identity provider), or shown an error page. Written against how real tenants behave, not against the
 * stand-in: an identity provider whose own session is alive renews Coupa's silently, so a load can pass
 * through sign-in and still end on a normal page.
 */
import type { Frame, Page, Response } from 'playwright-core';
import { COUPA_SIGN_IN_PATH, ERROR_MESSAGE, ERROR_PAGE_TEXTS, IDP_WORDS, PASSWORD_FIELD } from './selectors';

/** Client-side hops (a self-submitting SAML form, a script redirect) start only once a page has loaded. */
const SETTLE_MS = 300;
const LOAD_WAIT_MS = 5_000;

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

/**
 * A step of a Coupa page load that went through sign-in: a sign-in address, or any other host, since
 * Coupa serves its pages from its own host and only sends a browser elsewhere to be signed in.
 */
export function isSignInHop(url: string, baseUrl: string): boolean {
  if (isSignInUrl(url, baseUrl)) return true;
  try {
    const target = new URL(url);
    return (target.protocol === 'http:' || target.protocol === 'https:') && target.host !== new URL(baseUrl).host;
  } catch {
    return false;
  }
}

/** Every address an HTTP redirect chain passed through, ending with the response's own. */
export function redirectChain(response: Response | null): string[] {
  const urls: string[] = [];
  for (let request = response?.request() ?? null; request; request = request.redirectedFrom()) urls.unshift(request.url());
  return urls;
}

/** The error message a Coupa error page shows, or undefined when the page is not one. */
export async function errorPageMessage(page: Page): Promise<string | undefined> {
  const texts = await page.locator(ERROR_MESSAGE).allInnerTexts().catch(() => [] as string[]);
  for (const text of texts) {
    if (ERROR_PAGE_TEXTS.some((re) => re.test(text))) return text.trim().replace(/\s+/g, ' ').slice(0, 200);
  }
  return undefined;
}

/** A sign-in form on the page, whatever its URL (some tenants render it in place). */
export async function hasPasswordField(page: Page): Promise<boolean> {
  return (await page.locator(PASSWORD_FIELD).count().catch(() => 0)) > 0;
}

export type SessionState = 'alive' | 'signed-out' | 'unreachable';

export interface SessionCheck {
  /** Whether Coupa can be used now (after any silent renewal on the way). */
  state: SessionState;
  /**
   * The load went through sign-in, in its redirects or in a navigation of the page itself: the session
   * had ended before the check, even when the identity provider renewed it on the way.
   */
  passedSignIn: boolean;
}

/**
 * Loads `<base>/`, which needs a session, and watches every step of the way. `signed-out` covers both
 * ways an ended session ends up: on a sign-in page, and on the generic error page some tenants answer
 * instead. An `alive` answer waits for the page to settle, so a client-side hop to sign-in is seen too.
 */
export async function checkSession(page: Page, baseUrl: string, timeoutMs = 15_000): Promise<SessionCheck> {
  const until = Date.now() + timeoutMs;
  const visited: string[] = [];
  const onNavigated = (frame: Frame) => {
    if (frame === page.mainFrame()) visited.push(frame.url());
  };
  page.on('framenavigated', onNavigated);
  const passedSignIn = () => visited.some((url) => isSignInHop(url, baseUrl));
  try {
    let response: Response | null;
    try {
      response = await page.goto(`${trimBase(baseUrl)}/`, { waitUntil: 'domcontentloaded', timeout: timeoutMs });
    } catch {
      // A load cut short on its way through sign-in says the session had ended, not that Coupa is down.
      return { state: passedSignIn() ? 'signed-out' : 'unreachable', passedSignIn: passedSignIn() };
    }
    visited.push(...redirectChain(response));
    const status = response?.status() ?? 0;
    if (status >= 500 || status === 429) return { state: 'unreachable', passedSignIn: passedSignIn() };
    const signedOut = isSignInHop(page.url(), baseUrl) || (await hasPasswordField(page)) || status >= 400 ||
      (await errorPageMessage(page)) !== undefined;
    if (signedOut) return { state: 'signed-out', passedSignIn: passedSignIn() };
    if (!passedSignIn()) {
      await page.waitForLoadState('load', { timeout: Math.max(1, Math.min(LOAD_WAIT_MS, until - Date.now())) }).catch(() => undefined);
      await page.waitForTimeout(SETTLE_MS).catch(() => undefined);
      if (isSignInHop(page.url(), baseUrl)) return { state: 'signed-out', passedSignIn: true };
    }
    return { state: 'alive', passedSignIn: passedSignIn() };
  } finally {
    page.off('framenavigated', onNavigated);
  }
}

/** Whether Coupa can be used now; a session the identity provider renewed on the way counts as alive. */
export async function sessionState(page: Page, baseUrl: string, timeoutMs = 15_000): Promise<SessionState> {
  return (await checkSession(page, baseUrl, timeoutMs)).state;
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
 * Signs in with a password form: Coupa's own (tenants without SSO, `po-pool login`), or the one its
 * sign-in sends the browser to (the stand-in's identity provider uses the same field ids). True when
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
