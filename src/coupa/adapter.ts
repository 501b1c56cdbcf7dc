/**
 * One PO in one tab: open its page, tell a missing PO from an ended session, find the attachments in
 * whichever markup the tenant uses, download each through the browser's download event, and publish
 * the files as `<downloadDir>/<PO>/` only once the PO is done. Written against coupa-notes.md.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Download, Frame, Page, Response } from 'playwright-core';
import {
  AuthenticationError, DownloadError, NetworkError, PONotFoundError, PoolError, SessionCorruptionError, TimeoutError,
  type WireError,
} from '../protocol/errors';
import { normalizePo } from '../protocol/po';
import type { DownloadedFile, POResult } from '../protocol/types';
import { sanitizeFileName } from './names';
import { errorPageMessage, hasPasswordField, isSignInUrl, sessionState, trimBase } from './session';

export interface AdapterOptions {
  baseUrl: string;
  downloadDir: string;
  maxDownloadBytes: number;
  /** Epoch ms by which to give up. */
  deadline: number;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

/** Waiting this long for a click to start a download means it will not. */
const DOWNLOAD_START_MS = 60_000;
const CLICK_MS = 5_000;
const SESSION_CHECK_MS = 15_000;
const MARK = 'data-po-pool-attachment';

/** An attachment as found on the page, marked in the DOM so it can be clicked later. */
interface Found {
  /** Absolute URL without a trailing /download (what de-duplicates the two markups), or a unique id. */
  key: string;
  name: string;
  mark: string;
}

interface Context {
  po: string;
  base: string;
  options: AdapterOptions;
  log: NonNullable<AdapterOptions['log']>;
}

function remaining(ctx: Context): number {
  return ctx.options.deadline - Date.now();
}

function timeoutError(ctx: Context, what: string): TimeoutError {
  return new TimeoutError(`${ctx.po}: ran out of time ${what}`, { poNumber: ctx.po });
}

function checkDeadline(ctx: Context, what: string): number {
  const left = remaining(ctx);
  if (left <= 0) throw timeoutError(ctx, what);
  return left;
}

/** Browser waits have no notion of our deadline (saveAs has no timeout at all): race them with it. */
function withDeadline<T>(ctx: Context, what: string, work: Promise<T>, onTimeout?: () => void): Promise<T> {
  const left = checkDeadline(ctx, what);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout?.();
      reject(timeoutError(ctx, what));
    }, left);
    work.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (err: unknown) => { clearTimeout(timer); reject(err); },
    );
  });
}

function isClosedError(err: unknown): boolean {
  return /Target page, context or browser has been closed|Target closed|browser has disconnected|Page closed/i
    .test((err as Error)?.message ?? '');
}

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

type Loaded = { ok: true } | { ok: false; message: string; status: number };

/**
 * Loads a Coupa page and sorts out what came back. Sign-in, rate limiting and server errors throw;
 * an error page is returned, because only a session check can say what it means.
 */
async function loadPage(page: Page, url: string, ctx: Context): Promise<Loaded> {
  const timeout = checkDeadline(ctx, `before loading ${url}`);
  let response: Response | null;
  try {
    response = await page.goto(url, { waitUntil: 'domcontentloaded', timeout });
  } catch (err) {
    throw navigationError(ctx, err, url);
  }
  const status = response?.status() ?? 0;
  if (isSignInUrl(page.url(), ctx.base) || (await hasPasswordField(page))) {
    throw new AuthenticationError(`${ctx.po}: Coupa sent the worker to sign in; the session has ended`);
  }
  if (status === 429 || status >= 500) {
    const wait = response ? retryAfterMs(response) : undefined;
    const what = status === 429 ? 'rate limited (429)' : `server error ${status}`;
    throw new NetworkError(`${ctx.po}: Coupa answered ${what}`, { status, ...(wait !== undefined ? { retryAfterMs: wait } : {}) });
  }
  if (status === 401) throw new AuthenticationError(`${ctx.po}: Coupa answered 401 (not signed in)`);
  if (status === 408) throw new NetworkError(`${ctx.po}: Coupa answered 408 (request timeout)`, { status });
  const message = await errorPageMessage(page);
  if (message !== undefined || status >= 400) return { ok: false, message: message ?? `HTTP ${status}`, status };
  return { ok: true };
}

