/**
 * The contract's `PersistentWorkerPool`: worker processes, each owning one long-lived browser,
 * fed one PO at a time from the task store. Failure is normal here: a worker that dies has its task
 * put back at the head of its priority and is restarted (up to `maxRestartAttempts` in a row).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { freemem, setPriority, tmpdir, totalmem } from 'node:os';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  AuthenticationError, errorFromWire, isRetryable, PoolError, PoolShutdownError, ProfileCorruptionError, TimeoutError,
  type WireError,
} from '../protocol/errors';
import type { SubmitTasksResult } from '../protocol/rpc';
import type {
  PoolConfig, PoolState, PoolStatus, POResult, POTaskInput, TaskHandle, TaskInfo, TaskResult, WorkerHealth, WorkerState,
} from '../protocol/types';
import type { FromWorker, ToWorker } from '../protocol/workerMessages';
import { removeProfileCopy, validateBaseProfile } from '../shared/profile';
import { tenantOf } from '../protocol/tenant';
import { resolveConfig } from './config';
import { prepareDownloadDir } from './downloadDir';
import type { Logger } from './log';
import { descendants, killPids, residentMemory } from '../shared/processTree';
import { RateGovernor } from './rateGovernor';
import type { TaskStore } from './taskStore';

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

export interface PoolEvents {
  state: [PoolState];
  health: [WorkerHealth];
  workerCrashed: [string, PoolError];
  memoryThresholdExceeded: [number];
  taskCompleted: [TaskHandle, TaskResult];
}

const STARTUP_TIMEOUT_MS = 30_000;
const AUTH_TIMEOUT_MS = 30_000;
const RECOVERY_TIMEOUT_MS = 15_000;
const FORCE_TIMEOUT_MS = 10_000;
/** Beyond the task's own timeout, how long the supervisor waits before it calls a worker hung. */
const HUNG_GRACE_MS = 15_000;
const RATE_WINDOW_MS = 5 * 60_000;
const MEMORY_COOLDOWN_MS = 30_000;
/** A task on a worker that dies this many times is failed rather than tried forever. */
const MAX_CRASHES_PER_TASK = 3;
/** Unix niceness of workers and their browsers (0 normal, 19 lowest); the supervisor stays at 0. */
const WORKER_NICENESS = 5;

class WorkerSlot {
  state: WorkerState = 'STARTING';
  proc?: ChildProcess;
  /** Restarts in a row without a task done since; the limit applies to this. */
  crashStreak = 0;
  restarts = 0;
  tasksDone = 0;
  current?: { taskId: string; poNumber: string; timer: NodeJS.Timeout; hung: boolean };
  browserPids: number[] = [];
  memoryBytes = 0;
  lastError?: WireError & { at: number };
  sessionStartedAt?: number;
  /** Restart after the current task (memory pressure or a session error). */
  recycle = false;
  startTimer?: NodeJS.Timeout;
  profileCopyDir = '';
  generation = 0;
  onSettled?: () => void;
  constructor(readonly id: string, readonly remoteEndpoint: string | undefined) {}

  get live(): boolean {
    return this.state !== 'TERMINATED' && this.state !== 'CRASHED';
  }

  health(): WorkerHealth {
    return {
      workerId: this.id,
      state: this.state,
      pid: this.proc?.pid,
      browserPids: this.browserPids,
      currentPo: this.current?.poNumber,
      currentTaskId: this.current?.taskId,
      memoryBytes: this.memoryBytes,
      sessionStartedAt: this.sessionStartedAt,
      tasksDone: this.tasksDone,
      restarts: this.restarts,
      lastError: this.lastError,
      remoteEndpoint: this.remoteEndpoint,
    };
  }
}

