import { strict as assert } from 'node:assert';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskStore } from '../../src/supervisor/taskStore';

const PLACE = { tenant: 'https://acme.coupahost.com', downloadDir: '/tmp/po-pool-test-out' };

function drain(store: TaskStore): string[] {
  const order: string[] = [];
  for (let t = store.next(PLACE.tenant).task; t; t = store.next(PLACE.tenant).task) {
    order.push(t.poNumber);
    store.markStarted(t.taskId, 'w');
  }
  return order;
}

describe('task store: queue order', () => {
  it('runs higher priority first, then in submission order', () => {
    const store = TaskStore.inMemory();
    store.submit([{ poNumber: 'PO100001' }, { poNumber: 'PO100002', priority: 5 }, { poNumber: 'PO100003' }, { poNumber: 'PO100004', priority: 5 }], PLACE);
    assert.deepEqual(drain(store), ['PO100002', 'PO100004', 'PO100001', 'PO100003']);
  });

  it('puts a task taken back from a crashed worker ahead of later submissions of its priority', () => {
    const store = TaskStore.inMemory();
    const { handles } = store.submit([{ poNumber: 'PO200001' }, { poNumber: 'PO200002' }, { poNumber: 'PO200003' }], PLACE);
    const first = store.next(PLACE.tenant).task!;
    store.markStarted(first.taskId, 'worker-1');
    store.submit([{ poNumber: 'PO200004' }], PLACE);
    store.requeue(handles[0].taskId, 0);
    assert.deepEqual(drain(store), ['PO200001', 'PO200002', 'PO200003', 'PO200004']);
  });

  it('holds a retry back until its backoff has passed', () => {
    const store = TaskStore.inMemory();
    const { handles } = store.submit([{ poNumber: 'PO300001' }, { poNumber: 'PO300002' }], PLACE);
    store.markStarted(store.next(PLACE.tenant).task!.taskId, 'w');
    store.requeue(handles[0].taskId, 1, 60_000);
    const next = store.next(PLACE.tenant);
    assert.equal(next.task?.poNumber, 'PO300002');
    store.markStarted(next.task!.taskId, 'w');
    const empty = store.next(PLACE.tenant);
    assert.equal(empty.task, undefined);
    assert.ok(empty.wakeAt! > Date.now() + 50_000, 'says when the retry is due');
    assert.equal(store.next(PLACE.tenant, Date.now() + 61_000).task?.poNumber, 'PO300001');
  });
});

