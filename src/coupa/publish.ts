/**
 * A PO's files appear in `<downloadDir>/<PO>/` only once the PO is done: they are downloaded into a
 * working folder under `.work/`, which is renamed into place, so a half-done PO is never taken for a
 * finished one.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DownloadError } from '../protocol/errors';

/** A working folder of its own for this run of the PO (a redo may run while an older one is cleaned up). */
export function workFolder(downloadDir: string, po: string): string {
  return join(downloadDir, '.work', `${po}-${randomBytes(4).toString('hex')}`);
}

/** Replaces `<downloadDir>/<PO>` by the finished working folder; a previous folder (a redo) goes only once the new one is in place. */
export async function publish(workDir: string, finalDir: string): Promise<void> {
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
