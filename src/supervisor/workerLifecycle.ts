/**
 * The workers' lives: spawning each with its profile copy or its context in a shared browser, the
 * start-up deadline, what its exit means (a crash with its real cause, or a stop that was asked
 * for), restarting it, retiring it, and stopping them all. The pool says when; this does it and
 * reports back through the context. Queue work is the dispatcher's, reached through the context too.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { errorFromWire, InsufficientResourcesError, PoolError, TimeoutError, WorkerError } from '../protocol/errors';
import type { PoolConfig } from '../protocol/types';
import type { FromWorker } from '../protocol/workerMessages';
import { removeProfileCopy } from '../shared/profile';
import { BrowserHosts } from './browserHosts';
import type { TaskAnswer } from './dispatcher';
import type { Logger } from './log';
import { afterCrash, timerDelay } from './outcomePolicy';
import { WorkerSlot, type SpawnOptions } from './workerSlot';

export const STARTUP_TIMEOUT_MS = 30_000;
const AUTH_TIMEOUT_MS = 30_000;
const RECOVERY_TIMEOUT_MS = 15_000;
const FORCE_TIMEOUT_MS = 10_000;

/** What the workers' lifecycle needs of the pool. */
export interface LifecycleContext {
  readonly config: PoolConfig;
  readonly log: Logger;
  /** Where worker profile copies go. */
  readonly profilesDir: string;
  /** dist/worker.js */
  readonly workerScript: string;
  readonly execPath?: string;
  readonly slots: readonly WorkerSlot[];
  /** Whether a stopped worker is started again. */
  accepting(): boolean;
  emitHealth(slot: WorkerSlot): void;
  dispatch(): void;
  answer(slot: WorkerSlot, m: TaskAnswer): void;
  /** Puts the PO of a worker stopped on purpose back in the queue. */
  requeue(slot: WorkerSlot): void;
  /** The contract's callback, for a worker's exit nobody asked for. */
  crashed(slot: WorkerSlot, error: WorkerError): void;
  /** The last live worker was retired. */
  noWorkerLeft(error: PoolError): void;
}

export class WorkerLifecycle {
  /** The browsers workers share, when `workersPerBrowser` > 1 and browsers are local. */
  readonly hosts?: BrowserHosts;
  /** Why a worker's process is about to exit, so the exit is reported with the real cause. */
  private readonly pendingCause = new Map<WorkerSlot, PoolError>();

  constructor(private readonly pool: LifecycleContext) {
    const { config } = pool;
    if (config.workersPerBrowser > 1 && config.remoteEndpoints.length === 0) {
      this.hosts = new BrowserHosts(Math.ceil(config.workerCount / config.workersPerBrowser), {
        script: join(dirname(pool.workerScript), 'browserHost.js'),
        execPath: pool.execPath,
        log: pool.log,
        tmpRoot: tmpdir(),
        tmpPrefix: this.tmpPrefix,
        profilesDir: pool.profilesDir,
        init: {
          baseProfilePath: config.baseProfilePath, coupaUrl: config.coupaUrl, headless: config.headlessMode,
          browser: config.browser, startupTimeout: STARTUP_TIMEOUT_MS,
        },
      });
    }
  }

  /** Which shared browser a slot's worker uses: workers 1–n the first, and so on. */
  hostOf(slot: WorkerSlot): number {
    return Math.floor(this.pool.slots.indexOf(slot) / this.pool.config.workersPerBrowser);
  }

