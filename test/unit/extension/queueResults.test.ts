import { strict as assert } from 'node:assert';
import type { PoolStatus, TaskInfo, TaskResult } from '../../../src/protocol/types';
import { groupChildren, QUEUE_PAGE, queueGroups, queueRow } from '../../../src/extension/queueModel';
import { fileChildren, newestPage, RESULTS_PAGE, resultChildren, resultGroups, resultRow, resultTarget } from '../../../src/extension/resultsModel';

const now = 1_700_000_000_000;
function task(po: string, over: Partial<TaskInfo> = {}): TaskInfo {
  return { taskId: `t-${po}`, poNumber: po, tenant: 'https://acme.coupahost.com', downloadDir: '/out', priority: 0, status: 'QUEUED', retryCount: 0, submittedAt: now - 120_000, metadata: {}, ...over };
}
function result(po: string, over: Partial<TaskResult> = {}): TaskResult {
  return {
    taskId: `t-${po}`, poNumber: po, status: 'COMPLETED', attachments: [], files: [], attempts: 1,
    timings: { startedAt: now - 5000, finishedAt: now, navigationMs: 1000, downloadMs: 2000 }, ...over,
  };
}
const status = (over: Partial<PoolStatus>) => ({ state: 'PROCESSING', queueDepth: 0, running: 0, counts: {}, ...over }) as PoolStatus;

describe('extension: Queue view', () => {
  it('groups running and queued POs with their counts', () => {
    const groups = queueGroups(status({ running: 4, queueDepth: 9870 }));
    assert.deepEqual(groups.map((g) => queueRow(g, now)).map((r) => [r.label, r.description]), [['Running', '4'], ['Queued', '9,870']]);
    assert.deepEqual(queueGroups(status({})), [], 'an empty queue shows the welcome text');
  });

  it('lists a page and one "… N more" row instead of ten thousand items', () => {
    const tasks = Array.from({ length: QUEUE_PAGE }, (_, i) => task(`PO${100000 + i}`));
    const nodes = groupChildren('QUEUED', { total: 10_000, tasks });
    assert.equal(nodes.length, QUEUE_PAGE + 1);
    const more = queueRow(nodes[nodes.length - 1], now);
    assert.equal(more.label, `… ${(10_000 - QUEUE_PAGE).toLocaleString('en-US')} more`);
    assert.equal(groupChildren('QUEUED', { total: 2, tasks: tasks.slice(0, 2) }).length, 2);
  });

  it('shows priority and waiting time of queued POs, worker and run time of running ones', () => {
    const queued = queueRow({ kind: 'task', task: task('PO100001', { priority: 5, retryCount: 1 }) }, now);
    assert.equal(queued.label, 'PO100001');
    assert.equal(queued.description, 'priority 5 · waiting 2 min · retry 1');
    assert.equal(queued.contextValue, 'task.queued');
    const running = queueRow({ kind: 'task', task: task('PO100002', { status: 'RUNNING', workerId: 'worker-3', startedAt: now - 30_000 }) }, now);
    assert.equal(running.description, 'on worker-3 · 30 sec');
    assert.equal(running.icon.id, 'sync~spin');
    assert.equal(running.contextValue, 'task.running');
  });
});

describe('extension: Results view', () => {
  it('groups outcomes by status with counts, successes first', () => {
    const groups = resultGroups(status({ counts: { FAILED: 2, COMPLETED: 118, QUEUED: 5, PO_NOT_FOUND: 1 } }));
    assert.deepEqual(groups.map((g) => resultRow(g)).map((r) => [r.label, r.description, r.contextValue]), [
      ['Completed', '118', 'resultGroup'], ['Failed', '2', 'resultGroup.retryable'], ['PO not found', '1', 'resultGroup.retryable'],
    ]);
  });

  it('asks for the newest page and lists it newest first', () => {
    assert.deepEqual(newestPage(50), { offset: 0, limit: RESULTS_PAGE });
    assert.deepEqual(newestPage(1000), { offset: 1000 - RESULTS_PAGE, limit: RESULTS_PAGE });
    const nodes = resultChildren('COMPLETED', { total: 500, tasks: [task('PO1', { finishedAt: 1 }), task('PO2', { finishedAt: 2 })] });
    assert.deepEqual(nodes.map((n) => resultRow(n).label), ['PO2', 'PO1', '… 498 more']);
  });

  it('shows files, size and supplier of a completed PO, which opens its folder and lists its files', () => {
    const files = [
      { name: 'quote.pdf', originalName: 'quote.pdf', path: '/d/PO1/quote.pdf', bytes: 1_000_000, sha256: 'a' },
      { name: 'terms_1.pdf', originalName: 'terms.pdf', path: '/d/PO1/terms_1.pdf', bytes: 300_000, sha256: 'b' },
    ];
    const t = task('PO1', { status: 'COMPLETED', result: result('PO1', { files, folder: '/d/PO1', supplier: 'ACME Corp' }) });
    const row = resultRow({ kind: 'result', task: t });
    assert.equal(row.description, '2 files · 1.2 MB · ACME Corp');
    assert.equal(row.contextValue, 'result.folder');
    assert.equal(row.collapsible, 'collapsed');
    assert.match(row.tooltip, /Files: quote.pdf, terms_1.pdf/);
    assert.equal(resultTarget(t), '/d/PO1');
    const fileRows = fileChildren(t).map((n) => resultRow(n));
    assert.deepEqual(fileRows.map((r) => [r.label, r.description]), [['quote.pdf', '977 kB'], ['terms_1.pdf', '293 kB']]);
    assert.match(fileRows[1].tooltip, /Named in Coupa: terms.pdf/);
  });

  it('shows a failed PO with its error, retryable, with a red icon', () => {
    const t = task('PO9', { status: 'PO_NOT_FOUND', result: result('PO9', { status: 'PO_NOT_FOUND', error: { kind: 'PONotFoundError', message: 'Oops, we could not find that order' } }) });
    const row = resultRow({ kind: 'result', task: t });
    assert.equal(row.description, 'Oops, we could not find that order');
    const spelled = task('po 100009', { status: 'FAILED', result: result('po 100009', { status: 'FAILED', error: { kind: 'PoolError', message: 'PO100009: the page did not load' } }) });
    assert.equal(resultRow({ kind: 'result', task: spelled }).description, 'the page did not load', 'the PO is on the row already, however it is spelled');
    const other = task('PO100009', { status: 'FAILED', result: result('PO100009', { status: 'FAILED', error: { kind: 'PoolError', message: 'PO100010: linked order failed' } }) });
    assert.equal(resultRow({ kind: 'result', task: other }).description, 'PO100010: linked order failed', 'another PO is kept');
    assert.equal(row.contextValue, 'result.retryable');
    assert.equal(row.icon.color, 'errorForeground');
    assert.equal(row.collapsible, undefined);
    assert.equal(resultTarget(t), undefined, 'nothing to open');
  });
});
