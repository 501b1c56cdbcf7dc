/**
 * Downloading a page's attachments through the browser's download event, each into the PO's working
 * folder, with a few tries for failures that pass. A web page where a file should be is first taken for
 * what it usually is, an ended session: renewed, the same file is asked for again at no cost to its tries.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Download, Frame, Page, Response } from 'playwright-core';
import { AuthenticationError, DownloadError, NetworkError, PoolError, SessionCorruptionError, TimeoutError } from '../protocol/errors';
import type { DownloadedFile } from '../protocol/types';
import { checkDeadline, isClosedError, remaining, timeoutError, withDeadline, type Context } from './context';
import { sanitizeFileName } from './names';
import { openPage, probeSession, restoreSession } from './navigation';
import { hideToolbar, markAttachments, MARK, type Found } from './pageReader';
import { isSignInHop } from './session';

/** Waiting this long for a click to start a download means it will not. */
const DOWNLOAD_START_MS = 60_000;
const CLICK_MS = 5_000;
/** How long an identity provider may take to bring a tab back from sign-in. */
const BOUNCE_MS = 10_000;
/** Tries per file when it fails for a reason that may pass (5xx, 429, a broken transfer). */
const DOWNLOAD_ATTEMPTS = 3;
const downloadBackoffMs = (attempt: number) => Math.min(4_000, 500 * 2 ** attempt);
/** Sessions that end again and again while one file is fetched are no longer a passing state. */
const RENEWALS_PER_FILE = 3;

export interface Failure {
  item: Found;
  error: PoolError;
}

/** A web page where a file should be: the file failed, unless the session had ended. */
class WebPageInstead extends DownloadError {
  constructor(name: string, readonly passedSignIn: boolean) {
    super(`${name}: Coupa answered with a web page instead of the file`);
  }
}

type Triggered = { download: Download } | { navigatedTo: string; status: number; passedSignIn: boolean };

/**
 * Clicks an attachment and waits for what it starts: a download, or (a viewer page, an error page,
 * sign-in) a navigation. A navigation through sign-in may still end in the file: an identity provider
 * that knows the user sends the tab straight back to the address it asked for.
 */
