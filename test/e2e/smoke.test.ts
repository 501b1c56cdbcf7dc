import { strict as assert } from 'node:assert';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  cleanup, closeQuickInput, commandPalette, openWorkbench, screenshot, startCodeServer, tempDir, VSIX, waitFor,
  type Workbench,
} from './harness';

interface Command { command: string; title: string; category?: string }

// What the palette must list is what the manifest contributes: commands hidden from the palette
// by a `when` clause (shown only while the pool runs, or never) are left out.
const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
// Titles are "%key%" in the manifest, in English in package.nls.json.
const nls: Record<string, string> = JSON.parse(readFileSync('package.nls.json', 'utf8'));
const english = (s: string | undefined) => s?.replace(/^%(.+)%$/, (_, key: string) => nls[key] ?? s);
const commands: Command[] = (manifest.contributes?.commands ?? []).map((c: Command) => ({ ...c, title: english(c.title)!, category: english(c.category) }));
const conditional = new Map<string, string>(
  (manifest.contributes?.menus?.commandPalette ?? []).map((m: { command: string; when?: string }) => [m.command, m.when ?? 'true']),
);
const label = (c: Command) => (c.category ? `${c.category}: ${c.title}` : c.title);
const alwaysListed = commands.filter((c) => !conditional.has(c.command)).map(label);
const neverListed = commands.filter((c) => conditional.get(c.command) === 'false').map(label);

describe('e2e: smoke', () => {
  let workbench: Workbench | undefined;
  let workspace: string;

  before(() => {
    workspace = tempDir('workspace');
    copyFileSync('samples/po-list.txt', join(workspace, 'po-list.txt'));
  });

  after(async () => {
    await cleanup();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && workbench) await screenshot(workbench.page, `smoke-failed-${this.currentTest.title}`);
  });

  it('lists our commands in the command palette of a real code-server', async () => {
    assert.ok(alwaysListed.includes('PO Pool: Try the Demo'), 'the manifest contributes "PO Pool: Try the Demo"');
    assert.ok(alwaysListed.includes('PO Pool: Process POs in Selection'), 'the manifest contributes "PO Pool: Process POs in Selection"');

    const started = Date.now();
    const server = await startCodeServer({ workspace, vsix: VSIX });
    const listening = Date.now();
    workbench = await openWorkbench(server.url);
    const { installExtensionMs, listenMs } = server.timings;
    console.log(`      --install-extension ${installExtensionMs} ms, listening ${listenMs} ms, workbench ${Date.now() - listening} ms later (${Date.now() - started} ms in all)`);
    const { page } = workbench;

    // Contributed commands appear once the extension host has read the manifests, a little after
    // the workbench itself: ask again until they are there, then say which are not.
    let listed: string[] = [];
    await waitFor(async () => {
      listed = await commandPalette(page, 'PO Pool');
      return alwaysListed.every((l) => listed.includes(l));
    }, 60_000, 'our commands in the palette').catch(() => undefined);
    assert.deepEqual(alwaysListed.filter((l) => !listed.includes(l)), [], `missing from the palette, which lists ${JSON.stringify(listed)}`);
    for (const hidden of neverListed) assert.ok(!listed.includes(hidden), `${hidden} is hidden from the palette`);
    await screenshot(page, 'smoke-command-palette');
    await closeQuickInput(page);
  });
});
