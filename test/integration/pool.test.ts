import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { chromium } from 'playwright-core';
import { ProfileCorruptionError } from '../../src/protocol/errors';
import { isFinal, type TaskInfo } from '../../src/protocol/types';
import { TaskStore } from '../../src/supervisor/taskStore';
import { browserArgs, findBrowser } from '../../src/shared/browsers.mjs';
import { poolFixture, processesMentioning, waitUntil } from '../support';

/**
 * The pool with real worker processes and real Chromium against the embedded stand-in. Every test
 * checks what a user would: each PO ends with exactly one outcome, its files are on disk with the
 * bytes Coupa served, and nothing is left running afterwards.
 */
describe('pool: real workers and browsers against the stand-in', function () {
  this.timeout(300_000);
  const f = poolFixture({ seed: 7, maxAttachments: 3 }, 'pool');


  function allFinal(s: TaskStore): boolean {
    return s.latest().every((t) => isFinal(t.status));
  }

  /** Each PO: one outcome, the right one, and exactly the served files on disk inside its folder. */
  function assertOutcomes(tasks: TaskInfo[], out: string): void {
    const seen = new Set<string>();
    for (const task of tasks) {
      assert.ok(!seen.has(task.poNumber), `${task.poNumber} has one outcome`);
      seen.add(task.poNumber);
      const record = f.standin.catalog.po(task.poNumber);
      if (!record) {
        assert.equal(task.status, 'PO_NOT_FOUND', `${task.poNumber} does not exist`);
        continue;
      }
      const served = f.standin.catalog.served(task.poNumber)!.attachments;
      const expected = served.length ? 'COMPLETED' : 'NO_ATTACHMENTS';
      assert.equal(task.status, expected, `${task.poNumber}: ${JSON.stringify(task.result?.error)}`);
      const files = task.result!.files;
      assert.deepEqual(files.map((f) => f.sha256).sort(), served.map((a) => a.sha256).sort(), `${task.poNumber} files`);
      for (const f of files) {
        assert.ok(!relative(join(out, task.poNumber), f.path).startsWith('..'), `${f.path} is inside its PO folder`);
        assert.equal(createHash('sha256').update(readFileSync(f.path)).digest('hex'), f.sha256);
      }
    }
    const work = join(out, '.work');
    assert.deepEqual(existsSync(work) ? readdirSync(work) : [], [], 'no half-done PO left in .work');
  }

  it('4 workers process 100 POs, each to exactly one outcome with its files on disk', async () => {
    const { pool, store } = f.makePool({ workerCount: 4 });
    await pool.start();
    assert.equal(pool.getStatus().workers.filter((w) => w.state === 'READY').length, 4);
    const ids = f.standin.catalog.ids().slice(0, 95).map((id) => `PO${id}`);
    const missing = ['PO990001', 'PO990002', 'PO990003', 'PO990004', 'PO990005'];
    const result = pool.submitTasks([...ids, ...missing].map((poNumber) => ({ poNumber })));
    assert.equal(result.handles.length, 100);
    await waitUntil(() => allFinal(store), 240_000, '100 POs to finish');
    assertOutcomes(store.latest(), join(f.dir, 'out'));
    const status = pool.getStatus();
    assert.equal(status.counts.PO_NOT_FOUND, 5);
    assert.equal(status.queueDepth, 0);
    assert.ok(status.workers.every((w) => w.memoryBytes > 0), 'every worker has been measured');
    assert.equal(await pool.shutdown(30), true, 'graceful shutdown within its timeout');
    assert.equal(pool.state, 'TERMINATED');
    assert.deepEqual(readdirSync(join(f.dir, 'profiles')), [], 'no temporary profile left');
  });

  it('works from a state folder with a long path, and leaves no temporary folder behind', async () => {
    const profilesDir = join(f.dir, 'a-state-folder-with-a-long-name'.repeat(3), 'profiles');
    // The pool names its workers' temp folders after its state folder (other suites may run beside this one).
    const mine = `ppool-${createHash('sha256').update(profilesDir).digest('hex').slice(0, 8)}-`;
    const { pool, store } = f.makePool({}, { profilesDir });
    await pool.start();
    assert.ok(readdirSync(tmpdir()).some((n) => n.startsWith(mine)), 'each worker has its short temp folder');
    pool.submitTasks(f.standin.catalog.ids().slice(95, 99).map((id) => ({ poNumber: `PO${id}` })));
    await waitUntil(() => allFinal(store), 60_000, 'four POs');
    assertOutcomes(store.latest(), join(f.dir, 'out'));
    assert.equal(await pool.shutdown(10), true);
    assert.deepEqual(readdirSync(tmpdir()).filter((n) => n.startsWith(mine)), [], 'no worker temp folder left');
  });

  it('kill -9 of a browser mid-task: the worker is restarted and the PO still completes once', async () => {
    // A browser of its own per worker; a shared browser's death is reliability/shared-browser.test.ts's.
    const { pool, store } = f.makePool({ workersPerBrowser: 1 });
    const crashes: string[] = [];
    pool.on('workerCrashed', (id) => crashes.push(id));
    await pool.start();
    f.standin.knobs.downloadLatencyMs = 400;
    pool.submitTasks(f.standin.catalog.ids().slice(100, 110).map((id) => ({ poNumber: `PO${id}` })));
    await waitUntil(() => pool.getStatus().workers.some((w) => w.state === 'PROCESSING' && w.browserPids.length > 0), 30_000, 'a busy worker');
    const busy = pool.getStatus().workers.find((w) => w.state === 'PROCESSING' && w.browserPids.length > 0)!;
    const browserMain = Math.min(...busy.browserPids);
    process.kill(browserMain, 'SIGKILL');
    await waitUntil(() => allFinal(store), 120_000, 'the run to finish');
    assertOutcomes(store.latest(), join(f.dir, 'out'));
    assert.deepEqual(crashes, [busy.workerId]);
    assert.ok(pool.getStatus().workers.find((w) => w.workerId === busy.workerId)!.restarts >= 1);
  });

  it('kill -9 of a worker process: its task goes back to the queue and completes', async () => {
    const { pool, store } = f.makePool();
    await pool.start();
    f.standin.knobs.downloadLatencyMs = 400;
    pool.submitTasks(f.standin.catalog.ids().slice(120, 128).map((id) => ({ poNumber: `PO${id}` })));
    await waitUntil(() => pool.getStatus().workers.some((w) => w.state === 'PROCESSING'), 30_000, 'a busy worker');
    const busy = pool.getStatus().workers.find((w) => w.state === 'PROCESSING')!;
    process.kill(busy.pid!, 'SIGKILL');
    await waitUntil(() => allFinal(store), 120_000, 'the run to finish');
    assertOutcomes(store.latest(), join(f.dir, 'out'));
    assert.ok((pool.getStatus().errors.byKind.WorkerError?.count ?? 0) >= 1, 'the crash is counted as a WorkerError');
  });

  it('sessions that expire mid-run are recovered through SSO without a failed PO', async () => {
    const { pool, store } = f.makePool();
    await pool.start();
    Object.assign(f.standin.knobs, { sessionLifetimeSec: 2, pageLatencyMs: 100 });
    pool.submitTasks(f.standin.catalog.ids().slice(140, 160).map((id) => ({ poNumber: `PO${id}` })));
    await waitUntil(() => allFinal(store), 180_000, 'the run to finish');
    assertOutcomes(store.latest(), join(f.dir, 'out'));
  });

  it('a session that needs a person again: AuthenticationError saying what to do, and nothing lost', async () => {
    const { pool, store } = f.makePool({ maxRetries: 1 });
    await pool.start();
    f.standin.knobs.sso = false;
    f.standin.expireAllSessions();
    pool.submitTasks(f.standin.catalog.ids().slice(170, 174).map((id) => ({ poNumber: `PO${id}` })));
    await waitUntil(() => pool.state === 'ERROR', 120_000, 'the pool to give up on its workers');
    const status = pool.getStatus();
    for (const w of status.workers) {
      assert.equal(w.lastError?.kind, 'AuthenticationError');
      assert.match(w.lastError!.message, /Sign in to Coupa/);
    }
    const tasks = store.latest();
    assert.equal(tasks.length, 4);
    assert.ok(tasks.every((t) => t.status === 'QUEUED' || t.status === 'FAILED'), 'waiting for a new session, not lost');
    assert.ok(!tasks.some((t) => t.status === 'PO_NOT_FOUND'), 'never mistaken for missing POs');
  });

  it('a corrupt base profile stops the pool at start with ProfileCorruptionError', async () => {
    const corrupt = join(f.dir, 'corrupt');
    mkdirSync(join(corrupt, 'Default'), { recursive: true });
    writeFileSync(join(corrupt, 'Local State'), '{ not json');
    writeFileSync(join(corrupt, 'Default', 'Preferences'), '{}');
    const { pool } = f.makePool({ baseProfilePath: corrupt });
    await assert.rejects(pool.start(), (err: unknown) => err instanceof ProfileCorruptionError && /Local State/.test(err.message));
    assert.equal(pool.state, 'ERROR');
  });

  it('memory above the threshold restarts the highest-memory worker after its task, failing nothing', async () => {
    let pressure = false;
    const { pool, store } = f.makePool({ memoryThreshold: 0.5 }, {
      memorySampleMs: 300,
      systemMemory: () => ({ total: 100, used: pressure ? 95 : 10 }),
    });
    const alarms: number[] = [];
    pool.on('memoryThresholdExceeded', (usage) => alarms.push(usage));
    await pool.start();
    f.standin.knobs.downloadLatencyMs = 200;
    pool.submitTasks(f.standin.catalog.ids().slice(180, 190).map((id) => ({ poNumber: `PO${id}` })));
    await waitUntil(() => pool.getStatus().workers.some((w) => w.memoryBytes > 0), 30_000, 'a memory sample');
    pressure = true;
    await waitUntil(() => alarms.length > 0, 10_000, 'the memory alarm');
    pressure = false;
    await waitUntil(() => allFinal(store), 120_000, 'the run to finish');
    assertOutcomes(store.latest(), join(f.dir, 'out'));
    assert.equal(alarms[0], 0.95);
    assert.ok(pool.getStatus().workers.some((w) => w.restarts === 1), 'one worker was recycled');
  });

  it('forced shutdown under load returns false, leaves no process, and loses no task', async () => {
    const { pool, store } = f.makePool();
    await pool.start();
    f.standin.knobs.downloadLatencyMs = 3000;
    pool.submitTasks(f.standin.catalog.ids().slice(200, 206).map((id) => ({ poNumber: `PO${id}` })));
    await waitUntil(() => pool.getStatus().running === 2, 30_000, 'two running tasks');
    const started = Date.now();
    assert.equal(await pool.shutdown(0.5), false, 'running tasks could not finish in 0.5 s');
    assert.ok(Date.now() - started < 11_500, 'forced within 10 s');
    assert.equal(pool.state, 'TERMINATED');
    assert.deepEqual(processesMentioning(f.dir), []);
    const tasks = store.latest();
    assert.equal(tasks.length, 6);
    assert.ok(tasks.every((t) => t.status === 'QUEUED' || isFinal(t.status)), 'cut-short tasks are queued again');
  });

  it('drives remote browsers through a Playwright browser server on loopback', async () => {
    const found = findBrowser('auto')!;
    const server = await chromium.launchServer({ executablePath: found.executablePath, args: browserArgs(), host: '127.0.0.1' });
    try {
      const { pool, store } = f.makePool({ remoteEndpoints: [server.wsEndpoint()], workerCount: 1 });
      await pool.start();
      assert.equal(pool.getStatus().workers[0].remoteEndpoint, server.wsEndpoint());
      pool.submitTasks(f.standin.catalog.ids().slice(220, 225).map((id) => ({ poNumber: `PO${id}` })));
      await waitUntil(() => allFinal(store), 120_000, 'the run to finish');
      assertOutcomes(store.latest(), join(f.dir, 'out'));
    } finally {
      await f.pool?.shutdown(5);
      await server.close();
    }
  });
});
