/**
 * The status vocabulary and data shapes of the worker-pool contract (docs/contract.md), in camelCase.
 * Times are epoch milliseconds; durations in the config are seconds, as the contract writes them.
 */
import type { WireError } from './errors';

export const poolStates = ['INITIALIZING', 'READY', 'PROCESSING', 'SHUTTING_DOWN', 'TERMINATED', 'ERROR'] as const;
export type PoolState = (typeof poolStates)[number];

export const workerStates = [
  'STARTING', 'READY', 'PROCESSING', 'IDLE', 'CRASHED', 'RESTARTING', 'TERMINATING', 'TERMINATED',
] as const;
export type WorkerState = (typeof workerStates)[number];

/** How one PO ended, as existing Coupa tools report it. */
export const outcomeStatuses = ['COMPLETED', 'PARTIAL', 'NO_ATTACHMENTS', 'PO_NOT_FOUND', 'FAILED', 'TIMEOUT'] as const;
export type OutcomeStatus = (typeof outcomeStatuses)[number];
/** Outcomes that count as success for exit codes and "Retry Failed POs". */
export const successStatuses: readonly OutcomeStatus[] = ['COMPLETED', 'NO_ATTACHMENTS'];

export const taskStatuses = ['QUEUED', 'RUNNING', ...outcomeStatuses, 'CANCELLED'] as const;
export type TaskStatus = (typeof taskStatuses)[number];

export function isFinal(status: TaskStatus): boolean {
  return status !== 'QUEUED' && status !== 'RUNNING';
}

/** The contract's `PoolConfig`, plus what a real deployment needs (where Coupa is, where files go). */
export interface PoolConfig {
  /** 1–8 */
  workerCount: number;
  headlessMode: boolean;
  /** A Chrome/Edge/Chromium user-data-dir that a person signed into Coupa with once. */
  baseProfilePath: string;
  /** Fraction of system RAM, 0.5–0.9. */
  memoryThreshold: number;
  maxRestartAttempts: number;
  /** Seconds per PO. */
  taskTimeout: number;
  /** Seconds for a graceful shutdown. */
  shutdownTimeout: number;
  /** e.g. https://acme.coupahost.com */
  coupaUrl: string;
  /** Files land in `<downloadDir>/<PO>/`; the report is `<downloadDir>/po-pool-report.csv`. */
  downloadDir: string;
  /** 'auto' | 'chrome' | 'msedge' | 'chromium' | an executable path. */
  browser: string;
  /** One Playwright browser-server `ws://` endpoint per worker; empty for local browsers. */
  remoteEndpoints: string[];
  /**
   * 1–8 workers whose sessions (each its own context: cookies, tabs, downloads) share one local
   * browser; 1 = a browser per worker on its own profile copy. Not used with `remoteEndpoints`.
   */
  workersPerBrowser: number;
  /** Retries after the first attempt for retryable errors. */
  maxRetries: number;
  /** Refuse (DownloadError) any single attachment larger than this. */
  maxDownloadBytes: number;
  /** Default false; true: workers' tabs load no images, fonts, media, or requests to hosts other than Coupa and its identity provider. */
  blockPageResources: boolean;
}

/** The contract's `POTask`. */
export interface POTask {
  poNumber: string;
  priority: number;
  /** Seconds; overrides `PoolConfig.taskTimeout` for this task. */
  timeoutOverride?: number;
  retryCount: number;
  metadata: Record<string, unknown>;
}

export type POTaskInput = Pick<POTask, 'poNumber'> & Partial<Omit<POTask, 'poNumber'>>;

export interface TaskHandle {
  taskId: string;
  poNumber: string;
}

export interface DownloadedFile {
  /** The sanitised name on disk. */
  name: string;
  /** The name Coupa gave it. */
  originalName: string;
  /** Absolute path, inside `<downloadDir>/<PO>/`. */
  path: string;
  bytes: number;
  sha256: string;
}

/** The contract's `POResult`: what a worker reports for one PO. */
export interface POResult {
  poNumber: string;
  status: OutcomeStatus;
  supplier?: string;
  /** Attachment names as listed on the page (and requisition, when it fell back). */
  attachments: string[];
  files: DownloadedFile[];
  /** `<downloadDir>/<PO>` when any file was kept. */
  folder?: string;
  /** Where the attachments were found. */
  source?: 'po' | 'requisition';
  timings: { startedAt: number; finishedAt: number; navigationMs: number; downloadMs: number };
  error?: WireError;
  /** For a PO that did not end COMPLETED: what the tab showed, saved beside the report. */
  evidence?: Evidence;
}

/** Absolute paths of what a failed PO's tab showed when it failed. */
export interface Evidence {
  screenshot?: string;
  html?: string;
}

/** The contract's `TaskResult`: a PO's final outcome as the pool records it. */
export interface TaskResult extends POResult {
  taskId: string;
  workerId?: string;
  attempts: number;
}

/**
 * A task is one PO from one Coupa tenant into one download folder: the same PO from another tenant
 * or into another folder is other work.
 */
export interface TaskPlace {
  /** The tenant's origin (`https://acme.coupahost.com`), or `demo` for the embedded stand-in. */
  tenant: string;
  /** Absolute; files land in `<downloadDir>/<PO>/`, the folder's report lists its own POs. */
  downloadDir: string;
}

export interface TaskInfo extends TaskPlace {
  taskId: string;
  poNumber: string;
  priority: number;
  status: TaskStatus;
  retryCount: number;
  submittedAt: number;
  startedAt?: number;
  finishedAt?: number;
  workerId?: string;
  result?: TaskResult;
  /** Seconds; this task's own limit instead of `PoolConfig.taskTimeout`. */
  timeoutOverride?: number;
  /** The submitter's own data, kept as given and never read by the pool. */
  metadata: Record<string, unknown>;
}

/** The contract's `WorkerHealth`. */
export interface WorkerHealth {
  workerId: string;
  state: WorkerState;
  pid?: number;
  browserPids: number[];
  currentPo?: string;
  currentTaskId?: string;
  /**
   * The worker's fair share of memory: its whole process tree, browser included, by PSS on Linux (so
   * the workers' numbers add up to what the machine lost), and its part of a browser it shares.
   */
  memoryBytes: number;
  /** Since this worker's browser session started. */
  sessionStartedAt?: number;
  tasksDone: number;
  restarts: number;
  lastError?: WireError & { at: number };
  remoteEndpoint?: string;
  /** Set when the pool stopped restarting this worker (TERMINATED), with why. */
  retired?: { reason: string; at: number };
}

export interface PoolStatus {
  state: PoolState;
  /** Why the pool runs with fewer workers than configured (some could not start, or were retired). */
  degraded?: string;
  supervisorPid: number;
  startedAt?: number;
  workers: WorkerHealth[];
  workerCounts: Partial<Record<WorkerState, number>>;
  /** Tasks waiting (not yet on a worker). */
  queueDepth: number;
  running: number;
  counts: Partial<Record<TaskStatus, number>>;
  total: number;
  /** POs finished per minute over the last few minutes. */
  processingRate: number;
  /** Seconds until the queue is empty at the current rate; undefined when unknown. */
  etaSeconds?: number;
  memory: {
    systemTotalBytes: number;
    systemUsedPercent: number;
    poolBytes: number;
    threshold: number;
  };
  errors: {
    byKind: Partial<Record<string, { count: number; lastAt: number }>>;
    lastErrorAt?: number;
  };
  config?: PoolConfig;
}
