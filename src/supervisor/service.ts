/**
 * The supervisor's state between clients and the pool: the task store (which outlives any one
 * pool), the current pool, the report, the coalesced notifications, and the idle exit.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ConfigurationError, PoolError, PoolShutdownError } from '../protocol/errors';
import type {
  StartDemoParams, StartDemoResult, StartPoolParams, SubmitTasksParams, SubmitTasksResult,
} from '../protocol/rpc';
import { DEMO_TENANT, tenantOf } from '../protocol/tenant';
import { isFinal, type PoolConfig, type PoolStatus, type TaskInfo, type TaskPlace, type WorkerHealth } from '../protocol/types';
import { prepareDownloadDir } from './downloadDir';
import type { Logger } from './log';
import type { StatePaths } from '../shared/paths';
import { PersistentWorkerPool } from './pool';
import { ReportWriter } from './report';
import type { TaskStore } from './taskStore';

export interface Broadcast {
  status(status: PoolStatus): void;
  health(workers: WorkerHealth[]): void;
  tasks(tasks: TaskInfo[]): void;
}

export interface SavedConfig {
  config: Partial<PoolConfig>;
  demo?: boolean;
  /** Stopped on purpose: a supervisor restart must not start it again by itself. */
  stopped?: boolean;
}

/** Bursts of changes within this long go out as one notification: short enough for views to follow workers live. */
const NOTIFY_MS = 25;

export class SupervisorService {
  private pool?: PersistentWorkerPool;
  private starting?: Promise<PoolStatus>;
  /** One report per download folder, each listing that folder's POs. */
  private readonly reports = new Map<string, ReportWriter>();
  private dirtyStatus = false;
  private readonly dirtyHealth = new Map<string, WorkerHealth>();
  private readonly dirtyTasks = new Map<string, TaskInfo>();
  private notifyTimer?: NodeJS.Timeout;
  private lastNotifyAt = 0;
  private broadcast?: Broadcast;
  idleShutdownMinutes = 10;

  constructor(
    readonly paths: StatePaths,
    readonly store: TaskStore,
    private readonly log: Logger,
    private readonly options: {
      workerScript: string;
      /** Starts the embedded stand-in and a demo profile signed into it. */
      demo: (downloadDir: string) => Promise<{ coupaUrl: string; baseProfilePath: string }>;
      /** For tests that simulate memory pressure. */
      systemMemory?: () => { total: number; used: number };
    },
  ) {
    store.onChange((task) => {
      this.dirtyTasks.set(task.taskId, task);
      if (task.downloadDir) {
        const report = this.reportOf(task.downloadDir);
        report.changed(task.taskId);
        // A folder's last PO has ended: its report is complete now, not half a second later, for
        // whoever opens it the moment the run says it is done.
        if (isFinal(task.status) && !store.hasWorkIn(task.downloadDir)) void report.flush();
      }
      this.dirtyStatus = true;
      this.scheduleNotify();
    });
  }

  setBroadcast(broadcast: Broadcast): void {
    this.broadcast = broadcast;
  }

