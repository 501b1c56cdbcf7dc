/**
 * The contract's Browser Session: one long-lived browser (local, on a profile copy; or remote, on a
 * Playwright browser server) whose Coupa session every task of this worker shares. Tasks get tabs.
 */
import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { RequestTrimmer } from '../coupa/pageResources';
import { checkSessionAlive, sessionState, ssoRoundTrip } from '../coupa/session';
import { scopeStorageState, sessionHosts } from '../coupa/storageScope';
import { ConfigurationError, NetworkError, SessionCorruptionError, TimeoutError } from '../protocol/errors';
import type { BrowserStorageState } from '../protocol/workerMessages';
import { browserArgs, findBrowser, findHeadlessShell, installHint } from '../shared/browsers.mjs';

export interface BrowserSessionOptions {
  baseUrl: string;
  /** This worker's profile copy (local browsers; for remote ones, where the cookies are read from). */
  profileDir: string;
  headless: boolean;
  /** 'auto' | 'chrome' | 'msedge' | 'chromium' | a path. */
  browser: string;
  /** False after the headless shell failed with this profile: the full browser instead. */
  headlessShell?: boolean;
  /** A Playwright browser-server `ws://` endpoint instead of a local browser. */
  remoteEndpoint?: string;
  /** For a remote browser: the cookies to start with, already read and scoped (else read from `profileDir`). */
  storageState?: BrowserStorageState;
  /** Milliseconds. */
  startupTimeout: number;
  /** Default false; true: tabs load no images, fonts, media or third-party requests (see pageResources.ts). */
  blockPageResources?: boolean;
  authTimeout?: number;
  recoveryTimeout?: number;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
  /** The browser disconnected or the context closed without `close()`: the session is gone for good. */
  onLost?: (reason: string) => void;
}

export interface TabHandle {
  id: string;
  taskId: string;
  page: Page;
}

function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    work.then(
      (v) => { clearTimeout(timer); resolve(v); },
      (e: unknown) => { clearTimeout(timer); reject(e); },
    );
  });
}

/**
 * What Playwright launches for the `browser` setting: the headless shell where it may stand in (see
 * findHeadlessShell), else the browser itself, by channel (Chrome, Edge) or by path.
 */
export function launchTarget(browser: string, shell: boolean): { executablePath?: string; channel?: string; name: string; shell?: true } {
  const headlessShell = shell ? findHeadlessShell(browser) : undefined;
  if (headlessShell) return { ...headlessShell, shell: true };
  const found = findBrowser(browser || 'auto');
  if (!found) throw new ConfigurationError('browser', `no browser found for "${browser}". ${installHint()}`);
  return found.channel ? { channel: found.channel, name: found.name } : { executablePath: found.executablePath, name: found.name };
}

function launchOptions({ channel, executablePath }: ReturnType<typeof launchTarget>, timeoutMs: number) {
  return { ...(channel ? { channel } : { executablePath }), args: browserArgs(), timeout: timeoutMs };
}

/**
 * The profile's cookies and local storage for the tenant and its identity provider only (see
 * storageScope.ts), read by opening the profile briefly in the full browser (headless): the browser
 * that wrote the profile reads its encrypted cookies, where a headless shell might not.
 */
export async function readScopedStorageState(profileDir: string, browser: string, baseUrl: string, timeoutMs: number): Promise<{ scoped: BrowserStorageState; cookiesInProfile: number; hosts: string[] }> {
  const read = async () => {
    const context = await chromium.launchPersistentContext(profileDir, { ...launchOptions(launchTarget(browser, false), timeoutMs), headless: true });
    try {
      return await context.storageState();
    } finally {
      await context.close().catch(() => undefined);
    }
  };
  const [state, hosts] = await Promise.all([read(), sessionHosts(baseUrl)]);
  return { scoped: scopeStorageState(state, hosts), cookiesInProfile: state.cookies.length, hosts };
}

export class BrowserSession {
  private context?: BrowserContext;
  private browser?: Browser;
  /** The tab that session checks run in, so task tabs never see sign-in pages. */
  private home?: Page;
  private readonly tabs = new Map<string, TabHandle>();
  private trimmer?: RequestTrimmer;
  /** The next task's tab, opened ahead. */
  private spare?: Promise<Page | undefined>;
  private closing = false;
  private lost = false;
  /** When the current Coupa session was (re)established. */
  startedAt?: number;
  /** The headless shell's path when this session runs in one. */
  shell?: string;

  constructor(private readonly options: BrowserSessionOptions) {}

  get isRemote(): boolean {
    return Boolean(this.options.remoteEndpoint);
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
    this.options.log?.(level, message);
  }


