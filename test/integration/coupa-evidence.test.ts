import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { saveEvidence } from '../../src/coupa/evidence';
import { browserArgs, findBrowser } from '../../src/shared/browsers.mjs';
import { processesMentioning, tempDir } from '../support';

/** Evidence is a courtesy to whoever investigates a failed PO: it must never hold the PO up for long. */
describe('coupa evidence: what a failed PO tab showed', function () {
  this.timeout(60_000);
  let root: string;
  let browser: BrowserContext;

  before(async () => {
    root = tempDir('evidence');
    const found = findBrowser('auto');
    assert.ok(found, 'a browser is installed');
    // A profile inside the test's folder, so the process check below can find this browser.
    browser = await chromium.launchPersistentContext(join(root, 'profile'), {
      ...(found.channel ? { channel: found.channel } : { executablePath: found.executablePath }),
      args: browserArgs(),
    });
  });

  after(async () => {
    await browser?.close();
    assert.deepEqual(processesMentioning(root), [], 'no browser left running');
    rmSync(root, { recursive: true, force: true });
  });

  it('gives up within a couple of seconds on a tab that no longer answers, without throwing', async () => {
    const page = await browser.newPage();
    await page.goto('data:text/html,<h1>Purchase Order</h1>');
    // The page's own script never yields again: its renderer answers nothing from now on.
    await page.evaluate(() => void setTimeout(() => { for (;;) { /* wedged */ } }, 0));
    const started = Date.now();
    const evidence = await saveEvidence(page, join(root, 'out'), 'PO100001', 'TimeoutError');
    const ms = Date.now() - started;
    assert.ok(ms < 2_500, `took ${ms} ms`);
    assert.deepEqual(evidence, {}, 'nothing half-captured is reported');
    await page.close({ runBeforeUnload: false }).catch(() => undefined);
  });

  it('saves nothing for a tab that never loaded a page', async () => {
    const page = await browser.newPage();
    assert.deepEqual(await saveEvidence(page, join(root, 'out'), 'PO12', 'PONotFoundError'), {});
    await page.close();
  });
});