/**
 * An error page can mean "no such PO" or, on some tenants, "your session has ended" (the pitfall in
 * the notes). A second tab loads a page that needs a session to tell which.
 */
async function sessionAfterErrorPage(page: Page, ctx: Context): Promise<'alive' | 'signed-out'> {
  const timeout = Math.min(SESSION_CHECK_MS, checkDeadline(ctx, 'checking the session'));
  const probe = await page.context().newPage();
  try {
    const state = await sessionState(probe, ctx.base, timeout);
    if (state === 'unreachable') throw new NetworkError(`${ctx.po}: Coupa showed an error page and then could not be reached to check the session`);
    return state;
  } finally {
    await probe.close().catch(() => undefined);
  }
}

async function readHeader(page: Page): Promise<{ supplier?: string; status?: string }> {
  return page.evaluate(() => {
    const clean = (text: string | null | undefined) => (text ?? '').replace(/\s+/g, ' ').trim() || undefined;
    const first = (selectors: string[]) => {
      for (const selector of selectors) {
        for (const el of Array.from(document.querySelectorAll(selector))) {
          const text = clean(el.textContent);
          if (text && text.length < 200) return text;
        }
      }
      return undefined;
    };
    // A label ("Supplier") followed by its value, for tenants without telling class names.
    const labelled = (label: RegExp) => {
      for (const el of Array.from(document.querySelectorAll('label, th, dt, .label, span, div'))) {
        if (el.children.length === 0 && label.test(clean(el.textContent) ?? '')) {
          const value = clean(el.nextElementSibling?.textContent);
          if (value && value.length < 200) return value;
        }
      }
      return undefined;
    };
    return {
      supplier: first(['.supplier_name', '#supplier_name', '[data-field="supplier"]', '.order_header_supplier a', '.supplier a'])
        ?? labelled(/^supplier:?$/i),
      status: first(['.order_header_title .status', 'h1 .status', '.status_label', '#order_header_status', '[data-field="status"]'])
        ?? labelled(/^status:?$/i),
    };
  }).catch(() => ({}));
}

/**
 * Finds attachments in both markups (the span widget, plain links and blob links), marks each in the
 * DOM, and drops duplicates (the same file can be reachable from a widget and a link).
 */
async function markAttachments(page: Page): Promise<Found[]> {
  return page.evaluate((mark) => {
    const found: { key: string; name: string; mark: string }[] = [];
    const seen = new Set<string>();
    const keyOf = (url: string) => {
      try {
        const u = new URL(url, location.href);
        u.hash = '';
        return u.href.replace(/\/download\/?(?=$|\?)/, '');
      } catch {
        return url;
      }
    };
    const add = (el: Element, key: string, name: string) => {
      if (seen.has(key)) return;
      seen.add(key);
      const id = String(found.length);
      el.setAttribute(mark, id);
      found.push({ key, name, mark: id });
    };
    const widgets = document.querySelectorAll(
      '[aria-label*="file attachment" i], li.attachment [role="button"][title], .attachment-file [role="button"][title]',
    );
    widgets.forEach((el, i) => {
      const url = el.closest('li.attachment')?.getAttribute('data-url') ?? el.closest('.attachment-file')?.getAttribute('data-url') ??
        el.getAttribute('data-url');
      const name = el.getAttribute('title') || (el.getAttribute('aria-label') ?? '').replace(/\s*file attachment\s*$/i, '') ||
        (el.textContent ?? '').trim();
      add(el, url ? keyOf(url) : `widget:${i}`, name);
    });
    for (const a of Array.from(document.querySelectorAll<HTMLAnchorElement>('a[href*="attachment" i], a[href*="download" i], a[download]'))) {
      const href = a.getAttribute('href') ?? '';
      if (!href || href.startsWith('#') || /^(javascript|mailto):/i.test(href)) continue;
      // Upload and edit forms are attachment links too, but not files.
      if (/\/(new|edit)\/?$/.test(href.split('?')[0])) continue;
      if (a.closest(`[${mark}]`) || a.querySelector(`[${mark}]`)) continue;
      const url = new URL(href, location.href);
      const fromUrl = url.searchParams.get('filename') ?? decodeURIComponent(url.pathname.split('/').filter(Boolean).pop() ?? '');
      const name = (a.getAttribute('download') || (a.textContent ?? '').trim() || a.getAttribute('title') || fromUrl).replace(/\s+/g, ' ');
      add(a, keyOf(href), name);
      // A new window would take the download event away from this tab.
      a.removeAttribute('target');
      // Same-origin links then always download, even when the server answers with a web page, so that
      // case is caught by the HTML check instead of navigating the tab away.
      if (url.origin === location.origin && !a.hasAttribute('download')) a.setAttribute('download', '');
    }
    return found;
  }, MARK);
}

