/**
 * "PO Pool: Show Status Panel": the numbers a person reads in the panel (a webview) are the
 * supervisor's, as `po-pool status --json` reports them: before any work, live while the pool
 * works, after the pool is stopped from the panel with POs still queued, and after it is started
 * again from the panel and has finished.
 */
import { strict as assert } from 'node:assert';
import type { Frame, Page } from 'playwright-core';
import type { PoolStatus } from '../../src/protocol/types';
import {
  cliResults, cliStatus, finishedOf, openFile, panelNumber, panelNumbers, poolStatusBar, runCommand, screenshot,
  selectLines, startSession, waitFor, waitForNotification, webviewFrame, type E2eSession,
} from './harness';

const POS = [...Array.from({ length: 24 }, (_, i) => `PO1000${String(i + 1).padStart(2, '0')}`), 'PO999999'];

/** The panel and the CLI agree on what both show: state, processed of total, queued, running. */
async function agreeWithCli(frame: Frame, stateDir: string, what: string, expect?: (s: PoolStatus) => boolean): Promise<{ panel: Awaited<ReturnType<typeof panelNumbers>>; cli: PoolStatus }> {
  let last: unknown;
  return waitFor(async () => {
    const cli = await cliStatus(stateDir);
    if (!cli || (expect && !expect(cli))) {
      last = { cli };
      return undefined;
    }
    const panel = await panelNumbers(frame);
    last = { panel, cli: { state: cli.state, finished: finishedOf(cli), total: cli.total, queueDepth: cli.queueDepth, running: cli.running } };
    const agree = panel.state === cli.state
      && panelNumber(panel.processed) === finishedOf(cli)
      && panelNumber(panel.total) === cli.total
      && panelNumber(panel.queueDepth) === cli.queueDepth
      && panelNumber(panel.running) === cli.running;
    return agree && { panel, cli };
  }, 45_000, `the status panel to agree with "po-pool status --json" ${what}`).catch((err) => {
    throw new Error(`${(err as Error).message}; last seen ${JSON.stringify(last)}`);
  });
}

async function clickPanelButton(frame: Frame, label: string): Promise<void> {
  const button = frame.locator('header .actions button', { hasText: label });
  await button.waitFor({ state: 'visible', timeout: 15_000 });
  await button.click();
}

async function openPanel(page: Page): Promise<Frame> {
  await runCommand(page, 'PO Pool: Show Status Panel');
  await page.locator('.tabs-container .tab', { hasText: 'PO Pool Status' }).waitFor({ state: 'visible', timeout: 30_000 });
  return webviewFrame(page);
}

