/**
 * The contract's `PersistentWorkerPool`: worker processes, each owning one long-lived browser
 * session, fed one PO at a time from the task store. Failure is normal here: a worker that dies has
 * its task put back at the head of its priority (taken at once by another worker) and is restarted
 * unless it keeps failing. The decisions live in outcomePolicy.ts and memoryPolicy.ts; worker
 * processes in workerSlot.ts; this file ties them to the queue and keeps the pool's state.
 */
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { freemem, tmpdir, totalmem } from 'node:os';
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  AuthenticationError, errorFromWire, InsufficientResourcesError, PoolError, PoolShutdownError, ProfileCorruptionError,
  TimeoutError, WorkerError, type WireError,
} from '../protocol/errors';
import type { SubmitTasksResult } from '../protocol/rpc';
import { tenantOf } from '../protocol/tenant';
import type {
  PoolConfig, PoolState, PoolStatus, POResult, POTaskInput, TaskHandle, TaskInfo, TaskResult, WorkerHealth, WorkerState,
} from '../protocol/types';
import type { FromWorker } from '../protocol/workerMessages';
import { removeProfileCopy, validateBaseProfile } from '../shared/profile';
import { resolveConfig } from './config';
import { prepareDownloadDir } from './downloadDir';
import type { Logger } from './log';
import { workerToRecycle } from './memoryPolicy';
import { PoolMetrics } from './metrics';
import { afterCrash, afterTaskError, afterWorkerDeath, timerDelay } from './outcomePolicy';
import { descendants, residentMemory } from '../shared/processTree';
import { BrowserHosts } from './browserHosts';
import { RateGovernor } from './rateGovernor';
import type { TaskStore } from './taskStore';
import { WorkerSlot, type SpawnOptions } from './workerSlot';

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

const STARTUP_TIMEOUT_MS = 30_000;
const AUTH_TIMEOUT_MS = 30_000;
const RECOVERY_TIMEOUT_MS = 15_000;
const FORCE_TIMEOUT_MS = 10_000;
/** `start()` resolves by then: workers not up yet go on starting, and the status says so. */
const START_DEADLINE_MS = STARTUP_TIMEOUT_MS + 15_000;
/** Beyond the task's own timeout, how long the supervisor waits before it calls a worker hung. */
const HUNG_GRACE_MS = 15_000;

export class PersistentWorkerPool extends EventEmitter<PoolEvents> {
  readonly config: PoolConfig;
  readonly tenant: string;
  private poolState: PoolState = 'INITIALIZING';
  private readonly slots: WorkerSlot[] = [];
  private readonly metrics = new PoolMetrics(() => this.startedAt);
  private startedAt?: number;
  private monitor?: NodeJS.Timeout;
  private wakeTimer?: NodeJS.Timeout;
  private lastRecycleAt = 0;
  private shuttingDown?: Promise<boolean>;
  /** Lowered by a second, shorter `shutdown()`. */
  private shutdownDeadline = Infinity;
  private readonly rate: RateGovernor;
  /** The error that ended the pool (profile corruption, no worker left), shown as its reason. */
  private fatal?: PoolError;
  /** Why a worker's process is about to exit, so the exit is reported with the real cause. */
  private readonly pendingCause = new Map<WorkerSlot, PoolError>();
  /** Each task's whole time limit, across its attempts (kept in memory: a supervisor restart gives a fresh one). */
  private readonly deadlines = new Map<string, number>();
  /** The browsers workers share, when `workersPerBrowser` > 1 and browsers are local. */
  private readonly hosts?: BrowserHosts;

