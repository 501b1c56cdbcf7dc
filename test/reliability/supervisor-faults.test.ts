import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Standin } from '../../src/coupa/standin';
import { GetStatus, ListTasks, Shutdown, StartPool, SubmitTasks } from '../../src/protocol/rpc';
import { isFinal, type TaskInfo } from '../../src/protocol/types';
import { connectToSupervisor, type PoolClient } from '../../src/client/client';
import { statePaths } from '../../src/shared/paths';
import { isAlive } from '../../src/shared/processTree';
import { cmdline, environMentions, kill9, parentOf, processesMentioning, sleep, standinWithProfile, SUPERVISOR_SCRIPT, tempDir, waitUntil } from '../support';
import { assertClean, audit, browserMain, liveCount, liveStates, median, pick, randomOf, recordFigures, type Figures } from './harness';

/**
 * Kill → all workers back, for every kill (docs/RELIABILITY.md says so). The long run measures under
 * 6 s; the bound leaves room for a machine busy with other work.
 */
const RECOVERY_LIMIT_MS = 15_000;

/**
 * Faults that need the detached supervisor: kill -9 of the supervisor itself (a new one, started by
 * the next connectToSupervisor, resumes from the journal), and the soak of all three kills.
 */
describe('reliability: the supervisor under kill -9', function () {
  this.timeout(pick(240_000, 1_800_000));
  let standin: Standin;
  let profile: string;
  let stateDir: string;
  let client: PoolClient | undefined;
  let nextId = 0;

  function takePos(n: number): string[] {
    const ids = standin.catalog.ids().slice(nextId, nextId + n);
    nextId += n;
    assert.equal(ids.length, n);
    return ids.map((id) => `PO${id}`);
  }

  const env = standinWithProfile({ seed: 31, maxAttachments: 3, poCount: 12_000 }, 'rs');
  before(() => ({ standin, profile } = env));

  beforeEach(() => {
    stateDir = tempDir('rss');
    standin.resetKnobs();
    Object.assign(standin.knobs, { pageLatencyMs: 50, downloadLatencyMs: 250 });
  });

  afterEach(async () => {
    if (client && !client.isClosed) await client.request(Shutdown, { force: true }).catch(() => undefined);
    client?.dispose();
    client = undefined;
    await waitUntil(() => processesMentioning(stateDir).length === 0, 30_000, 'the supervisor and its workers to exit').catch(() => {
      for (const p of processesMentioning(stateDir)) kill9(p.pid, (pid) => cmdline(pid).includes(stateDir));
      throw new Error('processes were left running');
    });
    // The supervisor's own command line does not name the folder: find it by its environment.
    rmSync(stateDir, { recursive: true, force: true });
  });

  async function connect(): Promise<PoolClient> {
    client?.dispose();
    client = await connectToSupervisor({ clientName: 'reliability', stateDir, spawn: true, supervisorScript: SUPERVISOR_SCRIPT, timeoutMs: 30_000 });
    return client;
  }

  async function listAll(c: PoolClient): Promise<TaskInfo[]> {
    const out: TaskInfo[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await c.request(ListTasks, { offset, limit: 1000 });
      out.push(...page.tasks);
      if (out.length >= page.total || page.tasks.length === 0) return out;
    }
  }

  /** A status within 20 s, or a failure that says whether the supervisor died by itself (and its last words). */
  async function status(c: PoolClient) {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const logFile = statePaths(stateDir).log;
        const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-12).join('\n') : '(no log)';
        reject(new Error(`no status from supervisor ${c.hello.supervisorPid} (${isAlive(c.hello.supervisorPid) ? 'alive' : 'dead, not killed by the test'}) within 20 s; its log ends:\n${log}`));
      }, 20_000);
    });
    // The timer is cleared either way: left running, it fired during a later suite and crashed mocha.
    try {
      return await Promise.race([c.request(GetStatus, undefined), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function startPool(c: PoolClient) {
    await c.request(StartPool, { coupaUrl: standin.url, baseProfilePath: profile, downloadDir: join(stateDir, 'out'), workerCount: 4, maxRestartAttempts: 3 });
  }

  /** kill -9 of the supervisor; the next client starts a new one. Returns the recovery time. */
  async function killSupervisor(): Promise<number> {
    const pid = client!.hello.supervisorPid;
    const at = Date.now();
    assert.ok(kill9(pid, (p) => environMentions(p, stateDir)), 'the supervisor is ours and was killed');
    await waitUntil(() => !isAlive(pid), 10_000, 'the supervisor to die');
    const c = await connect();
    assert.notEqual(c.hello.supervisorPid, pid);
    await startPool(c); // a no-op when the new supervisor already resumed by itself (the log says so)
    await waitUntil(async () => liveCount((await status(c)).workers) === 4, 120_000, 'the new supervisor to have 4 workers');
    return Date.now() - at;
  }

  /** kill -9 of a random worker or browser of the running supervisor. */
  async function killWorkerOrBrowser(kind: 'browser' | 'worker'): Promise<number | undefined> {
    const c = client!;
    const s = await status(c);
    const candidates = s.workers.filter((w) => liveStates.has(w.state) && (kind === 'browser' ? browserMain(w, stateDir) : w.pid));
    const victim = randomOf(candidates.filter((w) => w.state === 'PROCESSING')) ?? randomOf(candidates);
    if (!victim) return undefined;
    const pid = kind === 'browser' ? browserMain(victim, stateDir)! : victim.pid!;
    const before = liveCount(s.workers);
    const at = Date.now();
    const isOurs = kind === 'browser' ? (p: number) => cmdline(p).includes(stateDir) : (p: number) => parentOf(p) === c.hello.supervisorPid;
    if (!kill9(pid, isOurs)) return undefined;
    await waitUntil(async () => {
      const ws = (await status(c)).workers;
      const v = ws.find((w) => w.workerId === victim.workerId)!;
      return v.state === 'TERMINATED' || (v.restarts > victim.restarts && liveStates.has(v.state) && liveCount(ws) >= before);
    }, 90_000, `${victim.workerId} to be back`);
    return Date.now() - at;
  }

  it('3. kill -9 of the supervisor mid-run: a new supervisor resumes from the journal; nothing lost, nothing redone', async () => {
    let c = await connect();
    await startPool(c);
    const pos = takePos(pick(20, 200));
    const started = Date.now();
    await c.request(SubmitTasks, { tasks: pos.map((poNumber) => ({ poNumber })) });
    const kills = pick(2, 5);
    const recoveryMs: number[] = [];
    for (let k = 1; k <= kills; k++) {
      const target = Math.floor((pos.length * k) / (kills + 1));
      await waitUntil(async () => {
        const s = await status(client!);
        return (s.counts.COMPLETED ?? 0) + (s.counts.NO_ATTACHMENTS ?? 0) >= target;
      }, 180_000, `${target} POs done`);
      recoveryMs.push(await killSupervisor());
    }
    c = client!;
    await waitUntil(async () => {
      const s = await status(c);
      return s.total === pos.length && (await listAll(c)).every((t) => isFinal(t.status));
    }, pick(180_000, 600_000), 'the resumed run to finish');
    const tasks = await listAll(c);
    const a = audit({ standin, out: join(stateDir, 'out'), submitted: pos, tasks });
    recordFigures({
      scenario: 'kill -9 supervisor', workers: 4, submitted: pos.length, completed: a.completed, failed: a.failed, lost: a.lost,
      duplicated: a.duplicatedFiles + a.redoneDownloads, faults: kills, recoveryMs, durationMs: Date.now() - started,
      notes: 'recovery = kill → a new supervisor (started by the next client) has 4 workers again',
    });
    assertClean(a, 'supervisor kills');
    assert.equal(a.completed, pos.length, JSON.stringify(a.byStatus));
    assert.ok(Math.max(...recoveryMs) < RECOVERY_LIMIT_MS, `each new supervisor had its workers within ${RECOVERY_LIMIT_MS / 1000} s (max ${Math.max(...recoveryMs)} ms)`);
    const log = readFileSync(statePaths(stateDir).log, 'utf8');
    assert.equal((log.match(/replayed \d+ journal records/g) ?? []).length, kills + 1, 'each new supervisor replayed the journal');
    assert.ok(/resuming \d+ queued task\(s\) with the last configuration/.test(log));
    const report = readFileSync(join(stateDir, 'out', 'po-pool-report.csv'), 'utf8').trim().split('\n');
    assert.equal(report.length, pos.length + 1, 'the report has one row per PO');
  });

  it(`4. soak: kill -9 of browsers, workers and the supervisor, over and over for ${pick('~25 s', '≥ 10 min')}`, async () => {
    const duration = pick(25_000, 600_000);
    const every = pick(3_000, 4_000);
    let c = await connect();
    await startPool(c);
    const submitted: string[] = [];
    const feed = async () => {
      const s = await status(client!);
      if (s.queueDepth < 12) {
        const more = takePos(24);
        submitted.push(...more);
        await client!.request(SubmitTasks, { tasks: more.map((poNumber) => ({ poNumber })) });
      }
    };
    await feed();
    const started = Date.now();
    const sequence = ['browser', 'worker', 'supervisor', 'browser', 'worker'] as const;
    const recovery: Record<string, number[]> = { browser: [], worker: [], supervisor: [] };
    let i = 0;
    while (Date.now() - started < duration) {
      await sleep(every);
      await feed();
      const kind = sequence[i++ % sequence.length];
      const ms = kind === 'supervisor' ? await killSupervisor() : await killWorkerOrBrowser(kind);
      if (ms !== undefined) recovery[kind].push(ms);
      await feed();
    }
    const faultsEnd = Date.now();
    c = client!;
    await waitUntil(async () => (await listAll(c)).every((t) => isFinal(t.status)), pick(180_000, 600_000), 'the queue to drain');
    const tasks = await listAll(c);
    assert.equal(tasks.length, submitted.length, 'every submitted PO is known');
    const a = audit({ standin, out: join(stateDir, 'out'), submitted, tasks });
    const all = [...recovery.browser, ...recovery.worker, ...recovery.supervisor];
    const f: Figures = {
      scenario: 'soak: all kills', workers: 4, submitted: submitted.length, completed: a.completed, failed: a.failed, lost: a.lost,
      duplicated: a.duplicatedFiles + a.redoneDownloads, faults: all.length, recoveryMs: all, durationMs: Date.now() - started,
      notes: `${((faultsEnd - started) / 60_000).toFixed(1)} min of faults: ` + Object.entries(recovery)
        .map(([k, v]) => `${v.length} ${k} (median ${((median(v) ?? 0) / 1000).toFixed(1)} s, max ${(Math.max(0, ...v) / 1000).toFixed(1)} s)`).join(', ') +
        `; ${JSON.stringify(a.byStatus)}`,
    };
    recordFigures(f);
    assertClean(a, 'soak');
    for (const k of ['browser', 'worker', 'supervisor']) assert.ok(recovery[k].length >= 1, `${k} kills happened`);
    for (const t of tasks.filter((t) => !['COMPLETED', 'NO_ATTACHMENTS'].includes(t.status))) {
      assert.match(t.result?.error?.message ?? '', /died 3 times/, `${t.poNumber} ${t.status}: ${JSON.stringify(t.result?.error)}`);
    }
    assert.ok(Math.max(...all) < RECOVERY_LIMIT_MS, `every kill recovered within ${RECOVERY_LIMIT_MS / 1000} s (max ${Math.max(...all)} ms)`);
    const s = await status(c);
    assert.equal(liveCount(s.workers), 4, 'four live workers at the end');
  });
});
