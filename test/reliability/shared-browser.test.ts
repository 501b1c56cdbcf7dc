import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isFinal } from '../../src/protocol/types';
import { descendants, memoryShare } from '../../src/shared/processTree';
import { TaskStore } from '../../src/supervisor/taskStore';
import { kill9, parentOf, poolFixture, processesMentioning, sleep, waitUntil } from '../support';
import { assertClean, audit } from './harness';

/**
 * Workers that share a browser (workersPerBrowser > 1): each worker is its own process with its own
 * context in a browser served by a host process. A worker's death must not touch the others; the
 * browser's death ends its workers' sessions, which restart with a new host: nothing lost, nothing twice.
 */
describe('reliability: workers sharing a browser', function () {
  this.timeout(240_000);
  /** This pool's temporary folders' prefix: the shared browser's own profile lives under it. */
  const tmpMarker = (dir: string) => `ppool-${createHash('sha256').update(join(dir, 'profiles')).digest('hex').slice(0, 8)}-`;
  const f = poolFixture({ seed: 31, maxAttachments: 3, poCount: 2_000 }, 'rs', { workerCount: 4, workersPerBrowser: 4, taskTimeout: 60 }, (dir) => [tmpMarker(dir)]);


  /** The browser host processes this test's pool forked, and the main process of each one's browser. */
  function hosts(): { host: number; browser?: number }[] {
    return processesMentioning('browserHost.js').filter((p) => parentOf(p.pid) === process.pid).map((p) => ({
      host: p.pid,
      browser: processesMentioning(tmpMarker(f.dir)).find((b) => parentOf(b.pid) === p.pid && !b.args.includes('--type='))?.pid,
    }));
  }

  const allFinal = (s: TaskStore) => s.latest().every((t) => isFinal(t.status));

  it('four workers in one browser: one host, one browser main process, contexts scoped to Coupa and its identity provider', async () => {
    const { pool, log } = f.makePool({}, { memorySampleMs: 500 });
    await pool.start();
    const found = hosts();
    assert.equal(found.length, 1, 'one host for four workers');
    assert.ok(found[0].browser, 'the host runs the browser');
    const status = pool.getStatus();
    assert.equal(status.workers.filter((w) => w.state === 'READY').length, 4);
    assert.ok(status.workers.every((w) => w.browserPids.length === 0), 'no worker owns (and so may kill) the shared browser');
    const kept = log.entries.find((e) => /cookies kept, for/.test(e.message));
    assert.ok(kept, 'the host says which cookies it kept');
    assert.match(kept.message, /127\.0\.0\.1/);
    assert.match(kept.message, /localhost/, 'the identity provider (idp-bounce: localhost) is found from the sign-in redirect');

    // The shared browser's memory is split among its workers: the pool counts it once, not four times.
    await waitUntil(() => pool.getStatus().workers.every((w) => w.memoryBytes > 0), 10_000, 'memory samples');
    const tree = [found[0].host, ...((await descendants([found[0].host])).get(found[0].host) ?? [])];
    const workerPids = pool.getStatus().workers.map((w) => w.pid!);
    const share = await memoryShare([...tree, ...workerPids]);
    const browserBytes = tree.reduce((sum, p) => sum + (share.get(p) ?? 0), 0);
    const workerBytes = workerPids.reduce((sum, p) => sum + (share.get(p) ?? 0), 0);
    const counted = pool.getStatus().workers.reduce((sum, w) => sum + w.memoryBytes, 0);
    assert.ok(counted < (browserBytes + workerBytes) * 1.3, `counted ${counted} vs browser ${browserBytes} + workers ${workerBytes}`);
    assert.ok(counted > workerBytes + browserBytes * 0.5, 'the browser is counted');
  });

  it('kill -9 of one worker sharing a browser: the others go on, its PO is run again, every PO once with the right files', async () => {
    const { pool, store } = f.makePool();
    const crashes: string[] = [];
    pool.on('workerCrashed', (id) => crashes.push(id));
    await pool.start();
    const [{ browser }] = hosts();
    Object.assign(f.standin.knobs, { pageLatencyMs: 50, downloadLatencyMs: 400 });
    const pos = f.takePos(24);
    pool.submitTasks(pos.map((poNumber) => ({ poNumber })));
    await waitUntil(() => pool.getStatus().workers.filter((w) => w.state === 'PROCESSING').length >= 2, 30_000, 'busy workers');
    const victim = pool.getStatus().workers.find((w) => w.state === 'PROCESSING')!;
    const others = pool.getStatus().workers.filter((w) => w.workerId !== victim.workerId);
    assert.ok(kill9(victim.pid!, (pid) => parentOf(pid) === process.pid));
    await waitUntil(() => allFinal(store), 120_000, 'every PO to end');
    assertClean(audit({ standin: f.standin, out: join(f.dir, 'out'), submitted: pos, tasks: store.latest() }), 'kill -9 of a sharing worker');
    assert.deepEqual(crashes, [victim.workerId], 'only the killed worker crashed');
    const after = pool.getStatus().workers;
    for (const o of others) assert.equal(after.find((w) => w.workerId === o.workerId)!.restarts, o.restarts, `${o.workerId} was not restarted`);
    assert.equal(hosts()[0]?.browser, browser, 'the shared browser kept running');
  });

  it('kill -9 of the shared browser: its workers restart on a new one, every PO once with the right files', async () => {
    const { pool, store, log } = f.makePool();
    await pool.start();
    const [first] = hosts();
    Object.assign(f.standin.knobs, { pageLatencyMs: 50, downloadLatencyMs: 400 });
    const pos = f.takePos(24);
    pool.submitTasks(pos.map((poNumber) => ({ poNumber })));
    await waitUntil(() => pool.getStatus().workers.filter((w) => w.state === 'PROCESSING').length >= 3, 30_000, 'busy workers');
    await sleep(300);
    assert.ok(kill9(first.browser!, (pid) => parentOf(pid) === first.host));
    await waitUntil(() => allFinal(store), 150_000, 'every PO to end');
    assertClean(audit({ standin: f.standin, out: join(f.dir, 'out'), submitted: pos, tasks: store.latest() }), 'kill -9 of the shared browser');
    assert.ok(log.entries.some((e) => /host exited/.test(e.message)), 'the host\'s end is logged');
    const now = hosts();
    assert.equal(now.length, 1);
    assert.notEqual(now[0].host, first.host, 'a new host');
    assert.ok(pool.getStatus().workers.some((w) => w.restarts >= 1), 'its workers restarted');
    assert.deepEqual(processesMentioning(String(first.browser)).filter((p) => p.pid === first.browser), []);
  });

  it('shutdown leaves no host, no browser and no temporary folder', async () => {
    const { pool } = f.makePool({ workerCount: 3, workersPerBrowser: 2 });
    await pool.start();
    assert.equal(hosts().length, 2, 'two hosts for three workers, two per browser');
    assert.equal(await pool.shutdown(10), true);
    assert.deepEqual(hosts(), []);
    assert.deepEqual(processesMentioning(tmpMarker(f.dir)), []);
    assert.deepEqual(readdirSync('/tmp').filter((n) => n.startsWith(tmpMarker(f.dir))), []);
    assert.deepEqual(readdirSync(join(f.dir, 'profiles')), []);
  });
});
