import { strict as assert } from 'node:assert';
import { parsePoText } from '../../../src/protocol/po';
import type { PoolStatus, TaskInfo, TaskResult } from '../../../src/protocol/types';
import { poLines } from '../../../src/extension/decorationsModel';
import { BatchWatch, coupaPoUrl, evidenceOf, failedBadge, hoverLinks, lineProblems, listLens } from '../../../src/extension/failureModel';

function task(po: string, over: Partial<TaskInfo> = {}): TaskInfo {
  return { taskId: `t-${po}`, poNumber: po, tenant: 'https://acme.coupahost.com', downloadDir: '/out', priority: 0, status: 'QUEUED', retryCount: 0, submittedAt: 1000, metadata: {}, ...over };
}
function result(over: Partial<TaskResult>): TaskResult {
  return { taskId: 't', poNumber: 'PO1', status: 'COMPLETED', attachments: [], files: [], attempts: 1, timings: { startedAt: 0, finishedAt: 1, navigationMs: 0, downloadMs: 0 }, ...over };
}
const status = (queueDepth: number, running: number, counts: PoolStatus['counts']) => ({ queueDepth, running, counts }) as PoolStatus;

describe('extension: failures in VS Code\'s places', () => {
  it('makes a problem of every line of a PO that did not end well, a warning when partial', () => {
    const lines = poLines(parsePoText('PO100001\nPO100002\npo 100003\nPO100004\n100002'));
    const latest = new Map<string, TaskInfo>([
      ['100001', task('PO100001', { status: 'COMPLETED' })],
      ['100002', task('PO100002', { status: 'PO_NOT_FOUND', result: result({ status: 'PO_NOT_FOUND', error: { kind: 'PONotFoundError', message: 'PO100002: not found in Coupa' } }) })],
      ['100003', task('po 100003', { status: 'PARTIAL', result: result({ status: 'PARTIAL', error: { kind: 'DownloadError', message: 'over the size cap' } }) })],
      ['100004', task('PO100004', { status: 'CANCELLED' })],
    ]);
    const problems = lineProblems(lines, latest);
    assert.deepEqual(problems.map((p) => [p.line, p.severity, p.message, p.taskId]), [
      [1, 'error', 'PO100002: PO not found: not found in Coupa', 't-PO100002'],
      [2, 'warning', 'po 100003: partial: over the size cap', 't-po 100003'],
      [4, 'error', 'PO100002: PO not found: not found in Coupa', 't-PO100002'],
    ]);
    assert.deepEqual(failedBadge(problems), { badge: '2', tooltip: 'PO Pool: 2 POs did not end well' }, 'one PO on two lines counts once');
    assert.equal(failedBadge([]), undefined);
  });

  it('offers to run a list from its first line, and to retry its failed POs once each', () => {
    const failed = [{ line: 1, severity: 'error' as const, message: 'x', taskId: 't1' }, { line: 4, severity: 'error' as const, message: 'x', taskId: 't1' }, { line: 6, severity: 'warning' as const, message: 'y', taskId: 't2' }];
    const lenses = listLens(1234, failed, '/lists/pos.txt');
    assert.deepEqual(lenses.map((l) => [l.title, l.command, l.args]), [
      ['▶ Process 1,234 POs', 'poPool.processFile', ['/lists/pos.txt']],
      ['Retry 2 failed', 'poPool.retryFailed', [{ taskIds: ['t1', 't2'] }]],
    ]);
    assert.deepEqual(listLens(3, [], undefined), [], 'an unsaved list is run from its selection instead');
    assert.deepEqual(listLens(0, [], '/notes.txt'), [], 'no POs, no lens');
  });

  it('finds the evidence on the result or on the error that ended the PO, and nothing else', () => {
    assert.deepEqual(evidenceOf(task('PO1', { result: result({ evidence: { screenshot: '/e/PO1-failed.png' } }) })), { screenshot: '/e/PO1-failed.png' });
    const onError = task('PO2', { result: result({ error: { kind: 'TimeoutError', message: 'slow', data: { evidence: { html: '/e/PO2-timeout.html', screenshot: 7 } } } }) });
    assert.deepEqual(evidenceOf(onError), { html: '/e/PO2-timeout.html' });
    assert.equal(evidenceOf(task('PO3', { result: result({}) })), undefined);
    assert.equal(evidenceOf(task('PO4')), undefined);
  });

  it('addresses a PO\'s page on its tenant as the workers do, and on the running stand-in for the demo', () => {
    assert.equal(coupaPoUrl({ poNumber: 'PO 15262984', tenant: 'https://acme.coupahost.com/' }), 'https://acme.coupahost.com/order_headers/15262984');
    assert.equal(coupaPoUrl({ poNumber: 'PO100001', tenant: 'demo' }, 'http://127.0.0.1:4321'), 'http://127.0.0.1:4321/order_headers/100001');
    assert.equal(coupaPoUrl({ poNumber: 'PO100001', tenant: 'demo' }), undefined, 'no stand-in running');
    assert.equal(coupaPoUrl({ poNumber: 'junk', tenant: 'https://acme.coupahost.com' }), undefined);
  });

  it('links a failed PO\'s hover to its evidence and page, with the target in the link', () => {
    const failed = task('PO5', { status: 'FAILED', result: result({ status: 'FAILED', evidence: { screenshot: '/e/PO5-failed.png' } }) });
    const links = hoverLinks(failed);
    const showFailure = /\[Show Failure\]\(command:poPool\.showFailure\?([^ ]+) /.exec(links);
    assert.ok(showFailure, links);
    assert.deepEqual(JSON.parse(decodeURIComponent(showFailure[1])), [{ poNumber: 'PO5', tenant: 'https://acme.coupahost.com', evidence: { screenshot: '/e/PO5-failed.png' } }]);
    assert.match(links, /\[Open in Coupa\]\(command:poPool\.openInCoupa\?/);
    assert.equal(hoverLinks(task('PO6', { status: 'QUEUED' })), '', 'nothing to open before a PO has run');
  });

  it('tells the end of a batch once, with what that batch did', () => {
    const watch = new BatchWatch();
    assert.equal(watch.next(status(0, 0, { COMPLETED: 5 })), undefined, 'idle from the start: no batch');
    assert.equal(watch.next(status(3, 1, { COMPLETED: 5 })), undefined);
    assert.equal(watch.next(status(1, 1, { COMPLETED: 7 })), undefined);
    const end = watch.next(status(0, 0, { COMPLETED: 8, PO_NOT_FOUND: 1, TIMEOUT: 1, CANCELLED: 1 }));
    assert.deepEqual(end, { message: 'Batch finished: 3 POs done, 2 POs did not end well, 1 PO cancelled.', failed: 2 });
    assert.equal(watch.next(status(0, 0, { COMPLETED: 8 })), undefined, 'told once');
    assert.equal(watch.next(status(1, 0, { COMPLETED: 8 })), undefined);
    assert.deepEqual(watch.next(status(0, 0, { COMPLETED: 8, FAILED: 1 })), { message: 'Batch finished: 1 PO did not end well.', failed: 1 }, 'no "0 POs done"');
    watch.reset(status(2, 0, { COMPLETED: 8 }));
    assert.deepEqual(watch.next(status(0, 0, { COMPLETED: 10 })), { message: 'Batch finished: 2 POs done.', failed: 0 });
  });
});