  async launch(): Promise<void> {
    if (this.context) throw new SessionCorruptionError('the browser session is already launched');
    const { remoteEndpoint, startupTimeout } = this.options;
    if (remoteEndpoint) {
      // A remote browser has no profile: the base profile's Coupa cookies travel with the new context.
      const storageState = this.options.storageState ?? (await this.readProfileCookies());
      this.browser = await chromium.connect(remoteEndpoint, { timeout: startupTimeout }).catch((err: Error) => {
        throw new NetworkError(`cannot connect to the browser at ${remoteEndpoint}: ${err.message.split('\n')[0]}`, { remoteEndpoint });
      });
      this.browser.on('disconnected', () => this.markLost('the remote browser disconnected'));
      this.context = await this.browser.newContext({ acceptDownloads: true, storageState });
    } else {
      const target = launchTarget(this.options.browser, this.options.headless && this.options.headlessShell !== false);
      this.context = await chromium.launchPersistentContext(this.options.profileDir, {
        ...launchOptions(target, this.options.startupTimeout),
        headless: this.options.headless,
        acceptDownloads: true,
      });
      this.shell = target.shell ? target.executablePath : undefined;
    }
    this.context.on('close', () => this.markLost('the browser closed (crashed or was killed)'));
    if (this.options.blockPageResources) this.trimmer = new RequestTrimmer(this.context, this.options.baseUrl);
    this.home = this.context.pages()[0] ?? (await this.context.newPage());
    await this.trimmer?.ready(this.home);
    this.log('debug', `browser session launched (${remoteEndpoint ? `remote ${remoteEndpoint}` : this.shell ? `headless shell ${this.shell}` : 'local'})`);
  }

  /** Coupa's and its identity provider's cookies in the profile copy (see storageScope.ts). */
  private async readProfileCookies(): Promise<BrowserStorageState | undefined> {
    if (!this.options.profileDir) return undefined;
    return (await readScopedStorageState(this.options.profileDir, this.options.browser, this.options.baseUrl, this.options.startupTimeout)).scoped;
  }

  private markLost(reason: string): void {
    if (this.closing || this.lost) return;
    this.lost = true;
    this.log('warn', reason);
    this.options.onLost?.(reason);
  }

  get isLost(): boolean {
    return this.lost;
  }

  private homePage(): Page {
    if (!this.context || !this.home || this.lost) throw new SessionCorruptionError('the browser session is not running');
    return this.home;
  }

  /** Alive as it is, or brought back by the identity provider; false when a person must sign in. */
  async authenticate(): Promise<boolean> {
    return this.establish(this.options.authTimeout ?? 30_000, 'authenticating');
  }

  /** Same steps as authenticate, on a tighter budget, after a task met an ended session. */
  async recoverSession(): Promise<boolean> {
    return this.establish(this.options.recoveryTimeout ?? 15_000, 'recovering the session');
  }

  private async establish(budgetMs: number, what: string): Promise<boolean> {
    const page = this.homePage();
    const until = Date.now() + budgetMs;
    const left = () => Math.max(1, until - Date.now());
    const steps = async (): Promise<boolean> => {
      const state = await sessionState(page, this.options.baseUrl, left());
      if (state === 'unreachable') throw new NetworkError(`Coupa at ${this.options.baseUrl} cannot be reached`);
      if (state === 'alive') return true;
      this.log('info', `${what}: the Coupa session has ended; trying the identity provider`);
      if (!(await ssoRoundTrip(page, this.options.baseUrl, left()))) return false;
      return checkSessionAlive(page, this.options.baseUrl, left());
    };
    const ok = await withTimeout(steps(), budgetMs, () => new TimeoutError(`${what} took longer than ${Math.round(budgetMs / 1000)} s`))
      .catch((err: unknown) => {
        if (err instanceof NetworkError) throw err;
        this.log('warn', `${what} failed: ${(err as Error).message}`);
        return false;
      });
    if (ok) this.startedAt = Date.now();
    this.log(ok ? 'info' : 'warn', ok ? `${what}: signed in to Coupa` : `${what}: a person must sign in to Coupa again`);
    return ok;
  }

  private async openTab(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    await this.trimmer?.ready(page);
    return page;
  }

  async createTab(taskId: string): Promise<TabHandle> {
    if (!this.context || this.lost) throw new SessionCorruptionError('the browser session is not running');
    const spare = await this.spare;
    this.spare = undefined;
    const page = spare && !spare.isClosed() ? spare : await this.openTab(this.context);
    // The next task's tab opens while this one works: a new tab's renderer and request filter take
    // tens of milliseconds that a PO would otherwise wait for (bench/RESULTS.md, "Lean path per PO").
    this.spare = this.openTab(this.context).catch(() => undefined);
    const handle: TabHandle = { id: randomUUID(), taskId, page };
    this.tabs.set(handle.id, handle);
    return handle;
  }

  async closeTab(handle: TabHandle): Promise<void> {
    this.tabs.delete(handle.id);
    await handle.page.close().catch(() => undefined);
  }

  /** Closes the browser (local) or this worker's context and connection (remote). */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closing = true;
    const work = (async () => {
      await this.context?.close().catch(() => undefined);
      await this.browser?.close().catch(() => undefined);
    })();
    await withTimeout(work, timeoutMs, () => new TimeoutError('closing the browser timed out')).catch((err: Error) => this.log('warn', err.message));
    this.tabs.clear();
    this.context = undefined;
    this.browser = undefined;
    this.home = undefined;
    this.trimmer = undefined;
    this.spare = undefined;
  }
}
