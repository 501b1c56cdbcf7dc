import { strict as assert } from 'node:assert';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskStore } from '../../src/supervisor/taskStore';

function drain(store: TaskStore): string[] {
  const order: string[] = [];
  for (let t = store.next().task; t; t = store.next().task) {
    order.push(t.poNumber);
    store.markStarted(t.taskId, 'w');
  }
  return order;
}

describe('task store: queue order', () => {
  it('runs higher priority first, then in submission order', () => {
    const store = TaskStore.inMemory();
    store.submit([{ poNumber: 'PO100001' }, { poNumber: 'PO100002', priority: 5 }, { poNumber: 'PO100003' }, { poNumber: 'PO100004', priority: 5 }]);
    assert.deepEqual(drain(store), ['PO100002', 'PO100004', 'PO100001', 'PO100003']);
  });

  it('puts a task taken back from a crashed worker ahead of later submissions of its priority', () => {
    const store = TaskStore.inMemory();
    const { handles } = store.submit([{ poNumber: 'PO200001' }, { poNumber: 'PO200002' }, { poNumber: 'PO200003' }]);
    const first = store.next().task!;
    store.markStarted(first.taskId, 'worker-1');
    store.submit([{ poNumber: 'PO200004' }]);
    store.requeue(handles[0].taskId, 0);
    assert.deepEqual(drain(store), ['PO200001', 'PO200002', 'PO200003', 'PO200004']);
  });

  it('holds a retry back until its backoff has passed', () => {
    const store = TaskStore.inMemory();
    const { handles } = store.submit([{ poNumber: 'PO300001' }, { poNumber: 'PO300002' }]);
    store.markStarted(store.next().task!.taskId, 'w');
    store.requeue(handles[0].taskId, 1, 60_000);
    const next = store.next();
    assert.equal(next.task?.poNumber, 'PO300002');
    store.markStarted(next.task!.taskId, 'w');
    const empty = store.next();
    assert.equal(empty.task, undefined);
    assert.ok(empty.wakeAt! > Date.now() + 50_000, 'says when the retry is due');
    assert.equal(store.next(Date.now() + 61_000).task?.poNumber, 'PO300001');
  });
});

describe('task store: submissions', () => {
  it('reports duplicates of queued and completed POs, in any spelling, and reruns them only with redo', () => {
    const store = TaskStore.inMemory();
    const first = store.submit([{ poNumber: 'PO400001' }, { poNumber: '400002' }]);
    assert.equal(first.handles.length, 2);
    const again = store.submit([{ poNumber: 'po 400001' }]);
    assert.deepEqual(again.duplicates.map((d) => [d.poNumber, d.status]), [['PO400001', 'QUEUED']]);
    const t = store.next().task!;
    store.markStarted(t.taskId, 'w');
    store.finish(t.taskId, 'COMPLETED');
    assert.equal(store.submit([{ poNumber: 'PO400001' }]).duplicates[0].status, 'COMPLETED');
    assert.equal(store.submit([{ poNumber: 'PO400001' }], true).handles.length, 1);
  });

  it('lets a failed PO be submitted again', () => {
    const store = TaskStore.inMemory();
    store.submit([{ poNumber: 'PO500001' }]);
    const t = store.next().task!;
    store.markStarted(t.taskId, 'w');
    store.finish(t.taskId, 'FAILED');
    assert.equal(store.submit([{ poNumber: 'PO500001' }]).handles.length, 1);
  });

  it('refuses what is not a PO number, with the reason', () => {
    const store = TaskStore.inMemory();
    const r = store.submit([{ poNumber: 'PO12' }, { poNumber: 'hello' }]);
    assert.equal(r.handles.length, 0);
    assert.match(r.invalid[0].reason, /at least 6 digits/);
    assert.match(r.invalid[1].reason, /invalid PO format/);
  });

  it('retries every failed task, and nothing that succeeded', () => {
    const store = TaskStore.inMemory();
    store.submit([{ poNumber: 'PO600001' }, { poNumber: 'PO600002' }, { poNumber: 'PO600003' }]);
    for (const status of ['COMPLETED', 'PO_NOT_FOUND', 'FAILED'] as const) {
      const t = store.next().task!;
      store.markStarted(t.taskId, 'w');
      store.finish(t.taskId, status);
    }
    assert.deepEqual(store.retry().map((t) => t.poNumber).sort(), ['PO600002', 'PO600003']);
    assert.equal(store.countsByStatus().QUEUED, 2);
  });

  it('pages through tasks with filters', () => {
    const store = TaskStore.inMemory();
    store.submit(Array.from({ length: 25 }, (_, i) => ({ poNumber: `PO${700000 + i}` })));
    const page = store.list({ offset: 20, limit: 10 });
    assert.equal(page.total, 25);
    assert.deepEqual(page.tasks.map((t) => t.poNumber), ['PO700020', 'PO700021', 'PO700022', 'PO700023', 'PO700024']);
    assert.equal(store.list({ status: ['COMPLETED'] }).total, 0);
  });

  it('lists in queue order across later submissions, and filters by status within that order', () => {
    const store = TaskStore.inMemory();
    store.submit([{ poNumber: 'PO710001' }, { poNumber: 'PO710002', priority: 2 }]);
    assert.deepEqual(store.list().tasks.map((t) => t.poNumber), ['PO710002', 'PO710001']);
    const { handles } = store.submit([{ poNumber: 'PO710003', priority: 1 }, { poNumber: 'PO710004', priority: 2 }]);
    assert.deepEqual(store.list().tasks.map((t) => t.poNumber), ['PO710002', 'PO710004', 'PO710003', 'PO710001']);
    store.finish(handles[0].taskId, 'COMPLETED');
    assert.deepEqual(store.list({ status: ['QUEUED'], offset: 1, limit: 1 }), { total: 3, tasks: [store.list().tasks[1]] });
    assert.deepEqual(store.list({ status: ['COMPLETED'] }).tasks.map((t) => t.poNumber), ['PO710003']);
  });

  it('reports only the latest task of a PO submitted again', () => {
    const store = TaskStore.inMemory();
    const { handles } = store.submit([{ poNumber: 'PO720001' }, { poNumber: 'PO720002' }]);
    store.finish(handles[0].taskId, 'FAILED');
    const again = store.submit([{ poNumber: 'PO720001' }]).handles[0];
    assert.deepEqual(store.latestPerPo().map((t) => [t.poNumber, t.taskId]), [['PO720002', handles[1].taskId], ['PO720001', again.taskId]]);
  });
});

