/**
 * The queue's side of the pool: which idle worker takes which PO and when (within Coupa's rate and
 * each PO's whole time limit), and what a PO's answer or its worker's death does to it: its final
 * outcome, a retry after backoff, or its place back in the queue. The decisions are in
 * outcomePolicy.ts; starting and stopping workers is the pool's, asked for through `restart`.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { WireError } from '../protocol/errors';
import type { PoolConfig, PoolState, POResult, TaskInfo, TaskResult } from '../protocol/types';
import type { FromWorker } from '../protocol/workerMessages';
import type { Logger } from './log';
import type { PoolMetrics } from './metrics';
import { afterTaskError, afterWorkerDeath, timerDelay } from './outcomePolicy';
import { RateGovernor } from './rateGovernor';
import type { TaskStore } from './taskStore';
import type { WorkerSlot } from './workerSlot';

/** Beyond the task's own timeout, how long the supervisor waits before it calls a worker hung. */
const HUNG_GRACE_MS = 15_000;

/** A worker's answer for the PO it was given. */
export type TaskAnswer = Extract<FromWorker, { type: 'result' | 'taskError' }>;

/** What dispatch needs of the pool. */
export interface DispatchContext {
  readonly config: PoolConfig;
  readonly store: TaskStore;
  readonly log: Logger;
  readonly tenant: string;
  readonly slots: readonly WorkerSlot[];
  readonly metrics: PoolMetrics;
  /** Milliseconds before the first retry. */
  readonly retryBaseMs: number;
  state(): PoolState;
  updateState(): void;
  emitHealth(slot: WorkerSlot): void;
  noteError(slot: WorkerSlot, error: WireError): void;
  /** Ends the worker's process on purpose and starts a fresh one. */
  restart(slot: WorkerSlot): void;
  /** The contract's callback, once the outcome is journalled. */
  taskCompleted(task: TaskInfo, result: TaskResult): void;
}

export class Dispatcher {
  private readonly rate: RateGovernor;
  private wakeTimer?: NodeJS.Timeout;
  /** Each task's whole time limit, across its attempts (kept in memory: a supervisor restart gives a fresh one). */
  private readonly deadlines = new Map<string, number>();

  constructor(private readonly pool: DispatchContext) {
    this.rate = new RateGovernor(pool.config.workerCount);
  }

  dispatch(): void {
    const state = this.pool.state();
    if (state !== 'READY' && state !== 'PROCESSING') return;
    const { store } = this.pool;
    let running = this.runningCount();
    for (const slot of this.pool.slots) {
      if (slot.state !== 'READY' && slot.state !== 'IDLE') continue;
      const allowed = this.rate.mayStart(running);
      if (!allowed.ok) {
        if (allowed.wakeAt) this.wakeAt(allowed.wakeAt);
        break;
      }
      const { task, wakeAt } = store.next(this.pool.tenant);
      if (!task) {
        if (wakeAt) this.wakeAt(wakeAt);
        break;
      }
      if (this.assign(slot, task)) running++;
    }
    this.pool.updateState();
  }

  runningCount(): number {
    return this.pool.slots.filter((s) => s.current).length;
  }

  /** The pool stops: no more wake-ups to dispatch. */
  stop(): void {
    clearTimeout(this.wakeTimer);
  }

  /** A task run again from nothing gets a fresh time limit. */
  forget(taskId: string): void {
    this.deadlines.delete(taskId);
  }

  /** Applies a worker's answer for its current PO; an answer for any other PO is stale and ignored. */
  answer(slot: WorkerSlot, m: TaskAnswer): void {
    const { log, store } = this.pool;
    const current = this.takeCurrent(slot, m.taskId);
    if (!current) return;
    this.answered(slot);
    if (m.type === 'result') {
      const eased = this.rate.succeeded();
      if (eased) log.info(eased);
      this.complete(store.get(m.taskId)!, m.result, slot.id);
    } else {
      this.pool.noteError(slot, m.error);
      if (m.error.data?.status === 429) {
        // This worker's PO has just been released: it was running too when Coupa said 429.
        const slowDown = this.rate.limited(this.runningCount() + 1, Number(m.error.data.retryAfterMs) || undefined);
        if (slowDown) log.warn(slowDown);
      }
      this.failAttempt(store.get(m.taskId)!, m.error, slot.id, current.deadline);
      if (m.error.kind === 'AuthenticationError' || m.error.kind === 'SessionCorruptionError') slot.recycle = true;
    }
    this.afterTask(slot);
  }

  /** Takes the slot's PO from it (no answer is awaited any more) and returns it. */
  releaseTask(slot: WorkerSlot) {
    const current = slot.current;
    if (current) clearTimeout(current.timer);
    slot.current = undefined;
    return current;
  }

