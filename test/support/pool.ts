/**
 * An in-process pool against a stand-in, for a whole describe block: the stand-in and a signed-in
 * profile for the block, a fresh folder and reset knobs for each test, and after each test the pool
 * shut down and the process table checked, so no test leaves a browser or worker behind.
 */
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Standin, StandinOptions } from '../../src/coupa/standin';
import type { PoolConfig } from '../../src/protocol/types';
import { PersistentWorkerPool, type PoolOptions } from '../../src/supervisor/pool';
import { TaskStore } from '../../src/supervisor/taskStore';
import { memoryLogger, tempDir, WORKER_SCRIPT } from './files';
import { cmdline, kill9, processesMentioning } from './processes';
import { standinWithProfile } from './standin';

type CatalogPo = NonNullable<ReturnType<Standin['catalog']['po']>>;

export interface PoolFixture {
  readonly standin: Standin;
  readonly profile: string;
  /** This test's folder: downloads in `out/`, the journal, the profile copies. */
  readonly dir: string;
  pool?: PersistentWorkerPool;
  store?: TaskStore;
  /** A pool on this test's folder (the fixture's defaults, then `config`), stopped after the test. */
  makePool(config?: Partial<PoolConfig>, options?: Partial<PoolOptions>): { pool: PersistentWorkerPool; store: TaskStore; log: ReturnType<typeof memoryLogger>; completions: number[] };
  /** POs not used by an earlier test of the block, so one test's request log never mixes with another's. */
  takePos(n: number): string[];
  /** The next PO not used yet that `matches`, as `PO<id>`; those skipped stay unused. */
  takePo(matches: (po: CatalogPo) => boolean): string;
  /** Run after the pool stops and before the process table is checked (unmounts and the like). */
  cleanups: (() => void | Promise<void>)[];
}

export function poolFixture(standinOptions: StandinOptions, prefix: string, defaults: Partial<PoolConfig> = {},
  extraProcesses: (dir: string) => string[] = () => []): PoolFixture {
  const env = standinWithProfile(standinOptions, prefix);
  let nextId = 0;
  let dir = '';
  const f: PoolFixture = {
    get standin() { return env.standin; },
    get profile() { return env.profile; },
    get dir() { return dir; },
    cleanups: [],
    makePool(config = {}, options = {}) {
      const store = TaskStore.open(join(dir, 'journal.jsonl')).store;
      const log = memoryLogger();
      const pool = new PersistentWorkerPool(
        { baseProfilePath: env.profile, coupaUrl: env.standin.url, downloadDir: join(dir, 'out'), workerCount: 2, ...defaults, ...config },
        { store, profilesDir: join(dir, 'profiles'), log, workerScript: WORKER_SCRIPT, retryBaseMs: 200, ...options },
      );
      const completions: number[] = [];
      pool.on('taskCompleted', () => completions.push(Date.now()));
      f.pool = pool;
      f.store = store;
      return { pool, store, log, completions };
    },
    takePos(n) {
      const ids = env.standin.catalog.ids().slice(nextId, nextId + n);
      nextId += n;
      assert.equal(ids.length, n, 'the catalog has enough POs');
      return ids.map((id) => `PO${id}`);
    },
    takePo(matches) {
      const ids = env.standin.catalog.ids();
      const at = ids.findIndex((id, i) => i >= nextId && matches(env.standin.catalog.po(id)!));
      assert.ok(at >= 0, 'the catalog has such a PO');
      nextId = at + 1;
      return `PO${ids[at]}`;
    },
  };
  beforeEach(() => {
    dir = tempDir(`${prefix}-run`);
    env.standin.resetKnobs();
  });
  afterEach(async () => {
    env.standin.knobs.hang = false;
    if (f.pool) await f.pool.shutdown(5);
    f.store?.close();
    f.pool = undefined;
    f.store = undefined;
    for (const c of f.cleanups.splice(0).reverse()) await c();
    const markers = [dir, ...extraProcesses(dir)];
    const left = markers.flatMap((m) => processesMentioning(m));
    for (const p of left) kill9(p.pid, (pid) => markers.some((m) => cmdline(pid).includes(m)));
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(left, [], 'no browser, host or worker left running');
  });
  return f;
}
