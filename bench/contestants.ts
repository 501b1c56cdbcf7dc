/**
 * How each contestant is run on the scenario and measured the same way: the pool through its CLI, and
 * the per-PO browser and Crawlee as child processes (bench/perPoBrowser.ts, bench/crawlee.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StartPool } from '../src/protocol/rpc';
import type { TaskInfo } from '../src/protocol/types';
import { idealOf } from './ideal';
import {
  round, summary, TreeSampler, verifyOutcomes,
  type ContestantArgs, type ContestantReport, type Outcome, type TreeUsage, type Verification,
} from './lib';
import { cleanUp, connect, runProcess } from './processes';
import {
  CLI, log, OUT, SCENARIO, type Breakdown, type BreakdownGroup, type Ctx, type Ratios, type RunResult, type Summary,
} from './scenario';

function latencyOf(outcomes: Outcome[]): Summary {
  return summary(outcomes.map((o) => o.finishedAt - o.startedAt));
}

/**
 * Where a PO's time goes, means in ms: the whole latency, the adapter's part of it (its navigation and
 * download time), the rest (tab or browser set-up and tear-down, dispatch); per outcome and per file count.
 */
function breakdownOf(outcomes: Outcome[]): Breakdown {
  const mean = (xs: number[]) => (xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length, 0) : NaN);
  const group = (os: Outcome[]): BreakdownGroup => {
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
  const byStatus: Record<string, BreakdownGroup> = {};
  for (const st of [...new Set(outcomes.map((o) => o.status))]) byStatus[st] = group(outcomes.filter((o) => o.status === st));
  const byFiles: Record<string, BreakdownGroup> = {};
  for (const k of [...new Set(outcomes.map((o) => o.attachments ?? 0))].sort()) byFiles[String(k)] = group(outcomes.filter((o) => (o.attachments ?? 0) === k));
  return { all: group(outcomes), byStatus, byFiles };
}

/** A pool run's layout: workers per browser, and the browser binary when not the one every contestant gets. */
interface PoolVariant {
  name?: string;
  workersPerBrowser?: number;
  executablePath?: string;
}

export async function runPool(ctx: Ctx, lanes: number, variant: PoolVariant = {}): Promise<RunResult> {
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
export async function light(ctx: Ctx, run: () => Promise<RunResult>): Promise<RunResult> {
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

export async function runChildContestant(ctx: Ctx, contestant: 'perPoBrowser' | 'crawlee', lanes: number): Promise<RunResult> {
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
export function ratios(runs: RunResult[]): Ratios {
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
