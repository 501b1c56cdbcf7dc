/**
 * The extension's view models fed by a real supervisor (dist/supervisor.js) running the demo: what
 * the Workers view, the editor decorations, the Results view, the status bar and the status panel
 * would show, from the same notifications the extension receives. Needs a Chromium-family browser.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parsePoText } from '../../src/protocol/po';
import { ListTasks, ReadPoFile, Shutdown, StartDemo, SubmitTasks } from '../../src/protocol/rpc';
import type { TaskInfo } from '../../src/protocol/types';
import { connectToSupervisor } from '../../src/client/client';
import { lineDecorations, mergeLatest, poLines } from '../../src/extension/decorationsModel';
import { panelSummary } from '../../src/extension/panelModel';
import { resultChildren, resultGroups, resultRow } from '../../src/extension/resultsModel';
import { SupervisorConnection } from '../../src/extension/connection';
import { finishedCount, statusBarView } from '../../src/extension/statusBarModel';
import { liveWorkers, workerRow, WorkerTable } from '../../src/extension/workersModel';

const SUPERVISOR = resolve('dist/supervisor.js');
const SAMPLE = resolve('samples/po-list.txt');
const COUNT = 6;

async function waitFor(what: string, ms: number, check: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('extension views fed by a real supervisor', function () {
  let stateDir: string;
  let session: SupervisorConnection | undefined;

  before(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'po-ext-views-'));
  });

  after(async () => {
    if (!session) return;
    await session.request(Shutdown, { force: true, exit: true }).catch(() => undefined);
    session.dispose();
    await new Promise((r) => setTimeout(r, 500));
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('shows the demo run as it happens: workers, line outcomes, results, status bar and panel', async () => {
    session = new SupervisorConnection(() => connectToSupervisor({ clientName: 'extension-views-test', spawn: true, supervisorScript: SUPERVISOR, stateDir }));
    const workers = new WorkerTable();
    const text = readFileSync(SAMPLE, 'utf8');
    const lines = poLines(parsePoText(text));
    const latest = new Map<string, TaskInfo>();
    let workerRedraws = 0;
    session.onDidChangeStatus((s) => workers.replaceAll(liveWorkers(s)));
    session.onDidChangeWorkers((w) => (workerRedraws += workers.upsert(w).changed.length));
    session.onDidChangeTasks((t) => mergeLatest(latest, t, lines));

    await session.client();
    assert.equal(session.state.kind, 'connected');
    const demo = await session.request(StartDemo, { downloadDir: join(stateDir, 'downloads'), workerCount: 2 });
    assert.match(demo.coupaUrl, /^http:\/\/127\.0\.0\.1:\d+/);

    const parsed = await session.request(ReadPoFile, { path: SAMPLE });
    const submitted = parsed.pos.slice(0, COUNT).map((p) => p.poNumber);
    const accepted = await session.request(SubmitTasks, { tasks: submitted.map((poNumber) => ({ poNumber })), redo: true });
    assert.equal(accepted.handles.length, COUNT);
    const ids = new Set(accepted.handles.map((h) => h.taskId));

    await waitFor('every submitted PO to finish', 150_000, () =>
      [...latest.values()].filter((t) => ids.has(t.taskId) && !['QUEUED', 'RUNNING'].includes(t.status)).length === COUNT);

    const rows = workers.ids.map((id) => workerRow(workers.get(id)!, Date.now()));
    assert.deepEqual(rows.map((r) => r.label), ['worker-1', 'worker-2']);
    for (const r of rows) assert.match(r.description, /\d+ MB · up .* · \d+ done/);
    assert.ok(workerRedraws > 0, 'workers were redrawn one by one from health notifications');

    const decorated = lineDecorations(lines, latest).filter((d) => submitted.some((po) => lines.get(po.replace(/^P[OM]/, ''))?.lines.includes(d.line)));
    assert.ok(decorated.length >= COUNT, 'every submitted PO line is decorated');
    for (const d of decorated) assert.match(d.text, /^(✓ done|⚠ partial|✗ (PO not found|failed|timed out): )/, d.text);

    const status = await session.refreshStatus();
    const groups = resultGroups(status);
    assert.ok(groups.length > 0);
    const first = groups[0];
    assert.equal(first.kind, 'status');
    if (first.kind === 'status') {
      const page = await session.request(ListTasks, { status: [first.status], limit: 200 });
      const children = resultChildren(first.status, page).map(resultRow);
      assert.ok(children.some((c) => submitted.includes(c.label)), 'the Results view lists the submitted POs');
    }
    assert.ok(finishedCount(status) >= COUNT);
    assert.match(statusBarView(session.state, status, Date.now()).text, /^\$\((server-process|sync~spin)\) POs \d+\/\d+ · 2 workers$/);
    const panel = panelSummary(status);
    assert.equal(panel.processed, finishedCount(status));
    assert.equal(panel.workers.length, 2);
    assert.ok(panel.thresholdMb > 0);
  });
});
