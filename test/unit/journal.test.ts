import { strict as assert } from 'node:assert';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../../src/supervisor/journal';
import { TaskStore } from '../../src/supervisor/taskStore';

const PLACE = { tenant: 'https://acme.coupahost.com', downloadDir: '/srv/out' };

describe('journal: damage never keeps the supervisor down', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'po-journal-'));
    path = join(dir, 'journal.jsonl');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('skips and counts lines of the wrong shape, torn lines and records of unknown tasks, keeping every good one', () => {
    const { store } = TaskStore.open(path);
    const [a, b] = store.submit([{ poNumber: 'PO100001' }, { poNumber: 'PO100002' }], PLACE).handles;
    store.close();
    appendFileSync(path, [
      '{"t":"start","taskId":"' + a.taskId + '","workerId":"w1","at":1}',
      '{"t":"submit","task":{"taskId":5}}',
      '["not","a","record"]',
      '{"t":"end","taskId":"nobody","status":"COMPLETED","at":1}',
      '{"t":"end","taskId":"' + b.taskId + '","status":"FINISHED?","at":1}',
      '{"t":"submit","task":{"taskId":"x"',
      '{"t":"end","taskId":"' + b.taskId + '","status":"PO_NOT_FOUND","at":2}',
    ].join('\n') + '\n');
    const opened = TaskStore.open(path);
    assert.deepEqual([opened.tornRecords, opened.skippedRecords], [1, 4]);
    assert.equal(opened.store.total, 2);
    assert.equal(opened.store.get(a.taskId)!.status, 'QUEUED', 'was running: queued again');
    assert.equal(opened.store.get(b.taskId)!.status, 'PO_NOT_FOUND', 'a good record after the damage still counts');
    opened.store.close();
  });

  it('replays a journal of the version before tasks had a tenant and a folder, moving its internal counters out of metadata', () => {
    const old = { taskId: 'old-1', poNumber: 'PO200001', priority: 0, status: 'QUEUED', retryCount: 1, submittedAt: 1, metadata: { crashes: 2, timeoutOverride: 30, notBefore: 5, costCentre: 'C7' } };
    writeFileSync(path, JSON.stringify({ t: 'submit', task: old, seq: 1 }) + '\n');
    const { store, skippedRecords } = TaskStore.open(path, { legacy: PLACE });
    assert.equal(skippedRecords, 0);
    const t = store.get('old-1')!;
    assert.deepEqual([t.tenant, t.downloadDir, t.timeoutOverride, store.crashesOf('old-1')], [PLACE.tenant, PLACE.downloadDir, 30, 2]);
    assert.deepEqual(t.metadata, { costCentre: 'C7' });
    assert.equal(store.next(PLACE.tenant).task?.taskId, 'old-1');
    store.close();
  });

  it('on a full disk refuses a submission without a trace, keeps progress in memory, and writes it once there is room', () => {
    let full = false;
    const errors: string[] = [];
    const fs = {
      writeSync: (fd: number, text: string) => {
        if (!full) return writeSync(fd, text);
        // A short write, as a nearly full disk gives: half the bytes, then ENOSPC on the next call.
        writeSync(fd, text.slice(0, Math.floor(text.length / 2)));
        return Math.floor(Buffer.byteLength(text) / 2);
      },
    };
    const { store } = TaskStore.open(path, { fs, onError: (m) => errors.push(m) });
    const [h] = store.submit([{ poNumber: 'PO300001' }], PLACE).handles;
    const before = readFileSync(path, 'utf8');
    full = true;
    assert.throws(() => store.submit([{ poNumber: 'PO300002' }], PLACE), /short write/);
    assert.equal(readFileSync(path, 'utf8'), before, 'no half record left behind');
    assert.equal(store.total, 1, 'the refused submission is not in the queue either');
    store.markStarted(h.taskId, 'w1');
    store.finish(h.taskId, 'NO_ATTACHMENTS');
    assert.equal(store.get(h.taskId)!.status, 'NO_ATTACHMENTS', 'the supervisor goes on');
    assert.equal(readFileSync(path, 'utf8'), before);
    assert.match(errors.join('\n'), /cannot write the journal/);
    full = false;
    store.submit([{ poNumber: 'PO300003' }], PLACE);
    store.close();
    const again = TaskStore.open(path);
    assert.equal(again.store.get(h.taskId)!.status, 'NO_ATTACHMENTS', 'the delayed records were written before the next one');
    assert.equal(again.tornRecords + again.skippedRecords, 0);
    again.store.close();
  });

  it('keeps the old journal when compaction cannot write', () => {
    const { store } = TaskStore.open(path);
    const [h] = store.submit([{ poNumber: 'PO400001' }], PLACE).handles;
    const task = store.get(h.taskId)!;
    store.close();
    const before = readFileSync(path, 'utf8');
    const errors: string[] = [];
    const journal = new Journal(path, (m) => errors.push(m), { writeSync: () => 0 });
    assert.equal(journal.compact([{ task, seq: 1, notBefore: 0, crashes: 0 }]), false);
    journal.close();
    assert.equal(readFileSync(path, 'utf8'), before);
    assert.match(errors[0], /could not compact/);
  });
});
