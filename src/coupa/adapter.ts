/**
 * One PO in one tab: open its page, find the attachments (falling back to its requisition), download
 * them, and publish the files as `<downloadDir>/<PO>/` once the PO is done. Telling a missing PO from an
 * ended session is navigation.ts's; where things are on the page, pageReader.ts and selectors.ts.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  DownloadError, NetworkError, PONotFoundError, PoolError, SessionCorruptionError, type WireError,
} from '../protocol/errors';
import { normalizePo } from '../protocol/po';
import type { POResult } from '../protocol/types';
import { checkDeadline, isClosedError, type AdapterOptions, type Context } from './context';
import { downloadAll, type Failure } from './downloads';
import { openPage } from './navigation';
import { hideToolbar, markAttachments, readHeader, requisitionUrl, type Found } from './pageReader';
import { publish, workFolder } from './publish';
import { trimBase } from './session';

export type { AdapterOptions } from './context';

function summary(failures: Failure[], total: number): string {
  const parts = failures.map((f) => f.error.message);
  return `${failures.length} of ${total} attachment${total === 1 ? '' : 's'} failed: ${parts.join('; ')}`;
}

/** The attachments to download and the page they are on: the PO's own, else its requisition's. */
async function findAttachments(page: Page, poUrl: string, ctx: Context): Promise<{ items: Found[]; pageUrl: string; source: 'po' | 'requisition' }> {
  const items = await markAttachments(page, ctx);
  const reqUrl = items.length === 0 ? await requisitionUrl(page, ctx) : undefined;
  if (!reqUrl) return { items, pageUrl: poUrl, source: 'po' };
  const req = await openPage(page, reqUrl, ctx);
  if (!req.ok) {
    ctx.log('info', `${ctx.po}: no attachments on the PO, and its requisition is not accessible (${req.message})`);
    return { items, pageUrl: poUrl, source: 'po' };
  }
  await hideToolbar(page);
  const onRequisition = await markAttachments(page, ctx);
  return onRequisition.length ? { items: onRequisition, pageUrl: reqUrl, source: 'requisition' } : { items, pageUrl: poUrl, source: 'po' };
}

export async function processPo(page: Page, poNumber: string, options: AdapterOptions): Promise<POResult> {
  const startedAt = Date.now();
  const parsed = normalizePo(poNumber);
  if (!parsed.ok) throw new PONotFoundError(`${poNumber}: ${parsed.reason}`, { invalid: true, reason: parsed.reason });
  const ctx: Context = { po: parsed.poNumber, base: trimBase(options.baseUrl), options, log: options.log ?? (() => undefined) };
  const workDir = workFolder(options.downloadDir, ctx.po);

  try {
    const poUrl = `${ctx.base}/order_headers/${parsed.id}`;
    const loaded = await openPage(page, poUrl, ctx);
    if (!loaded.ok) throw new PONotFoundError(`${ctx.po}: not found in Coupa (${loaded.message})`, { status: loaded.status });
    await hideToolbar(page);
    const header = await readHeader(page);
    const { items, pageUrl, source } = await findAttachments(page, poUrl, ctx);
    // Finding the attachments is navigation: pages, a session check or renewal at most, the requisition.
    const navigationMs = Date.now() - startedAt;
    const base: Omit<POResult, 'status' | 'files' | 'timings'> = {
      poNumber: ctx.po,
      ...(header.supplier ? { supplier: header.supplier } : {}),
      attachments: items.map((i) => i.name),
      source,
    };
    if (items.length === 0) {
      ctx.log('debug', `${ctx.po}: no attachments`);
      return { ...base, status: 'NO_ATTACHMENTS', files: [], timings: { startedAt, finishedAt: Date.now(), navigationMs, downloadMs: 0 } };
    }
    ctx.log('debug', `${ctx.po}: ${items.length} attachment(s) on the ${source === 'po' ? 'PO' : 'requisition'} page${header.status ? ` (status ${header.status})` : ''}`);

    // Procurement documents are confidential: the PO folders (and `.work`) are the user's alone, like the state folder.
    await mkdir(workDir, { recursive: true, mode: 0o700 });
    const t = Date.now();
    const { files, failures } = await downloadAll(page, pageUrl, items, workDir, ctx);
    const downloadMs = Date.now() - t;
    if (files.length === 0) {
      const message = `${ctx.po}: ${summary(failures, items.length)}`;
      // Rate limiting is passed on as such: the pool slows down as a whole when it sees it.
      const limited = failures.some((f) => f.error.data?.status === 429);
      throw failures.some((f) => f.error instanceof NetworkError) ? new NetworkError(message, limited ? { status: 429 } : undefined) : new DownloadError(message);
    }
    checkDeadline(ctx, 'before publishing the files');
    const finalDir = join(options.downloadDir, ctx.po);
    await publish(workDir, finalDir);
    const error: WireError | undefined = failures.length
      ? { kind: failures[0].error.kind, message: summary(failures, items.length), data: { failed: failures.map((f) => f.item.name) } }
      : undefined;
    return {
      ...base,
      status: failures.length ? 'PARTIAL' : 'COMPLETED',
      files: files.map((f) => ({ ...f, path: join(finalDir, f.name) })),
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
  } finally {
    await ctx.probe?.close().catch(() => undefined);
  }
}