describe('task store: submissions', () => {
  it('reports duplicates of queued and completed POs, in any spelling, and reruns them only with redo', () => {
    const store = TaskStore.inMemory();
    const first = store.submit([{ poNumber: 'PO400001' }, { poNumber: '400002' }], PLACE);
    assert.equal(first.handles.length, 2);
    const again = store.submit([{ poNumber: 'po 400001' }], PLACE);
    assert.deepEqual(again.duplicates.map((d) => [d.poNumber, d.status]), [['PO400001', 'QUEUED']]);
    const t = store.next(PLACE.tenant).task!;
    store.markStarted(t.taskId, 'w');
    store.finish(t.taskId, 'COMPLETED');
    assert.equal(store.submit([{ poNumber: 'PO400001' }], PLACE).duplicates[0].status, 'COMPLETED');
    assert.equal(store.submit([{ poNumber: 'PO400001' }], PLACE, { redo: true }).handles.length, 1);
  });

  it('lets a failed PO be submitted again', () => {
    const store = TaskStore.inMemory();
    store.submit([{ poNumber: 'PO500001' }], PLACE);
    const t = store.next(PLACE.tenant).task!;
    store.markStarted(t.taskId, 'w');
    store.finish(t.taskId, 'FAILED');
    assert.equal(store.submit([{ poNumber: 'PO500001' }], PLACE).handles.length, 1);
  });

  it('refuses what is not a PO number, with the reason', () => {
    const store = TaskStore.inMemory();
    const r = store.submit([{ poNumber: 'PO12' }, { poNumber: 'hello' }], PLACE);
    assert.equal(r.handles.length, 0);
    assert.match(r.invalid[0].reason, /at least 6 digits/);
    assert.match(r.invalid[1].reason, /invalid PO format/);
  });

  it('retries every failed task, and nothing that succeeded', () => {
    const store = TaskStore.inMemory();
    store.submit([{ poNumber: 'PO600001' }, { poNumber: 'PO600002' }, { poNumber: 'PO600003' }], PLACE);
    for (const status of ['COMPLETED', 'PO_NOT_FOUND', 'FAILED'] as const) {
      const t = store.next(PLACE.tenant).task!;
      store.markStarted(t.taskId, 'w');
      store.finish(t.taskId, status);
    }
    assert.deepEqual(store.retry().map((t) => t.poNumber).sort(), ['PO600002', 'PO600003']);
    assert.equal(store.countsByStatus().QUEUED, 2);
  });

  it('pages through tasks with filters', () => {
    const store = TaskStore.inMemory();
    store.submit(Array.from({ length: 25 }, (_, i) => ({ poNumber: `PO${700000 + i}` })), PLACE);
    const page = store.list({ offset: 20, limit: 10 });
    assert.equal(page.total, 25);
    assert.deepEqual(page.tasks.map((t) => t.poNumber), ['PO700020', 'PO700021', 'PO700022', 'PO700023', 'PO700024']);
    assert.equal(store.list({ status: ['COMPLETED'] }).total, 0);
  });

  it('lists in queue order across later submissions, and filters by status within that order', () => {
    const store = TaskStore.inMemory();
    store.submit([{ poNumber: 'PO710001' }, { poNumber: 'PO710002', priority: 2 }], PLACE);
    assert.deepEqual(store.list().tasks.map((t) => t.poNumber), ['PO710002', 'PO710001']);
    const { handles } = store.submit([{ poNumber: 'PO710003', priority: 1 }, { poNumber: 'PO710004', priority: 2 }], PLACE);
    assert.deepEqual(store.list().tasks.map((t) => t.poNumber), ['PO710002', 'PO710004', 'PO710003', 'PO710001']);
    store.finish(handles[0].taskId, 'COMPLETED');
    assert.deepEqual(store.list({ status: ['QUEUED'], offset: 1, limit: 1 }), { total: 3, tasks: [store.list().tasks[1]] });
    assert.deepEqual(store.list({ status: ['COMPLETED'] }).tasks.map((t) => t.poNumber), ['PO710003']);
  });

  it('reports only the latest task of a PO submitted again', () => {
    const store = TaskStore.inMemory();
    const { handles } = store.submit([{ poNumber: 'PO720001' }, { poNumber: 'PO720002' }], PLACE);
    store.finish(handles[0].taskId, 'FAILED');
    const again = store.submit([{ poNumber: 'PO720001' }], PLACE).handles[0];
    assert.deepEqual(store.latest().map((t) => [t.poNumber, t.taskId]), [['PO720002', handles[1].taskId], ['PO720001', again.taskId]]);
  });
});