/** The floating toolbar covers elements and takes their clicks. */
async function hideToolbar(page: Page): Promise<void> {
  await page.evaluate(() => {
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('.floatingSectionOnTop, .orderHeaderShowFloatingSection'))) {
      el.style.setProperty('display', 'none', 'important');
    }
  }).catch(() => undefined);
}

type Triggered = { download: Download } | { navigatedTo: string; status: number };

/** Clicks an attachment and waits for what it starts: a download, or (a viewer page) a navigation. */
async function triggerDownload(page: Page, item: Found, ctx: Context): Promise<Triggered> {
  const timeout = Math.min(DOWNLOAD_START_MS, checkDeadline(ctx, `before downloading ${item.name}`));
  const target = page.locator(`[${MARK}="${item.mark}"]`).first();
  let onNavigated: ((frame: Frame) => void) | undefined;
  let status = 0;
  const onResponse = (response: Response) => {
    if (response.request().isNavigationRequest() && response.frame() === page.mainFrame()) status = response.status();
  };
  page.on('response', onResponse);
  const navigated = new Promise<string>((resolve) => {
    onNavigated = (frame) => {
      if (frame === page.mainFrame()) resolve(frame.url());
    };
    page.on('framenavigated', onNavigated);
  });
  const download = page.waitForEvent('download', { timeout });
  download.catch(() => undefined);
  try {
    await target.scrollIntoViewIfNeeded({ timeout: CLICK_MS }).catch(() => undefined);
    try {
      await target.click({ timeout: CLICK_MS });
    } catch (err) {
      if (isClosedError(err)) throw err;
      // Still covered or not "visible" to Playwright: the element's own click handler works regardless.
      ctx.log('debug', `${ctx.po}: clicking ${item.name} failed (${(err as Error).message.split('\n')[0]}); dispatching the click`);
      await target.dispatchEvent('click');
    }
    return await Promise.race([
      download.then((d) => ({ download: d })),
      navigated.then((url) => ({ navigatedTo: url, status })),
    ]);
  } catch (err) {
    if (isClosedError(err)) throw new SessionCorruptionError(`${ctx.po}: the browser tab closed while downloading`);
    if ((err as Error)?.name === 'TimeoutError') {
      if (remaining(ctx) <= 0) throw timeoutError(ctx, `waiting for ${item.name} to download`);
      throw new NetworkError(`${item.name}: no download started within ${Math.round(timeout / 1000)} s`);
    }
    throw err;
  } finally {
    if (onNavigated) page.off('framenavigated', onNavigated);
    page.off('response', onResponse);
  }
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function looksLikeHtml(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(512), 0, 512, 0);
    const head = buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').trimStart();
    return /^(<!doctype html|<html|<head|<body)/i.test(head);
  } finally {
    await handle.close();
  }
}

