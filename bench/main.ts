/**
 * The performance benchmark: every contestant in turn on one stand-in configuration and one PO list,
 * then the supervisor's scale and overhead figures, the extension's activation and bundle sizes.
 * Writes bench/results.json and bench/RESULTS.md. See bench/RESULTS.md for what each number means.
 *
 *   node bench/out/main.js [--pos 200] [--only pool4,crawlee4,perpo4,pool1,pool8,scale,ext] [--keep] [--profile-supervisor]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { createStandin, type Standin } from '../src/coupa/standin';
import {
  GetStatus, ListTasks, Shutdown, StartPool, SubmitTasks, WorkerHealthChanged, StatusChanged,
} from '../src/protocol/rpc';
import type { TaskInfo } from '../src/protocol/types';
import { connectToSupervisor, startSupervisor, type PoolClient } from '../src/client/client';
import { statePaths } from '../src/shared/paths';
import { browserArgs, findBrowser, findHeadlessShell } from '../src/shared/browsers.mjs';
import { createSignedInProfile } from '../src/coupa/signIn';
import {
  isAlive, killPids, procStat, processesMentioning, round, summary, timeCalls, treePids, TreeSampler, verifyOutcomes,
  type ContestantArgs, type ContestantReport, type Outcome, type TreeUsage, type Verification,
} from './lib';
import { writeMarkdown } from './report';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const SUPERVISOR = join(ROOT, 'dist', 'supervisor.js');
const OUT = join(ROOT, 'bench', 'out');

// ---- the scenario ----

export const SCENARIO = {
  standin: {
    seed: 1, poCount: 10_000, pageLatencyMs: 300, downloadLatencyMs: 100,
    minAttachmentBytes: 50_000, maxAttachmentBytes: 500_000, maxAttachments: 4,
    // Pages as heavy as Coupa's (a cached 1.5 MB script building DOM, 6000 CSS rules); the *light rows turn it off.
    heavyPages: true,
  },
  firstPo: 100_000,
  taskTimeoutSec: 300,
  maxRetries: 3,
  contestantTimeoutMs: 15 * 60_000,
};

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const value = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const PO_COUNT = Number(value('pos') ?? 200);
const ONLY = value('only')?.split(',');
const wanted = (name: string) => !ONLY || ONLY.includes(name);

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

// ---- processes ----

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** Runs a command with a hard timeout; on timeout its whole tree is killed. */
function runProcess(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number; onSpawn?: (child: ChildProcess) => void }): Promise<Ran> {
  return new Promise((resolvePromise) => {
    const started = Date.now();
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    opts.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void treePids([child.pid!]).then((pids) => killPids(pids));
    }, opts.timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // Give the pipes a moment to drain.
      setTimeout(() => resolvePromise({ code, signal, stdout, stderr, ms: Date.now() - started, timedOut }), 20);
    });
  });
}

/** Processes whose environment names `marker` (a supervisor's command line does not name its state folder). */
function processesWithEnv(marker: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').includes(marker)) out.push(Number(name));
    } catch {
      // gone, or not ours
    }
  }
  return out;
}

/** Everything a contestant may have left: by command line (profile copies) and by environment (supervisors). */
async function leftovers(marker: string): Promise<{ pid: number; args: string }[]> {
  const byArgs = processesMentioning(marker);
  const byEnv = processesWithEnv(marker).filter((pid) => !byArgs.some((p) => p.pid === pid));
  const described = byEnv.map((pid) => {
    let args = '';
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ').trim();
    } catch {
      // gone
    }
    return { pid, args };
  }).filter((p) => p.args !== '');
  return [...byArgs, ...described];
}

async function cleanUp(marker: string, quiet = false): Promise<{ pid: number; args: string }[]> {
  await new Promise((r) => setTimeout(r, 500));
  const left = await leftovers(marker);
  if (left.length && !quiet) log(`killing ${left.length} leftover process(es) of ${marker}`);
  if (left.length) {
    const trees = await treePids(left.map((p) => p.pid));
    killPids(trees);
  }
  return left;
}

// ---- contestants ----

export interface RunResult {
  name: string;
  contestant: 'pool' | 'perPoBrowser' | 'crawlee';
  lanes: number;
  /** From the first command to every outcome known (cold: browsers are started inside). */
  wallMs: number;
  /** Pool only: from `submit` to `wait` returning, with the pool already READY. */
  warmWallMs?: number;
  startupMs?: number;
  posPerMin: number;
  warmPosPerMin?: number;
  latencyMs: ReturnType<typeof summary>;
  breakdown: ReturnType<typeof breakdownOf>;
  peakRssBytes: number;
  peakPssBytes: number;
  cpuByKind: TreeUsage['cpuByKind'];
  peakPids: number;
  cpuSeconds: number;
  cpuSecondsSampled: number;
  samples: number;
  verification: Verification;
  allCorrect: boolean;
  ideal?: Ideal;
  leftovers: { pid: number; args: string }[];
  exitCodes: Record<string, number | null>;
  notes: string[];
}