  /** Validates the configuration; throws ConfigurationError or InsufficientResourcesError. */
  constructor(config: Partial<PoolConfig>, private readonly options: PoolOptions) {
    super();
    this.config = resolveConfig(config);
    this.tenant = options.tenant ?? tenantOf(this.config.coupaUrl);
    this.rate = new RateGovernor(this.config.workerCount);
    const endpoints = this.config.remoteEndpoints;
    for (let i = 0; i < this.config.workerCount; i++) {
      this.slots.push(new WorkerSlot(`worker-${i + 1}`, endpoints.length ? endpoints[i % endpoints.length] : undefined));
    }
    const perBrowser = this.config.workersPerBrowser;
    if (perBrowser > 1 && endpoints.length === 0) {
      this.hosts = new BrowserHosts(Math.ceil(this.config.workerCount / perBrowser), {
        script: join(dirname(options.workerScript), 'browserHost.js'),
        execPath: options.execPath,
        log: options.log,
        tmpRoot: tmpdir(),
        tmpPrefix: this.tmpPrefix,
        profilesDir: options.profilesDir,
        init: {
          baseProfilePath: this.config.baseProfilePath, coupaUrl: this.config.coupaUrl, headless: this.config.headlessMode,
          browser: this.config.browser, startupTimeout: STARTUP_TIMEOUT_MS,
        },
      });
    }
  }