/** A web page where a file should be: the file failed, and the session may have ended (see the notes). */
class WebPageInstead extends DownloadError {
  constructor(name: string, readonly navigated: boolean) {
    super(`${name}: Coupa answered with a web page instead of the file`);
  }
}

/** Tries per file when it fails for a reason that may pass (5xx, 429, a broken transfer). */
const DOWNLOAD_ATTEMPTS = 3;
const downloadBackoffMs = (attempt: number) => Math.min(4_000, 500 * 2 ** attempt);

/** A server error shown as a page after the tab navigated away: worth a retry, and the list must be reloaded. */
class NavigatedError extends NetworkError {
  readonly navigated = true;
}

async function downloadOne(page: Page, item: Found, workDir: string, taken: Set<string>, ctx: Context): Promise<DownloadedFile> {
  const triggered = await triggerDownload(page, item, ctx);
  if ('navigatedTo' in triggered) {
    if (isSignInUrl(triggered.navigatedTo, ctx.base)) {
      throw new AuthenticationError(`${ctx.po}: downloading ${item.name} led to sign-in; the session has ended`);
    }
    // The widget navigates to the file; an error status then shows as a page, not as a failed download.
    if (triggered.status === 429 || triggered.status >= 500) {
      throw new NavigatedError(`${item.name}: Coupa answered ${triggered.status} to the download`, { status: triggered.status });
    }
    throw new WebPageInstead(item.name, true);
  }
  const { download } = triggered;
  const failure = await withDeadline(ctx, `downloading ${item.name}`, download.failure(), () => void download.cancel().catch(() => undefined));
  if (failure) {
    await download.delete().catch(() => undefined);
    throw new NetworkError(`${item.name}: the download failed (${failure})`);
  }
  const suggested = download.suggestedFilename();
  // Without Content-Disposition the browser names the file after the URL ("download"): the page knows better.
  const original = !suggested || /^download(\.\w+)?$/i.test(suggested) ? item.name || suggested : suggested;
  const name = sanitizeFileName(original, taken);
  const path = join(workDir, name);
  try {
    await withDeadline(ctx, `saving ${item.name}`, download.saveAs(path));
    // Playwright keeps its own copy until the browser closes; a long-lived worker must not pile them up.
    await download.delete().catch(() => undefined);
    const bytes = (await stat(path)).size;
    if (bytes === 0) throw new DownloadError(`${item.name}: the file is empty`);
    if (bytes > ctx.options.maxDownloadBytes) {
      throw new DownloadError(`${item.name}: ${bytes} bytes is more than the ${ctx.options.maxDownloadBytes}-byte limit`, { bytes });
    }
    // The name the page listed decides: a sign-in page saved in its place is named after the page ("new.html").
    const meantAsHtml = /\.html?$/i.test(item.name || original);
    if (!meantAsHtml && (await looksLikeHtml(path))) throw new WebPageInstead(item.name, false);
    return { name, originalName: item.name || original, path, bytes, sha256: await sha256(path) };
  } catch (err) {
    taken.delete(name);
    await rm(path, { force: true }).catch(() => undefined);
    if (err instanceof PoolError || isClosedError(err)) throw err;
    throw new DownloadError(`${item.name}: cannot save the file: ${(err as Error)?.message ?? String(err)}`);
  }
}

/** Errors that end the PO at once instead of failing one file. */
function endsThePo(err: unknown): boolean {
  return err instanceof TimeoutError || err instanceof AuthenticationError || err instanceof SessionCorruptionError ||
    !(err instanceof PoolError);
}