function latencyOf(outcomes: Outcome[]) {
  return summary(outcomes.map((o) => o.finishedAt - o.startedAt));
}

/**
 * Where a PO's time goes, means in ms: the whole latency, the adapter's part of it (its navigation and
 * download time), the rest (tab or browser set-up and tear-down, dispatch); per outcome and per file count.
 */
function breakdownOf(outcomes: Outcome[]) {
  const mean = (xs: number[]) => (xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length, 0) : NaN);
  const group = (os: Outcome[]) => {
    const withAdapter = os.filter((o) => o.adapter);
    return {
      n: os.length,
      latency: mean(os.map((o) => o.finishedAt - o.startedAt)),
      adapter: mean(withAdapter.map((o) => o.adapter!.ms)),
      navigation: mean(withAdapter.map((o) => o.adapter!.navigationMs)),
      download: mean(withAdapter.map((o) => o.adapter!.downloadMs)),
      outsideAdapter: mean(withAdapter.map((o) => o.finishedAt - o.startedAt - o.adapter!.ms)),
    };
  };
  const byStatus: Record<string, unknown> = {};
  for (const st of [...new Set(outcomes.map((o) => o.status))]) byStatus[st] = group(outcomes.filter((o) => o.status === st));
  const byFiles: Record<string, unknown> = {};
  for (const k of [...new Set(outcomes.map((o) => o.attachments ?? 0))].sort()) byFiles[String(k)] = group(outcomes.filter((o) => (o.attachments ?? 0) === k));
  return { all: group(outcomes), byStatus, byFiles };
}

/** A pool run's layout: workers per browser, and the browser binary when not the one every contestant gets. */
interface PoolVariant {
  name?: string;
  workersPerBrowser?: number;
  executablePath?: string;
}

