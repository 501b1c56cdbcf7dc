/**
 * A person with a PO list open selects some of its lines and runs "PO Pool: Process POs in
 * Selection": the demo stand-in (no Coupa address set) serves the POs, two workers download them,
 * and every part of the window shows it: the Workers view, the status bar, the Results view, the
 * decorations on the lines, and the files in the download folder.
 */
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatBytes } from '../../src/shared/format';
import {
  assertFilesOnDisk, cliResults, cliStatus, editorLines, expandTreeRow, expectedAfterText, expectedResultGroups, finishedOf,
  openFile, poolStatusBar, runCommand, screenshot, selectLines, showPoolViews, startSession, treeItems, waitFor,
  waitForNotification, waitForResultGroups, type E2eSession,
} from './harness';

// Line 1 is a header; lines 2-14 are selected (PO100001-PO100012 and the missing PO999999);
// lines 15-16 are not, and must stay undecorated and unprocessed.
const SELECTED = [...Array.from({ length: 12 }, (_, i) => `PO1000${String(i + 1).padStart(2, '0')}`), 'PO999999'];
const NOT_SELECTED = ['PO100013', 'PO100014'];
const LIST = ['PO Number', ...SELECTED, ...NOT_SELECTED, ''].join('\n');

describe('e2e: process the POs of a selection', function () {
  this.timeout(240_000);
  let session: E2eSession | undefined;

  after(async () => {
    await session?.close();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && session) await session.saveDiagnostics(`process-selection-failed`);
  });

  it('shows live workers, counts up in the status bar, and ends with results, decorations and files', async () => {
    session = await startSession({
      name: 'select',
      files: { 'pos.txt': LIST },
      settings: ({ downloads }) => ({ 'poPool.workerCount': 2, 'poPool.downloadFolder': downloads }),
    });
    const { page, stateDir, downloads } = session;

    await openFile(page, 'pos.txt');
    await showPoolViews(page);
    await selectLines(page, 2, 1 + SELECTED.length);
    await runCommand(page, 'PO Pool: Process POs in Selection');

    const queued = await waitForNotification(page, /Queued \d+ POs?/, 120_000);
    assert.match(queued, new RegExp(`Found ${SELECTED.length} POs in the selection\\. Queued ${SELECTED.length} POs\\.`), queued);

    // While the pool works: watch the Workers view and the status bar as a person would.
    const workerRows = new Set<string>();
    const busyRows: string[] = [];
    const counts: number[] = [];
    let bar = await poolStatusBar(page);
    await waitFor(async () => {
      for (const row of await treeItems(page, 'Workers')) {
        workerRows.add(row.label);
        if (/PO\d{6}/.test(row.description)) busyRows.push(row.text);
      }
      bar = await poolStatusBar(page);
      if (bar && bar.done !== counts[counts.length - 1]) counts.push(bar.done);
      return bar?.done === SELECTED.length && bar.total === SELECTED.length;
    }, 150_000, `the status bar to reach POs ${SELECTED.length}/${SELECTED.length}`);

    assert.deepEqual([...workerRows].sort(), ['worker-1', 'worker-2'], 'the Workers view lists the two workers');
    // The Workers view refreshes on its own rhythm: it may follow the status bar by a moment.
    let finalWorkers = await treeItems(page, 'Workers');
    const doneCount = () => finalWorkers.reduce((n, w) => n + Number(/(\d+) done/.exec(w.description)?.[1] ?? NaN), 0);
    await waitFor(async () => {
      finalWorkers = await treeItems(page, 'Workers');
      return doneCount() === SELECTED.length;
    }, 10_000, `the workers' "done" counts to add up to the POs`).catch(() => undefined);
    assert.equal(doneCount(), SELECTED.length, `the workers' "done" counts add up to the POs: ${JSON.stringify(finalWorkers)}`);
    assert.ok(busyRows.length > 0, 'some Workers row named the PO it was working on');
    assert.ok(counts.some((n) => n > 0 && n < SELECTED.length), `the status bar counted up on the way (saw ${counts.join(', ')})`);
    assert.deepEqual(counts, [...counts].sort((a, b) => a - b), `the status bar never counted down (saw ${counts.join(', ')})`);
    assert.equal(bar?.text.includes('2 workers'), true, `the status bar names the workers: ${bar?.text}`);

    // The supervisor's own account, through the CLI, is what the window must agree with.
    const status = await cliStatus(stateDir);
    assert.ok(status, 'the supervisor is running');
    assert.equal(status.total, SELECTED.length, 'the pool holds one task per selected PO');
    assert.equal(finishedOf(status), SELECTED.length);
    const results = await cliResults(stateDir);
    assert.deepEqual(results.map((t) => t.poNumber).sort(), [...SELECTED].sort(), 'exactly the selected POs were processed');
    const byPo = new Map(results.map((t) => [t.poNumber, t]));
    assert.equal(byPo.get('PO999999')?.status, 'PO_NOT_FOUND', 'the missing PO is not found');
    assert.ok(results.some((t) => t.status === 'COMPLETED'), 'some POs completed');

    // Results view: one group per outcome, with the count of each.
    await waitForResultGroups(page, expectedResultGroups(results));
    await expandTreeRow(page, 'Results', 'PO not found');
    const missingRow = await waitFor(async () => (await treeItems(page, 'Results')).find((r) => r.label === 'PO999999'), 15_000, 'PO999999 under "PO not found"');
    assert.match(missingRow.description, /^not found in Coupa/, 'the row says why, in words');
    // Each completed PO's row: its files, their size and the supplier.
    await expandTreeRow(page, 'Results', 'Completed');
    const completed = results.filter((t) => t.status === 'COMPLETED');
    const rows = await waitFor(async () => {
      const shown = await treeItems(page, 'Results');
      return completed.every((t) => shown.some((r) => r.label === t.poNumber)) && shown;
    }, 15_000, 'a row for every completed PO');
    for (const t of completed) {
      const files = t.result!.files;
      const bytes = files.reduce((n, f) => n + f.bytes, 0);
      const expected = [`${files.length} ${files.length === 1 ? 'file' : 'files'}`, formatBytes(bytes), t.result!.supplier].filter(Boolean).join(' · ');
      assert.equal(rows.find((r) => r.label === t.poNumber)?.description, expected, `${t.poNumber}'s row in Results`);
    }

    // Decorations: every selected line says how its PO ended; the others say nothing.
    const lines = await waitFor(async () => {
      const shown = await editorLines(page);
      return SELECTED.every((po) => shown.find((l) => l.text.trim() === po)?.after) && shown;
    }, 30_000, 'a decoration after every selected line').catch(async (err) => {
      throw new Error(`${err.message}; the editor shows ${JSON.stringify(await editorLines(page))}`);
    });
    for (const po of SELECTED) {
      const line = lines.find((l) => l.text.trim() === po)!;
      const task = byPo.get(po)!;
      assert.equal(line.after, expectedAfterText(task), `the text after ${po}'s line`);
      assert.ok(line.gutter, `${po}'s line has a gutter icon`);
    }
    for (const po of NOT_SELECTED) {
      const line = lines.find((l) => l.text.trim() === po);
      assert.ok(line, `${po}'s line is visible`);
      assert.equal(line.after, '', `${po} was not selected and shows nothing`);
      assert.ok(!line.gutter, `${po} was not selected and has no gutter icon`);
    }
    assert.equal(lines.find((l) => l.text === 'PO Number')?.after, '', 'the header line shows nothing');

    // Files: each PO with files has them in <downloadFolder>/<PO>/, as the pool reported them.
    const files = assertFilesOnDisk(downloads, results);
    assert.ok(files > 0, 'files were downloaded');
    for (const po of NOT_SELECTED) assert.ok(!existsSync(join(downloads, po)), `nothing was downloaded for ${po}`);

    await screenshot(page, 'process-selection');
  });
});