describe('task store: journal', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'po-journal-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replays after a crash: nothing submitted is lost, nothing completed is redone, running work is queued again first', () => {
    const path = join(dir, 'journal.jsonl');
    const { store } = TaskStore.open(path);
    store.submit([{ poNumber: 'PO800001' }, { poNumber: 'PO800002' }, { poNumber: 'PO800003' }], PLACE);
    const a = store.next(PLACE.tenant).task!;
    store.markStarted(a.taskId, 'w1');
    store.finish(a.taskId, 'COMPLETED');
    const b = store.next(PLACE.tenant).task!;
    store.markStarted(b.taskId, 'w2');
    // no close(): the supervisor died here
    const { store: again } = TaskStore.open(path);
    assert.equal(again.total, 3);
    assert.equal(again.get(a.taskId)!.status, 'COMPLETED');
    assert.equal(again.get(b.taskId)!.status, 'QUEUED');
    assert.deepEqual(drain(again), ['PO800002', 'PO800003']);
    assert.equal(again.submit([{ poNumber: 'PO800001' }], PLACE).duplicates.length, 1, 'a completed PO is not redone');
    again.close();
    store.close();
  });

  it('remembers across a restart how many workers died on a task, until the user retries it', () => {
    const path = join(dir, 'journal.jsonl');
    const { store } = TaskStore.open(path);
    const [h] = store.submit([{ poNumber: 'PO810001' }], PLACE).handles;
    store.markStarted(h.taskId, 'w1');
    store.requeue(h.taskId, 0, 0, 2);
    const { store: again } = TaskStore.open(path);
    assert.equal(again.crashesOf(h.taskId), 2);
    again.finish(h.taskId, 'FAILED');
    again.retry([h.taskId]);
    again.close();
    const { store: third } = TaskStore.open(path);
    assert.equal(third.crashesOf(h.taskId), 0);
    third.close();
    store.close();
  });

  it('skips a torn last line', () => {
    const path = join(dir, 'journal.jsonl');
    const { store } = TaskStore.open(path);
    store.submit([{ poNumber: 'PO900001' }], PLACE);
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
    store.submit([{ poNumber: 'PO910001' }], PLACE);
    for (let i = 0; i < 50; i++) {
      const t = store.next(PLACE.tenant).task!;
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

describe('task store: a task is one PO from one tenant into one folder', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'po-place-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function complete(store: TaskStore, tenant: string, files: { path: string; bytes: number }[] = []): void {
    const t = store.next(tenant).task!;
    store.markStarted(t.taskId, 'w');
    store.finish(t.taskId, 'COMPLETED', {
      taskId: t.taskId, poNumber: t.poNumber, status: 'COMPLETED', attachments: [], attempts: 1,
      files: files.map((f) => ({ name: 'a.pdf', originalName: 'a.pdf', sha256: 'x', ...f })),
      timings: { startedAt: 0, finishedAt: 1, navigationMs: 0, downloadMs: 0 },
    });
  }

  it('runs the same PO again into another folder and for another tenant, not into the same folder or over another tenant\'s files', () => {
    const store = TaskStore.inMemory();
    const a = { tenant: 'https://acme.coupahost.com', downloadDir: join(dir, 'A') };
    const file = join(dir, 'A-PO100001.pdf');
    writeFileSync(file, 'pdf!');
    store.submit([{ poNumber: 'PO100001' }], a);
    complete(store, a.tenant, [{ path: file, bytes: 4 }]);

    const same = store.submit([{ poNumber: 'PO100001' }], a);
    assert.deepEqual([same.handles.length, same.duplicates[0]?.status], [0, 'COMPLETED'], 'already in this folder');
    assert.equal(store.submit([{ poNumber: 'PO100001' }], { ...a, downloadDir: join(dir, 'B') }).handles.length, 1, 'another folder is new work');
    assert.equal(store.submit([{ poNumber: 'PO100001' }], { tenant: 'https://other.coupahost.com', downloadDir: join(dir, 'C') }).handles.length, 1, 'another tenant is new work');
    const clash = store.submit([{ poNumber: 'PO100001' }], { ...a, tenant: 'https://third.coupahost.com' });
    assert.match(clash.invalid[0]?.reason ?? '', /already in this folder from https:\/\/acme.coupahost.com: its files would be replaced/, 'another tenant\'s copy of the PO is not overwritten');
    assert.equal(store.submit([{ poNumber: 'PO100001' }], a, { redo: true }).handles.length, 1, 'redo forces it');
  });

  it('takes a PO done earlier as new work once its files are gone from the folder', () => {
    const store = TaskStore.inMemory();
    const a = { tenant: 'demo', downloadDir: dir };
    const file = join(dir, 'x.pdf');
    writeFileSync(file, 'pdf!');
    store.submit([{ poNumber: 'PO100002' }], a);
    complete(store, 'demo', [{ path: file, bytes: 4 }]);
    rmSync(file);
    assert.equal(store.submit([{ poNumber: 'PO100002' }], a).handles.length, 1);
  });

  it('gives a pool only its own tenant\'s tasks, and lists a folder\'s POs only', () => {
    const store = TaskStore.inMemory();
    store.submit([{ poNumber: 'PO100003' }], { tenant: 'https://a.coupahost.com', downloadDir: '/A' });
    store.submit([{ poNumber: 'PO100004' }], { tenant: 'https://b.coupahost.com', downloadDir: '/B' });
    assert.equal(store.next('https://a.coupahost.com').task?.poNumber, 'PO100003');
    assert.equal(store.queuedFor('https://b.coupahost.com'), 1);
    assert.deepEqual(store.inFolder('/B').map((t) => t.poNumber), ['PO100004']);
  });

  it('refuses task fields out of their bounds and never reads internal state from metadata', () => {
    const store = TaskStore.inMemory();
    const r = store.submit([
      { poNumber: 'PO100005', retryCount: -3 },
      { poNumber: 'PO100006', timeoutOverride: 2_200_000 },
      { poNumber: 'PO100007', priority: 1.5 },
      { poNumber: 'PO100008', metadata: [] as unknown as Record<string, unknown> },
      { poNumber: 'PO100009', metadata: { timeoutOverride: 1, crashes: 99, notBefore: Date.now() + 1e9, costCentre: 'X1' } },
    ], PLACE);
    assert.deepEqual(r.invalid.map((i) => i.poNumber), ['PO100005', 'PO100006', 'PO100007', 'PO100008']);
    assert.match(r.invalid[0].reason, /retryCount must be a whole number from 0/);
    assert.match(r.invalid[1].reason, /timeoutOverride must be .* at most 3600 seconds/);
    const t = store.next(PLACE.tenant).task!;
    assert.equal(t.poNumber, 'PO100009', 'a user "notBefore" does not hold it back');
    assert.equal(t.timeoutOverride, undefined);
    assert.equal(store.crashesOf(t.taskId), 0);
    assert.deepEqual(t.metadata, { timeoutOverride: 1, crashes: 99, notBefore: t.metadata.notBefore, costCentre: 'X1' }, 'kept as given');
  });
});
