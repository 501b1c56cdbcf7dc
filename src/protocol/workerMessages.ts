/**
 * The IPC between the supervisor and one worker process (Node's `fork` channel). A worker knows
 * nothing of queues: it is told to start, to process one PO, to report health, and to stop.
 */
import type { WireError } from './errors';
import type { POResult } from './types';

export interface WorkerInit {
  workerId: string;
  /** This worker's own copy of the base profile, made by the worker from `baseProfilePath`. */
  baseProfilePath: string;
  profileCopyDir: string;
  coupaUrl: string;
  headless: boolean;
  browser: string;
  remoteEndpoint?: string;
  maxDownloadBytes: number;
  /** Milliseconds. */
  startupTimeout: number;
  authTimeout: number;
  recoveryTimeout: number;
}

export interface WorkerTask {
  taskId: string;
  poNumber: string;
  /** Files land in `<downloadDir>/<PO>/`: each task has its own folder, the pool no single one. */
  downloadDir: string;
  /** Milliseconds. */
  timeoutMs: number;
}

/** The contract's `get_health_status`, as the worker itself knows it. */
export interface WorkerHealthSnapshot {
  /** Resident memory of the worker and the browser processes it started (a remote browser is not counted). */
  memoryBytes: number;
  sessionStartedAt?: number;
  sessionUptimeMs: number;
  tasksDone: number;
  currentTaskId?: string;
  currentPo?: string;
  lastError?: WireError & { at: number };
}

export type ToWorker =
  | { type: 'init'; init: WorkerInit }
  | { type: 'process'; task: WorkerTask }
  | { type: 'health' }
  | { type: 'terminate'; force: boolean };

export type FromWorker =
  | { type: 'ready'; browserPids: number[]; sessionStartedAt: number }
  | { type: 'startFailed'; error: WireError }
  | { type: 'result'; taskId: string; result: POResult }
  | { type: 'health'; health: WorkerHealthSnapshot }
  | { type: 'taskError'; taskId: string; error: WireError }
  /** The browser session died (disconnect, crash); the supervisor restarts the worker. */
  | { type: 'sessionLost'; error: WireError }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string }
  | { type: 'terminated' };