  /**
   * The pool, started with `params`. A running pool with the same configuration (in the fields
   * given) is kept; one with another is restarted when it has nothing to do, and otherwise refused.
   */
  async startPool(params: StartPoolParams, demo = false, signal?: AbortSignal): Promise<PoolStatus> {
    if (this.starting) await this.starting.catch(() => undefined);
    throwIfCancelled(signal);
    const { idleShutdownMinutes, ...config } = params;
    if (this.pool && this.isRunning(this.pool)) {
      const differ = configDifferences(this.pool, config, demo);
      if (differ.length === 0) return this.pool.getStatus();
      const left = this.store.queuedFor(this.pool.tenant) + (this.store.countsByStatus().RUNNING ?? 0);
      const what = differ.map((f) => `${f} ${describe(this.pool!, f)}`).join(', ');
      if (left > 0) {
        throw new ConfigurationError(differ[0], `a pool is running with ${what} and has ${left} PO(s) to finish; wait for them or stop the pool first`);
      }
      this.log.info(`restarting the idle pool for a new configuration (it ran with ${what})`);
    }
    // The pool being replaced goes first: an idle one, or one that ended in ERROR and may still hold a worker on its way out.
    await this.pool?.shutdown(this.pool.state === 'ERROR' ? 0 : undefined);
    // Every wait above may have outlasted the client's patience: a cancel that came meanwhile starts nothing.
    throwIfCancelled(signal);
    if (idleShutdownMinutes !== undefined) this.setIdleMinutes(idleShutdownMinutes);
    const pool = new PersistentWorkerPool(config, {
      store: this.store,
      tenant: demo ? DEMO_TENANT : undefined,
      profilesDir: this.paths.profiles,
      log: this.log,
      workerScript: this.options.workerScript,
      systemMemory: this.options.systemMemory,
    });
    this.pool = pool;
    pool.on('state', () => this.markStatus());
    pool.on('health', (h) => {
      this.dirtyHealth.set(h.workerId, h);
      this.markStatus();
    });
    // A client that cancels gets no half-started pool: the workers started so far are stopped.
    const cancel = () => {
      this.log.info('starting the pool was cancelled by the client');
      void pool.shutdown(0);
    };
    signal?.addEventListener('abort', cancel, { once: true });
    this.starting = pool.start().then(() => {
      this.saveConfig({ config: pool.config, demo });
      return pool.getStatus();
    });
    try {
      return await this.starting;
    } finally {
      signal?.removeEventListener('abort', cancel);
      this.starting = undefined;
    }
  }

  async startDemo(params: StartDemoParams, signal?: AbortSignal): Promise<StartDemoResult> {
    if (this.pool && this.isRunning(this.pool) && this.pool.tenant === DEMO_TENANT) {
      const cfg = this.pool.config;
      return { status: this.pool.getStatus(), coupaUrl: cfg.coupaUrl, baseProfilePath: cfg.baseProfilePath };
    }
    const { coupaUrl, baseProfilePath } = await this.options.demo(params.downloadDir);
    const status = await this.startPool({
      coupaUrl, baseProfilePath, downloadDir: params.downloadDir, workerCount: params.workerCount ?? 4,
      idleShutdownMinutes: params.idleShutdownMinutes,
    }, true, signal);
    return { status, coupaUrl, baseProfilePath };
  }

  /**
   * Journalled before it returns. Tasks submitted while no pool runs wait in the queue; the pool is
   * started again with its last configuration when there is one.
   */
  submit(params: SubmitTasksParams): SubmitTasksResult {
    if (!Array.isArray(params?.tasks)) throw new ConfigurationError('tasks', 'must be a list of { poNumber, priority? }');
    if (this.pool?.state === 'SHUTTING_DOWN') throw new PoolShutdownError('the pool is shutting down; start it again to submit');
    const tasks = params.tasks.map((t) => (typeof t === 'string' ? { poNumber: t } : t));
    if (this.pool && this.isRunning(this.pool)) return this.pool.submitTasks(tasks, { redo: params.redo, downloadDir: params.downloadDir });
    // No pool: the tasks wait in the journal for the last configuration's pool, which starts now.
    const saved = this.loadConfig();
    if (!saved) throw new ConfigurationError('coupaUrl', 'no pool has been started yet: start one (Start Pool, or "po-pool start") so the POs have a Coupa to come from');
    const place = { tenant: savedTenant(saved), downloadDir: prepareDownloadDir(params.downloadDir ?? saved.config.downloadDir) };
    const result = this.store.submit(tasks, place, { redo: params.redo });
    this.resumeWithLastConfig(true);
    return result;
  }

