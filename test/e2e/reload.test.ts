/**
 * The window is reloaded ("Developer: Reload Window") while the pool works through ~30 POs. The
 * supervisor is not the window's: the same one (same pid) goes on working, the reloaded window
 * reattaches to it and shows the run going on, and the run ends with every PO processed exactly
 * once.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertFilesOnDisk, cliResults, cliStatus, editorLines, expectedAfterText, expectedResultGroups, finishedOf, openFile,
  poolStatusBar, runCommand, screenshot, showPoolViews, startSession, treeItems, waitFor, waitForNotification,
  waitForResultGroups, type E2eSession,
} from './harness';

const POS = Array.from({ length: 30 }, (_, i) => `PO1000${String(i + 1).padStart(2, '0')}`);

describe('e2e: reloading the window mid-run', function () {
  this.timeout(240_000);
  let session: E2eSession | undefined;

  after(async () => {
    await session?.close();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && session) await session.saveDiagnostics(`reload-failed`);
  });

  it('reattaches to the same supervisor, and the run completes with nothing lost or duplicated', async () => {
    session = await startSession({
      name: 'reload',
      files: { 'pos.txt': `${POS.join('\n')}\n` },
      settings: ({ downloads }) => ({ 'poPool.workerCount': 2, 'poPool.downloadFolder': downloads }),
    });
    const { page, stateDir, downloads } = session;

    await openFile(page, 'pos.txt');
    await showPoolViews(page);
    // The whole open file, as from the editor's title bar or the Explorer.
    await runCommand(page, 'PO Pool: Process POs in File');
    await waitForNotification(page, new RegExp(`Found ${POS.length} POs in pos\\.txt\\. Queued ${POS.length} POs\\.`), 120_000);

    // A few POs in, with most still to do: note the supervisor, then reload.
    const before = await waitFor(async () => {
      const bar = await poolStatusBar(page);
      return bar && bar.done >= 3 && bar;
    }, 120_000, 'a few POs to finish');
    const statusBefore = await cliStatus(stateDir);
    assert.ok(statusBefore, 'the supervisor runs');
    assert.ok(finishedOf(statusBefore) < POS.length - 5, `the run is well under way, not over (${finishedOf(statusBefore)} of ${POS.length})`);
    assert.equal(statusBefore.total, POS.length);

    await runCommand(page, 'Developer: Reload Window');
    // The old workbench goes away with the page; a new one is built.
    await page.waitForEvent('load', { timeout: 60_000 });
    await page.waitForSelector('div.monaco-workbench', { timeout: 60_000 });

    // The reloaded window finds the run going on: the status bar counts on from where it was.
    const seenAfter: number[] = [];
    const reattached = await waitFor(async () => {
      const bar = await poolStatusBar(page);
      if (bar) seenAfter.push(bar.done);
      return bar && bar.total === POS.length && bar;
    }, 60_000, 'the reloaded window to show the run in its status bar');
    assert.ok(reattached.done >= before.done, `the count went on from ${before.done} (now ${reattached.done})`);
    const statusAfter = await cliStatus(stateDir);
    assert.ok(statusAfter, 'the supervisor still runs');
    assert.equal(statusAfter.supervisorPid, statusBefore.supervisorPid, 'the same supervisor, not a new one');
    assert.equal(statusAfter.total, POS.length, 'the reload submitted nothing again');
    // What the window itself saw first: the CLI, asked a moment later, may find the last POs done.
    assert.ok(Math.min(...seenAfter) < POS.length, `the window was back before the run was over (it saw ${seenAfter.join(', ')} of ${POS.length})`);

    // The Workers view shows the live workers again, and the run completes.
    await showPoolViews(page);
    await waitFor(async () => (await treeItems(page, 'Workers')).length === 2, 30_000, 'the two workers in the Workers view');
    await waitFor(async () => (await poolStatusBar(page))?.done === POS.length, 150_000, `POs ${POS.length}/${POS.length} in the status bar`);

    // Nothing lost, nothing twice: one task per PO, all final, each done on its first attempt.
    const status = await cliStatus(stateDir);
    assert.ok(status);
    assert.equal(status.supervisorPid, statusBefore.supervisorPid, 'still the same supervisor');
    assert.equal(status.total, POS.length, 'one task per PO');
    assert.equal(finishedOf(status), POS.length, 'every task finished');
    assert.equal(status.queueDepth + status.running, 0);
    const results = await cliResults(stateDir);
    assert.deepEqual(results.map((t) => t.poNumber).sort(), POS, 'every PO exactly once in "results --json"');
    for (const t of results) assert.equal(t.result?.attempts, 1, `${t.poNumber} ran once (attempts ${t.result?.attempts})`);
    const report = readFileSync(join(downloads, 'po-pool-report.csv'), 'utf8').split(/\r?\n/).slice(1).filter(Boolean);
    assert.deepEqual(report.map((row) => row.split(',')[0]).sort(), POS, 'the report has one row per PO');
    assertFilesOnDisk(downloads, results);

    // The reloaded window shows all of it: the Results view and every line of the reopened file.
    await waitForResultGroups(page, expectedResultGroups(results));
    const byPo = new Map(results.map((t) => [t.poNumber, t]));
    await openFile(page, 'pos.txt');
    const lines = await waitFor(async () => {
      const shown = await editorLines(page);
      const visible = shown.filter((l) => byPo.has(l.text.trim()));
      return visible.length > 0 && visible.every((l) => l.after === expectedAfterText(byPo.get(l.text.trim())!)) && visible;
    }, 30_000, 'the decorations of the finished POs').catch(async (err) => {
      throw new Error(`${(err as Error).message}; the editor shows ${JSON.stringify(await editorLines(page))}`);
    });
    assert.ok(lines.length >= 20, `most lines are on screen (${lines.length})`);

    await screenshot(page, 'reload');
  });
});
