/**
 * A PO that Coupa does not have: it ends PO_NOT_FOUND, and the window says so and why, in the
 * Results view and on its line. "PO Pool: Retry Failed POs" runs it again (and only it); it ends
 * PO_NOT_FOUND again, with a new finish time. The "Retry PO" quick fix on its line runs it again
 * too; and with a second missing PO, both rows selected in the Results view retry together.
 */
import { strict as assert } from 'node:assert';
import type { Page } from 'playwright-core';
import type { TaskInfo } from '../../src/protocol/types';
import {
  clearNotifications, cliResults, cliStatus, editorLines, expandTreeRow, finishedOf, hoverText, openFile, poolStatusBar, runCommand,
  screenshot, selectLines, showPoolViews, startSession, treeItems, treeRow, waitFor, waitForNotification,
  waitForResultGroups, type E2eSession,
} from './harness';
import { codeActionLabels, pickCodeAction, pickContextMenu } from './workbench-extras';

const FOUND = 'PO100001';
const MISSING = 'PO999999';
/** Not in the list's first run: the third line, run later for the multi-select retry. */
const MISSING_TOO = 'PO999998';
const NOT_FOUND_TEXT = /^✗ PO not found: not found in Coupa/;

/** The text after the line holding `po`. */
async function afterText(page: Page, po: string): Promise<string | undefined> {
  return (await editorLines(page)).find((l) => l.text.trim() === po)?.after;
}

/** "Finished …" and "Attempts: n" of a Results row, from its hover. */
async function rowDetails(page: Page, po: string): Promise<{ hover: string; finished?: string; attempts?: number }> {
  const hover = await hoverText(page, treeRow(page, 'Results', po).locator('.label-name'), new RegExp(`^${po}: `));
  return {
    hover,
    finished: /Finished (.+?)(?:$| Attempts:)/.exec(hover)?.[1]?.trim(),
    attempts: Number(/Attempts: (\d+)/.exec(hover)?.[1] ?? NaN),
  };
}

/** The Results row of the one missing PO once it shows another finish time than `before`: it ran again. */
async function rowFinishedAgain(page: Page, po: string, before: { finished?: string }): Promise<{ hover: string; finished?: string; attempts?: number }> {
  await waitForResultGroups(page, ['Completed 1', 'PO not found 1']);
  await expandTreeRow(page, 'Results', 'PO not found');
  return waitFor(async () => {
    const d = await rowDetails(page, po);
    return d.finished && d.finished !== before.finished ? d : undefined;
  }, 30_000, 'the Results row to show the new finish time');
}

