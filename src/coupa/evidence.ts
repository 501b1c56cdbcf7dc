/**
 * What a PO's tab showed when the PO did not end well, kept for whoever must find out why: a
 * screenshot and the page's HTML in `<downloadDir>/po-pool-evidence/`. Readable by the owner only: a
 * PO page holds prices, suppliers and people's names.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { Evidence } from '../protocol/types';
import { sanitizeFileName } from './names';

export const EVIDENCE_FOLDER = 'po-pool-evidence';
/** Evidence is a courtesy: it must never hold up the PO's outcome for long. */
const CAPTURE_MS = 2_000;
/** Most of it for the screenshot, the rest for writing both files. */
const SCREENSHOT_MS = 1_500;

/**
 * Saves `<PO>-<kind>.png` and `<PO>-<kind>.html` and returns their paths; what does not come within a
 * couple of seconds (a wedged tab) is left out, and nothing at all for a tab that never loaded a page.
 * Never throws.
 */
export async function saveEvidence(page: Page, downloadDir: string, poNumber: string, kind: string): Promise<Evidence> {
  if (page.isClosed() || page.url() === 'about:blank') return {};
  const dir = join(downloadDir, EVIDENCE_FOLDER);
  const stem = sanitizeFileName(`${poNumber}-${kind}`, new Set());
  let late = false;
  const capture = async (): Promise<Evidence> => {
    await stopLoading(page).catch(() => undefined);
    const [png, html] = await Promise.allSettled([page.screenshot({ fullPage: true, timeout: SCREENSHOT_MS }), page.content()]);
    if (late || (png.status === 'rejected' && html.status === 'rejected')) return {};
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // mkdir leaves an existing folder's mode alone (and the umask may have widened a new one).
    await chmod(dir, 0o700);
    const evidence: Evidence = {};
    if (png.status === 'fulfilled') evidence.screenshot = await write(join(dir, `${stem}.png`), png.value);
    if (html.status === 'fulfilled') evidence.html = await write(join(dir, `${stem}.html`), html.value);
    return evidence;
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Evidence>((resolve) => {
    timer = setTimeout(() => {
      late = true;
      resolve({});
    }, CAPTURE_MS);
  });
  try {
    return await Promise.race([capture().catch(() => ({})), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A navigation still under way (a click on a slow file, say) holds the screenshot and the HTML back
 * until it ends. The tab is about to close anyway: stop it. (A script's `window.stop()` would wait too.)
 */
async function stopLoading(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('Page.stopLoading');
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}

async function write(path: string, data: string | Buffer): Promise<string> {
  await writeFile(path, data, { mode: 0o600 });
  // A file left by an earlier capture keeps its mode through writeFile.
  await chmod(path, 0o600);
  return path;
}
