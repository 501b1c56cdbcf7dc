/** Shared by the benchmark's processes: process-tree sampling, statistics, outcome checks. */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import pidtree from 'pidtree';
import pidusage from 'pidusage';

/** What a contestant reports for one PO. */
export interface Outcome {
  poNumber: string;
  status: string;
  files: { path: string; sha256: string; bytes: number }[];
  /** Epoch ms: when the PO was picked up (a lane, a worker, a crawler slot) and when it ended. */
  startedAt: number;
  finishedAt: number;
  attempts: number;
  error?: string;
  /** The adapter's own account of the last attempt (POResult.timings). */
  adapter?: { ms: number; navigationMs: number; downloadMs: number };
  attachments?: number;
}

export interface ContestantArgs {
  coupaUrl: string;
  baseProfile: string;
  downloadDir: string;
  workDir: string;
  lanes: number;
  pos: string[];
  executablePath: string;
  outcomesFile: string;
  taskTimeoutSec: number;
  maxRetries: number;
}

/** What bench/probe.ts prints: the supervisor's answers and notifications timed from a process of its own. */
export interface ProbeResult {
  getStatus: ReturnType<typeof summary>;
  listTasks100: ReturnType<typeof summary>;
  windowSeconds: number;
  notificationLatencyMs: ReturnType<typeof summary>;
  workerResultToClientMs: ReturnType<typeof summary>;
  taskNotifications: number;
  taskEntries: number;
}

/** What a contestant child process writes at the end. */
export interface ContestantReport {
  outcomes: Outcome[];
  startedAt: number;
  finishedAt: number;
  /** utime+stime+cutime+cstime of the contestant process, seconds (waited-for children included). */
  cpuSecondsWithChildren: number;
}

// ---- statistics ----

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function summary(values: number[]): { n: number; p50: number; p95: number; p99: number; max: number; mean: number } {
  return {
    n: values.length,
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    p99: round(percentile(values, 99)),
    max: round(values.length ? Math.max(...values) : NaN),
    mean: round(values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN),
  };
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

// ---- /proc ----

const CLK_TCK = 100;

/** utime, stime, cutime, cstime (seconds) and the start time (ticks) of a pid, from /proc. */
export function procStat(pid: number | 'self'): { utime: number; stime: number; cutime: number; cstime: number; start: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may hold spaces: fields count from after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state); utime is field 14 -> f[11].
  return {
    utime: Number(f[11]) / CLK_TCK,
    stime: Number(f[12]) / CLK_TCK,
    cutime: Number(f[13]) / CLK_TCK,
    cstime: Number(f[14]) / CLK_TCK,
    start: Number(f[19]),
  };
}

export function selfCpuWithChildren(): number {
  const s = procStat('self');
  return s ? s.utime + s.stime + s.cutime + s.cstime : 0;
}

// ---- process-tree sampling ----

export interface TreeSample {
  at: number;
  rssBytes: number;
  /** Proportional set size: shared pages split between the processes sharing them. */
  pssBytes: number;
  pids: number;
}

export interface TreeUsage {
  peakRssBytes: number;
  peakPssBytes: number;
  peakAt: number;
  peakPids: number;
  samples: number;
  /** Sum over every process seen of its last-seen user+system CPU. */
  cpuSeconds: number;
  /** CPU by kind of process: node scripts by name, Chromium processes by --type. */
  cpuByKind: Record<string, { processes: number; cpuSeconds: number }>;
  processesSeen: number;
  series: TreeSample[];
}

/**
 * Every `intervalMs`, the sum of RSS over the trees under `roots()` (pidtree + pidusage), and the
 * CPU each process had used when last seen (/proc/<pid>/stat).
 */
export class TreeSampler {
  private timer?: NodeJS.Timeout;
  private busy = false;
  private readonly cpu = new Map<string, number>();
  private readonly kinds = new Map<string, string>();
  private readonly series: TreeSample[] = [];
  private peak: TreeSample = { at: 0, rssBytes: 0, pssBytes: 0, pids: 0 };
  private peakPss = 0;

  constructor(private readonly roots: () => number[], private readonly intervalMs = 250) {}

  start(): this {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    return this;
  }

  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const roots = this.roots().filter((p) => p > 0);
      if (roots.length === 0) return;
      const pids = await treePids(roots);
      if (pids.length === 0) return;
      let rss = 0;
      try {
        const stats = await pidusage(pids);
        for (const s of Object.values(stats)) if (s) rss += s.memory;
      } catch {
        for (const pid of pids) {
          try {
            rss += (await pidusage(pid)).memory;
          } catch {
            // gone between the two reads
          }
        }
      }
      let pss = 0;
      for (const pid of pids) {
        const s = procStat(pid);
        if (s) {
          const key = `${pid}:${s.start}`;
          this.cpu.set(key, s.utime + s.stime);
          // Debian's /usr/bin/chromium is a shell script that execs the browser: look again until it has.
          const known = this.kinds.get(key);
          if (known === undefined || known === 'sh') this.kinds.set(key, kindOf(pid));
        }
        pss += pssOf(pid);
      }
      const sample = { at: Date.now(), rssBytes: rss, pssBytes: pss, pids: pids.length };
      this.series.push(sample);
      if (rss > this.peak.rssBytes) this.peak = sample;
      if (pss > this.peakPss) this.peakPss = pss;
    } catch {
      // a failed read of the process table: skip this sample
    } finally {
      this.busy = false;
    }
  }

  async stop(): Promise<TreeUsage> {
    clearInterval(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 20));
    pidusage.clear();
    return {
      peakRssBytes: this.peak.rssBytes,
      peakPssBytes: this.peakPss,
      peakAt: this.peak.at,
      peakPids: this.peak.pids,
      samples: this.series.length,
      cpuSeconds: round([...this.cpu.values()].reduce((a, b) => a + b, 0)),
      cpuByKind: (() => {
        const by: Record<string, { processes: number; cpuSeconds: number }> = {};
        for (const [key, cpu] of this.cpu) {
          const k = this.kinds.get(key) ?? 'other';
          by[k] ??= { processes: 0, cpuSeconds: 0 };
          by[k].processes++;
          by[k].cpuSeconds = round(by[k].cpuSeconds + cpu);
        }
        return by;
      })(),
      processesSeen: this.cpu.size,
      series: this.series,
    };
  }
}

