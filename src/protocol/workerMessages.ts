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
  /** A shared browser's cookies and storage, scoped to Coupa and its identity provider (instead of a profile). */
  storageState?: BrowserStorageState;
  maxDownloadBytes: number;
  /** PoolConfig.blockPageResources; absent = false. */
  blockPageResources?: boolean;
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
  /** Memory (PSS on Linux, see memoryShare) of the worker and the browser processes it started (a remote browser is not counted). */
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

/** Playwright's storage state (cookies and per-origin local storage), as it travels between processes. */
export interface BrowserStorageState {
  cookies: { name: string; value: string; domain: string; path: string; expires: number; httpOnly: boolean; secure: boolean; sameSite: 'Strict' | 'Lax' | 'None' }[];
  origins: { origin: string; localStorage: { name: string; value: string }[] }[];
}

/** What a browser host (dist/browserHost.js) is told: one browser that several workers' contexts share. */
export interface BrowserHostInit {
  hostId: string;
  baseProfilePath: string;
  /** Where the host copies the base profile for a moment, to read its cookies. */
  profileCopyDir: string;
  coupaUrl: string;
  headless: boolean;
  browser: string;
  /** Milliseconds. */
  startupTimeout: number;
}

export type ToBrowserHost = { type: 'init'; init: BrowserHostInit } | { type: 'terminate' };

export type FromBrowserHost =
  | { type: 'ready'; wsEndpoint: string; storageState: BrowserStorageState; browserPids: number[] }
  | { type: 'startFailed'; error: WireError }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string };
