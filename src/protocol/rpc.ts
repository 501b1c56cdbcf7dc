/**
 * Every JSON-RPC method and notification between the supervisor and its clients (the extension,
 * the CLI, scripts), one typed object each. Both sides import these; nothing else names a method.
 * `docs/protocol.md` describes them for people.
 */
import { createHmac } from 'node:crypto';
import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { ParseResult } from './po';
import type { PoolConfig, PoolStatus, POTaskInput, TaskHandle, TaskInfo, TaskStatus, WorkerHealth } from './types';

/** Bumped when a message changes shape; a client and supervisor of different versions refuse each other. */
export const PROTOCOL_VERSION = 1;

// ---- connection ----

export interface ChallengeParams {
  /** Fresh random bytes, hex, 32 to 128 characters. */
  nonce: string;
}
/**
 * Before `hello`, the client has the supervisor show that it knows the token, so that the token
 * only ever goes to the real supervisor: `proof` is HMAC-SHA256 keyed with the token over
 * `po-pool supervisor <nonce>`, in hex.
 */
export const Challenge = new RequestType<ChallengeParams, { proof: string }, void>('challenge');

export function challengeProof(token: string, nonce: string): string {
  return createHmac('sha256', token).update(`po-pool supervisor ${nonce}`).digest('hex');
}

export interface HelloParams {
  /** The contents of the 0600 token file next to the socket. Must be the first request. */
  token: string;
  client: string;
  protocolVersion: number;
}
export interface HelloResult {
  supervisorPid: number;
  protocolVersion: number;
  stateDir: string;
  logFile: string;
}
export const Hello = new RequestType<HelloParams, HelloResult, void>('hello');

// ---- the pool ----

export type StartPoolParams = Partial<PoolConfig> & {
  /** The supervisor exits after this many minutes with nothing queued and no client attached. */
  idleShutdownMinutes?: number;
};
/**
 * Starts the pool with this configuration (fields not given keep their defaults). When a pool is
 * already running with another configuration it is an error; stop it first.
 */
export const StartPool = new RequestType<StartPoolParams, PoolStatus, void>('pool/start');

export interface StartDemoParams {
  downloadDir: string;
  workerCount?: number;
  idleShutdownMinutes?: number;
}
export interface StartDemoResult {
  status: PoolStatus;
  /** The embedded Coupa stand-in the supervisor now serves. */
  coupaUrl: string;
  /** A profile signed into the stand-in, made on first use. */
  baseProfilePath: string;
}
/** Starts the embedded Coupa stand-in inside the supervisor, signs a demo profile in, and starts the pool on it. */
export const StartDemo = new RequestType<StartDemoParams, StartDemoResult, void>('pool/startDemo');

export interface SignInParams {
  coupaUrl: string;
  /** The base profile to create or refresh. */
  profilePath: string;
  browser?: string;
  /** Seconds to wait for the person to finish signing in. */
  timeout?: number;
}
/**
 * Opens a visible browser on the base profile at Coupa's sign-in page and waits until the person
 * has signed in (through SSO or the form) or closed the window.
 */
export const SignIn = new RequestType<SignInParams, { signedIn: boolean; message: string }, void>('pool/signIn');

export interface SubmitTasksParams {
  tasks: POTaskInput[];
  /** Absolute; where these POs' files go. Default: the running pool's `downloadDir`. */
  downloadDir?: string;
  /** Run POs again even when already completed in this folder. */
  redo?: boolean;
}
export interface SubmitTasksResult {
  handles: TaskHandle[];
  /**
   * POs not submitted because a task for the same PO, tenant and folder is queued or running, or
   * succeeded with its files still in that folder.
   */
  duplicates: { poNumber: string; taskId: string; status: TaskStatus }[];
  /** Entries that were not PO numbers. */
  invalid: { poNumber: string; reason: string }[];
}
/** Acknowledged only after every accepted task is in the journal on disk. */
export const SubmitTasks = new RequestType<SubmitTasksParams, SubmitTasksResult, void>('pool/submitTasks');

export const GetStatus = new RequestType<void, PoolStatus, void>('pool/getStatus');

export interface ListTasksParams {
  offset?: number;
  /** At most 1000 a page. */
  limit?: number;
  status?: TaskStatus[];
  poNumbers?: string[];
}
export interface ListTasksResult {
  total: number;
  tasks: TaskInfo[];
}
export const ListTasks = new RequestType<ListTasksParams, ListTasksResult, void>('pool/listTasks');

export const CancelTask = new RequestType<{ taskId: string }, { cancelled: boolean; status: TaskStatus }, void>(
  'pool/cancelTask',
);

/** Queues a finished task again; with no taskId, every task that ended in a failure state. */
export const RetryTasks = new RequestType<{ taskIds?: string[] }, { handles: TaskHandle[] }, void>('pool/retryTasks');

export const RestartWorker = new RequestType<{ workerId: string }, void, void>('pool/restartWorker');

export interface ShutdownParams {
  /** Seconds for the graceful part; default from the config. */
  timeout?: number;
  /** Skip the graceful part. */
  force?: boolean;
  /** Also end the supervisor process (default true). */
  exit?: boolean;
}
/** `clean` is the contract's return value: true when shutdown completed within the timeout. */
export const Shutdown = new RequestType<ShutdownParams, { clean: boolean }, void>('pool/shutdown');

/** Reads a PO list file (.txt, .csv, .xlsx) on the supervisor's side, so clients need no parsers of their own. */
export const ReadPoFile = new RequestType<{ path: string; pattern?: string }, ParseResult, void>('pool/readPoFile');

// ---- notifications, supervisor -> client; a burst within 25 ms is merged into one ----

export const StatusChanged = new NotificationType<PoolStatus>('pool/status');
export const WorkerHealthChanged = new NotificationType<WorkerHealth[]>('pool/workerHealth');
/** Tasks whose status changed since the last notification. */
export const TasksChanged = new NotificationType<TaskInfo[]>('pool/tasks');

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export interface LogEntry {
  time: number;
  level: LogLevel;
  message: string;
  workerId?: string;
}
export const LogLine = new NotificationType<LogEntry>('pool/log');
