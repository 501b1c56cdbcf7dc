/**
 * Somebody who has just installed the extension: no Coupa address and no profile. The PO Pool
 * views greet them with the first steps (Sign in / Try the Demo); "Try the Demo" runs the sample
 * list on the built-in stand-in to the end, with the results in the view and the files on disk.
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import {
  assertFilesOnDisk, cliResults, cliStatus, finishedOf, expectedResultGroups, poolStatusBar, screenshot, showPoolViews,
  startSession, treeItems, viewBody, waitFor, waitForNotification, waitForResultGroups, welcomeItems, type E2eSession,
} from './harness';

/** samples/po-list.txt: PO100001-PO100040 and PO999999 (PO100002 twice, two junk lines). */
const SAMPLE_POS = [...Array.from({ length: 40 }, (_, i) => `PO1000${String(i + 1).padStart(2, '0')}`), 'PO999999'];

describe('e2e: first run', function () {
  this.timeout(240_000);
  let session: E2eSession | undefined;

  after(async () => {
    await session?.close();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && session) await session.saveDiagnostics(`first-run-failed`);
  });

  it('welcomes with Sign in / Try the Demo, and the demo runs to completion', async () => {
    // Nothing about Coupa is configured (no address, no profile, no download folder). Only the
    // worker count is set, to keep this machine's two cores from being swamped by four browsers.
    session = await startSession({ name: 'first', settings: () => ({ 'poPool.workerCount': 2 }) });
    const { page, stateDir, workspace } = session;

    await showPoolViews(page);
    const welcome = await waitFor(async () => {
      const items = await welcomeItems(page, 'Workers');
      return items.includes('Try the Demo') && items;
    }, 60_000, 'the welcome view with "Try the Demo"').catch(async (err) => {
      throw new Error(`${(err as Error).message}; the Workers view shows ${JSON.stringify(await viewBody(page, 'Workers').innerText())}`);
    });
    assert.ok(welcome.includes('Sign in to Coupa'), `the welcome offers "Sign in to Coupa": ${JSON.stringify(welcome)}`);
    const welcomeText = await viewBody(page, 'Workers').locator('.welcome-view-content').innerText();
    assert.match(welcomeText, /The demo needs no Coupa account/, welcomeText);
    await screenshot(page, 'first-run-welcome');

    await viewBody(page, 'Workers').locator('.welcome-view-content .monaco-button', { hasText: 'Try the Demo' }).click();

    // The sample list, with what was skipped in it, is queued on the stand-in.
    const queued = await waitForNotification(page, /Queued \d+ POs?/, 180_000);
    assert.match(queued, new RegExp(`Found ${SAMPLE_POS.length} POs in the sample list \\(Coupa stand-in at http://127\\.0\\.0\\.1:\\d+\\)`), queued);
    assert.match(queued, /2 lines skipped/, queued);
    assert.match(queued, new RegExp(`Queued ${SAMPLE_POS.length} POs\\.`), queued);
    // The status panel opens by itself.
    await page.locator('.tabs-container .tab', { hasText: 'PO Pool Status' }).waitFor({ state: 'visible', timeout: 30_000 });

    // The welcome gives way to the workers, and the run ends.
    await waitFor(async () => (await treeItems(page, 'Workers')).length === 2, 60_000, 'two workers in the Workers view');
    assert.deepEqual(await welcomeItems(page, 'Workers'), [], 'no welcome once workers run');
    await waitFor(async () => (await poolStatusBar(page))?.done === SAMPLE_POS.length, 180_000, `POs ${SAMPLE_POS.length}/${SAMPLE_POS.length} in the status bar`);

    const status = await cliStatus(stateDir);
    assert.ok(status);
    assert.equal(status.total, SAMPLE_POS.length);
    assert.equal(finishedOf(status), SAMPLE_POS.length);
    assert.equal(status.config?.downloadDir, join(workspace, 'downloads'), 'files go to <workspace>/downloads by default');
    const results = await cliResults(stateDir);
    assert.deepEqual(results.map((t) => t.poNumber).sort(), SAMPLE_POS, 'every sample PO once');
    assert.equal(results.find((t) => t.poNumber === 'PO999999')?.status, 'PO_NOT_FOUND');

    await waitForResultGroups(page, expectedResultGroups(results));
    const view = await treeItems(page, 'Results');
    assert.ok(view.some((r) => r.label === 'Completed'), `some POs completed: ${JSON.stringify(view)}`);
    const files = assertFilesOnDisk(join(workspace, 'downloads'), results);
    assert.ok(files > 0, 'files were downloaded');
    console.log(`      demo: ${expectedResultGroups(results).join(', ')}; ${files} files`);

    await screenshot(page, 'first-run');
  });
});
