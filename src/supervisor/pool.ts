/**
 * The contract's `PersistentWorkerPool`: worker processes, each owning one long-lived browser
 * session, fed one PO at a time from the task store. Failure is normal here: a worker that dies has
 * its task put back at the head of its priority (taken at once by another worker) and is restarted
 * unless it keeps failing. This file is the pool's API, its state and the contract's callbacks; the
 * workers' lives are in workerLifecycle.ts (their processes in workerSlot.ts), feeding them POs and
 * applying outcomes in dispatcher.ts, what the status says in poolStatus.ts, and the decisions in
 * outcomePolicy.ts and memoryPolicy.ts.
 */
import { EventEmitter } from 'node:events';
import {
  AuthenticationError, PoolError, PoolShutdownError, ProfileCorruptionError, WorkerError, type WireError,
} from '../protocol/errors';
import type { SubmitTasksResult } from '../protocol/rpc';
import { tenantOf } from '../protocol/tenant';
import type { PoolConfig, PoolState, PoolStatus, POTaskInput, TaskHandle, TaskInfo, TaskResult, WorkerHealth } from '../protocol/types';
import { validateBaseProfile } from '../shared/profile';
import { resolveConfig } from './config';
import { clearWork, Dispatcher } from './dispatcher';
import { prepareDownloadDir } from './downloadDir';
import type { Logger } from './log';
import { workerToRecycle } from './memoryPolicy';
import { PoolMetrics } from './metrics';
import { degradedReason, measureWorkers, noWorkerError, poolStatus, systemMemory } from './poolStatus';
import type { TaskStore } from './taskStore';
import { STARTUP_TIMEOUT_MS, WorkerLifecycle } from './workerLifecycle';
import { WorkerSlot } from './workerSlot';

export interface PoolOptions {
  store: TaskStore;
  /** This pool takes only its tenant's tasks; by default `config.coupaUrl`'s (the stand-in's is `demo`). */
  tenant?: string;
  /** Where worker profile copies go (cleared at start: a crash may have left some). */
  profilesDir: string;
  log: Logger;
  /** dist/worker.js */
  workerScript: string;
  /** The runtime workers run with; the supervisor's own by default. */
  execPath?: string;
  /** Overridable so tests can simulate memory pressure. */
  systemMemory?: () => { total: number; used: number };
  memorySampleMs?: number;
  /** Milliseconds before the first retry; doubles each time, capped at 30 s. */
  retryBaseMs?: number;
}

/** The contract's callbacks, as typed events: `pool.on('workerCrashed', (id, error) => …)`. */
export interface PoolEvents {
  state: [PoolState];
  health: [WorkerHealth];
  workerCrashed: [string, WorkerError];
  memoryThresholdExceeded: [number];
  taskCompleted: [TaskHandle, TaskResult];
}

/** `start()` resolves by then: workers not up yet go on starting, and the status says so. */
const START_DEADLINE_MS = STARTUP_TIMEOUT_MS + 15_000;

export class PersistentWorkerPool extends EventEmitter<PoolEvents> {
  readonly config: PoolConfig;
  readonly tenant: string;
  private poolState: PoolState = 'INITIALIZING';
  private readonly slots: WorkerSlot[] = [];
  private readonly metrics = new PoolMetrics(() => this.startedAt);
  private startedAt?: number;
  private monitor?: NodeJS.Timeout;
  private lastRecycleAt = 0;
  private shuttingDown?: Promise<boolean>;
  /** Lowered by a second, shorter `shutdown()`. */
  private shutdownDeadline = Infinity;
  /** The error that ended the pool (profile corruption, no worker left), shown as its reason. */
  private fatal?: PoolError;
  private readonly workers: WorkerLifecycle;
  private readonly dispatcher: Dispatcher;