describe('task store: journal', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'po-journal-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replays after a crash: nothing submitted is lost, nothing completed is redone, running work is queued again first', () => {
    const path = join(dir, 'journal.jsonl');
    const { store } = TaskStore.open(path);
    store.submit([{ poNumber: 'PO800001' }, { poNumber: 'PO800002' }, { poNumber: 'PO800003' }]);
    const a = store.next().task!;
    store.markStarted(a.taskId, 'w1');
    store.finish(a.taskId, 'COMPLETED');
    const b = store.next().task!;
    store.markStarted(b.taskId, 'w2');
    // no close(): the supervisor died here
    const { store: again } = TaskStore.open(path);
    assert.equal(again.total, 3);
    assert.equal(again.get(a.taskId)!.status, 'COMPLETED');
    assert.equal(again.get(b.taskId)!.status, 'QUEUED');
    assert.deepEqual(drain(again), ['PO800002', 'PO800003']);
    assert.equal(again.submit([{ poNumber: 'PO800001' }]).duplicates.length, 1, 'a completed PO is not redone');
    again.close();
    store.close();
  });

  it('remembers across a restart how many workers died on a task, until the user retries it', () => {
    const path = join(dir, 'journal.jsonl');
    const { store } = TaskStore.open(path);
    const [h] = store.submit([{ poNumber: 'PO810001' }]).handles;
    store.markStarted(h.taskId, 'w1');
    store.requeue(h.taskId, 0, 0, 2);
    const { store: again } = TaskStore.open(path);
    assert.equal(again.get(h.taskId)!.metadata.crashes, 2);
    again.finish(h.taskId, 'FAILED');
    again.retry([h.taskId]);
    again.close();
    const { store: third } = TaskStore.open(path);
    assert.equal(third.get(h.taskId)!.metadata.crashes, 0);
    third.close();
    store.close();
  });

  it('skips a torn last line', () => {
    const path = join(dir, 'journal.jsonl');
    const { store } = TaskStore.open(path);
    store.submit([{ poNumber: 'PO900001' }]);
    store.close();
    appendFileSync(path, '{"t":"submit","task":{"taskId":"x"');
    const { store: again, tornRecords } = TaskStore.open(path);
    assert.equal(tornRecords, 1);
    assert.equal(again.total, 1);
    again.close();
  });

  it('compacts on open, so replay follows the number of tasks', () => {
    const path = join(dir, 'journal.jsonl');
    const { store } = TaskStore.open(path);
    store.submit([{ poNumber: 'PO910001' }]);
    for (let i = 0; i < 50; i++) {
      const t = store.next().task!;
      store.markStarted(t.taskId, 'w');
      store.requeue(t.taskId, i);
    }
    store.close();
    const { store: again } = TaskStore.open(path);
    again.close();
    assert.equal(readFileSync(path, 'utf8').trim().split('\n').length, 1);
  });

  it('writes the journal owner-only', () => {
    const path = join(dir, 'journal.jsonl');
    writeFileSync(path, '');
    const { store } = TaskStore.open(path);
    store.close();
    assert.equal(statSync(path).mode & 0o077, 0);
  });
});
