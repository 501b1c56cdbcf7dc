/**
 * Loading Coupa pages and telling what came back: the page, a real error page, or an ended session.
 * An ended session shows either as sign-in or, on tenants behind an identity provider, as the generic
 * error page, which looks exactly like a missing PO. So an error page is believed only when the session
 * was alive before the load that showed it; otherwise the session is renewed and the page loaded once
 * more, and that load decides.
 */
import type { Page, Response } from 'playwright-core';
import { AuthenticationError, NetworkError, PoolError, SessionCorruptionError } from '../protocol/errors';
import { checkDeadline, isClosedError, remaining, timeoutError, withDeadline, type Context } from './context';
import { checkSession, errorPageMessage, hasPasswordField, isSignInHop, redirectChain } from './session';

const SESSION_CHECK_MS = 15_000;

type Loaded =
  | { kind: 'page' }
  | { kind: 'sign-in' }
  | { kind: 'error-page'; message: string; status: number; passedSignIn: boolean };

export type Opened = { ok: true } | { ok: false; message: string; status: number };

/** What a failed `page.goto` means for the task. */
function navigationError(ctx: Context, err: unknown, url: string): PoolError {
  if (err instanceof PoolError) return err;
  const message = (err as Error)?.message ?? String(err);
  if (isClosedError(err)) return new SessionCorruptionError(`${ctx.po}: the browser tab closed while loading ${url}`);
  if ((err as Error)?.name === 'TimeoutError') {
    return remaining(ctx) <= 0 ? timeoutError(ctx, `loading ${url}`) : new NetworkError(`${ctx.po}: ${url} did not load in time`);
  }
  const code = /net::(ERR_[A-Z_]+)/.exec(message)?.[1];
  if (code) return new NetworkError(`${ctx.po}: cannot load ${url} (${code})`, { code });
  return new NetworkError(`${ctx.po}: cannot load ${url}: ${message.split('\n')[0]}`);
}

function retryAfterMs(response: Response): number | undefined {
  const value = response.headers()['retry-after'];
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** One load. Rate limiting and server errors throw: they are the same whatever the session. */
async function loadPage(page: Page, url: string, ctx: Context): Promise<Loaded> {
  const timeout = checkDeadline(ctx, `before loading ${url}`);
  let response: Response | null;
  try {
    response = await page.goto(url, { waitUntil: 'domcontentloaded', timeout });
  } catch (err) {
    throw navigationError(ctx, err, url);
  }
  const status = response?.status() ?? 0;
  if (status === 401 || isSignInHop(page.url(), ctx.base) || (await hasPasswordField(page))) return { kind: 'sign-in' };
  if (status === 429 || status >= 500) {
    const wait = response ? retryAfterMs(response) : undefined;
    const what = status === 429 ? 'rate limited (429)' : `server error ${status}`;
    throw new NetworkError(`${ctx.po}: Coupa answered ${what}`, { status, ...(wait !== undefined ? { retryAfterMs: wait } : {}) });
  }
  if (status === 408) throw new NetworkError(`${ctx.po}: Coupa answered 408 (request timeout)`, { status });
  const message = await errorPageMessage(page);
  if (message === undefined && status < 400) return { kind: 'page' };
  const passedSignIn = redirectChain(response).some((hop) => isSignInHop(hop, ctx.base));
  return { kind: 'error-page', message: message ?? `HTTP ${status}`, status, passedSignIn };
}

/**
 * What the session had come to: alive all along, ended and renewed on the way by the identity
 * provider (a probe through sign-in comes back signed in), or ended for good until someone renews it.
 */
export type SessionNow = 'alive' | 'renewed' | 'ended';

/** Asks in the PO's second tab, so the page being worked on (and shown as evidence) stays as it is. */
export async function probeSession(page: Page, ctx: Context): Promise<SessionNow> {
  const timeout = Math.min(SESSION_CHECK_MS, checkDeadline(ctx, 'checking the session'));
  if (!ctx.probe || ctx.probe.isClosed()) ctx.probe = await page.context().newPage();
  const { state, passedSignIn } = await checkSession(ctx.probe, ctx.base, timeout);
  if (state === 'unreachable') throw new NetworkError(`${ctx.po}: Coupa could not be reached to check the session`);
  if (state === 'signed-out') return 'ended';
  return passedSignIn ? 'renewed' : 'alive';
}

/**
 * After a sign that the session had ended: a session the provider renewed already is used as it is
 * (with short-lived sessions, a second renewal would only eat into the new one); an ended one is
 * renewed through the caller, and AuthenticationError when that needs a person or there is no caller.
 */
export async function restoreSession(ctx: Context, session: Exclude<SessionNow, 'alive'>, why: string): Promise<void> {
  ctx.log('info', `${ctx.po}: the Coupa session had ended (${why}); ${session === 'renewed' ? 'the identity provider renewed it' : 'renewing it'}`);
  if (session === 'renewed') return;
  const renew = ctx.options.renewSession;
  if (!renew) throw new AuthenticationError(`${ctx.po}: the Coupa session has ended (${why})`);
  checkDeadline(ctx, 'before renewing the session');
  if (!(await withDeadline(ctx, 'renewing the session', renew()))) {
    throw new AuthenticationError(`${ctx.po}: the Coupa session has ended (${why}) and cannot be renewed without a person`);
  }
}

/**
 * Opens a Coupa page. Returns an error page only when it was shown to a session that was alive before
 * the load; an ended session is renewed and the page loaded once more (never more), and that load decides.
 */
export async function openPage(page: Page, url: string, ctx: Context): Promise<Opened> {
  for (let renewed = false; ; renewed = true) {
    const loaded = await loadPage(page, url, ctx);
    if (loaded.kind === 'page') return { ok: true };
    let session: Exclude<SessionNow, 'alive'> = 'ended';
    if (loaded.kind === 'error-page') {
      const now = loaded.passedSignIn ? 'renewed' : await probeSession(page, ctx);
      if (now === 'alive') return { ok: false, message: loaded.message, status: loaded.status };
      session = now;
    }
    if (renewed) throw new AuthenticationError(`${ctx.po}: the Coupa session ended again right after it was renewed`);
    await restoreSession(ctx, session, loaded.kind === 'sign-in' ? `Coupa sent ${url} to sign in` : `${url} showed an error page`);
  }
}