export class PersistentWorkerPool extends EventEmitter<PoolEvents> {
  readonly config: PoolConfig;
  readonly tenant: string;
  private poolState: PoolState = 'INITIALIZING';
  private readonly slots: WorkerSlot[] = [];
  private readonly finishedAt: number[] = [];
  private readonly errorsByKind: Record<string, { count: number; lastAt: number }> = {};
  private lastErrorAt?: number;
  private startedAt?: number;
  private monitor?: NodeJS.Timeout;
  private wakeTimer?: NodeJS.Timeout;
  private lastRecycleAt = 0;
  private lastSystemUsage = 0;
  private shuttingDown?: Promise<boolean>;
  private readonly rate: RateGovernor;

  /** Validates the configuration; throws ConfigurationError or InsufficientResourcesError. */
  constructor(config: Partial<PoolConfig>, private readonly options: PoolOptions) {
    super();
    this.config = resolveConfig(config);
    this.tenant = options.tenant ?? tenantOf(this.config.coupaUrl);
    this.rate = new RateGovernor(this.config.workerCount);
    for (let i = 0; i < this.config.workerCount; i++) {
      const endpoints = this.config.remoteEndpoints;
      this.slots.push(new WorkerSlot(`worker-${i + 1}`, endpoints.length ? endpoints[i % endpoints.length] : undefined));
    }
  }

  get state(): PoolState {
    return this.poolState;
  }

  /** Starts every worker; resolves when each is READY or has been given up on. */
  async start(): Promise<void> {
    if (this.poolState !== 'INITIALIZING') throw new PoolError(`start() needs a new pool; this one is ${this.poolState}`);
    const { log } = this.options;
    try {
      if (this.config.remoteEndpoints.length === 0) await validateBaseProfile(this.config.baseProfilePath);
    } catch (err) {
      this.setState('ERROR');
      throw err;
    }
    this.clearProfileCopies();
    this.startedAt = Date.now();
    log.info(`starting ${this.slots.length} workers (${this.config.remoteEndpoints.length ? 'remote browsers' : 'local browsers'}, coupa ${this.config.coupaUrl})`);
    await Promise.all(this.slots.map((slot) => new Promise<void>((resolve) => {
      slot.onSettled = resolve;
      this.spawnWorker(slot);
    })));
    if (this.lastFatal) throw this.lastFatal;
    if ((this.poolState as PoolState) !== 'INITIALIZING') throw new PoolShutdownError('the pool was shut down while starting');
    if (!this.slots.some((s) => s.live)) {
      this.setState('ERROR');
      const last = this.slots.map((s) => s.lastError).filter(Boolean).pop();
      throw last ? errorFromWire(last) : new PoolError('no worker could start');
    }
    this.monitor = setInterval(() => void this.sampleMemory().catch((err) => this.options.log.warn(`memory sample failed: ${(err as Error).message}`)), this.options.memorySampleMs ?? 2000);
    this.monitor.unref();
    this.setState('READY');
    this.dispatch();
  }

  /** The contract's `submit_task`. */
  submitTask(task: POTaskInput, downloadDir?: string): TaskHandle {
    const result = this.submitTasks([task], { downloadDir });
    if (result.invalid.length) throw new PoolError(`${task.poNumber}: ${result.invalid[0].reason}`);
    if (result.duplicates.length) return { taskId: result.duplicates[0].taskId, poNumber: result.duplicates[0].poNumber };
    return result.handles[0];
  }