  /** Validates the configuration; throws ConfigurationError or InsufficientResourcesError. */
  constructor(config: Partial<PoolConfig>, private readonly options: PoolOptions) {
    super();
    this.config = resolveConfig(config);
    this.tenant = options.tenant ?? tenantOf(this.config.coupaUrl);
    const endpoints = this.config.remoteEndpoints;
    for (let i = 0; i < this.config.workerCount; i++) {
      this.slots.push(new WorkerSlot(`worker-${i + 1}`, endpoints.length ? endpoints[i % endpoints.length] : undefined));
    }
    const { store, log } = options;
    const emitHealth = (slot: WorkerSlot) => this.emitHealth(slot);
    this.dispatcher = new Dispatcher({
      config: this.config, store, log, tenant: this.tenant, slots: this.slots, metrics: this.metrics,
      retryBaseMs: options.retryBaseMs ?? 1000,
      state: () => this.poolState,
      updateState: () => this.updateState(),
      emitHealth,
      noteError: (slot, error) => this.noteError(slot, error),
      restart: (slot) => this.workers.restart(slot),
      taskCompleted: (task, result) => this.taskCompleted(task, result),
    });
    this.workers = new WorkerLifecycle({
      config: this.config, log, profilesDir: options.profilesDir, workerScript: options.workerScript, execPath: options.execPath,
      slots: this.slots,
      accepting: () => this.accepting,
      emitHealth,
      dispatch: () => this.dispatch(),
      answer: (slot, m) => this.dispatcher.answer(slot, m),
      requeue: (slot) => this.dispatcher.requeueCurrent(slot, false),
      crashed: (slot, error) => this.workerCrashed(slot, error),
      noWorkerLeft: (error) => this.noWorkerLeft(error),
    });
  }

  get state(): PoolState {
    return this.poolState;
  }

  /**
   * The contract's `start`. Resolves READY once every worker is up, or, at the latest after
   * START_DEADLINE_MS, with those that are (the status says why it is degraded). Throws, leaving the
   * pool in ERROR with nothing running, when no worker came up: ProfileCorruptionError or
   * AuthenticationError when that is why, else InsufficientResourcesError.
   */
  async start(): Promise<void> {
    if (this.poolState !== 'INITIALIZING') throw new PoolError(`start() needs a new pool; this one is ${this.poolState}`);
    const { log } = this.options;
    try {
      if (this.config.remoteEndpoints.length === 0) await validateBaseProfile(this.config.baseProfilePath);
    } catch (err) {
      this.setState('ERROR');
      throw err;
    }
    this.workers.clearLeftovers();
    this.startedAt = Date.now();
    const browsers = this.config.remoteEndpoints.length ? 'remote browsers'
      : this.workers.hosts ? `local browsers shared by up to ${this.config.workersPerBrowser} workers` : 'a local browser each';
    log.info(`starting ${this.slots.length} workers (${browsers}, coupa ${this.config.coupaUrl})`);
    let deadlineTimer: NodeJS.Timeout | undefined;
    const allSettled = Promise.all(this.slots.map((slot) => new Promise<void>((resolve) => {
      slot.onSettled = resolve;
      this.workers.spawn(slot);
    })));
    await Promise.race([allSettled, new Promise<void>((resolve) => (deadlineTimer = setTimeout(resolve, START_DEADLINE_MS)))]);
    clearTimeout(deadlineTimer);
    for (const slot of this.slots) slot.onSettled = undefined;
    if (this.fatal) {
      await this.shutdown(0);
      throw this.fatal;
    }
    if ((this.poolState as PoolState) !== 'INITIALIZING') {
      // Stopped while starting (a cancelled start): say so only once every worker it started is gone.
      await this.shuttingDown;
      throw new PoolShutdownError('the pool was shut down while starting');
    }
    if (!this.slots.some((s) => s.up)) {
      const error = noWorkerError(this.slots, START_DEADLINE_MS);
      log.error(`no worker could start: ${error.message}`);
      this.fatal = error;
      await this.shutdown(0);
      throw error;
    }
    this.monitor = setInterval(() => void this.sampleMemory().catch((err) => log.warn(`memory sample failed: ${(err as Error).message}`)), this.options.memorySampleMs ?? 2000);
    this.monitor.unref();
    this.setState('READY');
    const degraded = degradedReason(this.slots);
    if (degraded) log.warn(`the pool runs degraded: ${degraded}`);
    const late = this.slots.filter((s) => !s.up && !s.retired).map((s) => s.id);
    if (late.length) log.warn(`${late.join(', ')} not up after ${START_DEADLINE_MS / 1000} s; the pool starts without them while they keep trying`);
    this.dispatch();
  }

  /** The contract's `submit_task`: one PO, into `downloadDir` or the configured folder. */
  submitTask(task: POTaskInput, downloadDir?: string): TaskHandle {
    const result = this.submitTasks([task], { downloadDir });
    if (result.invalid.length) throw new PoolError(`${task.poNumber}: ${result.invalid[0].reason}`);
    if (result.duplicates.length) return { taskId: result.duplicates[0].taskId, poNumber: result.duplicates[0].poNumber };
    return result.handles[0];
  }

