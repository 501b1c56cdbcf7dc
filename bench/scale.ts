/**
 * The supervisor at scale: 10 000 tasks submitted and journalled, its answers idle and with 8 workers
 * busy, its memory, and the journal's replay after kill -9.
 */
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { GetStatus, ListTasks, Shutdown, StartPool, StatusChanged, SubmitTasks, WorkerHealthChanged } from '../src/protocol/rpc';
import { connectToSupervisor, startSupervisor, type PoolClient } from '../src/client/client';
import { statePaths } from '../src/shared/paths';
import { isAlive, killPids, procStat, round, summary, timeCalls, type ProbeResult } from './lib';
import { cleanUp, connect, runProcess } from './processes';
import { OUT, ROOT, SCENARIO, SUPERVISOR, type BusyResult, type Ctx, type ScaleResult } from './scenario';

function rss(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

async function waitExit(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

async function shutdownSupervisor(client: PoolClient): Promise<void> {
  const pid = client.hello.supervisorPid;
  await client.request(Shutdown, { force: true, exit: true }).catch(() => undefined);
  client.dispose();
  if (!(await waitExit(pid, 20_000))) killPids([pid]);
}

function countLines(path: string): number {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

/**
 * A PO needs a pool to say which Coupa it comes from, so the queue is measured behind a pool of one
 * worker held on its first file (downloads answer after an hour here): the supervisor then has the
 * whole queue to keep, as it does behind a pool at work, without draining it.
 */
async function holdPool(ctx: Ctx, client: PoolClient, stateDir: string): Promise<void> {
  ctx.standin.knobs.downloadLatencyMs = 3_600_000;
  await client.request(StartPool, {
    coupaUrl: ctx.standin.url, baseProfilePath: ctx.baseProfile, downloadDir: join(stateDir, '..', 'out'), workerCount: 1,
    browser: ctx.executablePath, idleShutdownMinutes: 5,
  });
}

/** The held pool stopped (its queue kept) and the stand-in's downloads as fast as the scenario's again. */
async function releasePool(ctx: Ctx, client: PoolClient): Promise<void> {
  await client.request(Shutdown, { force: true, exit: false });
  ctx.standin.knobs.downloadLatencyMs = SCENARIO.standin.downloadLatencyMs;
}

export async function scale(ctx: Ctx): Promise<ScaleResult> {
  const N = 10_000;
  const pos = Array.from({ length: N }, (_, i) => ({ poNumber: `PO${SCENARIO.firstPo + i}` }));
  const profileEnv: Record<string, string> = ctx.profileDir
    ? { NODE_OPTIONS: `--require ${join(OUT, 'cpuprofPreload.js')}`, BENCH_CPU_PROF_DIR: ctx.profileDir }
    : {};
  const result: ScaleResult = {};

  // 1. One SubmitTasks of 10 000 (what a script could send) on a fresh supervisor.
  {
    const stateDir = join(ctx.tmp, 's1', 'st');
    const client = await connect(stateDir, profileEnv);
    await holdPool(ctx, client, stateDir);
    const t = process.hrtime.bigint();
    const r = await client.request(SubmitTasks, { tasks: pos });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    result.submitOneRequest = { tasks: r.handles.length, ms: round(ms), journalLines: countLines(statePaths(stateDir).journal) };
    await releasePool(ctx, client);
    await shutdownSupervisor(client);
    await cleanUp(stateDir);
  }

  // 2. The main supervisor: submit in batches of 1000 (as the CLI and the extension do).
  const stateDir = join(ctx.tmp, 's2', 'st');
  const paths = statePaths(stateDir);
  let client = await connect(stateDir, profileEnv);
  let pid = client.hello.supervisorPid;
  await new Promise((r) => setTimeout(r, 500));
  result.supervisorRssIdleBytes = rss(pid);
  await holdPool(ctx, client, stateDir);
  {
    const batches: number[] = [];
    const t = process.hrtime.bigint();
    let accepted = 0;
    for (let i = 0; i < N; i += 1000) {
      const tb = process.hrtime.bigint();
      const r = await client.request(SubmitTasks, { tasks: pos.slice(i, i + 1000) });
      accepted += r.handles.length;
      batches.push(round(Number(process.hrtime.bigint() - tb) / 1e6));
    }
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    result.submitBatches = { tasks: accepted, ms: round(ms), batchMs: summary(batches), journalLines: countLines(paths.journal) };
  }
  await new Promise((r) => setTimeout(r, 1000));
  result.supervisorRss10kQueuedBytes = rss(pid);
  result.idle = {
    getStatus: await timeCalls(200, () => client.request(GetStatus, undefined)),
    listTasks100: await timeCalls(200, () => client.request(ListTasks, { offset: 0, limit: 100 })),
    listTasks1000: await timeCalls(200, () => client.request(ListTasks, { offset: 0, limit: 1000 })),
    listTasksQueued100: await timeCalls(200, () => client.request(ListTasks, { offset: 5000, limit: 100, status: ['QUEUED'] })),
  };

  // 3. 8 workers at work on the 10 000, timed by a probe in its own process.
  result.busy = await busyPhase(ctx, client, stateDir, result);

  // 4. Stop the pool (the saved configuration says "stopped", so a restart does not resume it).
  await client.request(Shutdown, { force: true, exit: false });
  result.supervisorRss10kKnownAfterWorkBytes = rss(pid);
  client.dispose();
  result.journalLinesBeforeKill = countLines(paths.journal);

  // 5. kill -9 and replay.
  killPids([pid]);
  await waitExit(pid, 10_000);
  await cleanUp(join(ctx.tmp, 's2', 'out'));
  const tRestart = Date.now();
  startSupervisor(paths, { clientName: 'bench', supervisorScript: SUPERVISOR, env: profileEnv });
  for (;;) {
    try {
      client = await connectToSupervisor({ clientName: 'bench', stateDir, spawn: false });
      break;
    } catch {
      if (Date.now() - tRestart > 30_000) throw new Error('the supervisor did not come back');
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  result.restartToAnswerMs = Date.now() - tRestart;
  pid = client.hello.supervisorPid;
  const lines = readFileSync(paths.log, 'utf8').split('\n').filter((l) => /replayed \d+ journal records in \d+ ms/.test(l));
  const m = /replayed (\d+) journal records in (\d+) ms: (\d+) tasks/.exec(lines[lines.length - 1] ?? '');
  result.replay = m ? { records: Number(m[1]), ms: Number(m[2]), tasks: Number(m[3]), line: lines[lines.length - 1] } : { line: 'not found' };
  await new Promise((r) => setTimeout(r, 1000));
  result.supervisorRss10kKnownAfterReplayBytes = rss(pid);
  result.afterReplay = { getStatus: await timeCalls(200, () => client.request(GetStatus, undefined)) };
  await shutdownSupervisor(client);
  result.leftovers = await cleanUp(stateDir);

  // 6. Evidence for the supervisor's memory: the same supervisor bundle with playwright-core and
  // exceljs replaced by empty modules (nothing else changed), 10 000 tasks submitted.
  result.leanSupervisorCounterfactual = await leanSupervisor(ctx, pos);

  // 7. With --profile-supervisor: a busy phase again, on a profiled supervisor ended gracefully
  // (the profile is written at exit; kill -9 would lose it).
  if (ctx.profileDir) {
    const dir = join(ctx.tmp, 's3', 'st');
    const c = await connect(dir, profileEnv);
    await holdPool(ctx, c, dir);
    for (let i = 0; i < N; i += 1000) await c.request(SubmitTasks, { tasks: pos.slice(i, i + 1000) });
    result.profiledBusy = await busyPhase(ctx, c, dir, {});
    await shutdownSupervisor(c);
    await cleanUp(dir);
  }
  return result;
}

async function leanSupervisor(ctx: Ctx, pos: { poNumber: string }[]): Promise<NonNullable<ScaleResult['leanSupervisorCounterfactual']>> {
  const dir = join(ctx.tmp, 'lean');
  const script = join(dir, 'supervisor.js');
  await esbuild.build({
    bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'silent', external: ['vscode'],
    entryPoints: [join(ROOT, 'src/supervisor/main.ts')], outfile: script,
    plugins: [{
      name: 'empty',
      setup(build) {
        build.onResolve({ filter: /^(playwright-core|exceljs)(\/.*)?$/ }, (a) => ({ path: a.path, namespace: 'empty' }));
        build.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
      },
    }],
  });
  const stateDir = join(dir, 'st');
  const c = await connectToSupervisor({ clientName: 'bench', stateDir, spawn: true, supervisorScript: script, timeoutMs: 30_000 });
  const pid = c.hello.supervisorPid;
  await new Promise((r) => setTimeout(r, 500));
  const idle = rss(pid);
  // Its pool's worker is the product's own (the supervisor forks the worker.js beside it); linked,
  // so that it finds playwright-core where it really lives.
  symlinkSync(join(ROOT, 'dist', 'worker.js'), join(dir, 'worker.js'));
  await holdPool(ctx, c, stateDir);
  for (let i = 0; i < pos.length; i += 1000) await c.request(SubmitTasks, { tasks: pos.slice(i, i + 1000) });
  await new Promise((r) => setTimeout(r, 1000));
  const withTasks = rss(pid);
  await releasePool(ctx, c);
  await shutdownSupervisor(c);
  await cleanUp(stateDir);
  return { supervisorRssIdleBytes: idle, supervisorRss10kQueuedBytes: withTasks, note: 'src/supervisor/main.ts bundled with playwright-core and exceljs replaced by empty modules' };
}

/**
 * 8 workers at work on the queued 10 000; a probe in its own process times answers and notifications
 * (bench/probe.ts), then the same calls are timed from this process, which also serves the stand-in.
 */
async function busyPhase(ctx: Ctx, client: PoolClient, stateDir: string, result: ScaleResult): Promise<BusyResult> {
  const pid = client.hello.supervisorPid;
  let healthNotifications = 0;
  let statusNotifications = 0;
  let measuring = false;
  client.onNotification(WorkerHealthChanged, () => void (measuring && healthNotifications++));
  client.onNotification(StatusChanged, () => void (measuring && statusNotifications++));
  await releasePool(ctx, client);
  const tStart = Date.now();
  await client.request(StartPool, {
    coupaUrl: ctx.standin.url, baseProfilePath: ctx.baseProfile, downloadDir: join(stateDir, '..', 'out'), workerCount: 8,
    browser: ctx.executablePath, idleShutdownMinutes: 5,
  });
  result.poolStart8Ms = Date.now() - tStart;
  // Let the workers get going, then measure for a fixed window.
  await new Promise((r) => setTimeout(r, 3000));
  const windowMs = 20_000;
  const cpu0 = procStat(pid)!;
  const t0 = Date.now();
  measuring = true;
  const ran = await runProcess(process.execPath, [join(OUT, 'probe.js'), stateDir, String(windowMs)], { timeoutMs: windowMs + 60_000 });
  measuring = false;
  const cpu1 = procStat(pid)!;
  const elapsed = (Date.now() - t0) / 1000;
  if (ran.code !== 0) throw new Error(`the probe failed (${ran.code}): ${ran.stderr}`);
  const probe = JSON.parse(ran.stdout) as ProbeResult;
  const fromBenchProcess = await timeCalls(200, () => client.request(GetStatus, undefined));
  const status = await client.request(GetStatus, undefined);
  const supCpu = (cpu1.utime + cpu1.stime - cpu0.utime - cpu0.stime);
  return {
    ...probe,
    getStatusFromBenchProcess: fromBenchProcess,
    windowSeconds: round(elapsed),
    healthNotifications, statusNotifications,
    supervisorCpuSeconds: round(supCpu),
    supervisorCpuPercentOfOneCore: round((supCpu / elapsed) * 100, 1),
    supervisorRssBytes: rss(pid),
    done: status.total - status.queueDepth - status.running,
    queueDepth: status.queueDepth,
  };
}