/**
 * The contract's `PersistentWorkerPool` in the caller's own process: the supervisor's pool, with its
 * callbacks as typed events and defaults for what the supervisor would otherwise provide (a task
 * store, a logger, the bundled worker script, a folder for the workers' profile copies).
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PoolError } from '../protocol/errors';
import type {
  PoolConfig, PoolState, PoolStatus, TaskHandle, TaskInfo, TaskResult, WorkerHealth,
} from '../protocol/types';
import { createLogger } from '../supervisor/log';
import { PersistentWorkerPool as SupervisorPool } from '../supervisor/pool';
import { TaskStore } from '../supervisor/taskStore';
import type { ListOptions, LogEntry, SubmitOptions, SubmitResult, TaskInput } from './types';

export interface PoolOptions {
  /** A journal file that keeps the tasks across runs (created if missing); default: in memory only. */
  journal?: string;
  /** Where the workers' profile copies go (emptied at start); default: a temporary folder removed at shutdown. */
  profilesDir?: string;
  /** Every log line; default: warnings and errors on stderr. */
  onLog?: (entry: LogEntry) => void;
  /** The worker process script; default: the `worker.js` bundled beside this library. */
  workerScript?: string;
}

/** The contract's callbacks, as events. */
export interface PoolEvents {
  state: [state: PoolState];
  health: [health: WorkerHealth];
  /** After the pool has put the worker's PO back in the queue and restarted (or retired) it. */
  workerCrashed: [workerId: string, error: PoolError];
  /** System memory use (0-1) above `memoryThreshold`; the largest worker restarts after its PO. */
  memoryThresholdExceeded: [usage: number];
  /** A PO ended, however it ended: `result.status` says how. */
  taskCompleted: [handle: TaskHandle, result: TaskResult];
}

export class PersistentWorkerPool extends EventEmitter<PoolEvents> {
  readonly config: PoolConfig;
  private readonly pool: SupervisorPool;
  private readonly store: TaskStore;
  private readonly temporaryProfiles?: string;
  private storeClosed = false;

  /**
   * Validates the configuration (ConfigurationError, InsufficientResourcesError); nothing starts
   * yet. `downloadDir` and `baseProfilePath` may be relative to the current folder.
   */
  constructor(config: Partial<PoolConfig>, options: PoolOptions = {}) {
    super();
    const onLog = options.onLog ?? ((e: LogEntry) => {
      if (e.level === 'warn' || e.level === 'error') process.stderr.write(`po-pool ${e.level}: ${e.workerId ? `[${e.workerId}] ` : ''}${e.message}\n`);
    });
    this.store = options.journal ? TaskStore.open(resolve(options.journal), { onError: (m) => onLog({ time: Date.now(), level: 'error', message: m }) }).store : TaskStore.inMemory();
    if (!options.profilesDir) this.temporaryProfiles = mkdtempSync(join(tmpdir(), 'po-pool-profiles-'));
    try {
      const paths = {
        ...(config.downloadDir ? { downloadDir: resolve(config.downloadDir) } : {}),
        ...(config.baseProfilePath ? { baseProfilePath: resolve(config.baseProfilePath) } : {}),
      };
      this.pool = new SupervisorPool({ ...config, ...paths }, {
        store: this.store,
        profilesDir: options.profilesDir ?? this.temporaryProfiles!,
        log: createLogger(undefined, onLog),
        workerScript: options.workerScript ?? join(__dirname, 'worker.js'),
      });
    } catch (err) {
      this.release();
      throw err;
    }
    this.config = this.pool.config;
    this.pool.on('state', (s) => this.emit('state', s));
    this.pool.on('health', (h) => this.emit('health', h));
    this.pool.on('workerCrashed', (id, error) => this.emit('workerCrashed', id, error));
    this.pool.on('memoryThresholdExceeded', (usage) => this.emit('memoryThresholdExceeded', usage));
    this.pool.on('taskCompleted', (handle, result) => this.emit('taskCompleted', handle, result));
  }

  get state(): PoolState {
    return this.pool.state;
  }

  /** Starts every worker; resolves when each is READY or given up on (ProfileCorruptionError, ...). */
  start(): Promise<void> {
    return this.pool.start();
  }

  /** The contract's `submit_task`: a PO already queued, running or done in that folder answers with its existing task. */
  submitTask(task: TaskInput, options: Omit<SubmitOptions, 'redo'> = {}): TaskHandle {
    return this.pool.submitTask(this.input(task, options.priority), options.downloadDir === undefined ? undefined : resolve(options.downloadDir));
  }

  submitTasks(tasks: TaskInput[], options: SubmitOptions = {}): SubmitResult {
    return this.pool.submitTasks(tasks.map((t) => this.input(t, options.priority)), {
      redo: options.redo,
      downloadDir: options.downloadDir === undefined ? undefined : resolve(options.downloadDir),
    });
  }

  getStatus(): PoolStatus {
    return this.pool.getStatus();
  }

  /** Every task this pool's store knows (or those of some statuses or POs), in queue order. */
  listTasks(options: ListOptions = {}): TaskInfo[] {
    const first = this.store.list({ ...options, limit: 1000 });
    const tasks = [...first.tasks];
    while (tasks.length < first.total) tasks.push(...this.store.list({ ...options, offset: tasks.length, limit: 1000 }).tasks);
    return tasks;
  }

  /** Resolves once nothing is queued or running; rejects if the pool stops with work left. */
  whenIdle(): Promise<void> {
    return new Promise((resolvePromise, reject) => {
      const check = () => {
        const s = this.pool.getStatus();
        const left = s.queueDepth + s.running;
        if (left > 0 && s.state !== 'TERMINATED' && s.state !== 'ERROR') return;
        this.off('state', check);
        this.off('taskCompleted', check);
        if (left === 0) resolvePromise();
        else reject(new PoolError(`the pool is ${s.state} with ${left} PO(s) left`));
      };
      this.on('state', check);
      this.on('taskCompleted', check);
      check();
    });
  }

  cancelTask(taskId: string): boolean {
    return this.pool.cancelTask(taskId);
  }

  /** Queues finished tasks again; with none given, every task that ended in a failure state. */
  retryTasks(taskIds?: string[]): TaskHandle[] {
    return this.pool.retryTasks(taskIds);
  }

  restartWorker(workerId: string): void {
    this.pool.restartWorker(workerId);
  }

  /**
   * The contract's `shutdown`: running POs get `timeout` seconds (default `shutdownTimeout`), then
   * workers are forced; browsers, profile copies and the journal are closed. True when graceful.
   */
  async shutdown(timeout?: number): Promise<boolean> {
    const clean = await this.pool.shutdown(timeout);
    this.release();
    return clean;
  }

  private input(task: TaskInput, priority: number | undefined) {
    return typeof task === 'string' ? { poNumber: task, ...(priority !== undefined ? { priority } : {}) } : task;
  }

  private release(): void {
    if (!this.storeClosed) this.store.close();
    this.storeClosed = true;
    if (this.temporaryProfiles) rmSync(this.temporaryProfiles, { recursive: true, force: true });
  }
}