  /** Into `downloadDir` (absolute), or the configured one. */
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
    const now = Date.now();
    while (this.finishedAt.length && this.finishedAt[0] < now - RATE_WINDOW_MS) this.finishedAt.shift();
    const windowMs = this.finishedAt.length ? Math.max(60_000, Math.min(RATE_WINDOW_MS, now - (this.startedAt ?? now))) : 0;
    const rate = windowMs ? (this.finishedAt.length / windowMs) * 60_000 : 0;
    const store = this.options.store;
    const queued = store.queuedFor(this.tenant);
    const remaining = queued + this.runningCount();
    const workerCounts: Partial<Record<WorkerState, number>> = {};
    for (const s of this.slots) workerCounts[s.state] = (workerCounts[s.state] ?? 0) + 1;
    const { total, used } = this.systemMemory();
    return {
      state: this.poolState,
      supervisorPid: process.pid,
      startedAt: this.startedAt,
      workers: this.slots.map((s) => s.health()),
      workerCounts,
      queueDepth: queued,
      running: store.countsByStatus().RUNNING ?? 0,
      counts: store.countsByStatus(),
      total: store.total,
      processingRate: Math.round(rate * 10) / 10,
      etaSeconds: rate > 0 && remaining > 0 && this.poolState === 'PROCESSING' ? Math.round((remaining / rate) * 60) : undefined,
      memory: {
        systemTotalBytes: total,
        systemUsedPercent: Math.round((used / total) * 1000) / 10,
        poolBytes: this.slots.reduce((sum, s) => sum + s.memoryBytes, 0),
        threshold: this.config.memoryThreshold,
      },
      errors: { byKind: { ...this.errorsByKind }, lastErrorAt: this.lastErrorAt },
      config: this.config,
    };
  }

  /**
   * The contract's `shutdown`: running tasks may finish within `timeout` seconds, then workers are
   * forced (10 s at most). Tasks cut short go back to the queue, so nothing is lost. True when it
   * finished gracefully within the timeout.
   */
  shutdown(timeout = this.config.shutdownTimeout): Promise<boolean> {
    this.shuttingDown ??= this.doShutdown(timeout * 1000);
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
    this.restartSlot(slot, false);
    return true;
  }

  retryTasks(taskIds?: string[]): TaskHandle[] {
    this.assertAccepting();
    const retried = this.options.store.retry(taskIds, this.tenant).map((t) => ({ taskId: t.taskId, poNumber: t.poNumber }));
    this.updateState();
    this.dispatch();
    return retried;
  }

  /** A user's restart: now, even if the worker was retired; its task goes back to the queue. */
  restartWorker(workerId: string): void {
    const slot = this.slots.find((s) => s.id === workerId);
    if (!slot) throw new PoolError(`no worker ${workerId}`);
    this.assertAccepting();
    if (slot.current) this.requeueCurrent(slot, false);
    slot.crashStreak = 0;
    this.restartSlot(slot, false);
  }

  // ---- the contract's callbacks ----

  /** Logs, puts the worker's task back at the head of its priority, and restarts it (or retires it). */
  onWorkerCrashed(workerId: string, error: PoolError): void {
    const slot = this.slots.find((s) => s.id === workerId)!;
    const { log } = this.options;
    log.warn(`${workerId} crashed: ${error.kind}: ${error.message}`);
    this.noteError(slot, error.toWire());
    slot.state = 'CRASHED';
    killPids(slot.browserPids);
    slot.browserPids = [];
    this.removeWorkerFiles(slot);
    if (slot.current) this.requeueCurrent(slot, true);
    this.emit('workerCrashed', workerId, error);
    if (this.poolState === 'SHUTTING_DOWN' || this.poolState === 'TERMINATED') {
      slot.state = 'TERMINATED';
      return this.settle(slot);
    }
    if (error instanceof ProfileCorruptionError) {
      log.error(`profile corruption: shutting the pool down (${error.message})`);
      this.lastFatal = error;
      void this.shutdown(0);
      return this.settle(slot);
    }
    if (error instanceof AuthenticationError || slot.crashStreak >= this.config.maxRestartAttempts) {
      slot.state = 'TERMINATED';
      const live = this.slots.filter((s) => s.live).length;
      log.error(`${workerId} retired${error instanceof AuthenticationError ? ' (needs a person to sign in)' : ` after ${slot.crashStreak} restarts in a row`}; the pool goes on with ${live} worker${live === 1 ? '' : 's'}`);
      this.emitHealth(slot);
      if (live === 0 && this.poolState !== 'INITIALIZING') this.setState('ERROR');
      return this.settle(slot);
    }
    slot.crashStreak++;
    this.restartSlot(slot, true);
  }

  /** Marks the highest-memory worker to be restarted after its current task. */
  onMemoryThresholdExceeded(usagePercent: number): void {
    const { log } = this.options;
    const pool = this.slots.reduce((sum, s) => sum + s.memoryBytes, 0);
    log.warn(`memory ${(usagePercent * 100).toFixed(1)}% of system RAM is above the ${(this.config.memoryThreshold * 100).toFixed(0)}% threshold (pool ${mb(pool)}: ${this.slots.map((s) => `${s.id} ${mb(s.memoryBytes)}`).join(', ')})`);
    this.emit('memoryThresholdExceeded', usagePercent);
    if (Date.now() - this.lastRecycleAt < MEMORY_COOLDOWN_MS || this.slots.some((s) => s.recycle)) return;
    const candidates = this.slots.filter((s) => s.state === 'PROCESSING' || s.state === 'READY' || s.state === 'IDLE');
    if (candidates.length === 0) return;
    const top = candidates.reduce((a, b) => (b.memoryBytes > a.memoryBytes ? b : a));
    this.lastRecycleAt = Date.now();
    log.info(`${top.id} (${mb(top.memoryBytes)}) will be restarted ${top.current ? `after ${top.current.poNumber}` : 'now'}`);
    if (top.current) top.recycle = true;
    else this.restartSlot(top, false);
  }

  /** Records the outcome (already journalled by the store), logs its metrics, clears its leftovers. */
  onTaskCompleted(handle: TaskHandle, result: TaskResult): void {
    const bytes = result.files.reduce((sum, f) => sum + f.bytes, 0);
    const ms = result.timings.finishedAt - result.timings.startedAt;
    this.options.log.info(`${handle.poNumber} ${result.status}: ${result.files.length} file(s), ${Math.round(bytes / 1024)} KB in ${(ms / 1000).toFixed(1)} s on ${result.workerId}${result.error ? ` (${result.error.kind}: ${result.error.message})` : ''}`);
    const task = this.options.store.get(handle.taskId);
    if (task) this.clearWork(task);
    this.emit('taskCompleted', handle, result);
  }

  // ---- workers ----

  private spawnWorker(slot: WorkerSlot): void {
    const { log } = this.options;
    slot.generation++;
    const generation = slot.generation;
    slot.state = 'STARTING';
    slot.browserPids = [];
    slot.memoryBytes = 0;
    slot.sessionStartedAt = undefined;
    slot.profileCopyDir = join(this.options.profilesDir, `${slot.id}-${generation}-${Date.now().toString(36)}`);
    // The worker's and its browser's temporary files (downloads in flight, Chromium's singleton
    // socket) get a folder of their own that goes with the worker even when the browser is killed.
    // It sits in the system temp folder because a Unix socket path must stay under ~107 bytes.
    const tmp = this.workerTmpDir(slot);
    mkdirSync(tmp, { recursive: true, mode: 0o700 });
    const proc = fork(this.options.workerScript, [], {
      execPath: this.options.execPath ?? process.execPath,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', TMPDIR: tmp, TMP: tmp, TEMP: tmp },
      serialization: 'advanced',
    });
    slot.proc = proc;
    // A worker and the browser it launches (which inherits this) yield the CPU to the supervisor and
    // the editor: on a small machine busy browsers otherwise delay every status answer and view update.
    // (As root, Chromium raises some of its own threads above normal again; users do not run it as root.)
    if (proc.pid) {
      try {
        setPriority(proc.pid, WORKER_NICENESS);
      } catch (err) {
        log.debug(`${slot.id}: could not lower its priority: ${(err as Error).message}`);
      }
    }
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) log.log('debug', line.trim(), slot.id);
    };
    proc.stdout?.on('data', forward);
    proc.stderr?.on('data', forward);
    proc.on('message', (m: FromWorker) => {
      if (slot.generation === generation) this.onWorkerMessage(slot, m);
    });
    proc.on('error', (err) => log.warn(`${slot.id}: ${err.message}`));
    proc.on('exit', (code, signal) => {
      if (slot.generation === generation) this.onWorkerExit(slot, code, signal);
    });
    slot.startTimer = setTimeout(() => {
      if (slot.generation !== generation || slot.state !== 'STARTING') return;
      slot.lastError = { kind: 'TimeoutError', message: `did not start within ${STARTUP_TIMEOUT_MS / 1000} s`, at: Date.now() };
      this.killSlot(slot);
    }, STARTUP_TIMEOUT_MS + 5_000);
    this.send(slot, {
      type: 'init',
      init: {
        workerId: slot.id,
        baseProfilePath: this.config.baseProfilePath,
        profileCopyDir: slot.profileCopyDir,
        coupaUrl: this.config.coupaUrl,
        headless: this.config.headlessMode,
        browser: this.config.browser,
        remoteEndpoint: slot.remoteEndpoint,
        maxDownloadBytes: this.config.maxDownloadBytes,
        startupTimeout: STARTUP_TIMEOUT_MS,
        authTimeout: AUTH_TIMEOUT_MS,
        recoveryTimeout: RECOVERY_TIMEOUT_MS,
      },
    });
    this.emitHealth(slot);
  }

  private onWorkerMessage(slot: WorkerSlot, m: FromWorker): void {
    const { log, store } = this.options;
    switch (m.type) {
      case 'ready':
        clearTimeout(slot.startTimer);
        // The limit is on restarts that fail in a row: a worker that came up again is healthy, even
        // if something kills it again before its next PO (a crash loop on one PO is capped per task).
        slot.crashStreak = 0;
        slot.state = 'READY';
        slot.browserPids = m.browserPids;
        slot.sessionStartedAt = m.sessionStartedAt;
        log.info(`${slot.id} ready (pid ${slot.proc?.pid}${m.browserPids.length ? `, browser ${m.browserPids[0]}` : ''})`);
        this.emitHealth(slot);
        this.settle(slot);
        this.dispatch();
        break;
      case 'startFailed': {
        clearTimeout(slot.startTimer);
        slot.lastError = { ...m.error, at: Date.now() };
        this.crashOnExit(slot, errorFromWire(m.error));
        break;
      }
      case 'result': {
        const current = this.takeCurrent(slot, m.taskId);
        if (!current) break;
        slot.crashStreak = 0;
        slot.tasksDone++;
        const eased = this.rate.succeeded();
        if (eased) log.info(eased);
        const task = store.get(m.taskId)!;
        this.complete(task, m.result, slot.id);
        this.afterTask(slot);
        break;
      }
      case 'taskError': {
        const current = this.takeCurrent(slot, m.taskId);
        if (!current) break;
        slot.tasksDone++;
        this.noteError(slot, m.error);
        if (m.error.data?.status === 429) {
          // This worker's PO has just been released: it was running too when Coupa said 429.
          const slowDown = this.rate.limited(this.runningCount() + 1, Number(m.error.data.retryAfterMs) || undefined);
          if (slowDown) log.warn(slowDown);
        }
        const task = store.get(m.taskId)!;
        this.failAttempt(task, m.error, slot.id);
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

  /** Remembers why, so the exit that follows is reported with the real cause. */
  private pendingCause = new Map<WorkerSlot, PoolError>();
  private lastFatal?: PoolError;

  private crashOnExit(slot: WorkerSlot, error: PoolError): void {
    this.pendingCause.set(slot, error);
    // A worker that reported a failure exits by itself; make sure of it.
    setTimeout(() => {
      if (this.pendingCause.get(slot) === error) this.killSlot(slot);
    }, 5_000).unref();
  }

  private onWorkerExit(slot: WorkerSlot, code: number | null, signal: NodeJS.Signals | null): void {
    clearTimeout(slot.startTimer);
    slot.proc = undefined;
    const cause = this.pendingCause.get(slot);
    this.pendingCause.delete(slot);
    if (slot.state === 'TERMINATING' || slot.state === 'RESTARTING') {
      killPids(slot.browserPids);
      slot.browserPids = [];
      this.removeWorkerFiles(slot);
      if (slot.current) this.requeueCurrent(slot, false);
      if (slot.state === 'RESTARTING') {
        this.spawnWorker(slot);
      } else {
        slot.state = 'TERMINATED';
        this.emitHealth(slot);
        this.settle(slot);
      }
      return;
    }
    const hung = slot.current?.hung;
    const error = cause ?? (hung
      ? new TimeoutError(`no answer for ${slot.current?.poNumber} within its timeout; the worker was stopped`)
      : slot.lastError && slot.state === 'STARTING' && slot.lastError.kind === 'TimeoutError'
        ? errorFromWire(slot.lastError)
        : new PoolError(`worker process exited (${signal ?? `code ${code}`})`));
    this.onWorkerCrashed(slot.id, error);
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
      this.assign(slot, task);
      running++;
    }
    this.updateState();
  }

  private assign(slot: WorkerSlot, task: TaskInfo): void {
    const timeoutSec = task.timeoutOverride ?? this.config.taskTimeout;
    const timeoutMs = timeoutSec * 1000;
    this.options.store.markStarted(task.taskId, slot.id);
    slot.state = 'PROCESSING';
    const timer = setTimeout(() => {
      if (slot.current?.taskId !== task.taskId) return;
      slot.current.hung = true;
      this.options.log.warn(`${slot.id}: ${task.poNumber} has run past ${timeoutSec} s; stopping the worker`);
      this.killSlot(slot);
    }, timeoutMs + HUNG_GRACE_MS);
    slot.current = { taskId: task.taskId, poNumber: task.poNumber, timer, hung: false };
    this.send(slot, { type: 'process', task: { taskId: task.taskId, poNumber: task.poNumber, downloadDir: task.downloadDir, timeoutMs } });
    this.emitHealth(slot);
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
      slot.recycle = false;
      this.restartSlot(slot, false);
    } else {
      slot.state = 'IDLE';
      this.emitHealth(slot);
    }
    this.dispatch();
  }

  /** Ends the worker's process and starts a fresh one (crash restarts also count towards the limit). */
  private restartSlot(slot: WorkerSlot, afterCrash: boolean): void {
    slot.restarts++;
    slot.recycle = false;
    if (!slot.proc) {
      const delay = afterCrash ? Math.min(1000 * slot.crashStreak, 5000) : 0;
      slot.state = 'RESTARTING';
      this.emitHealth(slot);
      setTimeout(() => {
        if (slot.state === 'RESTARTING' && this.poolState !== 'SHUTTING_DOWN' && this.poolState !== 'TERMINATED') this.spawnWorker(slot);
      }, delay).unref();
      return;
    }
    slot.state = 'RESTARTING';
    this.emitHealth(slot);
    this.send(slot, { type: 'terminate', force: true });
    const proc = slot.proc;
    setTimeout(() => {
      if (slot.proc === proc) this.killSlot(slot);
    }, FORCE_TIMEOUT_MS).unref();
  }

  /** Crash accounting: a task whose worker died goes back to the head of its priority. */
  private requeueCurrent(slot: WorkerSlot, crashed: boolean): void {
    const current = this.releaseTask(slot);
    if (!current) return;
    const { store, log } = this.options;
    const task = store.get(current.taskId);
    if (!task || task.status !== 'RUNNING') return;
    this.clearWork(task);
    const crashes = store.crashesOf(task.taskId) + (crashed ? 1 : 0);
    if (crashed) {
      if (crashes >= MAX_CRASHES_PER_TASK) {
        const kind = current.hung ? 'TimeoutError' : 'WorkerError';
        log.error(`${task.poNumber}: its worker died ${crashes} times while processing it; giving up`);
        this.complete(task, emptyResult(task.poNumber, current.hung ? 'TIMEOUT' : 'FAILED', {
          kind, message: `the worker died ${crashes} times while processing this PO`,
        }), slot.id);
        return;
      }
    }
    store.requeue(task.taskId, task.retryCount, 0, crashes);
  }

  /** One attempt failed: retry with backoff, or record the final outcome. */
  private failAttempt(task: TaskInfo, error: WireError, workerId: string): void {
    const { store, log } = this.options;
    if (error.kind === 'PONotFoundError') {
      this.complete(task, emptyResult(task.poNumber, 'PO_NOT_FOUND', error), workerId);
      return;
    }
    if (isRetryable(error.kind) && task.retryCount < this.config.maxRetries && this.poolState !== 'SHUTTING_DOWN') {
      const retryCount = task.retryCount + 1;
      const base = this.options.retryBaseMs ?? 1000;
      const backoff = Math.min(30_000, base * 2 ** (retryCount - 1));
      const delay = Math.max(backoff, Number(error.data?.retryAfterMs ?? 0));
      log.info(`${task.poNumber}: ${error.kind} (${error.message}); retry ${retryCount}/${this.config.maxRetries} in ${(delay / 1000).toFixed(1)} s`);
      store.requeue(task.taskId, retryCount, delay);
      return;
    }
    this.complete(task, emptyResult(task.poNumber, error.kind === 'TimeoutError' ? 'TIMEOUT' : 'FAILED', error), workerId);
  }

  private complete(task: TaskInfo, result: POResult, workerId: string): void {
    const full: TaskResult = { ...result, taskId: task.taskId, workerId, attempts: task.retryCount + 1 };
    this.options.store.finish(task.taskId, result.status, full);
    this.finishedAt.push(Date.now());
    this.onTaskCompleted({ taskId: task.taskId, poNumber: task.poNumber }, full);
  }

  private removeWorkerFiles(slot: WorkerSlot): void {
    removeProfileCopy(slot.profileCopyDir);
    rmSync(this.workerTmpDir(slot), { recursive: true, force: true });
  }

  private killSlot(slot: WorkerSlot): void {
    const proc = slot.proc;
    if (!proc?.pid) return;
    killPids(slot.browserPids);
    killPids([proc.pid]);
  }

  private send(slot: WorkerSlot, message: ToWorker): void {
    try {
      slot.proc?.send(message);
    } catch {
      // The exit handler deals with a worker that is gone.
    }
  }

  private settle(slot: WorkerSlot): void {
    const done = slot.onSettled;
    slot.onSettled = undefined;
    done?.();
  }

  // ---- memory ----

  private systemMemory(): { total: number; used: number } {
    if (this.options.systemMemory) return this.options.systemMemory();
    const total = totalmem();
    return { total, used: total - freemem() };
  }

  private async sampleMemory(): Promise<void> {
    const live = this.slots.filter((s) => s.proc?.pid);
    for (const slot of live) if (slot.state !== 'STARTING') this.send(slot, { type: 'health' });
    const pids = live.map((s) => s.proc!.pid!);
    const trees = await descendants(pids);
    // A worker may have exited during the await: use the pids read before it, never slot.proc.
    const all = pids.flatMap((pid) => [pid, ...(trees.get(pid) ?? [])]);
    const rss = await residentMemory(all);
    for (const slot of live) {
      const pid = slot.proc?.pid;
      if (!pid) continue;
      const tree = trees.get(pid) ?? [];
      slot.memoryBytes = [pid, ...tree].reduce((sum, p) => sum + (rss.get(p) ?? 0), 0);
      if (!slot.remoteEndpoint && tree.length) slot.browserPids = tree;
      this.emitHealth(slot);
    }
    const { total, used } = this.systemMemory();
    this.lastSystemUsage = used / total;
    if (this.lastSystemUsage > this.config.memoryThreshold && this.poolState !== 'SHUTTING_DOWN') {
      this.onMemoryThresholdExceeded(this.lastSystemUsage);
    }
  }

  // ---- shutdown ----

  private async doShutdown(timeoutMs: number): Promise<boolean> {
    const { log } = this.options;
    if (this.poolState === 'TERMINATED') return true;
    this.setState('SHUTTING_DOWN');
    clearInterval(this.monitor);
    clearTimeout(this.wakeTimer);
    log.info(`shutting down (${(timeoutMs / 1000).toFixed(0)} s for running tasks)`);
    const exited = () => this.slots.every((s) => !s.proc);
    for (const slot of this.slots) {
      if (!slot.proc) {
        slot.state = 'TERMINATED';
        continue;
      }
      slot.state = 'TERMINATING';
      this.send(slot, { type: 'terminate', force: false });
      this.emitHealth(slot);
    }
    let clean = await waitFor(exited, timeoutMs);
    if (!clean) {
      log.warn('graceful shutdown timed out; forcing');
      for (const slot of this.slots) this.send(slot, { type: 'terminate', force: true });
      if (!(await waitFor(exited, FORCE_TIMEOUT_MS / 2))) {
        for (const slot of this.slots) this.killSlot(slot);
        await waitFor(exited, FORCE_TIMEOUT_MS / 2);
      }
    }
    for (const slot of this.slots) {
      killPids(slot.browserPids);
      if (slot.current) this.requeueCurrent(slot, false);
      slot.state = 'TERMINATED';
      this.emitHealth(slot);
      this.settle(slot);
    }
    this.clearProfileCopies();
    clean = clean && !this.lastFatal;
    // A pool stopped by profile corruption stays in ERROR, so the reason is what users see.
    this.setState(this.lastFatal ? 'ERROR' : 'TERMINATED');
    log.info(`pool shut down${clean ? '' : ' (forced)'}`);
    return clean;
  }

  /** Short, and named after this state folder, so leftovers of a killed supervisor can be found. */
  private workerTmpDir(slot: WorkerSlot): string {
    return join(tmpdir(), `${this.tmpPrefix}${slot.id.replace('worker-', 'w')}-${slot.generation}`);
  }

  private get tmpPrefix(): string {
    return `ppool-${createHash('sha256').update(this.options.profilesDir).digest('hex').slice(0, 8)}-`;
  }

  private clearProfileCopies(): void {
    const clear = (dir: string, match: (name: string) => boolean) => {
      try {
        for (const name of readdirSync(dir)) if (match(name)) rmSync(join(dir, name), { recursive: true, force: true });
      } catch {
        // No folder yet: nothing to clear.
      }
    };
    clear(this.options.profilesDir, () => true);
    clear(tmpdir(), (name) => name.startsWith(this.tmpPrefix));
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

  private assertAccepting(): void {
    if (this.poolState === 'SHUTTING_DOWN' || this.poolState === 'TERMINATED') {
      throw new PoolShutdownError(`the pool is ${this.poolState === 'TERMINATED' ? 'shut down' : 'shutting down'}; start it again to submit`);
    }
  }

  /** READY and PROCESSING follow the work; other states are set where they happen. */
  private updateState(): void {
    if (this.poolState !== 'READY' && this.poolState !== 'PROCESSING') return;
    const busy = this.slots.some((s) => s.current) || this.options.store.queued > 0;
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
    this.wakeTimer = setTimeout(() => this.dispatch(), Math.max(0, at - Date.now()) + 5);
    this.wakeTimer.unref();
  }

  private noteError(slot: WorkerSlot, error: WireError): void {
    const at = Date.now();
    slot.lastError = { ...error, at };
    const entry = (this.errorsByKind[error.kind] ??= { count: 0, lastAt: at });
    entry.count++;
    entry.lastAt = at;
    this.lastErrorAt = at;
  }

  private emitHealth(slot: WorkerSlot): void {
    this.emit('health', slot.health());
  }
}

function emptyResult(poNumber: string, status: POResult['status'], error: WireError): POResult {
  const now = Date.now();
  return { poNumber, status, attachments: [], files: [], timings: { startedAt: now, finishedAt: now, navigationMs: 0, downloadMs: 0 }, error };
}

function mb(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MB`;
}

async function waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
