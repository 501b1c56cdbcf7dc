/** What a finished run must look like, from the supervisor's account (`po-pool results --json`). */
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Page } from 'playwright-core';
import { type TaskInfo, type TaskStatus } from '../../src/protocol/types';
import { waitFor } from './editor';
import { treeItems } from './views';

/** How the Results view titles each outcome (src/extension/outcome.ts). */
export const GROUP_TITLES: Record<TaskStatus, string> = {
  QUEUED: 'Queued',
  RUNNING: 'Running',
  COMPLETED: 'Completed',
  NO_ATTACHMENTS: 'No attachments',
  PARTIAL: 'Partial',
  FAILED: 'Failed',
  TIMEOUT: 'Timed out',
  PO_NOT_FOUND: 'PO not found',
  CANCELLED: 'Cancelled',
};

export function countByStatus(tasks: TaskInfo[]): Partial<Record<TaskStatus, number>> {
  const out: Partial<Record<TaskStatus, number>> = {};
  for (const t of tasks) out[t.status] = (out[t.status] ?? 0) + 1;
  return out;
}

/** The top rows the Results view must show for these tasks: "Completed 9", "PO not found 2", ... */
export function expectedResultGroups(tasks: TaskInfo[]): string[] {
  return Object.entries(countByStatus(tasks)).map(([s, n]) => `${GROUP_TITLES[s as TaskStatus]} ${n}`).sort();
}

/** Waits until the Results view's group rows are exactly `wanted` (collapsed groups, as they start). */
export async function waitForResultGroups(page: Page, wanted: string[], timeoutMs = 30_000): Promise<void> {
  const groups = async () => (await treeItems(page, 'Results')).filter((r) => r.expanded !== undefined).map((r) => r.text).sort();
  await waitFor(async () => JSON.stringify(await groups()) === JSON.stringify([...wanted].sort()), timeoutMs, `the Results view to show ${JSON.stringify(wanted)}`)
    .catch(async (err) => {
      throw new Error(`${(err as Error).message}; it shows ${JSON.stringify(await treeItems(page, 'Results'))}`);
    });
}

/** The after-line text a finished PO shows (src/extension/outcome.ts `outcomeText`). */
export function expectedAfterText(task: TaskInfo): string {
  const files = task.result?.files.length ?? 0;
  switch (task.status) {
    case 'COMPLETED':
      return `✓ done, ${files} ${files === 1 ? 'file' : 'files'}`;
    case 'NO_ATTACHMENTS':
      return '✓ done, no attachments';
    case 'CANCELLED':
      return '⊘ cancelled';
    default: {
      // The reason without the PO number the line already shows.
      const reason = (task.result?.error?.message ?? '').replace(new RegExp(`^${task.poNumber}: `), '');
      // Inside a sentence the status loses its capital, but not its acronym: "failed", "PO not found".
      return `✗ ${GROUP_TITLES[task.status].replace(/^[A-Z](?=[a-z])/, (c) => c.toLowerCase())}: ${clipLine(reason, 50)}`;
    }
  }
}

function clipLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

/**
 * Every PO with files has exactly those files, of the reported sizes, in `<downloads>/<PO>/`; a PO
 * without files has no folder; nothing is left in `.work/`; the report is there. Returns the file count.
 */
export function assertFilesOnDisk(downloads: string, tasks: TaskInfo[]): number {
  let count = 0;
  for (const task of tasks) {
    const dir = join(downloads, task.poNumber);
    const files = task.result?.files ?? [];
    if (files.length === 0) {
      assert(!existsSync(dir) || readdirSync(dir).length === 0, `${task.poNumber} (${task.status}) has no files, yet ${dir} holds ${existsSync(dir) ? readdirSync(dir).join(', ') : ''}`);
      continue;
    }
    assert.equal(task.result?.folder, dir, `${task.poNumber}'s folder`);
    assert.deepEqual(readdirSync(dir).sort(), files.map((f) => f.name).sort(), `${task.poNumber}'s files on disk`);
    for (const f of files) {
      assert.equal(f.path, join(dir, f.name), `${f.name}'s path`);
      assert.equal(statSync(f.path).size, f.bytes, `${f.path} has the reported size`);
    }
    count += files.length;
  }
  const work = join(downloads, '.work');
  assert(!existsSync(work) || readdirSync(work).length === 0, `nothing is left in ${work}: ${existsSync(work) ? readdirSync(work).join(', ') : ''}`);
  assert(existsSync(join(downloads, 'po-pool-report.csv')), `the report is written in ${downloads}`);
  return count;
}
