/**
 * One place in the pool and the worker process that fills it: forking it with its own temporary
 * folder, the IPC to it, its health as the pool reports it, and killing it with its browser. The
 * pool decides what happens; a slot only does it and says what it saw.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { WireError } from '../protocol/errors';
import type { WorkerHealth, WorkerState } from '../protocol/types';
import type { FromWorker, ToWorker, WorkerInit } from '../protocol/workerMessages';
import { killPids } from '../shared/processTree';
import { removeProfileCopy } from '../shared/profile';
import { forkBrowserOwner } from './browserOwner';
import type { Logger } from './log';

export interface SpawnOptions {
  /** dist/worker.js */
  workerScript: string;
  /** The runtime workers run with; the supervisor's own by default. */
  execPath?: string;
  log: Logger;
  /** Where this slot's temporary folder is made: short (Chromium's socket path must stay under ~107 bytes). */
  tmpRoot: string;
  /** A prefix naming this pool's folders, so a killed supervisor's leftovers can be found. */
  tmpPrefix: string;
  onMessage(slot: WorkerSlot, message: FromWorker): void;
  onExit(slot: WorkerSlot, code: number | null, signal: NodeJS.Signals | null): void;
  /** The worker's `init` could not be made (its shared browser did not start): the worker is to be stopped. */
  onInitFailed(slot: WorkerSlot, error: unknown): void;
}

export interface CurrentTask {
  taskId: string;
  poNumber: string;
  timer: NodeJS.Timeout;
  hung: boolean;
  /** Epoch ms: the PO's whole time limit, across its attempts. */
  deadline: number;
}

export class WorkerSlot {
  state: WorkerState = 'STARTING';
  proc?: ChildProcess;
  /** Restarts in a row that failed before the worker came up; the restart limit applies to this. */
  crashStreak = 0;
  /** When this worker crashed lately: many crashes in a short time retire it even if it always comes up. */
  crashTimes: number[] = [];
  restarts = 0;
  tasksDone = 0;
  current?: CurrentTask;
  browserPids: number[] = [];
  memoryBytes = 0;
  lastError?: WireError & { at: number };
  sessionStartedAt?: number;
  /** Restart after the current task (memory pressure or a session error). */
  recycle = false;
  /** Why the pool stopped restarting it. */
  retired?: { reason: string; at: number };
  startTimer?: NodeJS.Timeout;
  restartTimer?: NodeJS.Timeout;
  profileCopyDir = '';
  tmpDir = '';
  /** Bumped at every spawn: messages and exits of an earlier process are ignored. */
  generation = 0;
  /** Called once when the slot first settles (READY or given up on), for `start()`. */
  onSettled?: () => void;

  constructor(readonly id: string, readonly remoteEndpoint: string | undefined) {}

  get live(): boolean {
    return this.state !== 'TERMINATED' && this.state !== 'CRASHED';
  }

  /** Up and able to take a PO now or after the current one. */
  get up(): boolean {
    return this.state === 'READY' || this.state === 'IDLE' || this.state === 'PROCESSING';
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
      ...(this.retired ? { retired: this.retired } : {}),
    };
  }

  /**
   * Forks a new worker process and sends it `init` once that is known (a shared browser may still be
   * starting); the slot is STARTING until the worker says ready.
   */
  spawn(options: SpawnOptions, init: (slot: WorkerSlot) => WorkerInit | Promise<WorkerInit>): void {
    const { log } = options;
    const generation = ++this.generation;
    this.state = 'STARTING';
    this.browserPids = [];
    this.memoryBytes = 0;
    this.sessionStartedAt = undefined;
    const { proc, tmpDir } = forkBrowserOwner({
      script: options.workerScript, execPath: options.execPath, tmpRoot: options.tmpRoot, tmpPrefix: options.tmpPrefix,
      tag: this.id.replace('worker-', 'w'), id: this.id, log,
    });
    this.tmpDir = tmpDir;
    this.proc = proc;
    proc.on('message', (m: FromWorker) => {
      if (this.generation === generation) options.onMessage(this, m);
    });
    proc.on('exit', (code, signal) => {
      if (this.generation === generation) options.onExit(this, code, signal);
    });
    Promise.resolve(init(this)).then(
      (ready) => {
        if (this.generation === generation) this.send({ type: 'init', init: ready });
      },
      (err: unknown) => {
        if (this.generation === generation) options.onInitFailed(this, err);
      },
    );
  }

  send(message: ToWorker): void {
    try {
      this.proc?.send(message);
    } catch {
      // The exit handler deals with a worker that is gone.
    }
  }

  /** SIGKILL to the worker and its browser processes (read beforehand: the browser outlives a killed worker). */
  kill(): void {
    const pid = this.proc?.pid;
    if (!pid) return;
    killPids(this.browserPids);
    killPids([pid]);
  }

  /** The browser processes left by a dead worker, its profile copy and its temporary folder. */
  cleanUp(): void {
    killPids(this.browserPids);
    this.browserPids = [];
    removeProfileCopy(this.profileCopyDir);
    if (this.tmpDir) rmSync(this.tmpDir, { recursive: true, force: true });
  }

  settle(): void {
    const done = this.onSettled;
    this.onSettled = undefined;
    done?.();
  }
}