async function runPool(ctx: Ctx, lanes: number, variant: PoolVariant = {}): Promise<RunResult> {
  const name = variant.name ?? `pool${lanes}`;
  const workersPerBrowser = variant.workersPerBrowser ?? 4;
  const executablePath = variant.executablePath ?? ctx.executablePath;
  const dir = join(ctx.tmp, name);
  const stateDir = join(dir, 'st');
  const out = join(dir, 'out');
  mkdirSync(dir, { recursive: true });
  const env = { ...process.env, PO_POOL_STATE_DIR: stateDir };
  let cliPid = 0;
  // The supervisor runs detached, outside the CLI's tree: it is sampled by the pid it gives in its hello.
  let supervisorPid = 0;
  const sampler = new TreeSampler(() => [cliPid, supervisorPid]).start();
  const exitCodes: Record<string, number | null> = {};
  const cli = async (what: string, args: string[], timeoutMs = SCENARIO.contestantTimeoutMs) => {
    const r = await runProcess(process.execPath, [CLI, ...args], { env, cwd: dir, timeoutMs, onSpawn: (c) => (cliPid = c.pid ?? 0) });
    exitCodes[what] = r.code;
    if (r.code !== 0 && r.code !== 1) log(`${name}: po-pool ${what} exited ${r.code}${r.timedOut ? ' (timed out)' : ''}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return r;
  };
  const t0 = Date.now();
  // Started over the socket as `po-pool start` starts it, with the one setting the CLI has no flag for.
  const starter = await connect(stateDir, { PO_POOL_STATE_DIR: stateDir });
  supervisorPid = starter.hello.supervisorPid;
  await starter.request(StartPool, {
    coupaUrl: ctx.standin.url, baseProfilePath: ctx.baseProfile, workerCount: lanes, downloadDir: out, browser: executablePath,
    taskTimeout: SCENARIO.taskTimeoutSec, workersPerBrowser, idleShutdownMinutes: 5,
  }).catch((err: Error) => log(`${name}: start failed: ${err.message}`));
  starter.dispose();
  const t1 = Date.now();
  const logFrom = ctx.standin.requests.length;
  await cli('submit', ['submit', ctx.listFile]);
  await cli('wait', ['wait', '--timeout', String(SCENARIO.contestantTimeoutMs / 1000)]);
  const t3 = Date.now();
  const logTo = ctx.standin.requests.length;
  await sampler.tick();
  const usage = await sampler.stop();
  const results = await cli('results', ['results', '--json'], 120_000);
  let tasks: TaskInfo[] = [];
  try {
    tasks = JSON.parse(results.stdout) as TaskInfo[];
  } catch {
    log(`${name}: results --json did not parse`);
  }
  await cli('shutdown', ['shutdown', '--timeout', '30'], 90_000);
  const outcomes: Outcome[] = tasks.map((t) => ({
    poNumber: t.poNumber,
    status: t.status,
    files: (t.result?.files ?? []).map((f) => ({ path: f.path, sha256: f.sha256, bytes: f.bytes })),
    startedAt: t.startedAt ?? t.submittedAt,
    finishedAt: t.finishedAt ?? Date.now(),
    attempts: t.result?.attempts ?? 1,
    ...(t.result?.timings && t.result.timings.finishedAt > t.result.timings.startedAt ? {
      adapter: { ms: t.result.timings.finishedAt - t.result.timings.startedAt, navigationMs: t.result.timings.navigationMs, downloadMs: t.result.timings.downloadMs },
    } : {}),
    attachments: t.result?.files.length ?? 0,
    ...(t.result?.error ? { error: `${t.result.error.kind}: ${t.result.error.message}` } : {}),
  }));
  const verification = verifyOutcomes(ctx.list, outcomes, ctx.standin.catalog, out);
  const left = await cleanUp(stateDir);
  const ideal = idealOf(ctx, ctx.standin.requests.slice(logFrom, logTo), lanes);
  return {
    name, contestant: 'pool', lanes,
    wallMs: t3 - t0, warmWallMs: t3 - t1, startupMs: t1 - t0,
    posPerMin: round((ctx.list.length / (t3 - t0)) * 60_000), warmPosPerMin: round((ctx.list.length / (t3 - t1)) * 60_000),
    latencyMs: latencyOf(outcomes),
    breakdown: breakdownOf(outcomes),
    ...usageFields(usage),
    cpuSeconds: usage.cpuSeconds,
    verification, allCorrect: isAllCorrect(verification, ctx.list.length),
    ideal, leftovers: left, exitCodes,
    notes: [`per-PO latency = TaskInfo.finishedAt - startedAt (dispatch to outcome, on the supervisor's clock)`,
      `workersPerBrowser ${workersPerBrowser}, browser ${executablePath}, heavy pages ${ctx.standin.knobs.heavyPages}`],
  };
}

/** The same run on light pages (the stand-in's plain HTML), for the second row of each comparison. */
async function light(ctx: Ctx, run: () => Promise<RunResult>): Promise<RunResult> {
  ctx.standin.knobs.heavyPages = false;
  try {
    return await run();
  } finally {
    ctx.standin.knobs.heavyPages = SCENARIO.standin.heavyPages;
  }
}

function usageFields(usage: TreeUsage) {
  return { cpuByKind: usage.cpuByKind, peakRssBytes: usage.peakRssBytes, peakPssBytes: usage.peakPssBytes, peakPids: usage.peakPids, cpuSecondsSampled: usage.cpuSeconds, samples: usage.samples };
}

function isAllCorrect(v: Verification, n: number): boolean {
  return v.correct === n && v.wrong.length === 0 && v.missing.length === 0 && v.leftoverWork.length === 0;
}

async function runChildContestant(ctx: Ctx, contestant: 'perPoBrowser' | 'crawlee', lanes: number): Promise<RunResult> {
  const name = `${contestant === 'crawlee' ? 'crawlee' : 'perpo'}${lanes}`;
  const dir = join(ctx.tmp, name);
  const out = join(dir, 'out');
  mkdirSync(out, { recursive: true });
  const args: ContestantArgs = {
    coupaUrl: ctx.standin.url, baseProfile: ctx.baseProfile, downloadDir: out, workDir: dir, lanes, pos: ctx.list,
    executablePath: ctx.executablePath, outcomesFile: join(dir, 'outcomes.json'), taskTimeoutSec: SCENARIO.taskTimeoutSec, maxRetries: SCENARIO.maxRetries,
  };
  const argsFile = join(dir, 'args.json');
  writeFileSync(argsFile, JSON.stringify(args));
  let pid = 0;
  const sampler = new TreeSampler(() => [pid]).start();
  const logFrom = ctx.standin.requests.length;
  const r = await runProcess(process.execPath, [join(OUT, `${contestant}.js`), argsFile], {
    cwd: dir, timeoutMs: SCENARIO.contestantTimeoutMs, onSpawn: (c) => (pid = c.pid ?? 0),
    env: { ...process.env, CRAWLEE_STORAGE_DIR: join(dir, 'storage'), CRAWLEE_PURGE_ON_START: '1' },
  });
  const logTo = ctx.standin.requests.length;
  const usage = await sampler.stop();
  if (r.code !== 0) log(`${name} exited ${r.code}${r.timedOut ? ' (timed out)' : ''}: ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  let report: ContestantReport | undefined;
  try {
    report = JSON.parse(readFileSync(args.outcomesFile, 'utf8')) as ContestantReport;
  } catch {
    log(`${name}: no outcomes`);
  }
  const outcomes = report?.outcomes ?? [];
  const verification = verifyOutcomes(ctx.list, outcomes, ctx.standin.catalog, out);
  const left = await cleanUp(dir);
  const notes = contestant === 'crawlee'
    ? ['per-PO latency = request handler start to outcome (first attempt), excludes Crawlee\'s tab creation',
      'no sign-in check (the crawler has no hook before its browser takes requests); requests skip Crawlee\'s navigation (skipNavigation), processPo navigates']
    : ['per-PO latency = profile copy + browser launch + sign-in check + processPo + close'];
  return {
    name, contestant, lanes, wallMs: r.ms,
    posPerMin: round((ctx.list.length / r.ms) * 60_000),
    latencyMs: latencyOf(outcomes),
    breakdown: breakdownOf(outcomes),
    ...usageFields(usage),
    cpuSeconds: round(Math.max(usage.cpuSeconds, report?.cpuSecondsWithChildren ?? 0)),
    verification, allCorrect: isAllCorrect(verification, ctx.list.length),
    ideal: idealOf(ctx, ctx.standin.requests.slice(logFrom, logTo), lanes),
    leftovers: left, exitCodes: { run: r.code }, notes,
  };
}

// ---- the ideal ----

export interface Ideal {
  lanes: number;
  /** Server-side time (request start to response end on the stand-in) summed per PO of the list. */
  sumPoServerMs: number;
  /** Server time of requests that name no PO (session probes after a not-found page, the dashboard). */
  otherServerMs: number;
  maxPoServerMs: number;
  /** max((ΣT_po + other) / N, max T_po). */
  idealWallMs: number;
  idealPosPerMin: number;
  requests: number;
  loginRequests: number;
  perPoMeanMs: number;
  /**
   * The client's share, seen from the server: per PO, the span from its first request's start to its
   * last response's end, and the gaps inside that span when none of its requests was being served
   * (the browser and the adapter at work), by transition (po = PO page, req = requisition, att = file).
   */
  client: { meanSpanMs: number; meanServerMs: number; meanGapMs: number; gaps: Record<string, { n: number; meanMs: number }> };
}

function idealOf(ctx: Ctx, log: Standin['requests'], lanes: number): Ideal {
  const perPo = new Map<string, number>();
  const seq = new Map<string, { kind: string; start: number; end: number }[]>();
  let other = 0;
  let logins = 0;
  for (const r of log) {
    if (r.kind === 'login') {
      logins++;
      continue;
    }
    const ms = (r.finishedAt || r.startedAt) - r.startedAt;
    const path = r.path.split('?')[0];
    let po: string | undefined;
    let kind = '';
    let m = /^\/order_headers\/(\d+)/.exec(path);
    if (m) [po, kind] = [ctx.owner.get(`po:${m[1]}`), 'po'];
    m = /^\/requisition_headers\/(\d+)/.exec(path);
    if (m) [po, kind] = [ctx.owner.get(`req:${m[1]}`), 'req'];
    m = /^\/attachments\/(\d+)/.exec(path);
    if (m) [po, kind] = [ctx.owner.get(`att:${m[1]}`), 'att'];
    if (po) {
      perPo.set(po, (perPo.get(po) ?? 0) + ms);
      seq.set(po, [...(seq.get(po) ?? []), { kind, start: r.startedAt, end: r.finishedAt || r.startedAt }]);
    } else other += ms;
  }
  const sum = [...perPo.values()].reduce((a, b) => a + b, 0);
  const max = Math.max(0, ...perPo.values());
  const gaps = new Map<string, number[]>();
  const spans: number[] = [];
  const servers: number[] = [];
  for (const reqs of seq.values()) {
    reqs.sort((a, b) => a.start - b.start);
    spans.push(Math.max(...reqs.map((q) => q.end)) - reqs[0].start);
    servers.push(reqs.reduce((t, q) => t + q.end - q.start, 0));
    for (let i = 1; i < reqs.length; i++) {
      const key = `${reqs[i - 1].kind}→${reqs[i].kind}`;
      gaps.set(key, [...(gaps.get(key) ?? []), Math.max(0, reqs[i].start - reqs[i - 1].end)]);
    }
  }
  const avg = (xs: number[]) => (xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length, 0) : 0);
  const wall = Math.max((sum + other) / lanes, max);
  return {
    lanes, sumPoServerMs: sum, otherServerMs: other, maxPoServerMs: max, idealWallMs: round(wall, 0),
    idealPosPerMin: round((ctx.list.length / wall) * 60_000), requests: log.length, loginRequests: logins,
    perPoMeanMs: round(sum / Math.max(1, perPo.size)),
    client: {
      meanSpanMs: avg(spans), meanServerMs: avg(servers), meanGapMs: avg(spans.map((sp, i) => sp - servers[i])),
      gaps: Object.fromEntries([...gaps.entries()].map(([k, v]) => [k, { n: v.length, meanMs: avg(v) }])),
    },
  };
}

// ---- scale and overheads ----

async function connect(stateDir: string, env: Record<string, string> = {}): Promise<PoolClient> {
  return connectToSupervisor({ clientName: 'bench', stateDir, spawn: true, supervisorScript: SUPERVISOR, env, timeoutMs: 30_000 });
}

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

async function scale(ctx: Ctx) {
  const N = 10_000;
  const pos = Array.from({ length: N }, (_, i) => ({ poNumber: `PO${SCENARIO.firstPo + i}` }));
  const profileEnv: Record<string, string> = ctx.profileDir
    ? { NODE_OPTIONS: `--require ${join(OUT, 'cpuprofPreload.js')}`, BENCH_CPU_PROF_DIR: ctx.profileDir }
    : {};
  const result: Record<string, unknown> = {};

  // 1. One SubmitTasks of 10 000 (what a script could send) on a fresh supervisor.
  {
    const stateDir = join(ctx.tmp, 's1', 'st');
    const client = await connect(stateDir, profileEnv);
    const t = process.hrtime.bigint();
    const r = await client.request(SubmitTasks, { tasks: pos });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    result.submitOneRequest = { tasks: r.handles.length, ms: round(ms), journalLines: countLines(statePaths(stateDir).journal) };
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
    for (let i = 0; i < N; i += 1000) await c.request(SubmitTasks, { tasks: pos.slice(i, i + 1000) });
    result.profiledBusy = await busyPhase(ctx, c, dir, {});
    await shutdownSupervisor(c);
    await cleanUp(dir);
  }
  return result;
}

async function leanSupervisor(ctx: Ctx, pos: { poNumber: string }[]) {
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
  for (let i = 0; i < pos.length; i += 1000) await c.request(SubmitTasks, { tasks: pos.slice(i, i + 1000) });
  await new Promise((r) => setTimeout(r, 1000));
  const withTasks = rss(pid);
  await shutdownSupervisor(c);
  await cleanUp(stateDir);
  return { supervisorRssIdleBytes: idle, supervisorRss10kQueuedBytes: withTasks, note: 'src/supervisor/main.ts bundled with playwright-core and exceljs replaced by empty modules' };
}


/**
 * 8 workers at work on the queued 10 000; a probe in its own process times answers and notifications
 * (bench/probe.ts), then the same calls are timed from this process, which also serves the stand-in.
 */
async function busyPhase(ctx: Ctx, client: PoolClient, stateDir: string, result: Record<string, unknown>) {
  const pid = client.hello.supervisorPid;
  let healthNotifications = 0;
  let statusNotifications = 0;
  let measuring = false;
  client.onNotification(WorkerHealthChanged, () => void (measuring && healthNotifications++));
  client.onNotification(StatusChanged, () => void (measuring && statusNotifications++));
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
  const probe = JSON.parse(ran.stdout) as Record<string, unknown>;
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

// ---- the extension ----

async function extension(ctx: Ctx) {
  const result: Record<string, unknown> = {};
  // The production bundle, built exactly as `node esbuild.mjs --production` builds it, but into a
  // folder of ours: dist/ is shared with everyone's test runs on this machine.
  const prodDir = join(ctx.tmp, 'prod');
  await esbuild.build({
    bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: false, minify: true, logLevel: 'warning',
    external: ['vscode', 'playwright-core', 'playwright-core/*'],
    entryPoints: { extension: join(ROOT, 'src/extension/main.ts'), supervisor: join(ROOT, 'src/supervisor/main.ts'), worker: join(ROOT, 'src/worker/main.ts'), cli: join(ROOT, 'src/cli/main.ts') },
    outdir: prodDir,
  });
  result.productionBundleBytes = Object.fromEntries(['extension', 'supervisor', 'worker', 'cli'].map((n) => [n, statSync(join(prodDir, `${n}.js`)).size]));
  result.devBundleBytes = { extension: statSync(join(ROOT, 'dist/extension.js')).size };
  const meta = await esbuild.build({
    bundle: true, platform: 'node', target: 'node20', format: 'cjs', minify: true, metafile: true, write: false, logLevel: 'silent',
    external: ['vscode', 'playwright-core', 'playwright-core/*'], entryPoints: [join(ROOT, 'src/extension/main.ts')], outfile: join(prodDir, 'x.js'),
  });
  const inputs = Object.values(meta.metafile!.outputs)[0].inputs;
  const byPackage = new Map<string, number>();
  for (const [file, info] of Object.entries(inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? file.split('/').slice(0, 2).join('/');
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + info.bytesInOutput);
  }
  result.extensionBundleByInput = Object.fromEntries([...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12));

  // Activation, each in a fresh process (cold module cache), dev and production bundles.
  for (const [label, bundle] of [['dev', join(ROOT, 'dist/extension.js')], ['production', join(prodDir, 'extension.js')]] as const) {
    const runs: { requireMs: number; activateMs: number; totalMs: number; error?: string }[] = [];
    for (let i = 0; i < 7; i++) {
      const stateDir = join(ctx.tmp, `activate-${label}-${i}`);
      const r = await runProcess(process.execPath, [join(OUT, 'activate.js'), bundle, ROOT], { env: { ...process.env, PO_POOL_STATE_DIR: stateDir }, timeoutMs: 30_000 });
      try {
        runs.push(JSON.parse(r.stdout.trim().split('\n').pop()!));
      } catch {
        log(`activation (${label}) printed no result: ${r.stderr.slice(-500)}`);
      }
      // activate() connects in the background and starts a supervisor: stop it.
      await new Promise((res) => setTimeout(res, 1500));
      await cleanUp(stateDir, true);
    }
    result[`activation_${label}`] = {
      activateMs: summary(runs.map((r) => r.activateMs)),
      requireMs: summary(runs.map((r) => r.requireMs)),
      totalMs: summary(runs.map((r) => r.totalMs)),
      errors: runs.map((r) => r.error).filter(Boolean).slice(0, 1),
    };
  }

  // The .vsix: `npm run package` in a copy of the working tree (it rebuilds dist/ and rewrites the
  // .vsix at the root, both shared with the other engineers on this machine).
  if (!flag('skip-vsix')) {
    const copy = join(ctx.tmp, 'vsix-copy');
    mkdirSync(copy, { recursive: true });
    execFileSync('sh', ['-c', `tar -C "${ROOT}" --exclude=./.git --exclude=./out --exclude=./test-results --exclude=./bench/out --exclude=./coupa-po-pool.vsix --exclude=./downloads -cf - . | tar -C "${copy}" -xf -`]);
    const r = await runProcess('npm', ['run', 'package'], { cwd: copy, timeoutMs: 300_000 });
    const vsix = join(copy, 'coupa-po-pool.vsix');
    result.vsix = existsSync(vsix)
      ? { bytes: statSync(vsix).size, packageLine: r.stdout.split('\n').find((l) => l.includes('[package]')) ?? '' }
      : { error: `npm run package exited ${r.code}: ${r.stderr.slice(-400)}` };
    result.distExtensionFromPackageBytes = existsSync(join(copy, 'dist/extension.js')) ? statSync(join(copy, 'dist/extension.js')).size : undefined;
    rmSync(copy, { recursive: true, force: true });
  }
  return result;
}

// ---- cpu profiles ----

function topOfProfile(file: string, n = 15) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[]; timeDeltas: number[];
  };
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byFrame = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    total += us;
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
    byFrame.set(key, (byFrame.get(key) ?? 0) + us);
  }
  // Long tasks: runs of consecutive samples outside (idle) longer than 50 ms, with their heaviest frames.
  const frameOf = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const idle = new Set(profile.nodes.filter((node) => node.callFrame.functionName === '(idle)').map((node) => node.id));
  const longTasks: { ms: number; top: string[] }[] = [];
  let run: number[] = [];
  let runUs = 0;
  const flush = () => {
    if (runUs > 50_000) {
      const counts = new Map<string, number>();
      for (const id of run) {
        const f = frameOf.get(id)!;
        const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      longTasks.push({ ms: round(runUs / 1000), top: [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, c]) => `${k} (${Math.round((c / run.length) * 100)}%)`) });
    }
    run = [];
    runUs = 0;
  };
  profile.samples.forEach((id, i) => {
    if (idle.has(id)) flush();
    else {
      run.push(id);
      runUs += profile.timeDeltas[i] ?? 0;
    }
  });
  flush();
  return {
    file, totalMs: round(total / 1000),
    longTasks: longTasks.sort((a, b) => b.ms - a.ms).slice(0, 10),
    longTaskCount: longTasks.length,
    top: [...byFrame.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([frame, us]) => ({ frame, ms: round(us / 1000), pct: round((us / total) * 100, 1) })),
  };
}

// ---- main ----

export interface Ctx {
  tmp: string;
  standin: Standin;
  list: string[];
  listFile: string;
  baseProfile: string;
  executablePath: string;
  /** `po:<id>`, `req:<id>`, `att:<id>` -> the PO of the list it belongs to. */
  owner: Map<string, string>;
  profileDir?: string;
}

function machine(executablePath: string) {
  let chromium = '';
  try {
    chromium = execFileSync(executablePath, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch (err) {
    chromium = String((err as { stdout?: string }).stdout ?? '').trim();
  }
  const pkg = (p: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', p, 'package.json'), 'utf8')) as { version: string }).version;
  return {
    nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
    ramBytes: totalmem(),
    cpuModel: cpus()[0]?.model ?? '',
    chromium,
    chromiumPath: executablePath,
    node: process.version,
    playwrightCore: pkg('playwright-core'),
    playwright: pkg('playwright'),
    crawlee: pkg('@crawlee/playwright'),
    loadAverageAtStart: execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim(),
  };
}

async function main(): Promise<void> {
  if (flag('render-only')) {
    // Rewrites RESULTS.md from results.json (after editing bench/analysis.md or bench/report.ts).
    writeMarkdown(join(ROOT, 'bench', 'RESULTS.md'), JSON.parse(readFileSync(join(ROOT, 'bench', 'results.json'), 'utf8')));
    return;
  }
  const started = new Date();
  for (const f of [CLI, SUPERVISOR, join(ROOT, 'dist', 'worker.js')]) if (!existsSync(f)) throw new Error(`${f} is missing: run "node esbuild.mjs" first`);
  const found = findBrowser('chromium') ?? findBrowser('auto');
  if (!found) throw new Error('no Chromium-family browser found');
  // Every contestant gets the headless shell where there is one (what headless workers use), the
  // *full rows the full browser.
  const fullBrowser = found.executablePath;
  const executablePath = findHeadlessShell('chromium')?.executablePath ?? fullBrowser;
  // Short paths: Chromium's SingletonSocket lives under the worker's TMPDIR (<profile copy>.tmp, inside
  // the state folder) and a Unix socket path may not exceed 107 bytes.
  const tmp = join(tmpdir(), `pb${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  log(`working in ${tmp}; browser ${executablePath} ${browserArgs().join(' ')}`);

  const standin = await createStandin(SCENARIO.standin);
  const list = Array.from({ length: PO_COUNT }, (_, i) => `PO${SCENARIO.firstPo + i}`);
  const listFile = join(tmp, 'pos.txt');
  writeFileSync(listFile, `${list.join('\n')}\n`);
  const owner = new Map<string, string>();
  for (const po of list) {
    const rec = standin.catalog.po(po);
    owner.set(`po:${po.slice(2)}`, po);
    if (!rec) continue;
    if (rec.requisitionId) owner.set(`req:${rec.requisitionId}`, po);
    for (const a of [...rec.attachments, ...rec.requisitionAttachments]) owner.set(`att:${a.id}`, po);
  }
  const baseProfile = join(tmp, 'base-profile');
  // Signed in with the full browser, as a person signs in (a headless shell writes no "Local State").
  await createSignedInProfile({ profileDir: baseProfile, coupaUrl: standin.url, email: 'demo@example.com', password: 'demo', browser: fullBrowser });
  const profileDir = flag('profile-supervisor') ? join(tmp, 'profiles') : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const ctx: Ctx = { tmp, standin, list, listFile, baseProfile, executablePath, owner, profileDir };

  const catalogStats = (() => {
    let existing = 0;
    let attachments = 0;
    let bytes = 0;
    let fromRequisition = 0;
    for (const po of list) {
      const rec = standin.catalog.po(po);
      if (!rec) continue;
      existing++;
      const served = rec.attachments.length ? rec.attachments : rec.requisitionAccessible ? rec.requisitionAttachments : [];
      if (!rec.attachments.length && served.length) fromRequisition++;
      attachments += served.length;
      bytes += served.reduce((s, a) => s + a.bytes, 0);
    }
    return { pos: list.length, existing, notFound: list.length - existing, attachments, meanAttachments: round(attachments / existing), bytes, fromRequisition };
  })();

  const results = {
    date: started.toISOString(),
    command: 'npm run bench  (= node esbuild.mjs && node bench/build.mjs && node bench/out/main.js --profile-supervisor)',
    argv: process.argv.slice(2),
    machine: machine(executablePath),
    scenario: { ...SCENARIO, poList: `${list[0]}..${list[list.length - 1]}`, catalog: catalogStats, browserArgs: browserArgs() },
    runs: [] as RunResult[],
    ratios: {} as Record<string, number | undefined>,
    scale: undefined as unknown,
    extension: undefined as unknown,
    profiles: [] as unknown[],
    durationSeconds: 0,
  };
  const save = () => {
    results.durationSeconds = round((Date.now() - started.getTime()) / 1000);
    const base = value('results') ?? join(ROOT, 'bench', 'results');
    writeFileSync(`${base}.json`, `${JSON.stringify(results, (k, v) => (k === 'series' ? undefined : v), 2)}\n`);
    writeMarkdown(base === join(ROOT, 'bench', 'results') ? join(ROOT, 'bench', 'RESULTS.md') : `${base}.md`, results);
  };

  const plan: [string, () => Promise<RunResult>][] = [
    ['pool4', () => runPool(ctx, 4)],
    ['pool4x1', () => runPool(ctx, 4, { name: 'pool4x1', workersPerBrowser: 1 })],
    ['pool4full', () => runPool(ctx, 4, { name: 'pool4full', executablePath: fullBrowser })],
    ['pool4x1full', () => runPool(ctx, 4, { name: 'pool4x1full', workersPerBrowser: 1, executablePath: fullBrowser })],
    ['crawlee4', () => runChildContestant(ctx, 'crawlee', 4)],
    ['perpo4', () => runChildContestant(ctx, 'perPoBrowser', 4)],
    ['pool4light', () => light(ctx, () => runPool(ctx, 4, { name: 'pool4light' }))],
    ['pool4x1light', () => light(ctx, () => runPool(ctx, 4, { name: 'pool4x1light', workersPerBrowser: 1 }))],
    ['pool8', () => runPool(ctx, 8)],
    ['pool1', () => runPool(ctx, 1)],
  ];
  try {
    for (const [name, run] of plan) {
      if (!wanted(name)) continue;
      log(`${name}: running ${list.length} POs`);
      const r = await run();
      results.runs.push(r);
      log(`${name}: ${(r.wallMs / 1000).toFixed(1)} s${r.warmWallMs ? ` (warm ${(r.warmWallMs / 1000).toFixed(1)} s)` : ''}, ${r.posPerMin} POs/min, peak ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MB, cpu ${r.cpuSeconds} s, correct ${r.verification.correct}/${list.length}${r.verification.wrong.length ? ` wrong: ${JSON.stringify(r.verification.wrong.slice(0, 3))}` : ''}`);
      results.ratios = ratios(results.runs);
      save();
    }
    if (wanted('scale')) {
      log('scale and overheads');
      results.scale = await scale(ctx);
      save();
    }
    if (wanted('ext')) {
      log('extension: bundles, activation, .vsix');
      results.extension = await extension(ctx);
      save();
    }
  } finally {
    if (profileDir && existsSync(profileDir)) {
      results.profiles = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => topOfProfile(join(profileDir, f)));
    }
    await standin.close();
    save();
    if (!flag('keep')) rmSync(tmp, { recursive: true, force: true });
    const left = await leftovers(tmp);
    if (left.length) log(`WARNING: processes left: ${JSON.stringify(left)}`);
  }
  log(`done in ${results.durationSeconds} s: ${value('results') ?? 'bench/results'}.json and its .md`);
}

function ratios(runs: RunResult[]): Record<string, number | undefined> {
  const get = (name: string) => runs.find((r) => r.name === name);
  const pool = get('pool4');
  const crawlee = get('crawlee4');
  const perpo = get('perpo4');
  const r = (a?: number, b?: number) => (a !== undefined && b ? round(a / b, 3) : undefined);
  return {
    poolVsIdealCold: r(pool?.ideal?.idealWallMs, pool?.wallMs),
    poolVsIdealWarm: r(pool?.ideal?.idealWallMs, pool?.warmWallMs),
    poolVsPerPoBrowser: r(perpo?.wallMs, pool?.wallMs),
    poolVsPerPoBrowserWarm: r(perpo?.wallMs, pool?.warmWallMs),
    poolVsCrawlee: r(crawlee?.wallMs, pool?.wallMs),
    poolVsCrawleeWarm: r(crawlee?.wallMs, pool?.warmWallMs),
    poolVsCrawleeMemory: r(pool?.peakRssBytes, crawlee?.peakRssBytes),
    poolVsCrawleeMemoryPss: r(pool?.peakPssBytes, crawlee?.peakPssBytes),
    poolVsCrawleeCpu: r(pool?.cpuSeconds, crawlee?.cpuSeconds),
    pool8VsIdealWarm: r(get('pool8')?.ideal?.idealWallMs, get('pool8')?.warmWallMs),
    pool1VsIdealWarm: r(get('pool1')?.ideal?.idealWallMs, get('pool1')?.warmWallMs),
    // Above 1: the shared layout (4 workers per browser) or the headless shell uses less.
    ownVsSharedBrowserCpu: r(get('pool4x1')?.cpuSeconds, pool?.cpuSeconds),
    ownVsSharedBrowserPss: r(get('pool4x1')?.peakPssBytes, pool?.peakPssBytes),
    ownVsSharedBrowserWarmWall: r(get('pool4x1')?.warmWallMs, pool?.warmWallMs),
    fullVsShellCpu: r(get('pool4full')?.cpuSeconds, pool?.cpuSeconds),
    fullVsShellPss: r(get('pool4full')?.peakPssBytes, pool?.peakPssBytes),
    fullVsShellWarmWall: r(get('pool4full')?.warmWallMs, pool?.warmWallMs),
    heavyVsLightCpu: r(pool?.cpuSeconds, get('pool4light')?.cpuSeconds),
    ownVsSharedBrowserCpuLight: r(get('pool4x1light')?.cpuSeconds, get('pool4light')?.cpuSeconds),
    ownVsSharedBrowserPssLight: r(get('pool4x1light')?.peakPssBytes, get('pool4light')?.peakPssBytes),
  };
}

main().then(() => process.exit(0), (err) => {
  log(`failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