async function triggerDownload(page: Page, item: Found, ctx: Context): Promise<Triggered> {
  const timeout = Math.min(DOWNLOAD_START_MS, checkDeadline(ctx, `before downloading ${item.name}`));
  const target = page.locator(`[${MARK}="${item.mark}"]`).first();
  let status = 0;
  let passedSignIn = false;
  const onResponse = (response: Response) => {
    if (response.request().isNavigationRequest() && response.frame() === page.mainFrame()) status = response.status();
  };
  let onNavigated: ((frame: Frame) => void) | undefined;
  let bounce: NodeJS.Timeout | undefined;
  const navigated = new Promise<string>((resolve) => {
    onNavigated = (frame) => {
      if (frame !== page.mainFrame()) return;
      if (!isSignInHop(frame.url(), ctx.base)) return resolve(frame.url());
      // Give the provider a while to bring the tab back (to the file, or to a page) before calling it stuck.
      if (!passedSignIn) bounce = setTimeout(() => resolve(page.url()), Math.min(BOUNCE_MS, Math.max(0, remaining(ctx))));
      passedSignIn = true;
    };
    page.on('framenavigated', onNavigated);
  });
  page.on('response', onResponse);
  const download = page.waitForEvent('download', { timeout });
  download.catch(() => undefined);
  try {
    await target.scrollIntoViewIfNeeded({ timeout: CLICK_MS }).catch(() => undefined);
    try {
      // A click waits for the navigation it starts (a widget's, to a slow file): not past the deadline.
      await target.click({ timeout: Math.min(CLICK_MS, Math.max(1, remaining(ctx))) });
    } catch (err) {
      if (isClosedError(err)) throw err;
      checkDeadline(ctx, `clicking ${item.name}`);
      // Still covered or not "visible" to Playwright: the element's own click handler works regardless.
      ctx.log('debug', `${ctx.po}: clicking ${item.name} failed (${(err as Error).message.split('\n')[0]}); dispatching the click`);
      await target.dispatchEvent('click');
    }
    return await Promise.race([
      download.then((d) => ({ download: d })),
      navigated.then((url) => ({ navigatedTo: url, status, passedSignIn })),
    ]);
  } catch (err) {
    if (isClosedError(err)) throw new SessionCorruptionError(`${ctx.po}: the browser tab closed while downloading`);
    if ((err as Error)?.name === 'TimeoutError') {
      if (remaining(ctx) <= 0) throw timeoutError(ctx, `waiting for ${item.name} to download`);
      throw new NetworkError(`${item.name}: no download started within ${Math.round(timeout / 1000)} s`);
    }
    throw err;
  } finally {
    clearTimeout(bounce);
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

async function downloadOne(page: Page, item: Found, workDir: string, taken: Set<string>, ctx: Context): Promise<DownloadedFile> {
  const triggered = await triggerDownload(page, item, ctx);
  if ('navigatedTo' in triggered) {
    // The widget navigates to the file; an error status then shows as a page, not as a failed download.
    if (!triggered.passedSignIn && (triggered.status === 429 || triggered.status >= 500)) {
      throw new NetworkError(`${item.name}: Coupa answered ${triggered.status} to the download`, { status: triggered.status });
    }
    throw new WebPageInstead(item.name, triggered.passedSignIn);
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
    await chmod(path, 0o600);
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

/**
 * Every attachment of the page at `pageUrl` into `workDir`. Returns what came and what failed for good;
 * throws what ends the PO (time, a session that needs a person, a closed tab).
 */
export async function downloadAll(page: Page, pageUrl: string, items: Found[], workDir: string, ctx: Context):
  Promise<{ files: DownloadedFile[]; failures: Failure[] }> {
  const taken = new Set<string>();
  const files: DownloadedFile[] = [];
  const failures: Failure[] = [];
  let marks = new Map(items.map((i) => [i.key, i.mark]));
  for (const item of items) {
    let attempt = 1;
    let renewals = 0;
    for (;;) {
      // A click took the tab to another page (an error or viewer page, or sign-in and on to the file):
      // back to the list, whose marks went with the old page.
      if ((await page.locator(`[${MARK}]`).count().catch(() => 0)) === 0) {
        const again = await openPage(page, pageUrl, ctx);
        if (!again.ok) throw new NetworkError(`${ctx.po}: the page could not be loaded again (${again.message})`);
        await hideToolbar(page);
        marks = new Map((await markAttachments(page, ctx)).map((i) => [i.key, i.mark]));
      }
      const mark = marks.get(item.key);
      try {
        if (mark === undefined) throw new DownloadError(`${item.name}: no longer on the page`);
        files.push(await downloadOne(page, { ...item, mark }, workDir, taken, ctx));
        break;
      } catch (err) {
        if (endsThePo(err)) throw err;
        const session = err instanceof WebPageInstead ? (err.passedSignIn ? 'renewed' : await probeSession(page, ctx)) : 'alive';
        if (session !== 'alive') {
          if (++renewals > RENEWALS_PER_FILE) {
            throw new AuthenticationError(`${ctx.po}: the Coupa session ended ${RENEWALS_PER_FILE} times while downloading ${item.name}`);
          }
          await restoreSession(ctx, session, `${item.name} answered with a web page`);
          continue;
        }
        // A passing server error or broken transfer costs this one file a short wait, not the PO
        // a PARTIAL outcome (which is final) or a retry of every file.
        const wait = downloadBackoffMs(attempt);
        if (err instanceof NetworkError && attempt < DOWNLOAD_ATTEMPTS && remaining(ctx) > wait + 5_000) {
          ctx.log('info', `${ctx.po}: ${(err as Error).message}; trying it again in ${wait} ms`);
          await new Promise((r) => setTimeout(r, wait));
          attempt++;
          continue;
        }
        ctx.log('warn', `${ctx.po}: ${(err as Error).message}`);
        failures.push({ item, error: err as PoolError });
        break;
      }
    }
  }
  return { files, failures };
}