function kindOf(pid: number): string {
  let args: string[];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean);
    // Chromium rewrites its helpers' command lines into one space-separated string.
    if (args.length === 1) args = args[0].split(' ');
  } catch {
    return 'gone';
  }
  const exe = args[0] ?? '';
  if (/chrom/i.test(exe)) {
    const type = args.find((a) => a.startsWith('--type='))?.slice(7);
    if (!type) return 'chromium:browser';
    if (type === 'utility') return `chromium:utility${args.some((a) => a.includes('network.mojom')) ? ':network' : ''}`;
    return `chromium:${type}${args.includes('--top-chrome-webui') ? ':webui' : ''}`;
  }
  if (/node$/.test(exe)) return `node:${(args[1] ?? '').split('/').pop() ?? ''}`;
  return exe.split('/').pop() ?? 'other';
}

function pssOf(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** The roots and all their descendants, from one read of the process table. */
export async function treePids(roots: number[]): Promise<number[]> {
  const pairs = (await pidtree(-1, { advanced: true })) as { ppid: number; pid: number }[];
  const children = new Map<number, number[]>();
  const alive = new Set<number>();
  for (const { ppid, pid } of pairs) {
    alive.add(pid);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)!.push(pid);
  }
  const out: number[] = [];
  const stack = roots.filter((r) => alive.has(r));
  while (stack.length) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out.filter((p) => p !== process.pid || roots.includes(p));
}

export { killPids, isAlive } from '../src/shared/processTree';

// ---- outcomes ----

export interface ServedAttachment {
  sha256: string;
}
export interface CatalogView {
  po(id: string): { attachments: ServedAttachment[]; requisitionAttachments: ServedAttachment[]; requisitionAccessible: boolean } | undefined;
}

export interface Verification {
  correct: number;
  wrong: { poNumber: string; why: string }[];
  missing: string[];
  leftoverWork: string[];
  statuses: Record<string, number>;
}

/**
 * Every PO of the list must have exactly one outcome: PO_NOT_FOUND for a PO the stand-in does not
 * have, otherwise COMPLETED with exactly the served files (sha256 as the catalog says, and the same
 * bytes on disk inside `<downloadDir>/<PO>/`), or NO_ATTACHMENTS when nothing is served.
 */
export function verifyOutcomes(list: string[], outcomes: Outcome[], catalog: CatalogView, downloadDir: string): Verification {
  const byPo = new Map<string, Outcome[]>();
  for (const o of outcomes) byPo.set(o.poNumber, [...(byPo.get(o.poNumber) ?? []), o]);
  const v: Verification = { correct: 0, wrong: [], missing: [], leftoverWork: [], statuses: {} };
  for (const po of list) {
    const got = byPo.get(po);
    if (!got?.length) {
      v.missing.push(po);
      continue;
    }
    const o = got[got.length - 1];
    v.statuses[o.status] = (v.statuses[o.status] ?? 0) + 1;
    const why = check(po, o, got.length, catalog, downloadDir);
    if (why) v.wrong.push({ poNumber: po, why });
    else v.correct++;
  }
  const work = join(downloadDir, '.work');
  v.leftoverWork = existsSync(work) ? readdirSync(work) : [];
  return v;
}

function check(po: string, o: Outcome, count: number, catalog: CatalogView, downloadDir: string): string | undefined {
  if (count !== 1) return `${count} outcomes`;
  const record = catalog.po(po);
  if (!record) return o.status === 'PO_NOT_FOUND' ? undefined : `expected PO_NOT_FOUND, got ${o.status} ${o.error ?? ''}`;
  const served = record.attachments.length ? record.attachments : record.requisitionAccessible ? record.requisitionAttachments : [];
  const expected = served.length ? 'COMPLETED' : 'NO_ATTACHMENTS';
  if (o.status !== expected) return `expected ${expected}, got ${o.status} ${o.error ?? ''}`;
  const want = served.map((a) => a.sha256).sort().join(',');
  const have = o.files.map((f) => f.sha256).sort().join(',');
  if (want !== have) return `files differ: served ${served.length}, reported ${o.files.length}`;
  for (const f of o.files) {
    if (relative(join(downloadDir, po), f.path).startsWith('..')) return `${f.path} is outside ${po}/`;
    let bytes: Buffer;
    try {
      bytes = readFileSync(f.path);
    } catch {
      return `${f.path} is not on disk`;
    }
    if (createHash('sha256').update(bytes).digest('hex') !== f.sha256) return `${f.path}: bytes on disk differ from the reported sha256`;
  }
  return undefined;
}

/** Times `n` calls made one after another, in ms. */
export async function timeCalls(n: number, call: () => Promise<unknown>): Promise<ReturnType<typeof summary>> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await call();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return summary(times);
}