  /** Into `downloadDir` (absolute), or the configured one. Journalled before it returns. */
  submitTasks(tasks: POTaskInput[], options: { redo?: boolean; downloadDir?: string } = {}): SubmitTasksResult {
    this.assertAccepting();
    const downloadDir = prepareDownloadDir(options.downloadDir ?? this.config.downloadDir);
    const result = this.options.store.submit(tasks, { tenant: this.tenant, downloadDir }, { redo: options.redo });
    this.updateState();
    this.dispatch();
    return result;
  }

  /** The contract's `get_status`. */
  getStatus(): PoolStatus {
    return poolStatus({
      state: this.poolState, fatal: this.fatal, startedAt: this.startedAt, slots: this.slots, store: this.options.store,
      tenant: this.tenant, metrics: this.metrics, config: this.config, running: this.dispatcher.runningCount(),
      systemMemory: () => systemMemory(this.options.systemMemory),
    });
  }

  /**
   * The contract's `shutdown`: running tasks may finish within `timeout` seconds, then workers are
   * forced (10 s at most). Tasks cut short go back to the queue, so nothing is lost. True when it
   * finished gracefully within the timeout. A second call with a shorter timeout shortens the wait.
   */
  shutdown(timeout = this.config.shutdownTimeout): Promise<boolean> {
    const seconds = Number.isFinite(timeout) && timeout >= 0 ? timeout : this.config.shutdownTimeout;
    this.shutdownDeadline = Math.min(this.shutdownDeadline, Date.now() + seconds * 1000);
    this.shuttingDown ??= this.doShutdown(seconds);
    return this.shuttingDown;
  }

  cancelTask(taskId: string): boolean {
    const store = this.options.store;
    if (store.cancelQueued(taskId)) {
      this.updateState();
      return true;
    }
    const slot = this.slots.find((s) => s.current?.taskId === taskId);
    if (!slot) return false;
    // The browser may be mid-download: the only clean stop is a fresh worker.
    this.dispatcher.releaseTask(slot);
    store.finish(taskId, 'CANCELLED');
    this.options.log.info(`cancelled ${taskId} on ${slot.id}; restarting the worker`);
    this.workers.restart(slot);
    this.dispatch();
    return true;
  }

  retryTasks(taskIds?: string[]): TaskHandle[] {
    this.assertAccepting();
    const retried = this.options.store.retry(taskIds, this.tenant).map((t) => {
      this.dispatcher.forget(t.taskId);
      return { taskId: t.taskId, poNumber: t.poNumber };
    });
    this.updateState();
    this.dispatch();
    return retried;
  }

  /** A person's restart: now, even if the worker was retired; its task goes back to the queue. */
  restartWorker(workerId: string): void {
    const slot = this.slots.find((s) => s.id === workerId);
    if (!slot) throw new PoolError(`no worker ${workerId}`);
    this.assertAccepting();
    if (slot.current) this.dispatcher.requeueCurrent(slot, false);
    slot.crashStreak = 0;
    slot.crashTimes = [];
    slot.retired = undefined;
    this.workers.restart(slot);
    this.dispatch();
  }

  // ---- the contract's callbacks, raised as events ----

  /** Logs, puts the worker's task back (another worker takes it now), and restarts or retires the worker. */
  private workerCrashed(slot: WorkerSlot, error: WorkerError): void {
    const { log } = this.options;
    log.warn(`${slot.id} crashed: ${error.kind}: ${error.message}`);
    this.noteError(slot, error.toWire());
    slot.state = 'CRASHED';
    slot.crashTimes.push(Date.now());
    slot.cleanUp();
    if (slot.current) this.dispatcher.requeueCurrent(slot, true);
    this.emitHealth(slot);
    this.emit('workerCrashed', slot.id, error);
    if (this.poolState === 'SHUTTING_DOWN' || this.poolState === 'TERMINATED') return this.workers.retire(slot, undefined);
    if (error instanceof ProfileCorruptionError) {
      log.error(`profile corruption: shutting the pool down (${error.message})`);
      this.fatal = error;
      this.workers.retire(slot, undefined);
      void this.shutdown(0);
      return;
    }
    this.workers.restartOrRetire(slot, error instanceof AuthenticationError);
    this.dispatch();
  }