  spawn(slot: WorkerSlot): void {
    const { config } = this.pool;
    slot.profileCopyDir = join(this.pool.profilesDir, `${slot.id}-${slot.generation + 1}-${Date.now().toString(36)}`);
    try {
      const init = (s: WorkerSlot) => ({
        workerId: s.id,
        baseProfilePath: config.baseProfilePath,
        profileCopyDir: s.profileCopyDir,
        coupaUrl: config.coupaUrl,
        headless: config.headlessMode,
        browser: config.browser,
        remoteEndpoint: s.remoteEndpoint,
        maxDownloadBytes: config.maxDownloadBytes,
        blockPageResources: config.blockPageResources,
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
    this.pool.emitHealth(slot);
  }

  /** Ends the worker's process on purpose (memory, a session error, a person) and starts a fresh one. */
  restart(slot: WorkerSlot): void {
    slot.restarts++;
    slot.recycle = false;
    clearTimeout(slot.restartTimer);
    slot.state = 'RESTARTING';
    this.pool.emitHealth(slot);
    if (!slot.proc) {
      if (this.pool.accepting()) this.spawn(slot);
      return;
    }
    slot.send({ type: 'terminate', force: true });
    const proc = slot.proc;
    setTimeout(() => {
      if (slot.proc === proc) slot.kill();
    }, FORCE_TIMEOUT_MS).unref();
  }

  /** A crashed worker starts again after a pause, or is retired when it keeps failing or needs a person. */
  restartOrRetire(slot: WorkerSlot, needsSignIn: boolean): void {
    const decision = afterCrash({
      streak: slot.crashStreak, crashTimes: slot.crashTimes, maxRestartAttempts: this.pool.config.maxRestartAttempts,
      needsSignIn, now: Date.now(),
    });
    if (decision.restart) {
      slot.crashStreak++;
      slot.restarts++;
      slot.restartTimer = setTimeout(() => {
        if (slot.state === 'CRASHED' && this.pool.accepting()) this.spawn(slot);
      }, timerDelay(decision.delayMs));
      slot.restartTimer.unref();
    } else {
      this.retire(slot, decision.reason);
    }
  }

  /** No more restarts: TERMINATED, with the reason logged and shown; the pool ends when none is left. */
  retire(slot: WorkerSlot, reason: string | undefined): void {
    clearTimeout(slot.restartTimer);
    slot.state = 'TERMINATED';
    if (reason) {
      slot.retired = { reason, at: Date.now() };
      const live = this.pool.slots.filter((s) => s.live).length;
      this.pool.log.error(`${slot.id} retired ${reason}; the pool goes on with ${live} worker${live === 1 ? '' : 's'}`);
      if (live === 0) this.pool.noWorkerLeft(new InsufficientResourcesError(`every worker was retired (last: ${slot.id} ${reason})`));
    }
    this.pool.emitHealth(slot);
    slot.settle();
  }

  /**
   * Asks every worker to stop after its PO, tells those still running at `deadline()` (read again:
   * a second shutdown may lower it) to stop now, then kills them. True when all stopped in time.
   */
  async stopAll(deadline: () => number): Promise<boolean> {
    const { slots, log } = this.pool;
    const exited = () => slots.every((s) => !s.proc);
    for (const slot of slots) {
      clearTimeout(slot.restartTimer);
      if (!slot.proc) {
        slot.state = 'TERMINATED';
        continue;
      }
      slot.state = 'TERMINATING';
      slot.send({ type: 'terminate', force: false });
      this.pool.emitHealth(slot);
    }
    const clean = await waitFor(exited, deadline);
    if (!clean) {
      log.warn('graceful shutdown timed out; forcing');
      for (const slot of slots) slot.send({ type: 'terminate', force: true });
      const forcedBy = Date.now() + FORCE_TIMEOUT_MS / 2;
      if (!(await waitFor(exited, () => forcedBy))) {
        for (const slot of slots) slot.kill();
        const killedBy = Date.now() + FORCE_TIMEOUT_MS / 2;
        await waitFor(exited, () => killedBy);
      }
    }
    for (const slot of slots) {
      slot.cleanUp();
      if (slot.current) this.pool.requeue(slot);
      slot.state = 'TERMINATED';
      this.pool.emitHealth(slot);
      slot.settle();
    }
    await this.hosts?.close();
    this.clearLeftovers();
    return clean;
  }

  /** Profile copies and temporary folders a killed supervisor left behind (ours only). */
  clearLeftovers(): void {
    const clear = (dir: string, match: (name: string) => boolean) => {
      try {
        for (const name of readdirSync(dir)) if (match(name)) removeProfileCopy(join(dir, name));
      } catch {
        // No folder yet: nothing to clear.
      }
    };
    clear(this.pool.profilesDir, () => true);
    clear(tmpdir(), (name) => name.startsWith(this.tmpPrefix) && ownedByMe(join(tmpdir(), name)));
  }

  /** Named after this state folder, so leftovers of a killed supervisor can be found. */
  private get tmpPrefix(): string {
    return `ppool-${createHash('sha256').update(this.pool.profilesDir).digest('hex').slice(0, 8)}-`;
  }

  private spawnOptions(): SpawnOptions {
    return {
      workerScript: this.pool.workerScript,
      execPath: this.pool.execPath,
      log: this.pool.log,
      tmpRoot: tmpdir(),
      tmpPrefix: this.tmpPrefix,
      onMessage: (slot, m) => this.onMessage(slot, m),
      onExit: (slot, code, signal) => this.onExit(slot, code, signal),
      onInitFailed: (slot, err) => {
        const error = err instanceof PoolError ? err : new WorkerError(`cannot start ${slot.id}: ${(err as Error).message}`);
        slot.lastError = { ...error.toWire(), at: Date.now() };
        this.pendingCause.set(slot, error);
        slot.kill();
      },
    };
  }

  private onMessage(slot: WorkerSlot, m: FromWorker): void {
    const { log } = this.pool;
    switch (m.type) {
      case 'ready':
        clearTimeout(slot.startTimer);
        // The streak counts restarts that fail in a row: a worker that came up again is healthy.
        slot.crashStreak = 0;
        slot.state = 'READY';
        slot.browserPids = m.browserPids;
        slot.sessionStartedAt = m.sessionStartedAt;
        log.info(`${slot.id} ready (pid ${slot.proc?.pid}${m.browserPids.length ? `, browser ${m.browserPids[0]}` : ''})`);
        this.pool.emitHealth(slot);
        slot.settle();
        this.pool.dispatch();
        break;
      case 'startFailed':
        clearTimeout(slot.startTimer);
        slot.lastError = { ...m.error, at: Date.now() };
        this.crashOnExit(slot, errorFromWire(m.error));
        break;
      case 'result':
      case 'taskError':
        this.pool.answer(slot, m);
        break;
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

  private crashOnExit(slot: WorkerSlot, error: PoolError): void {
    this.pendingCause.set(slot, error);
    // A worker that reported a failure exits by itself; make sure of it.
    setTimeout(() => {
      if (this.pendingCause.get(slot) === error) slot.kill();
    }, 5_000).unref();
  }

  private onExit(slot: WorkerSlot, code: number | null, signal: NodeJS.Signals | null): void {
    clearTimeout(slot.startTimer);
    slot.proc = undefined;
    const cause = this.pendingCause.get(slot);
    this.pendingCause.delete(slot);
    if (slot.state === 'TERMINATING' || slot.state === 'RESTARTING') {
      slot.cleanUp();
      if (slot.current) this.pool.requeue(slot);
      if (slot.state === 'RESTARTING' && this.pool.accepting()) {
        this.spawn(slot);
      } else {
        slot.state = 'TERMINATED';
        this.pool.emitHealth(slot);
        slot.settle();
      }
      this.pool.dispatch();
      return;
    }
    const hung = slot.current?.hung;
    const error = asWorkerError(cause ?? (hung
      ? new TimeoutError(`no answer for ${slot.current?.poNumber} within its timeout; the worker was stopped`)
      : slot.lastError && slot.state === 'STARTING' && slot.lastError.kind === 'TimeoutError'
        ? errorFromWire(slot.lastError)
        : new WorkerError(`worker process exited (${signal ?? `code ${code}`})`)));
    this.pool.crashed(slot, error);
  }
}

/** Crashes are the contract's WorkerError (or one of its kinds), whatever the worker said. */
function asWorkerError(error: PoolError): WorkerError {
  return error instanceof WorkerError ? error : new WorkerError(error.message, { ...error.data, cause: error.kind });
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