describe('e2e: the status panel', function () {
  this.timeout(240_000);
  let session: E2eSession | undefined;

  after(async () => {
    await session?.close();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && session) await session.saveDiagnostics(`status-panel-failed`);
  });

  it('shows the numbers "po-pool status --json" reports, before, during, after a stop and at the end of a run', async () => {
    session = await startSession({
      name: 'panel',
      files: { 'pos.txt': `${POS.join('\n')}\n` },
      settings: ({ downloads }) => ({ 'poPool.workerCount': 2, 'poPool.downloadFolder': downloads }),
    });
    const { page, stateDir } = session;

    // Before any work: the panel starts the extension, which starts the supervisor; no pool yet.
    let frame = await openPanel(page);
    const idle = await agreeWithCli(frame, stateDir, 'before any work');
    assert.equal(idle.cli.total, 0);
    assert.equal(idle.panel.processed, '0');
    assert.equal(idle.panel.total, '0');
    assert.ok(!['READY', 'PROCESSING'].includes(idle.panel.state), `no pool runs yet (${idle.panel.state})`);
    assert.match(await frame.locator('[data-testid="workers"]').innerText(), /No workers running/);

    // Submit the list from the editor, then open the panel from the notification's button.
    await openFile(page, 'pos.txt');
    await selectLines(page, 1, POS.length);
    await runCommand(page, 'PO Pool: Process POs in Selection');
    await waitForNotification(page, new RegExp(`Queued ${POS.length} POs`), 120_000);
    await page.locator('.notification-list-item', { hasText: `Queued ${POS.length} POs` }).getByRole('button', { name: 'Show Status Panel' }).click();
    frame = await webviewFrame(page);

    // While it works: the panel moves with the pool.
    const seen = { processing: false, processed: new Set<number>(), workerRows: 0, busyRows: 0 };
    await waitFor(async () => {
      const n = await panelNumbers(frame);
      if (n.state === 'PROCESSING') seen.processing = true;
      seen.processed.add(panelNumber(n.processed));
      const rows = await frame.locator('[data-testid^="worker-worker-"]').allInnerTexts();
      seen.workerRows = Math.max(seen.workerRows, rows.length);
      if (rows.some((r) => /PO\d{6}/.test(r))) seen.busyRows++;
      return panelNumber(n.processed) >= 6;
    }, 120_000, 'the panel to count 6 processed POs');
    assert.ok(seen.processing, 'the panel showed PROCESSING');
    assert.equal(seen.workerRows, 2, 'the panel listed two workers');
    assert.ok(seen.busyRows > 0, 'a worker row named the PO it was working on');
    assert.ok(seen.processed.size >= 2, `the processed count moved (${[...seen.processed].join(', ')})`);

    // Stop the pool from the panel: running POs finish, the rest stay queued, and nothing moves.
    await clickPanelButton(frame, 'Stop Pool');
    await waitForNotification(page, /The pool has stopped\. Queued POs wait for the next start\./, 90_000);
    const stopped = await agreeWithCli(frame, stateDir, 'after Stop Pool', (s) => s.state === 'TERMINATED');
    assert.equal(stopped.panel.state, 'TERMINATED');
    assert.equal(stopped.cli.total, POS.length);
    assert.ok(stopped.cli.queueDepth > 0, `POs are still queued after the stop (${stopped.cli.queueDepth})`);
    assert.equal(stopped.cli.running, 0, 'nothing runs after a graceful stop');
    assert.equal(finishedOf(stopped.cli) + stopped.cli.queueDepth, POS.length, 'every PO is either finished or queued');
    assert.match(await frame.locator('[data-testid="workers"]').innerText(), /No workers running/);
    assert.ok(await frame.locator('header .actions button', { hasText: 'Start Pool' }).isVisible(), 'the panel offers Start Pool');
    const bar = await poolStatusBar(page);
    assert.equal(bar?.done, finishedOf(stopped.cli), `the status bar agrees: ${bar?.text}`);
    await screenshot(page, 'status-panel-stopped');

    // Start it again from the panel: the queued POs are picked up and the run ends.
    await clickPanelButton(frame, 'Start Pool');
    const done = await agreeWithCli(frame, stateDir, 'at the end of the run', (s) => s.state === 'READY' && finishedOf(s) === POS.length);
    assert.equal(done.panel.processed, String(POS.length));
    assert.equal(done.panel.total, String(POS.length));
    assert.equal(done.panel.queueDepth, '0');
    assert.equal(done.panel.running, '0');
    assert.equal(done.panel.eta, '—', 'nothing left, no time left');

    // "Not completed" and the errors table count what did not succeed.
    const results = await cliResults(stateDir);
    assert.equal(results.length, POS.length, 'each PO once');
    const notCompleted = results.filter((t) => !['COMPLETED', 'NO_ATTACHMENTS'].includes(t.status));
    assert.ok(notCompleted.some((t) => t.poNumber === 'PO999999'), 'PO999999 did not complete');
    assert.equal(panelNumber(done.panel.failed), notCompleted.length, 'the panel\'s "Not completed"');
    // The errors table is the running pool's (status.errors), which a restart starts afresh.
    const errors = (await cliStatus(stateDir))?.errors.byKind ?? {};
    const kinds = await frame.locator('[data-testid^="error-count-"]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-testid')!.replace('error-count-', ''), e.textContent]));
    assert.deepEqual(Object.fromEntries(kinds), Object.fromEntries(Object.entries(errors).map(([k, e]) => [k, String(e!.count)])), 'the errors table is status.errors.byKind');
    const notFound = results.filter((t) => t.status === 'PO_NOT_FOUND').length;
    const shownNotFound = Number(await frame.locator('[data-testid="error-count-PONotFoundError"]').innerText());
    if (shownNotFound !== notFound) console.log(`      note: the errors table counts ${shownNotFound} PONotFoundError since the restart; ${notFound} POs ended PO_NOT_FOUND in all`);
    assert.equal(await frame.locator('[data-testid^="worker-worker-"]').count(), 2, 'two workers in the table again');

    await screenshot(page, 'status-panel');
  });
});
