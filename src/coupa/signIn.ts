/**
 * Making a base profile: a person signs in once in a visible browser (SSO or the form), or, for
 * the embedded stand-in, the demo signs itself in. Workers then start from copies of this profile.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';
import { isSignInUrl, signInWithPassword } from './session';
import { browserArgs, findBrowser, installHint } from '../shared/browsers.mjs';

export interface ProfileTarget {
  profileDir: string;
  coupaUrl: string;
  browser?: string;
}

async function openProfile(target: ProfileTarget, headless: boolean): Promise<BrowserContext> {
  const found = findBrowser(target.browser ?? 'auto');
  if (!found) throw new Error(`no browser found. ${installHint()}`);
  mkdirSync(target.profileDir, { recursive: true, mode: 0o700 });
  return chromium.launchPersistentContext(target.profileDir, {
    headless,
    ...(found.channel ? { channel: found.channel } : { executablePath: found.executablePath }),
    args: browserArgs(),
  });
}

/** A fresh profile signed in with a password (the stand-in, or a tenant without SSO). */
export async function createSignedInProfile(target: ProfileTarget & { email: string; password: string }): Promise<void> {
  rmSync(target.profileDir, { recursive: true, force: true });
  const context = await openProfile(target, true);
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await signInWithPassword(page, target.coupaUrl, target.email, target.password);
    if (isSignInUrl(page.url(), target.coupaUrl)) throw new Error(`signing in to ${target.coupaUrl} did not succeed`);
  } finally {
    await context.close();
  }
}

/**
 * A visible browser at Coupa's sign-in page; resolves once the person has reached a Coupa page that
 * is not a sign-in page (signed in), or closed the window, or the time ran out.
 */
export async function signInInteractive(target: ProfileTarget & { timeoutMs: number; signal?: AbortSignal }): Promise<{ signedIn: boolean; message: string }> {
  const context = await openProfile(target, false);
  const base = new URL(target.coupaUrl);
  // Cancelled by the person (the editor's Cancel, Ctrl-C): the window goes at once, not when the time runs out.
  const cancel = () => void context.close().catch(() => undefined);
  target.signal?.addEventListener('abort', cancel, { once: true });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${target.coupaUrl}/sessions/new`);
    const until = Date.now() + target.timeoutMs;
    while (Date.now() < until) {
      if (target.signal?.aborted) return { signedIn: false, message: 'signing in was cancelled' };
      if (page.isClosed()) return { signedIn: false, message: 'the browser window was closed before signing in finished' };
      const url = new URL(page.url());
      if (url.host === base.host && !isSignInUrl(page.url(), target.coupaUrl)) {
        return { signedIn: true, message: `signed in; the profile at ${target.profileDir} is ready for the pool` };
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    return { signedIn: false, message: `nobody finished signing in within ${Math.round(target.timeoutMs / 1000)} s` };
  } finally {
    target.signal?.removeEventListener('abort', cancel);
    await context.close().catch(() => undefined);
  }
}
