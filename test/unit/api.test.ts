import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError, PersistentWorkerPool, type LogEntry } from '../../src/api';

describe('api: PersistentWorkerPool in-process', () => {
  let dir: string;
  const temporaryProfiles = () => readdirSync(tmpdir()).filter((n) => n.startsWith('po-pool-profiles-'));
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'po-api-'));
    mkdirSync(join(dir, 'profile'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a bad configuration by field, leaving nothing behind', () => {
    const before = temporaryProfiles();
    assert.throws(() => new PersistentWorkerPool({ workerCount: 9, coupaUrl: 'https://acme.coupahost.com', baseProfilePath: join(dir, 'profile'), downloadDir: dir }),
      (err: unknown) => err instanceof ConfigurationError && err.field === 'workerCount');
    assert.deepEqual(temporaryProfiles(), before);
  });

  it('queues before it starts, keeps tasks in a journal across pools, and cleans up at shutdown', async () => {
    const logs: LogEntry[] = [];
    const config = { coupaUrl: 'https://acme.coupahost.com', baseProfilePath: join(dir, 'profile'), downloadDir: join(dir, 'dl'), workerCount: 1 };
    const journal = join(dir, 'journal.jsonl');
    const before = temporaryProfiles();
    const pool = new PersistentWorkerPool(config, { journal, onLog: (e) => logs.push(e) });
    assert.equal(pool.state, 'INITIALIZING');
    assert.equal(pool.config.workerCount, 1);
    const submitted = pool.submitTasks(['PO100001', 'po 100002', 'PO12'], { priority: 5 });
    assert.deepEqual(submitted.handles.map((h) => h.poNumber), ['PO100001', 'PO100002']);
    assert.equal(submitted.invalid.length, 1);
    assert.deepEqual(pool.submitTask('PO100001'), submitted.handles[0], 'a PO already queued answers with its task');
    assert.deepEqual(pool.listTasks().map((t) => [t.poNumber, t.status, t.priority, t.downloadDir]), [
      ['PO100001', 'QUEUED', 5, join(dir, 'dl')], ['PO100002', 'QUEUED', 5, join(dir, 'dl')],
    ]);
    assert.equal(pool.getStatus().queueDepth, 2);

    const idle = pool.whenIdle();
    assert.equal(await pool.shutdown(), true);
    await assert.rejects(idle, /the pool is TERMINATED with 2 PO\(s\) left/);
    assert.deepEqual(temporaryProfiles(), before, 'its temporary profiles folder is gone');

    const again = new PersistentWorkerPool(config, { journal, onLog: () => undefined });
    assert.deepEqual(again.listTasks({ status: ['QUEUED'] }).map((t) => t.poNumber), ['PO100001', 'PO100002'], 'replayed from the journal');
    await again.shutdown();
    assert.ok(existsSync(journal));
  });
});