  /** Which shared browser a slot's worker uses: workers 1–n the first, and so on. */
  private hostOf(slot: WorkerSlot): number {
    return Math.floor(this.slots.indexOf(slot) / this.config.workersPerBrowser);
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
    this.clearLeftovers();
    this.startedAt = Date.now();
    const browsers = this.config.remoteEndpoints.length ? 'remote browsers'
      : this.hosts ? `local browsers shared by up to ${this.config.workersPerBrowser} workers` : 'a local browser each';
    log.info(`starting ${this.slots.length} workers (${browsers}, coupa ${this.config.coupaUrl})`);
    let deadlineTimer: NodeJS.Timeout | undefined;
    const allSettled = Promise.all(this.slots.map((slot) => new Promise<void>((resolve) => {
      slot.onSettled = resolve;
      this.spawn(slot);
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
      const error = this.noWorkerError();
      log.error(`no worker could start: ${error.message}`);
      this.fatal = error;
      await this.shutdown(0);
      throw error;
    }
    this.monitor = setInterval(() => void this.sampleMemory().catch((err) => log.warn(`memory sample failed: ${(err as Error).message}`)), this.options.memorySampleMs ?? 2000);
    this.monitor.unref();
    this.setState('READY');
    const degraded = this.degradedReason();
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
    const store = this.options.store;
    const queued = store.queuedFor(this.tenant);
    const running = this.runningCount();
    const { perMinute, etaSeconds } = this.metrics.rate(queued + running);
    const workerCounts: Partial<Record<WorkerState, number>> = {};
    for (const s of this.slots) workerCounts[s.state] = (workerCounts[s.state] ?? 0) + 1;
    const { total, used } = this.systemMemory();
    const degraded = this.poolState === 'ERROR' ? this.fatal?.message : this.degradedReason();
    return {
      state: this.poolState,
      ...(degraded ? { degraded } : {}),
      supervisorPid: process.pid,
      startedAt: this.startedAt,
      workers: this.slots.map((s) => s.health()),
      workerCounts,
      queueDepth: queued,
      running,
      counts: store.countsByStatus(),
      total: store.total,
      processingRate: perMinute,
      etaSeconds: this.poolState === 'PROCESSING' ? etaSeconds : undefined,
      memory: {
        systemTotalBytes: total,
        systemUsedPercent: Math.round((used / total) * 1000) / 10,
        poolBytes: this.slots.reduce((sum, s) => sum + s.memoryBytes, 0),
        threshold: this.config.memoryThreshold,
      },
      errors: this.metrics.errors(),
      config: this.config,
    };
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
    this.releaseTask(slot);
    store.finish(taskId, 'CANCELLED');
    this.options.log.info(`cancelled ${taskId} on ${slot.id}; restarting the worker`);
    this.restartSlot(slot);
    this.dispatch();
    return true;
  }

  retryTasks(taskIds?: string[]): TaskHandle[] {
    this.assertAccepting();
    const retried = this.options.store.retry(taskIds, this.tenant).map((t) => {
      this.deadlines.delete(t.taskId);
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
    if (slot.current) this.requeueCurrent(slot, false);
    slot.crashStreak = 0;
    slot.crashTimes = [];
    slot.retired = undefined;
    this.restartSlot(slot);
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
    if (slot.current) this.requeueCurrent(slot, true);
    this.emitHealth(slot);
    this.emit('workerCrashed', slot.id, error);
    if (this.poolState === 'SHUTTING_DOWN' || this.poolState === 'TERMINATED') return this.retire(slot, undefined);
    if (error instanceof ProfileCorruptionError) {
      log.error(`profile corruption: shutting the pool down (${error.message})`);
      this.fatal = error;
      this.retire(slot, undefined);
      void this.shutdown(0);
      return;
    }
    const decision = afterCrash({
      streak: slot.crashStreak, crashTimes: slot.crashTimes, maxRestartAttempts: this.config.maxRestartAttempts,
      needsSignIn: error instanceof AuthenticationError, now: Date.now(),
    });
    if (decision.restart) {
      slot.crashStreak++;
      slot.restarts++;
      slot.restartTimer = setTimeout(() => {
        if (slot.state === 'CRASHED' && this.accepting) this.spawn(slot);
      }, timerDelay(decision.delayMs));
      slot.restartTimer.unref();
    } else {
      this.retire(slot, decision.reason);
    }
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
    else this.restartSlot(top);
  }

  /** Records the outcome (already journalled by the store), logs its metrics, clears its leftovers. */
  private taskCompleted(task: TaskInfo, result: TaskResult): void {
    const bytes = result.files.reduce((sum, f) => sum + f.bytes, 0);
    const ms = result.timings.finishedAt - result.timings.startedAt;
    this.options.log.info(`${task.poNumber} ${result.status}: ${result.files.length} file(s), ${Math.round(bytes / 1024)} KB in ${(ms / 1000).toFixed(1)} s on ${result.workerId}${result.error ? ` (${result.error.kind}: ${result.error.message})` : ''}`);
    this.clearWork(task);
    this.deadlines.delete(task.taskId);
    this.emit('taskCompleted', { taskId: task.taskId, poNumber: task.poNumber }, result);
  }

  // ---- workers ----

  private spawnOptions(): SpawnOptions {
    return {
      workerScript: this.options.workerScript,
      execPath: this.options.execPath,
      log: this.options.log,
      tmpRoot: tmpdir(),
      tmpPrefix: this.tmpPrefix,
      onMessage: (slot, m) => this.onWorkerMessage(slot, m),
      onExit: (slot, code, signal) => this.onWorkerExit(slot, code, signal),
      onInitFailed: (slot, err) => {
        const error = err instanceof PoolError ? err : new WorkerError(`cannot start ${slot.id}: ${(err as Error).message}`);
        slot.lastError = { ...error.toWire(), at: Date.now() };
        this.pendingCause.set(slot, error);
        slot.kill();
      },
    };
  }

  private spawn(slot: WorkerSlot): void {
    slot.profileCopyDir = join(this.options.profilesDir, `${slot.id}-${slot.generation + 1}-${Date.now().toString(36)}`);
    try {
      const init = (s: WorkerSlot) => ({
        workerId: s.id,
        baseProfilePath: this.config.baseProfilePath,
        profileCopyDir: s.profileCopyDir,
        coupaUrl: this.config.coupaUrl,
        headless: this.config.headlessMode,
        browser: this.config.browser,
        remoteEndpoint: s.remoteEndpoint,
        maxDownloadBytes: this.config.maxDownloadBytes,
        startupTimeout: STARTUP_TIMEOUT_MS,
        authTimeout: AUTH_TIMEOUT_MS,
        recoveryTimeout: RECOVERY_TIMEOUT_MS,
      });
      const hosts = this.hosts;
      // A worker of a shared browser has no profile copy: its context starts from the host's scoped cookies.
      slot.spawn(this.spawnOptions(), hosts
        ? async (s) => {
          const { wsEndpoint, storageState } = await hosts.browser(this.hostOf(s));
          return { ...init(s), baseProfilePath: '', remoteEndpoint: wsEndpoint, storageState };
        }
        : init);
    } catch (err) {
      // fork or mkdtemp failing (no memory, no processes or no disk left) is a shortage, not a bug.
      const error = new InsufficientResourcesError(`cannot start ${slot.id}: ${(err as Error).message}`);
      slot.lastError = { ...error.toWire(), at: Date.now() };
      this.retire(slot, error.message);
      return;
    }
    const generation = slot.generation;
    slot.startTimer = setTimeout(() => {
      if (slot.generation !== generation || slot.state !== 'STARTING') return;
      slot.lastError = { kind: 'TimeoutError', message: `did not start within ${STARTUP_TIMEOUT_MS / 1000} s`, at: Date.now() };
      slot.kill();
    }, STARTUP_TIMEOUT_MS + 5_000);
    this.emitHealth(slot);
  }

  private onWorkerMessage(slot: WorkerSlot, m: FromWorker): void {
    const { log, store } = this.options;
    switch (m.type) {
      case 'ready':
        clearTimeout(slot.startTimer);
        // The streak counts restarts that fail in a row: a worker that came up again is healthy.
        slot.crashStreak = 0;
        slot.state = 'READY';
        slot.browserPids = m.browserPids;
        slot.sessionStartedAt = m.sessionStartedAt;
        log.info(`${slot.id} ready (pid ${slot.proc?.pid}${m.browserPids.length ? `, browser ${m.browserPids[0]}` : ''})`);
        this.emitHealth(slot);
        slot.settle();
        this.dispatch();
        break;
      case 'startFailed':
        clearTimeout(slot.startTimer);
        slot.lastError = { ...m.error, at: Date.now() };
        this.crashOnExit(slot, errorFromWire(m.error));
        break;
      case 'result': {
        const current = this.takeCurrent(slot, m.taskId);
        if (!current) break;
        this.answered(slot);
        const eased = this.rate.succeeded();
        if (eased) log.info(eased);
        this.complete(store.get(m.taskId)!, m.result, slot.id);
        this.afterTask(slot);
        break;
      }
      case 'taskError': {
        const current = this.takeCurrent(slot, m.taskId);
        if (!current) break;
        this.answered(slot);
        this.noteError(slot, m.error);
        if (m.error.data?.status === 429) {
          // This worker's PO has just been released: it was running too when Coupa said 429.
          const slowDown = this.rate.limited(this.runningCount() + 1, Number(m.error.data.retryAfterMs) || undefined);
          if (slowDown) log.warn(slowDown);
        }
        this.failAttempt(store.get(m.taskId)!, m.error, slot.id, current.deadline);
        if (m.error.kind === 'AuthenticationError' || m.error.kind === 'SessionCorruptionError') slot.recycle = true;
        this.afterTask(slot);
        break;
      }
      case 'sessionLost':
        slot.lastError = { ...m.error, at: Date.now() };
        this.crashOnExit(slot, errorFromWire(m.error));
        break;
      case 'health':
        // The session's own start (it is renewed when the worker recovers it), for the uptime shown.
        slot.sessionStartedAt = m.health.sessionStartedAt ?? slot.sessionStartedAt;
        break;
      case 'log':
        log.log(m.level, m.message, slot.id);
        break;
      case 'terminated':
        break;
    }
  }

  /** The worker answered for a PO, so it is working: earlier crashes no longer count towards retiring it. */
  private answered(slot: WorkerSlot): void {
    slot.tasksDone++;
    slot.crashTimes = [];
  }

  private crashOnExit(slot: WorkerSlot, error: PoolError): void {
    this.pendingCause.set(slot, error);
    // A worker that reported a failure exits by itself; make sure of it.
    setTimeout(() => {
      if (this.pendingCause.get(slot) === error) slot.kill();
    }, 5_000).unref();
  }

  private onWorkerExit(slot: WorkerSlot, code: number | null, signal: NodeJS.Signals | null): void {
    clearTimeout(slot.startTimer);
    slot.proc = undefined;
    const cause = this.pendingCause.get(slot);
    this.pendingCause.delete(slot);
    if (slot.state === 'TERMINATING' || slot.state === 'RESTARTING') {
      slot.cleanUp();
      if (slot.current) this.requeueCurrent(slot, false);
      if (slot.state === 'RESTARTING' && this.accepting) {
        this.spawn(slot);
      } else {
        slot.state = 'TERMINATED';
        this.emitHealth(slot);
        slot.settle();
      }
      this.dispatch();
      return;
    }
    const hung = slot.current?.hung;
    const error = asWorkerError(cause ?? (hung
      ? new TimeoutError(`no answer for ${slot.current?.poNumber} within its timeout; the worker was stopped`)
      : slot.lastError && slot.state === 'STARTING' && slot.lastError.kind === 'TimeoutError'
        ? errorFromWire(slot.lastError)
        : new WorkerError(`worker process exited (${signal ?? `code ${code}`})`)));
    this.workerCrashed(slot, error);
  }

  /** No more restarts: TERMINATED, with the reason logged and shown; the pool ends when none is left. */
  private retire(slot: WorkerSlot, reason: string | undefined): void {
    clearTimeout(slot.restartTimer);
    slot.state = 'TERMINATED';
    if (reason) {
      slot.retired = { reason, at: Date.now() };
      const live = this.slots.filter((s) => s.live).length;
      this.options.log.error(`${slot.id} retired ${reason}; the pool goes on with ${live} worker${live === 1 ? '' : 's'}`);
      if (live === 0 && this.accepting && this.poolState !== 'INITIALIZING') {
        this.fatal = new InsufficientResourcesError(`every worker was retired (last: ${slot.id} ${reason})`);
        this.stopMonitor();
        this.setState('ERROR');
      }
    }
    this.emitHealth(slot);
    slot.settle();
  }

  private dispatch(): void {
    if (this.poolState !== 'READY' && this.poolState !== 'PROCESSING') return;
    const { store } = this.options;
    let running = this.runningCount();
    for (const slot of this.slots) {
      if (slot.state !== 'READY' && slot.state !== 'IDLE') continue;
      const allowed = this.rate.mayStart(running);
      if (!allowed.ok) {
        if (allowed.wakeAt) this.wakeAt(allowed.wakeAt);
        break;
      }
      const { task, wakeAt } = store.next(this.tenant);
      if (!task) {
        if (wakeAt) this.wakeAt(wakeAt);
        break;
      }
      if (this.assign(slot, task)) running++;
    }
    this.updateState();
  }

  /** Starts `task` on `slot`; false when its time ran out in the queue (it is then final). */
  private assign(slot: WorkerSlot, task: TaskInfo): boolean {
    const now = Date.now();
    const timeoutMs = (task.timeoutOverride ?? this.config.taskTimeout) * 1000;
    let deadline = this.deadlines.get(task.taskId);
    if (deadline === undefined) this.deadlines.set(task.taskId, (deadline = now + timeoutMs));
    if (deadline - now < 1000) {
      this.complete(task, emptyResult(task, 'TIMEOUT', { kind: 'TimeoutError', message: `no time left of its ${timeoutMs / 1000} s` }), slot.id);
      return false;
    }
    this.clearWork(task);
    this.options.store.markStarted(task.taskId, slot.id);
    slot.state = 'PROCESSING';
    const attemptMs = deadline - now;
    const timer = setTimeout(() => {
      if (slot.current?.taskId !== task.taskId) return;
      slot.current.hung = true;
      this.options.log.warn(`${slot.id}: ${task.poNumber} has run past its ${Math.round(timeoutMs / 1000)} s; stopping the worker`);
      slot.kill();
    }, timerDelay(attemptMs + HUNG_GRACE_MS));
    slot.current = { taskId: task.taskId, poNumber: task.poNumber, timer, hung: false, deadline };
    slot.send({ type: 'process', task: { taskId: task.taskId, poNumber: task.poNumber, downloadDir: task.downloadDir, timeoutMs: attemptMs } });
    this.emitHealth(slot);
    return true;
  }

  private takeCurrent(slot: WorkerSlot, taskId: string) {
    if (slot.current?.taskId !== taskId) return undefined;
    return this.releaseTask(slot);
  }

  private releaseTask(slot: WorkerSlot) {
    const current = slot.current;
    if (current) clearTimeout(current.timer);
    slot.current = undefined;
    return current;
  }

  private afterTask(slot: WorkerSlot): void {
    if (this.poolState === 'SHUTTING_DOWN') {
      this.emitHealth(slot);
      return;
    }
    if (slot.recycle) {
      this.restartSlot(slot);
    } else {
      slot.state = 'IDLE';
      this.emitHealth(slot);
    }
    this.dispatch();
  }

  /** Ends the worker's process on purpose (memory, a session error, a person) and starts a fresh one. */
  private restartSlot(slot: WorkerSlot): void {
    slot.restarts++;
    slot.recycle = false;
    clearTimeout(slot.restartTimer);
    slot.state = 'RESTARTING';
    this.emitHealth(slot);
    if (!slot.proc) {
      if (this.accepting) this.spawn(slot);
      return;
    }
    slot.send({ type: 'terminate', force: true });
    const proc = slot.proc;
    setTimeout(() => {
      if (slot.proc === proc) slot.kill();
    }, FORCE_TIMEOUT_MS).unref();
  }

  /** A task whose worker stopped goes back to the head of its priority, unless it has had enough. */
  private requeueCurrent(slot: WorkerSlot, crashed: boolean): void {
    const current = this.releaseTask(slot);
    if (!current) return;
    const { store, log } = this.options;
    const task = store.get(current.taskId);
    if (!task || task.status !== 'RUNNING') return;
    this.clearWork(task);
    const crashes = store.crashesOf(task.taskId) + (crashed ? 1 : 0);
    const decision = afterWorkerDeath(crashes, current.hung, crashed && Date.now() >= current.deadline);
    if (!decision.requeue) {
      log.error(`${task.poNumber}: ${decision.error.message}; giving up`);
      this.complete(task, emptyResult(task, decision.status, decision.error), slot.id);
      return;
    }
    store.requeue(task.taskId, task.retryCount, 0, crashes);
  }

  /** One attempt failed: retry with backoff, or record the final outcome. */
  private failAttempt(task: TaskInfo, error: WireError, workerId: string, deadline: number): void {
    const decision = afterTaskError(error, {
      retryCount: task.retryCount, maxRetries: this.config.maxRetries, retryBaseMs: this.options.retryBaseMs ?? 1000,
      deadline, shuttingDown: this.poolState === 'SHUTTING_DOWN', now: Date.now(),
    });
    if (!decision.retry) {
      this.complete(task, emptyResult(task, decision.status, decision.error), workerId);
      return;
    }
    this.options.log.info(`${task.poNumber}: ${decision.why}; retry ${decision.retryCount}/${this.config.maxRetries} in ${(decision.delayMs / 1000).toFixed(1)} s`);
    this.options.store.requeue(task.taskId, decision.retryCount, decision.delayMs);
  }

  private complete(task: TaskInfo, result: POResult, workerId: string): void {
    const full: TaskResult = { ...result, taskId: task.taskId, workerId, attempts: task.retryCount + 1 };
    this.options.store.finish(task.taskId, result.status, full);
    this.metrics.taskFinished();
    this.taskCompleted(task, full);
  }

  // ---- memory ----

  private systemMemory(): { total: number; used: number } {
    if (this.options.systemMemory) return this.options.systemMemory();
    const total = totalmem();
    return { total, used: total - freemem() };
  }

  private async sampleMemory(): Promise<void> {
    const live = this.slots.filter((s) => s.proc?.pid);
    for (const slot of live) if (slot.state !== 'STARTING') slot.send({ type: 'health' });
    const pids = live.map((s) => s.proc!.pid!);
    const hostPids = this.hosts?.pids() ?? [];
    const trees = await descendants([...pids, ...hostPids.filter((p): p is number => p !== undefined)]);
    // A worker may have exited during the await: use the pids read before it, never slot.proc.
    const all = [...pids, ...hostPids].flatMap((pid) => (pid ? [pid, ...(trees.get(pid) ?? [])] : []));
    const rss = await residentMemory(all);
    const treeBytes = (pid: number | undefined) => (pid ? [pid, ...(trees.get(pid) ?? [])].reduce((sum, p) => sum + (rss.get(p) ?? 0), 0) : 0);
    // A shared browser's memory is split among its live workers, so the pool's total counts it once.
    const sharing = hostPids.map((_, i) => live.filter((s) => this.hostOf(s) === i).length || 1);
    for (const slot of live) {
      const pid = slot.proc?.pid;
      if (!pid) continue;
      const tree = trees.get(pid) ?? [];
      const shared = this.hosts ? treeBytes(hostPids[this.hostOf(slot)]) / sharing[this.hostOf(slot)] : 0;
      slot.memoryBytes = treeBytes(pid) + Math.round(shared);
      if (!slot.remoteEndpoint && tree.length) slot.browserPids = tree;
      this.emitHealth(slot);
    }
    const { total, used } = this.systemMemory();
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
    clearTimeout(this.wakeTimer);
    log.info(`shutting down (${seconds.toFixed(0)} s for running tasks)`);
    const exited = () => this.slots.every((s) => !s.proc);
    for (const slot of this.slots) {
      clearTimeout(slot.restartTimer);
      if (!slot.proc) {
        slot.state = 'TERMINATED';
        continue;
      }
      slot.state = 'TERMINATING';
      slot.send({ type: 'terminate', force: false });
      this.emitHealth(slot);
    }
    let clean = await waitFor(exited, () => this.shutdownDeadline);
    if (!clean) {
      log.warn('graceful shutdown timed out; forcing');
      for (const slot of this.slots) slot.send({ type: 'terminate', force: true });
      const forcedBy = Date.now() + FORCE_TIMEOUT_MS / 2;
      if (!(await waitFor(exited, () => forcedBy))) {
        for (const slot of this.slots) slot.kill();
        const killedBy = Date.now() + FORCE_TIMEOUT_MS / 2;
        await waitFor(exited, () => killedBy);
      }
    }
    for (const slot of this.slots) {
      slot.cleanUp();
      if (slot.current) this.requeueCurrent(slot, false);
      slot.state = 'TERMINATED';
      this.emitHealth(slot);
      slot.settle();
    }
    await this.hosts?.close();
    this.clearLeftovers();
    clean = clean && !this.fatal;
    // A pool stopped by an error stays in ERROR, so the reason is what people see.
    this.setState(this.fatal ? 'ERROR' : 'TERMINATED');
    log.info(`pool shut down${clean ? '' : ' (forced)'}`);
    return clean;
  }

  /** Named after this state folder, so leftovers of a killed supervisor can be found. */
  private get tmpPrefix(): string {
    return `ppool-${createHash('sha256').update(this.options.profilesDir).digest('hex').slice(0, 8)}-`;
  }

  /** Profile copies and temporary folders a killed supervisor left behind (ours only). */
  private clearLeftovers(): void {
    const clear = (dir: string, match: (name: string) => boolean) => {
      try {
        for (const name of readdirSync(dir)) if (match(name)) removeProfileCopy(join(dir, name));
      } catch {
        // No folder yet: nothing to clear.
      }
    };
    clear(this.options.profilesDir, () => true);
    clear(tmpdir(), (name) => name.startsWith(this.tmpPrefix) && ownedByMe(join(tmpdir(), name)));
  }

  /** A PO's unfinished working folders in its download folder; a re-run starts from nothing. */
  private clearWork(task: TaskInfo): void {
    const work = join(task.downloadDir, '.work');
    try {
      for (const name of readdirSync(work)) {
        if (name === task.poNumber || name.startsWith(`${task.poNumber}-`)) rmSync(join(work, name), { recursive: true, force: true });
      }
    } catch {
      // nothing there
    }
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

  /** Fewer workers than configured, said in a sentence; undefined when none was retired. */
  private degradedReason(): string | undefined {
    const out = this.slots.filter((s) => s.retired);
    if (out.length === 0) return undefined;
    const why = out.map((s) => `${s.id} retired ${s.retired!.reason}${s.lastError ? ` (${s.lastError.kind}: ${s.lastError.message})` : ''}`);
    return `${this.slots.length - out.length} of ${this.slots.length} workers: ${why.join('; ')}`;
  }

  /** Why no worker came up, as the most useful error: a person's action first, else a shortage. */
  private noWorkerError(): PoolError {
    const errors = this.slots.map((s) => s.lastError).filter((e): e is NonNullable<typeof e> => e !== undefined);
    const decisive = errors.find((e) => e.kind === 'ProfileCorruptionError') ?? errors.find((e) => e.kind === 'AuthenticationError') ?? errors.find((e) => e.kind === 'ConfigurationError');
    if (decisive) return errorFromWire(decisive);
    const why = [...new Set(errors.map((e) => `${e.kind}: ${e.message}`))].join('; ');
    return new InsufficientResourcesError(`no worker could start within ${START_DEADLINE_MS / 1000} s${why ? ` (${why})` : ''}`);
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

  private runningCount(): number {
    return this.slots.filter((s) => s.current).length;
  }

  private wakeAt(at: number): void {
    clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => this.dispatch(), timerDelay(at - Date.now() + 5));
    this.wakeTimer.unref();
  }

  private noteError(slot: WorkerSlot, error: WireError): void {
    slot.lastError = { ...error, at: Date.now() };
    this.metrics.error(error.kind, slot.lastError.at);
  }

  private emitHealth(slot: WorkerSlot): void {
    this.emit('health', slot.health());
  }
}

/** Crashes are the contract's WorkerError (or one of its kinds), whatever the worker said. */
function asWorkerError(error: PoolError): WorkerError {
  return error instanceof WorkerError ? error : new WorkerError(error.message, { ...error.data, cause: error.kind });
}

function emptyResult(task: TaskInfo, status: POResult['status'], error: WireError): POResult {
  const now = Date.now();
  const evidence = error.data?.evidence as POResult['evidence'] | undefined;
  return {
    poNumber: task.poNumber, status, attachments: [], files: [], timings: { startedAt: task.startedAt ?? now, finishedAt: now, navigationMs: 0, downloadMs: 0 }, error,
    ...(evidence ? { evidence } : {}),
  };
}

function mb(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MB`;
}

function ownedByMe(path: string): boolean {
  try {
    return process.getuid === undefined || lstatSync(path).uid === process.getuid();
  } catch {
    return false;
  }
}

/** Until `done()` or the (possibly lowered) deadline. */
async function waitFor(done: () => boolean, deadline: () => number): Promise<boolean> {
  while (!done()) {
    if (Date.now() >= deadline()) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
