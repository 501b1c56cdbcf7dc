import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { InsufficientResourcesError, PoolShutdownError, WorkerError } from '../../src/protocol/errors';
import { isFinal, type TaskHandle, type TaskResult, type WorkerState } from '../../src/protocol/types';
import { browserArgs, findBrowser } from '../../src/shared/browsers.mjs';
import { killPids } from '../../src/shared/processTree';
import { poolFixture, waitUntil } from '../support';

/**
 * The contract's guarantees that only show when things go wrong: a crashed worker's PO is taken by
 * another worker at once, a worker that keeps crashing is retired and says why, a pool with no
 * worker refuses work, `start()` says when it runs short, a PO's retries share its time limit, and
 * a second, shorter shutdown is obeyed.
 */
describe('pool: the contract when workers fail', function () {
  this.timeout(240_000);
  const f = poolFixture({ seed: 11, maxAttachments: 2 }, 'contract');


  const pos = (from: number, n: number) => f.standin.catalog.ids().slice(from, from + n).map((id) => ({ poNumber: `PO${id}` }));
  const withFiles = () => f.standin.catalog.ids().map((id) => f.standin.catalog.po(id)!).filter((po) => po.attachments.length > 0);

  it('hands a crashed worker\'s PO to an idle worker at once, shows CRASHED, raises WorkerError and a completion per PO', async () => {
    const { pool, store } = f.makePool({ maxRestartAttempts: 0 });
    const states = new Map<string, WorkerState[]>();
    const crashes: [string, unknown][] = [];
    const completed: [TaskHandle, TaskResult][] = [];
    pool.on('health', (h) => states.set(h.workerId, [...(states.get(h.workerId) ?? []), h.state]));
    pool.on('workerCrashed', (id, error) => crashes.push([id, error]));
    pool.on('taskCompleted', (handle, result) => completed.push([handle, result]));
    await pool.start();
    f.standin.knobs.downloadLatencyMs = 1500;
    const { handles } = pool.submitTasks([{ poNumber: withFiles()[0].poNumber }]);
    await waitUntil(() => pool.getStatus().workers.some((w) => w.state === 'PROCESSING' && w.browserPids.length > 0), 30_000, 'the PO to start');
    const busy = pool.getStatus().workers.find((w) => w.state === 'PROCESSING')!;
    const killedAt = Date.now();
    killPids([Math.min(...busy.browserPids)]);
    await waitUntil(() => isFinal(store.get(handles[0].taskId)!.status), 60_000, 'the PO to end');
    const task = store.get(handles[0].taskId)!;
    assert.equal(task.status, 'COMPLETED');
    assert.notEqual(task.result!.workerId, busy.workerId, 'finished by the other worker');
    assert.ok(Date.now() - killedAt < 20_000, 'without waiting for the crashed worker');
    assert.ok(states.get(busy.workerId)!.includes('CRASHED'), `CRASHED was shown: ${states.get(busy.workerId)}`);
    assert.equal(crashes.length, 1);
    assert.ok(crashes[0][1] instanceof WorkerError, 'a crash is a WorkerError');
    assert.deepEqual(completed.map(([h, r]) => [h.taskId, r.status]), [[task.taskId, 'COMPLETED']]);
    const status = pool.getStatus();
    assert.match(status.degraded ?? '', new RegExp(`1 of 2 workers: ${busy.workerId} retired after 0 restarts in a row`));
    assert.equal(status.workers.find((w) => w.workerId === busy.workerId)!.retired?.reason, 'after 0 restarts in a row');
    assert.equal(pool.submitTasks(pos(50, 1)).handles.length, 1, 'a degraded pool still takes work');
  });

  it('retires a worker whose browser dies on every PO, then refuses new work in ERROR without losing the queue', async () => {
    const { pool, store, log } = f.makePool({ workerCount: 1, maxRestartAttempts: 2 });
    pool.on('health', (h) => {
      if (h.state === 'PROCESSING' && h.browserPids.length) killPids([Math.min(...h.browserPids)]);
    });
    await pool.start();
    const { handles } = pool.submitTasks(pos(10, 3));
    await waitUntil(() => pool.state === 'ERROR', 120_000, 'the pool to run out of workers');
    const worker = pool.getStatus().workers[0];
    assert.equal(worker.state, 'TERMINATED');
    assert.equal(worker.retired?.reason, 'after 3 crashes within 10 minutes');
    assert.ok(log.entries.some((e) => /worker-1 retired after 3 crashes within 10 minutes/.test(e.message)), 'logged');
    assert.match(pool.getStatus().degraded ?? '', /every worker was retired/);
    const [first, ...rest] = handles.map((h) => store.get(h.taskId)!);
    assert.equal(first.status, 'FAILED');
    assert.match(first.result!.error!.message, /the worker died 3 times/);
    assert.deepEqual(rest.map((t) => t.status), ['QUEUED', 'QUEUED'], 'the rest wait, not lost');
    assert.throws(() => pool.submitTasks(pos(20, 1)), (err: unknown) => err instanceof PoolShutdownError && /stopped after an error/.test(err.message));
    assert.throws(() => pool.retryTasks(), PoolShutdownError);
  });

  it('start() with a worker that cannot start resolves degraded, saying why; with none, rejects and leaves nothing', async () => {
    const found = findBrowser('auto')!;
    const server = await chromium.launchServer({ executablePath: found.executablePath, args: browserArgs(), host: '127.0.0.1' });
    try {
      const { pool } = f.makePool({ remoteEndpoints: [server.wsEndpoint(), 'ws://127.0.0.1:9/closed'], maxRestartAttempts: 1 });
      const started = Date.now();
      await pool.start();
      assert.ok(Date.now() - started < 45_000, 'start() is bounded');
      assert.equal(pool.state, 'READY');
      assert.match(pool.getStatus().degraded ?? '', /^1 of 2 workers: worker-2 retired after 1 restart in a row \(NetworkError: cannot connect/);
      await pool.shutdown(5);
      f.store!.close();

      const dead = f.makePool({ remoteEndpoints: ['ws://127.0.0.1:9/closed'], workerCount: 1, maxRestartAttempts: 0 }).pool;
      await assert.rejects(dead.start(), (err: unknown) => err instanceof InsufficientResourcesError && /no worker could start.*cannot connect/.test((err as Error).message));
      assert.equal(dead.state, 'ERROR');
    } finally {
      await server.close();
    }
  });

  it('gives a PO one time limit for all its tries, not one per try', async () => {
    const { pool, store } = f.makePool({ workerCount: 1, maxRetries: 3 }, { retryBaseMs: 1000 });
    await pool.start();
    f.standin.knobs.errorRate = 1;
    const { handles } = pool.submitTasks([{ poNumber: pos(30, 1)[0].poNumber, timeoutOverride: 3 }]);
    const started = Date.now();
    await waitUntil(() => isFinal(store.get(handles[0].taskId)!.status), 30_000, 'the PO to end');
    const task = store.get(handles[0].taskId)!;
    assert.equal(task.status, 'TIMEOUT', JSON.stringify(task.result?.error));
    assert.match(task.result!.error!.message, /no time left/);
    assert.ok(Date.now() - started < 6_000, `ended within its 3 s and one backoff, not after 1+2+4 s of retries (${Date.now() - started} ms)`);
  });

  it('obeys a second, shorter shutdown', async () => {
    const { pool } = f.makePool({ workerCount: 1 });
    await pool.start();
    f.standin.knobs.downloadLatencyMs = 20_000;
    pool.submitTasks(pos(40, 1));
    await waitUntil(() => pool.getStatus().running === 1, 30_000, 'a running PO');
    const started = Date.now();
    const graceful = pool.shutdown(120);
    assert.equal(pool.state, 'SHUTTING_DOWN', 'waiting for the running PO');
    const forced = pool.shutdown(0);
    assert.deepEqual(await Promise.all([graceful, forced]), [false, false]);
    assert.ok(Date.now() - started < 12_000, `forced within 10 s, not 120 s (${Date.now() - started} ms)`);
    assert.equal(pool.state, 'TERMINATED');
  });

  it('gives each worker a new owner-only temporary folder, and leaves one planted by another user alone', async function () {
    if (process.getuid?.() !== 0) this.skip();
    const profilesDir = join(f.dir, 'profiles');
    const { pool } = f.makePool({ workerCount: 1 }, { profilesDir });
    const prefix = `ppool-${createHash('sha256').update(profilesDir).digest('hex').slice(0, 8)}-`;
    const planted = join(tmpdir(), `${prefix}w1-planted`);
    mkdirSync(planted, { recursive: true });
    chmodSync(planted, 0o777);
    chownSync(planted, 65534, 65534);
    try {
      await pool.start();
      const pid = pool.getStatus().workers[0].pid!;
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      const tmp = env.find((e) => e.startsWith('TMPDIR='))!.slice('TMPDIR='.length);
      assert.notEqual(tmp, planted);
      assert.ok(tmp.startsWith(join(tmpdir(), `${prefix}w1-`)));
      const st = statSync(tmp);
      assert.deepEqual([st.mode & 0o777, st.uid], [0o700, 0]);
      await pool.shutdown(5);
      assert.ok(!existsSync(tmp), 'its own folder is gone after shutdown');
      assert.ok(existsSync(planted), 'another user\'s folder is not ours to delete');
    } finally {
      rmSync(planted, { recursive: true, force: true });
    }
  });
});