  /** A task whose worker stopped goes back to the head of its priority, unless it has had enough. */
  requeueCurrent(slot: WorkerSlot, crashed: boolean): void {
    const current = this.releaseTask(slot);
    if (!current) return;
    const { store, log } = this.pool;
    const task = store.get(current.taskId);
    if (!task || task.status !== 'RUNNING') return;
    clearWork(task);
    const crashes = store.crashesOf(task.taskId) + (crashed ? 1 : 0);
    const decision = afterWorkerDeath(crashes, current.hung, crashed && Date.now() >= current.deadline);
    if (!decision.requeue) {
      log.error(`${task.poNumber}: ${decision.error.message}; giving up`);
      this.complete(task, emptyResult(task, decision.status, decision.error), slot.id);
      return;
    }
    store.requeue(task.taskId, task.retryCount, 0, crashes);
  }

  /** Starts `task` on `slot`; false when its time ran out in the queue (it is then final). */
  private assign(slot: WorkerSlot, task: TaskInfo): boolean {
    const now = Date.now();
    const timeoutMs = (task.timeoutOverride ?? this.pool.config.taskTimeout) * 1000;
    let deadline = this.deadlines.get(task.taskId);
    if (deadline === undefined) this.deadlines.set(task.taskId, (deadline = now + timeoutMs));
    if (deadline - now < 1000) {
      this.complete(task, emptyResult(task, 'TIMEOUT', { kind: 'TimeoutError', message: `no time left of its ${timeoutMs / 1000} s` }), slot.id);
      return false;
    }
    clearWork(task);
    this.pool.store.markStarted(task.taskId, slot.id);
    slot.state = 'PROCESSING';
    const attemptMs = deadline - now;
    const timer = setTimeout(() => {
      if (slot.current?.taskId !== task.taskId) return;
      slot.current.hung = true;
      this.pool.log.warn(`${slot.id}: ${task.poNumber} has run past its ${Math.round(timeoutMs / 1000)} s; stopping the worker`);
      slot.kill();
    }, timerDelay(attemptMs + HUNG_GRACE_MS));
    slot.current = { taskId: task.taskId, poNumber: task.poNumber, timer, hung: false, deadline };
    slot.send({ type: 'process', task: { taskId: task.taskId, poNumber: task.poNumber, downloadDir: task.downloadDir, timeoutMs: attemptMs } });
    this.pool.emitHealth(slot);
    return true;
  }

  private takeCurrent(slot: WorkerSlot, taskId: string) {
    if (slot.current?.taskId !== taskId) return undefined;
    return this.releaseTask(slot);
  }

  /** The worker answered for a PO, so it is working: earlier crashes no longer count towards retiring it. */
  private answered(slot: WorkerSlot): void {
    slot.tasksDone++;
    slot.crashTimes = [];
  }

  private afterTask(slot: WorkerSlot): void {
    if (this.pool.state() === 'SHUTTING_DOWN') {
      this.pool.emitHealth(slot);
      return;
    }
    if (slot.recycle) {
      this.pool.restart(slot);
    } else {
      slot.state = 'IDLE';
      this.pool.emitHealth(slot);
    }
    this.dispatch();
  }

  /** One attempt failed: retry with backoff, or record the final outcome. */
  private failAttempt(task: TaskInfo, error: WireError, workerId: string, deadline: number): void {
    const { config } = this.pool;
    const decision = afterTaskError(error, {
      retryCount: task.retryCount, maxRetries: config.maxRetries, retryBaseMs: this.pool.retryBaseMs,
      deadline, shuttingDown: this.pool.state() === 'SHUTTING_DOWN', now: Date.now(),
    });
    if (!decision.retry) {
      this.complete(task, emptyResult(task, decision.status, decision.error), workerId);
      return;
    }
    this.pool.log.info(`${task.poNumber}: ${decision.why}; retry ${decision.retryCount}/${config.maxRetries} in ${(decision.delayMs / 1000).toFixed(1)} s`);
    this.pool.store.requeue(task.taskId, decision.retryCount, decision.delayMs);
  }

  private complete(task: TaskInfo, result: POResult, workerId: string): void {
    const full: TaskResult = { ...result, taskId: task.taskId, workerId, attempts: task.retryCount + 1 };
    this.pool.store.finish(task.taskId, result.status, full);
    this.pool.metrics.taskFinished();
    this.pool.taskCompleted(task, full);
  }

  private wakeAt(at: number): void {
    clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => this.dispatch(), timerDelay(at - Date.now() + 5));
    this.wakeTimer.unref();
  }
}

/** A PO's unfinished working folders in its download folder; a re-run starts from nothing. */
export function clearWork(task: TaskInfo): void {
  const work = join(task.downloadDir, '.work');
  try {
    for (const name of readdirSync(work)) {
      if (name === task.poNumber || name.startsWith(`${task.poNumber}-`)) rmSync(join(work, name), { recursive: true, force: true });
    }
  } catch {
    // nothing there
  }
}

function emptyResult(task: TaskInfo, status: POResult['status'], error: WireError): POResult {
  const now = Date.now();
  const evidence = error.data?.evidence as POResult['evidence'] | undefined;
  return {
    poNumber: task.poNumber, status, attachments: [], files: [], timings: { startedAt: task.startedAt ?? now, finishedAt: now, navigationMs: 0, downloadMs: 0 }, error,
    ...(evidence ? { evidence } : {}),
  };
}