  getStatus(): PoolStatus {
    if (this.pool) return this.pool.getStatus();
    return {
      state: 'TERMINATED',
      supervisorPid: process.pid,
      workers: [],
      workerCounts: {},
      queueDepth: this.store.queued,
      running: 0,
      counts: this.store.countsByStatus(),
      total: this.store.total,
      processingRate: 0,
      memory: { systemTotalBytes: 0, systemUsedPercent: 0, poolBytes: 0, threshold: 0 },
      errors: { byKind: {} },
    };
  }

  cancelTask(taskId: string) {
    const cancelled = this.pool ? this.pool.cancelTask(taskId) : this.store.cancelQueued(taskId);
    const task = this.store.get(taskId);
    if (!task) throw new PoolError(`no task ${taskId}`);
    return { cancelled, status: task.status };
  }

  retryTasks(taskIds?: string[]) {
    if (this.pool && this.isRunning(this.pool)) return { handles: this.pool.retryTasks(taskIds) };
    const saved = this.loadConfig();
    const handles = this.store.retry(taskIds, saved ? savedTenant(saved) : undefined).map((t) => ({ taskId: t.taskId, poNumber: t.poNumber }));
    this.resumeWithLastConfig(true);
    return { handles };
  }

  restartWorker(workerId: string): void {
    if (!this.pool || !this.isRunning(this.pool)) throw new PoolShutdownError('the pool is not running');
    this.pool.restartWorker(workerId);
  }

  /** A cancelled graceful shutdown does not leave the pool half-stopped: it finishes at once, forced. */
  async shutdownPool(timeout?: number, force = false, signal?: AbortSignal): Promise<boolean> {
    if (timeout !== undefined && !(typeof timeout === 'number' && Number.isFinite(timeout) && timeout >= 0)) {
      throw new ConfigurationError('timeout', `must be a number of seconds, 0 or more (got ${JSON.stringify(timeout)})`);
    }
    if (this.starting) await this.starting.catch(() => undefined);
    if (!this.pool) return true;
    const pool = this.pool;
    const forceNow = () => void pool.shutdown(0);
    signal?.addEventListener('abort', forceNow, { once: true });
    const clean = await pool.shutdown(force ? 0 : timeout).finally(() => signal?.removeEventListener('abort', forceNow));
    const saved = this.loadConfig();
    if (saved) this.saveConfig({ ...saved, stopped: true });
    await Promise.all([...this.reports.values()].map((r) => r.flush()));
    this.markStatus();
    return clean;
  }

  /**
   * No pool at work: safe to exit when no client is attached. Tasks queued behind a stopped pool
   * are safe in the journal.
   */
  isIdle(): boolean {
    if (this.starting) return false;
    if (!this.pool || !this.isRunning(this.pool)) return true;
    const counts = this.store.countsByStatus();
    return (counts.QUEUED ?? 0) === 0 && (counts.RUNNING ?? 0) === 0;
  }

  setIdleMinutes(minutes: number): void {
    if (!Number.isFinite(minutes) || minutes < 0) throw new ConfigurationError('idleShutdownMinutes', 'must be 0 or more minutes');
    this.idleShutdownMinutes = minutes;
  }

  /**
   * Queued work resumes on the last configuration: after a supervisor crash (unless the pool had
   * been stopped on purpose), or when a client submits or retries while no pool runs.
   */
  resumeWithLastConfig(asked = false): void {
    if (this.store.queued === 0 || this.starting || (this.pool && this.isRunning(this.pool))) return;
    const saved = this.loadConfig();
    if (saved?.stopped && !asked) {
      this.log.info(`${this.store.queued} task(s) wait: the pool was stopped; start it to go on`);
      return;
    }
    if (!saved) {
      this.log.info(`${this.store.queued} task(s) wait for the pool to be started`);
      return;
    }
    this.log.info(`resuming ${this.store.queued} queued task(s) with the last configuration`);
    const start = saved.demo
      ? this.startDemo({ downloadDir: String(saved.config.downloadDir), workerCount: saved.config.workerCount })
      : this.startPool(saved.config);
    start.catch((err) => this.log.error(`could not resume: ${(err as Error).message}`));
  }

