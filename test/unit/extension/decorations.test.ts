import { strict as assert } from 'node:assert';
import { parsePoText } from '../../../src/protocol/po';
import type { TaskInfo, TaskResult } from '../../../src/protocol/types';
import { decorationHover, lineDecorations, mergeLatest, poLines } from '../../../src/extension/decorationsModel';
import { outcomeText } from '../../../src/extension/outcome';

function task(po: string, over: Partial<TaskInfo> = {}): TaskInfo {
  return { taskId: `t-${po}`, poNumber: po, tenant: 'https://acme.coupahost.com', downloadDir: '/out', priority: 0, status: 'QUEUED', retryCount: 0, submittedAt: 1000, metadata: {}, ...over };
}
function result(over: Partial<TaskResult>): TaskResult {
  return { taskId: 't', poNumber: 'PO1', status: 'COMPLETED', attachments: [], files: [], attempts: 1, timings: { startedAt: 0, finishedAt: 1, navigationMs: 0, downloadMs: 0 }, ...over };
}
const file = (name: string) => ({ name, originalName: name, path: `/d/${name}`, bytes: 2048, sha256: 'x' });

describe('extension: editor decorations', () => {
  it('says in a few words how each PO ended', () => {
    assert.equal(outcomeText(task('PO1', { status: 'COMPLETED', result: result({ files: [file('a'), file('b'), file('c')] }) })), '✓ done, 3 files');
    assert.equal(outcomeText(task('PO1', { status: 'NO_ATTACHMENTS', result: result({ status: 'NO_ATTACHMENTS' }) })), '✓ done, no attachments');
    assert.equal(
      outcomeText(task('PO1', { status: 'PO_NOT_FOUND', result: result({ status: 'PO_NOT_FOUND', error: { kind: 'PONotFoundError', message: 'Oops! We could not find what you were looking for, sorry about that' } }) })),
      '✗ PO not found: Oops! We could not find what you were looking for…',
    );
    assert.equal(
      outcomeText(task('PO100005', { status: 'PO_NOT_FOUND', result: result({ status: 'PO_NOT_FOUND', error: { kind: 'PONotFoundError', message: 'PO100005: not found in Coupa' } }) })),
      '✗ PO not found: not found in Coupa',
      'neither the class name nor the PO number again',
    );
    assert.equal(outcomeText(task('PO1', { status: 'RUNNING', workerId: 'worker-2' })), '… running on worker-2');
    assert.equal(outcomeText(task('PO1', { status: 'QUEUED', priority: 5 })), '… queued (priority 5)');
    assert.equal(outcomeText(task('PO1', { status: 'CANCELLED' })), '⊘ cancelled');
    assert.equal(
      outcomeText(task('PO1', { status: 'PARTIAL', result: result({ status: 'PARTIAL', attachments: ['a', 'b', 'c'], files: [file('a')], error: { kind: 'DownloadError', message: 'over the size cap' } }) })),
      '⚠ partial, 1 of 3 files: over the size cap',
    );
  });

  it('finds every line a PO is on, whatever its spelling, and decorates it with the latest task', () => {
    const text = 'PO Number\nPO100001\npo 100002\n\n100001\nnot a po';
    const lines = poLines(parsePoText(text));
    assert.deepEqual([...lines.entries()], [['100001', { poNumber: 'PO100001', lines: [1, 4] }], ['100002', { poNumber: 'PO100002', lines: [2] }]]);
    const latest = new Map<string, TaskInfo>();
    assert.ok(mergeLatest(latest, [task('PO100001', { status: 'RUNNING', workerId: 'worker-1' }), task('PO999999')], lines));
    assert.deepEqual(latest.size, 1, 'POs not in the document are not kept');
    const decos = lineDecorations(lines, latest);
    assert.deepEqual(decos.map((d) => [d.line, d.kind, d.text]), [[1, 'running', '… running on worker-1'], [4, 'running', '… running on worker-1']]);
  });

  it('keeps the newest submission of a PO and ignores reports that change nothing', () => {
    const latest = new Map<string, TaskInfo>();
    mergeLatest(latest, [task('PO100001', { taskId: 'new', submittedAt: 2000, status: 'QUEUED' })]);
    assert.ok(!mergeLatest(latest, [task('PO100001', { taskId: 'old', submittedAt: 1000, status: 'FAILED' })]), 'an older run does not overwrite');
    assert.ok(!mergeLatest(latest, [task('PO100001', { taskId: 'new', submittedAt: 2000, status: 'QUEUED' })]), 'same again: no redraw');
    assert.ok(mergeLatest(latest, [task('PO100001', { taskId: 'new', submittedAt: 2000, status: 'COMPLETED' })]));
    assert.equal(latest.get('100001')?.status, 'COMPLETED');
  });

  it('explains the outcome in the hover, with markdown escaped', () => {
    const hover = decorationHover(task('PO7', { status: 'COMPLETED', result: result({ supplier: 'A*B [Ltd]', files: [file('x_1.pdf')], attempts: 2 }) }));
    assert.match(hover, /\*\*PO7\*\*: Completed/);
    assert.match(hover, /Supplier: A\\\*B \\\[Ltd\\\]/);
    assert.match(hover, /- x\\_1\\.pdf \(2 kB\)/);
    assert.match(hover, /Attempts: 2/);
  });
});