  /** Marks the highest-memory worker to be restarted after its current task. */
  private memoryThresholdExceeded(usage: number): void {
    const { log } = this.options;
    const pool = this.slots.reduce((sum, s) => sum + s.memoryBytes, 0);
    log.warn(`memory ${(usage * 100).toFixed(1)}% of system RAM is above the ${(this.config.memoryThreshold * 100).toFixed(0)}% threshold (pool ${mb(pool)}: ${this.slots.map((s) => `${s.id} ${mb(s.memoryBytes)}`).join(', ')})`);
    this.emit('memoryThresholdExceeded', usage);
    const id = workerToRecycle(
      this.slots.map((s) => ({ workerId: s.id, memoryBytes: s.memoryBytes, up: s.up, recycling: s.recycle })),
      usage, this.config.memoryThreshold, this.lastRecycleAt, Date.now(),
    );
    const top = this.slots.find((s) => s.id === id);
    if (!top) return;
    this.lastRecycleAt = Date.now();
    log.info(`${top.id} (${mb(top.memoryBytes)}) will be restarted ${top.current ? `after ${top.current.poNumber}` : 'now'}`);
    if (top.current) top.recycle = true;
    else this.workers.restart(top);
  }

  /** Records the outcome (already journalled by the store), logs its metrics, clears its leftovers. */
  private taskCompleted(task: TaskInfo, result: TaskResult): void {
    const bytes = result.files.reduce((sum, f) => sum + f.bytes, 0);
    const ms = result.timings.finishedAt - result.timings.startedAt;
    this.options.log.info(`${task.poNumber} ${result.status}: ${result.files.length} file(s), ${Math.round(bytes / 1024)} KB in ${(ms / 1000).toFixed(1)} s on ${result.workerId}${result.error ? ` (${result.error.kind}: ${result.error.message})` : ''}`);
    clearWork(task);
    this.dispatcher.forget(task.taskId);
    this.emit('taskCompleted', { taskId: task.taskId, poNumber: task.poNumber }, result);
  }

  // ---- memory ----

  private async sampleMemory(): Promise<void> {
    await measureWorkers(this.slots, this.workers.hosts, (slot) => this.workers.hostOf(slot), (slot) => this.emitHealth(slot));
    const { total, used } = systemMemory(this.options.systemMemory);
    if (used / total > this.config.memoryThreshold && this.accepting) this.memoryThresholdExceeded(used / total);
  }

  private stopMonitor(): void {
    clearInterval(this.monitor);
    this.monitor = undefined;
  }

  // ---- shutdown ----

  private async doShutdown(seconds: number): Promise<boolean> {
    const { log } = this.options;
    if (this.poolState === 'TERMINATED') return true;
    this.setState('SHUTTING_DOWN');
    this.stopMonitor();
    this.dispatcher.stop();
    log.info(`shutting down (${seconds.toFixed(0)} s for running tasks)`);
    let clean = await this.workers.stopAll(() => this.shutdownDeadline);
    clean = clean && !this.fatal;
    // A pool stopped by an error stays in ERROR, so the reason is what people see.
    this.setState(this.fatal ? 'ERROR' : 'TERMINATED');
    log.info(`pool shut down${clean ? '' : ' (forced)'}`);
    return clean;
  }

  // ---- state ----

  private get accepting(): boolean {
    return this.poolState !== 'SHUTTING_DOWN' && this.poolState !== 'TERMINATED' && this.poolState !== 'ERROR';
  }

  private assertAccepting(): void {
    if (this.poolState === 'ERROR') {
      throw new PoolShutdownError(`the pool stopped after an error (${this.fatal?.message ?? 'no worker is left'}); start it again to submit`);
    }
    if (!this.accepting) {
      throw new PoolShutdownError(`the pool is ${this.poolState === 'TERMINATED' ? 'shut down' : 'shutting down'}; start it again to submit`);
    }
  }

  /** Every worker was retired: a running pool ends in ERROR; a starting one lets `start()` say why. */
  private noWorkerLeft(error: PoolError): void {
    if (!this.accepting || this.poolState === 'INITIALIZING') return;
    this.fatal = error;
    this.stopMonitor();
    this.setState('ERROR');
  }

  /** READY and PROCESSING follow the work; other states are set where they happen. */
  private updateState(): void {
    if (this.poolState !== 'READY' && this.poolState !== 'PROCESSING') return;
    const busy = this.slots.some((s) => s.current) || this.options.store.queuedFor(this.tenant) > 0;
    this.setState(busy ? 'PROCESSING' : 'READY');
  }

  private setState(state: PoolState): void {
    if (this.poolState === state) return;
    this.poolState = state;
    this.emit('state', state);
  }

  private dispatch(): void {
    this.dispatcher.dispatch();
  }

  private noteError(slot: WorkerSlot, error: WireError): void {
    slot.lastError = { ...error, at: Date.now() };
    this.metrics.error(error.kind, slot.lastError.at);
  }

  private emitHealth(slot: WorkerSlot): void {
    this.emit('health', slot.health());
  }
}

function mb(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MB`;
}