  private reportOf(downloadDir: string): ReportWriter {
    let report = this.reports.get(downloadDir);
    if (!report) {
      report = new ReportWriter(downloadDir, () => this.store.inFolder(downloadDir), (m) => this.log.warn(m));
      this.reports.set(downloadDir, report);
    }
    return report;
  }

  private isRunning(pool: PersistentWorkerPool): boolean {
    return pool.state !== 'TERMINATED' && pool.state !== 'ERROR';
  }

  private markStatus(): void {
    this.dirtyStatus = true;
    this.scheduleNotify();
  }

  /**
   * The first change after a quiet spell goes out at once (after the current burst of synchronous
   * changes); later ones are merged and sent at most every NOTIFY_MS.
   */
  private scheduleNotify(): void {
    if (this.notifyTimer) return;
    const wait = Math.max(0, this.lastNotifyAt + NOTIFY_MS - Date.now());
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = undefined;
      this.lastNotifyAt = Date.now();
      const b = this.broadcast;
      if (!b) return;
      if (this.dirtyHealth.size) b.health([...this.dirtyHealth.values()]);
      if (this.dirtyTasks.size) b.tasks([...this.dirtyTasks.values()]);
      if (this.dirtyStatus) b.status(this.getStatus());
      this.dirtyHealth.clear();
      this.dirtyTasks.clear();
      this.dirtyStatus = false;
    }, wait);
  }

  private saveConfig(saved: SavedConfig): void {
    try {
      writeFileSync(this.paths.config, JSON.stringify(saved, null, 2), { mode: 0o600 });
    } catch (err) {
      this.log.warn(`could not save the configuration: ${(err as Error).message}`);
    }
  }

  private loadConfig(): SavedConfig | undefined {
    return loadSavedConfig(this.paths);
  }
}

export function loadSavedConfig(paths: StatePaths): SavedConfig | undefined {
  if (!existsSync(paths.config)) return undefined;
  try {
    return JSON.parse(readFileSync(paths.config, 'utf8')) as SavedConfig;
  } catch {
    return undefined;
  }
}

function savedTenant(saved: SavedConfig): string {
  return saved.demo ? DEMO_TENANT : tenantOf(String(saved.config.coupaUrl ?? ''));
}

/** Tasks journalled before tasks had a tenant and a folder belong to the last configuration's. */
export function legacyPlace(paths: StatePaths): TaskPlace | undefined {
  const saved = loadSavedConfig(paths);
  return saved ? { tenant: savedTenant(saved), downloadDir: String(saved.config.downloadDir ?? '') } : undefined;
}

/** The fields a client asked for that the running pool does not have; `downloadDir` is only a default and never differs. */
function configDifferences(pool: PersistentWorkerPool, asked: Partial<PoolConfig>, demo: boolean): (keyof PoolConfig)[] {
  if ((pool.tenant === DEMO_TENANT) !== demo) return ['coupaUrl'];
  const running = pool.config;
  return (Object.keys(asked) as (keyof PoolConfig)[]).filter((field) => {
    if (field === 'downloadDir' || asked[field] === undefined || (demo && (field === 'coupaUrl' || field === 'baseProfilePath'))) return false;
    if (field === 'coupaUrl') return tenantOf(String(asked.coupaUrl)) !== pool.tenant;
    return JSON.stringify(asked[field]) !== JSON.stringify(running[field]);
  });
}

function describe(pool: PersistentWorkerPool, field: keyof PoolConfig): string {
  return field === 'coupaUrl' ? pool.tenant : JSON.stringify(pool.config[field]);
}

/** A request its client cancelled while it waited: it ends here, before it starts anything. */
function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new PoolShutdownError('starting the pool was cancelled by the client');
}
