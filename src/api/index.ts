/**
 * The library behind the `po-pool` CLI: `connect()` reaches the user's supervisor (the one the CLI
 * and the editor share), `PersistentWorkerPool` runs a pool inside the caller's process. See
 * docs/api.md.
 */
export { connect, PoolConnection, type ConnectOptions, type WaitOptions } from './connect';
export { PersistentWorkerPool, type PoolEvents, type PoolOptions } from './pool';
export type { ListOptions, LogEntry, LogLevel, StartOptions, SubmitOptions, SubmitResult, TaskInput } from './types';
export {
  AuthenticationError, ConfigurationError, DownloadError, InsufficientResourcesError, NetworkError, PoolError,
  PoolShutdownError, PONotFoundError, ProfileCorruptionError, SessionCorruptionError, TimeoutError, UnauthorizedClientError,
  WorkerError, type ErrorKind, type WireError,
} from '../protocol/errors';
export {
  isFinal, outcomeStatuses, poolStates, successStatuses, taskStatuses, workerStates,
  type DownloadedFile, type Evidence, type OutcomeStatus, type PoolConfig, type PoolState, type PoolStatus, type POResult,
  type POTask, type POTaskInput, type TaskHandle, type TaskInfo, type TaskPlace, type TaskResult, type TaskStatus,
  type WorkerHealth, type WorkerState,
} from '../protocol/types';
