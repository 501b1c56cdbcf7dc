/**
 * What every part of the benchmark shares: where things are, the scenario every contestant gets, the
 * context of one bench run, and the shape of the results (bench/results.json, read by bench/report.ts).
 */
import { join, resolve } from 'node:path';
import type { Standin } from '../src/coupa/standin';
import type { ProbeResult, summary, TreeUsage, Verification } from './lib';

// Every module is bundled into bench/out/main.js, so __dirname is bench/out.
export const ROOT = resolve(__dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');
export const SUPERVISOR = join(ROOT, 'dist', 'supervisor.js');
export const OUT = join(ROOT, 'bench', 'out');

export const SCENARIO = {
  standin: {
    seed: 1, poCount: 10_000, pageLatencyMs: 300, downloadLatencyMs: 100,
    minAttachmentBytes: 50_000, maxAttachmentBytes: 500_000, maxAttachments: 4,
    // Pages as heavy as Coupa's (a cached 1.5 MB script building DOM, 6000 CSS rules); the *light rows turn it off.
    heavyPages: true,
    // Sessions as real tenants keep them: Coupa's ends every minute while the identity provider's
    // lives on, so every contestant meets expired sessions and renews them (the same adapter).
    expiredSession: 'idp-bounce' as const,
    sessionLifetimeSec: 60,
  },
  firstPo: 100_000,
  taskTimeoutSec: 300,
  maxRetries: 3,
  contestantTimeoutMs: 15 * 60_000,
};

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

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

export type Summary = ReturnType<typeof summary>;

export interface Leftover {
  pid: number;
  args: string;
}

// ---- contestants ----

/** Means in ms, NaN where no outcome of the group has the figure. */
export interface BreakdownGroup {
  n: number;
  latency: number;
  adapter: number;
  navigation: number;
  download: number;
  outsideAdapter: number;
}

export interface Breakdown {
  all: BreakdownGroup;
  byStatus: Record<string, BreakdownGroup>;
  byFiles: Record<string, BreakdownGroup>;
}

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
  latencyMs: Summary;
  breakdown: Breakdown;
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
  leftovers: Leftover[];
  exitCodes: Record<string, number | null>;
  notes: string[];
}

/** Contestants compared, each a ratio of two runs' figures; absent when either run is. */
export interface Ratios {
  poolVsIdealCold?: number;
  poolVsIdealWarm?: number;
  poolVsPerPoBrowser?: number;
  poolVsPerPoBrowserWarm?: number;
  poolVsCrawlee?: number;
  poolVsCrawleeWarm?: number;
  poolVsCrawleeMemory?: number;
  poolVsCrawleeMemoryPss?: number;
  poolVsCrawleeCpu?: number;
  pool8VsIdealWarm?: number;
  pool1VsIdealWarm?: number;
  ownVsSharedBrowserCpu?: number;
  ownVsSharedBrowserPss?: number;
  ownVsSharedBrowserWarmWall?: number;
  fullVsShellCpu?: number;
  fullVsShellPss?: number;
  fullVsShellWarmWall?: number;
  heavyVsLightCpu?: number;
  ownVsSharedBrowserCpuLight?: number;
  ownVsSharedBrowserPssLight?: number;
}

// ---- scale and overheads ----

/** Answers timed on one supervisor, 200 calls each (which ones depends on the phase). */
export interface CallTimings {
  getStatus?: Summary;
  listTasks100?: Summary;
  listTasks1000?: Summary;
  listTasksQueued100?: Summary;
  getStatusFromBenchProcess?: Summary;
}

/** 8 workers at work: the probe's figures and the supervisor's, over one window. */
export interface BusyResult extends CallTimings, Partial<ProbeResult> {
  healthNotifications?: number;
  statusNotifications?: number;
  supervisorCpuSeconds?: number;
  supervisorCpuPercentOfOneCore?: number;
  supervisorRssBytes?: number;
  done?: number;
  queueDepth?: number;
}

/** Filled phase by phase (and older results files lack later figures), so every field may be absent. */
export interface ScaleResult {
  submitOneRequest?: { tasks: number; ms: number; journalLines: number };
  supervisorRssIdleBytes?: number;
  submitBatches?: { tasks: number; ms: number; batchMs: Summary; journalLines: number };
  supervisorRss10kQueuedBytes?: number;
  idle?: CallTimings;
  poolStart8Ms?: number;
  busy?: BusyResult;
  supervisorRss10kKnownAfterWorkBytes?: number;
  journalLinesBeforeKill?: number;
  restartToAnswerMs?: number;
  replay?: { records?: number; ms?: number; tasks?: number; line: string };
  supervisorRss10kKnownAfterReplayBytes?: number;
  afterReplay?: CallTimings;
  leftovers?: Leftover[];
  leanSupervisorCounterfactual?: { supervisorRssIdleBytes: number; supervisorRss10kQueuedBytes: number; note: string };
  profiledBusy?: BusyResult;
}

// ---- the extension ----

export interface Activation {
  activateMs: Summary;
  requireMs: Summary;
  totalMs: Summary;
  errors: string[];
}

export interface ExtensionResult {
  productionBundleBytes?: Record<string, number>;
  devBundleBytes?: { extension: number };
  extensionBundleByInput?: Record<string, number>;
  activation_dev?: Activation;
  activation_production?: Activation;
  vsix?: { bytes?: number; packageLine?: string; error?: string };
  distExtensionFromPackageBytes?: number;
}

// ---- the whole run ----

export interface CpuProfileSummary {
  file: string;
  totalMs: number;
  longTasks: { ms: number; top: string[] }[];
  longTaskCount: number;
  top: { frame: string; ms: number; pct: number }[];
}

export interface Machine {
  nproc: number;
  ramBytes: number;
  cpuModel: string;
  chromium: string;
  chromiumPath: string;
  node: string;
  playwrightCore: string;
  playwright: string;
  crawlee: string;
  loadAverageAtStart: string;
}

export interface CatalogStats {
  pos: number;
  existing: number;
  notFound: number;
  attachments: number;
  meanAttachments: number;
  bytes: number;
  fromRequisition: number;
}

export interface Results {
  date: string;
  command: string;
  argv: string[];
  machine: Machine;
  scenario: typeof SCENARIO & { poList: string; catalog: CatalogStats; browserArgs: string[] };
  runs: RunResult[];
  ratios: Ratios;
  scale?: ScaleResult;
  extension?: ExtensionResult;
  profiles: CpuProfileSummary[];
  durationSeconds: number;
}