describe('e2e: a PO that does not exist, and retrying it', function () {
  this.timeout(240_000);
  let session: E2eSession | undefined;

  after(async () => {
    await session?.close();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && session) await session.saveDiagnostics(`failed-po-failed`);
  });

  it('shows PO_NOT_FOUND with its reason, and "Retry Failed POs" runs it again', async () => {
    session = await startSession({
      name: 'failed',
      files: { 'pos.txt': `${FOUND}\n${MISSING}\n${MISSING_TOO}\n` },
      settings: ({ downloads }) => ({ 'poPool.workerCount': 2, 'poPool.downloadFolder': downloads }),
    });
    const { page, stateDir } = session;

    await openFile(page, 'pos.txt');
    await showPoolViews(page);
    await selectLines(page, 1, 2);
    await runCommand(page, 'PO Pool: Process POs in Selection');
    await waitForNotification(page, /Found 2 POs in the selection\. Queued 2 POs\./, 120_000);
    await waitFor(async () => (await poolStatusBar(page))?.done === 2, 120_000, 'POs 2/2 in the status bar');

    const first = new Map((await cliResults(stateDir)).map((t) => [t.poNumber, t]));
    const missing = first.get(MISSING) as TaskInfo;
    assert.equal(missing.status, 'PO_NOT_FOUND');
    assert.equal(missing.result?.error?.kind, 'PONotFoundError');
    assert.equal(first.get(FOUND)?.status, 'COMPLETED');

    // The Results view: a "PO not found" group holding the PO, with the reason on its row.
    await waitForResultGroups(page, ['Completed 1', 'PO not found 1']);
    await expandTreeRow(page, 'Results', 'PO not found');
    const row = await waitFor(async () => (await treeItems(page, 'Results')).find((r) => r.label === MISSING), 15_000, `${MISSING}'s row`);
    assert.match(row.description, /^not found in Coupa/, `the row says why, in words: ${row.description}`);
    const before = await rowDetails(page, MISSING);
    assert.match(before.hover, /^PO999999: PO not found/i, before.hover);
    assert.match(before.hover, /Error: not found in Coupa/, before.hover);
    assert.equal(before.attempts, 1, `one attempt so far: ${before.hover}`);
    assert.ok(before.finished, `the hover says when it finished: ${before.hover}`);

    // Its line says so too, and the line's hover gives the reason.
    await waitFor(async () => NOT_FOUND_TEXT.test((await afterText(page, MISSING)) ?? ''), 30_000, `the decoration on ${MISSING}'s line`);
    assert.equal(await afterText(page, FOUND), `✓ done, ${first.get(FOUND)!.result!.files.length} ${first.get(FOUND)!.result!.files.length === 1 ? 'file' : 'files'}`);
    const lineHover = await hoverText(page, page.locator('.editor-instance .view-line', { hasText: MISSING }).locator('span').first(), /PO999999: PO not found/);
    assert.match(lineHover, /Error: not found in Coupa/, lineHover);
    assert.match(lineHover, /Attempts: 1/, lineHover);
    assert.match(lineHover, /Open in Coupa/, lineHover);
    await page.mouse.move(1, 1);
    await screenshot(page, 'failed-po-before-retry');

    // The end of the batch is told once, with the next steps.
    const notice = await waitForNotification(page, /Batch finished: 1 PO done, 1 PO did not end well\./, 30_000);
    assert.ok(notice);
    const buttons = await page.locator('.notification-list-item', { hasText: 'Batch finished' }).getByRole('button').allInnerTexts();
    assert.ok(buttons.includes('Retry Failed') && buttons.includes('Open Report'), `the notice offers Retry Failed and Open Report: ${JSON.stringify(buttons)}`);

    // The Problems panel lists the failed line (and only it), with its reason in words.
    await runCommand(page, 'View: Focus Problems (Errors, Warnings, Infos)');
    const problems = await waitFor(async () => {
      const rows = (await page.locator('.markers-panel .monaco-list-row').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
      return rows.some((r) => r.includes(`${MISSING}: PO not found: not found in Coupa`)) && rows;
    }, 30_000, `${MISSING} in the Problems panel`);
    assert.ok(!problems.some((r) => r.includes(FOUND)), `${FOUND} is no problem: ${JSON.stringify(problems)}`);
    await openFile(page, 'pos.txt');

    // The list runs again, or only its failure, from its first line.
    const lenses = await waitFor(async () => {
      const shown = (await page.locator('.editor-instance .codelens-decoration').allInnerTexts()).join(' | ').replace(/\s+/g, ' ');
      return shown.includes('Retry 1 failed') && shown;
    }, 30_000, 'the CodeLens above the list');
    assert.match(lenses, /▶ Process 3 POs/, lenses);

    // Retry: only the failed PO goes back into the pool.
    const statusBefore = await cliStatus(stateDir);
    assert.ok(statusBefore);
    await runCommand(page, 'PO Pool: Retry Failed POs');
    await waitForNotification(page, /Queued 1 PO again\./, 60_000);
    const transient = new Set<string>();
    await waitFor(async () => {
      const shown = await afterText(page, MISSING);
      const text = shown ?? '';
      if (!NOT_FOUND_TEXT.test(text)) transient.add(shown === undefined ? '(line not on screen)' : text);
      const t = (await cliResults(stateDir)).find((r) => r.poNumber === MISSING);
      return t && t.status === 'PO_NOT_FOUND' && t.finishedAt !== missing.finishedAt && NOT_FOUND_TEXT.test(text);
    }, 90_000, `${MISSING} to end again`);

    const second = new Map((await cliResults(stateDir)).map((t) => [t.poNumber, t]));
    const again = second.get(MISSING)!;
    assert.equal(again.status, 'PO_NOT_FOUND', 'still not found');
    assert.ok((again.finishedAt ?? 0) > (missing.finishedAt ?? 0), 'it finished again, later');
    assert.equal(second.get(FOUND)?.finishedAt, first.get(FOUND)?.finishedAt, `${FOUND} succeeded and was not run again`);
    const statusAfter = await cliStatus(stateDir);
    assert.ok(statusAfter);
    assert.equal(statusAfter.total, 2, 'retried in place: no new task');
    assert.equal(finishedOf(statusAfter), 2);

    // What the window shows after the retry: same groups, a new finish time on the row.
    const after = await rowFinishedAgain(page, MISSING, before);
    assert.match(after.hover, /Error: not found in Coupa/, after.hover);
    assert.ok(Number.isInteger(after.attempts), `the row shows its attempts: ${after.hover}`);
    console.log(`      ${MISSING}: attempts ${before.attempts} -> ${after.attempts}, finished ${before.finished} -> ${after.finished}; its line showed ${JSON.stringify([...transient])} on the way`);
    assert.match((await afterText(page, MISSING)) ?? '', NOT_FOUND_TEXT);
    const bar = await poolStatusBar(page);
    assert.equal(bar?.done, 2, `the status bar: ${bar?.text}`);

    await screenshot(page, 'failed-po');
  });

  it('the "Retry PO" quick fix on the failed line runs it again', async () => {
    assert.ok(session, 'the session of the test before');
    const { page, stateDir } = session;
    const before = (await cliResults(stateDir)).find((t) => t.poNumber === MISSING)!;
    const rowBefore = await rowDetails(page, MISSING);
    await clearNotifications(page);

    // On the failed line, Ctrl+. offers "Retry PO", as the Problems panel's entry does.
    await openFile(page, 'pos.txt');
    await page.locator('.editor-instance .view-line', { hasText: MISSING }).click();
    const labels = await waitFor(async () => {
      await page.keyboard.press('Control+.');
      const found = await codeActionLabels(page).catch(() => [] as string[]);
      if (!found.some((l) => l.includes('Retry PO'))) await page.keyboard.press('Escape');
      return found.some((l) => l.includes('Retry PO')) && found;
    }, 30_000, 'the "Retry PO" quick fix on the failed line');
    await pickCodeAction(page, 'Retry PO');
    await waitForNotification(page, /Queued 1 PO again\./, 60_000);

    // The Results row shows a new finish time; the PO still is not in Coupa, and nothing else ran.
    await waitFor(async () => {
      const t = (await cliResults(stateDir)).find((r) => r.poNumber === MISSING);
      return t?.status === 'PO_NOT_FOUND' && t.finishedAt !== before.finishedAt;
    }, 90_000, `${MISSING} to end again`);
    const rowAfter = await rowFinishedAgain(page, MISSING, rowBefore);
    await waitFor(async () => NOT_FOUND_TEXT.test((await afterText(page, MISSING)) ?? ''), 30_000, `the decoration on ${MISSING}'s line`);
    const status = await cliStatus(stateDir);
    assert.equal(status?.total, 2, 'retried in place: no new task');
    console.log(`      quick fix offered ${JSON.stringify(labels)}; ${MISSING}: attempts ${rowBefore.attempts} -> ${rowAfter.attempts}, finished ${rowBefore.finished} -> ${rowAfter.finished}`);
  });

  it('retries two failed POs selected together in the Results view', async () => {
    assert.ok(session, 'the session of the test before');
    const { page, stateDir } = session;

    // A second missing PO: the list's third line, run on its own.
    await openFile(page, 'pos.txt');
    await selectLines(page, 3, 3);
    await clearNotifications(page);
    await runCommand(page, 'PO Pool: Process POs in Selection');
    await waitForNotification(page, /Queued 1 PO\./, 60_000);
    await waitFor(async () => (await cliResults(stateDir)).find((t) => t.poNumber === MISSING_TOO)?.status === 'PO_NOT_FOUND', 90_000, `${MISSING_TOO} to end PO_NOT_FOUND`);
    await waitForResultGroups(page, ['Completed 1', 'PO not found 2']);
    const before = new Map((await cliResults(stateDir)).map((t) => [t.poNumber, t]));

    // Both rows selected (click, Ctrl+click), then "Retry Failed POs" from the selection's context menu.
    await expandTreeRow(page, 'Results', 'PO not found');
    const rows = [treeRow(page, 'Results', MISSING), treeRow(page, 'Results', MISSING_TOO)];
    await rows[0].waitFor({ state: 'visible', timeout: 15_000 });
    await rows[1].waitFor({ state: 'visible', timeout: 15_000 });
    const finishedBefore = [(await rowDetails(page, MISSING)).finished, (await rowDetails(page, MISSING_TOO)).finished];
    await clearNotifications(page);
    await rows[0].click();
    await rows[1].click({ modifiers: ['Control'] });
    await waitFor(async () => (await rows[0].getAttribute('aria-selected')) === 'true' && (await rows[1].getAttribute('aria-selected')) === 'true', 10_000, 'both rows selected');
    await rows[1].click({ button: 'right' });
    const menu = await pickContextMenu(page, 'Retry Failed POs');
    await waitForNotification(page, /Queued 2 POs again\./, 60_000);

    await waitFor(async () => {
      const now = new Map((await cliResults(stateDir)).map((t) => [t.poNumber, t]));
      return [MISSING, MISSING_TOO].every((po) => now.get(po)?.status === 'PO_NOT_FOUND' && now.get(po)?.finishedAt !== before.get(po)?.finishedAt);
    }, 90_000, `${MISSING} and ${MISSING_TOO} to end again`);
    const after = new Map((await cliResults(stateDir)).map((t) => [t.poNumber, t]));
    assert.equal(after.get(FOUND)?.finishedAt, before.get(FOUND)?.finishedAt, `${FOUND} was not selected and did not run again`);
    assert.equal((await cliStatus(stateDir))?.total, 3, 'retried in place: no new tasks');

    // What the window shows: the same groups, both rows with a new finish time.
    await waitForResultGroups(page, ['Completed 1', 'PO not found 2']);
    await expandTreeRow(page, 'Results', 'PO not found');
    const finishedAfter = await waitFor(async () => {
      const f = [(await rowDetails(page, MISSING)).finished, (await rowDetails(page, MISSING_TOO)).finished];
      return f.every((x, i) => x && x !== finishedBefore[i]) && f;
    }, 30_000, 'both Results rows to show a new finish time');
    console.log(`      context menu ${JSON.stringify(menu)}; finished ${JSON.stringify(finishedBefore)} -> ${JSON.stringify(finishedAfter)}`);
    await screenshot(page, 'failed-po-multi-retry');
  });
});