/** Replaces `<downloadDir>/<PO>` by the finished working folder; a previous folder (a redo) goes only once the new one is in place. */
async function publish(workDir: string, finalDir: string): Promise<void> {
  let previous: string | undefined;
  if (existsSync(finalDir)) {
    previous = `${workDir}.previous`;
    await rename(finalDir, previous);
  }
  try {
    await rename(workDir, finalDir);
  } catch (err) {
    if (previous) await rename(previous, finalDir).catch(() => undefined);
    throw new DownloadError(`cannot move the finished files to ${finalDir}: ${(err as Error).message}`);
  }
  if (previous) await rm(previous, { recursive: true, force: true }).catch(() => undefined);
}

function summary(failures: { item: Found; error: PoolError }[], total: number): string {
  const parts = failures.map((f) => f.error.message);
  return `${failures.length} of ${total} attachment${total === 1 ? '' : 's'} failed: ${parts.join('; ')}`;
}

export async function processPo(page: Page, poNumber: string, options: AdapterOptions): Promise<POResult> {
  const startedAt = Date.now();
  const parsed = normalizePo(poNumber);
  if (!parsed.ok) throw new PONotFoundError(`${poNumber}: ${parsed.reason}`, { invalid: true, reason: parsed.reason });
  const ctx: Context = {
    po: parsed.poNumber,
    base: trimBase(options.baseUrl),
    options,
    log: options.log ?? (() => undefined),
  };
  const workDir = join(options.downloadDir, '.work', `${parsed.poNumber}-${randomBytes(4).toString('hex')}`);
  let navigationMs = 0;
  let downloadMs = 0;

  const load = async (url: string): Promise<Loaded> => {
    const t = Date.now();
    try {
      const loaded = await loadPage(page, url, ctx);
      if (loaded.ok) await hideToolbar(page);
      return loaded;
    } finally {
      navigationMs += Date.now() - t;
    }
  };

  try {
    const poUrl = `${ctx.base}/order_headers/${parsed.id}`;
    const loaded = await load(poUrl);
    if (!loaded.ok) {
      if ((await sessionAfterErrorPage(page, ctx)) === 'signed-out') {
        throw new AuthenticationError(`${ctx.po}: Coupa showed an error page and the session has ended`);
      }
      throw new PONotFoundError(`${ctx.po}: not found in Coupa (${loaded.message})`, { status: loaded.status });
    }
    const header = await readHeader(page);
    let pageUrl = poUrl;
    let source: 'po' | 'requisition' = 'po';
    let items = await markAttachments(page);

    if (items.length === 0) {
      // The page has loaded: a link that is not there now will not appear, so don't wait for it.
      const link = page.locator('a[href*="/requisition_headers/"]').first();
      const href = (await link.count()) ? await link.getAttribute('href') : null;
      const requisitionUrl = href ? new URL(href, page.url()) : undefined;
      if (requisitionUrl && requisitionUrl.host === new URL(ctx.base).host) {
        const req = await load(requisitionUrl.href);
        if (req.ok) {
          items = await markAttachments(page);
          if (items.length) {
            source = 'requisition';
            pageUrl = requisitionUrl.href;
          }
        } else if ((await sessionAfterErrorPage(page, ctx)) === 'signed-out') {
          throw new AuthenticationError(`${ctx.po}: the requisition showed an error page and the session has ended`);
        } else {
          ctx.log('info', `${ctx.po}: no attachments on the PO, and its requisition is not accessible (${req.message})`);
        }
      }
    }

    const base: Omit<POResult, 'status' | 'files' | 'timings'> = {
      poNumber: ctx.po,
      ...(header.supplier ? { supplier: header.supplier } : {}),
      attachments: items.map((i) => i.name),
      source,
    };
    if (items.length === 0) {
      ctx.log('debug', `${ctx.po}: no attachments`);
      return { ...base, status: 'NO_ATTACHMENTS', files: [], timings: { startedAt, finishedAt: Date.now(), navigationMs, downloadMs } };
    }
    ctx.log('debug', `${ctx.po}: ${items.length} attachment(s) on the ${source === 'po' ? 'PO' : 'requisition'} page${header.status ? ` (status ${header.status})` : ''}`);

    await mkdir(workDir, { recursive: true });
    const taken = new Set<string>();
    const files: DownloadedFile[] = [];
    const failures: { item: Found; error: PoolError }[] = [];
    let marks = new Map(items.map((i) => [i.key, i.mark]));
    let reload = false;
    const t = Date.now();
    for (const item of items) {
      for (let attempt = 1; ; attempt++) {
        if (reload) {
          // A click took the tab to another page: back to the list, whose marks are gone with the old DOM.
          const again = await load(pageUrl);
          if (!again.ok) throw new NetworkError(`${ctx.po}: the page could not be loaded again (${again.message})`);
          marks = new Map((await markAttachments(page)).map((i) => [i.key, i.mark]));
          reload = false;
        }
        const mark = marks.get(item.key);
        try {
          if (mark === undefined) throw new DownloadError(`${item.name}: no longer on the page`);
          files.push(await downloadOne(page, { ...item, mark }, workDir, taken, ctx));
          break;
        } catch (err) {
          if (endsThePo(err)) throw err;
          if (err instanceof NavigatedError) reload = true;
          if (err instanceof WebPageInstead) {
            reload = err.navigated;
            // A web page where a file should be is what an ended session looks like on some tenants.
            if ((await sessionAfterErrorPage(page, ctx)) === 'signed-out') {
              throw new AuthenticationError(`${ctx.po}: downloading ${item.name} gave a web page and the session has ended`);
            }
          }
          // A passing server error or broken transfer costs this one file a short wait, not the PO
          // a PARTIAL outcome (which is final) or a retry of every file.
          const wait = downloadBackoffMs(attempt);
          if (err instanceof NetworkError && attempt < DOWNLOAD_ATTEMPTS && remaining(ctx) > wait + 5_000) {
            ctx.log('info', `${ctx.po}: ${(err as Error).message}; trying it again in ${wait} ms`);
            await new Promise((r) => setTimeout(r, wait));
            continue;
          }
          ctx.log('warn', `${ctx.po}: ${(err as Error).message}`);
          failures.push({ item, error: err as PoolError });
          break;
        }
      }
    }
    downloadMs = Date.now() - t;

    if (files.length === 0) {
      const network = failures.some((f) => f.error instanceof NetworkError);
      const message = `${ctx.po}: ${summary(failures, items.length)}`;
      // Rate limiting is passed on as such: the pool slows down as a whole when it sees it.
      const limited = failures.some((f) => f.error.data?.status === 429);
      throw network ? new NetworkError(message, limited ? { status: 429 } : undefined) : new DownloadError(message);
    }
    checkDeadline(ctx, 'before publishing the files');
    const finalDir = join(options.downloadDir, ctx.po);
    await publish(workDir, finalDir);
    const published = files.map((f) => ({ ...f, path: join(finalDir, f.name) }));
    const error: WireError | undefined = failures.length
      ? { kind: failures[0].error.kind, message: summary(failures, items.length), data: { failed: failures.map((f) => f.item.name) } }
      : undefined;
    return {
      ...base,
      status: failures.length ? 'PARTIAL' : 'COMPLETED',
      files: published,
      folder: finalDir,
      timings: { startedAt, finishedAt: Date.now(), navigationMs, downloadMs },
      ...(error ? { error } : {}),
    };
  } catch (err) {
    await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
    if (err instanceof PoolError) throw err;
    if (isClosedError(err)) throw new SessionCorruptionError(`${ctx.po}: the browser tab closed: ${(err as Error).message.split('\n')[0]}`);
    // The download folder itself (missing, read-only, full): retrying as if Coupa were down would not help.
    if ((err as NodeJS.ErrnoException)?.syscall) throw new DownloadError(`${ctx.po}: cannot write the files: ${(err as Error).message}`);
    throw new NetworkError(`${ctx.po}: ${(err as Error)?.message ?? String(err)}`);
  }
}
