/**
 * The contract's exception hierarchy, shared by every process. Errors cross process boundaries
 * (worker IPC, JSON-RPC) as `{ kind, message, data }` and are rebuilt with `errorFromWire`, so a
 * client can `instanceof`-test an error that was thrown in a worker two hops away.
 */

export type ErrorKind =
  | 'PoolError'
  | 'ConfigurationError'
  | 'ProfileCorruptionError'
  | 'InsufficientResourcesError'
  | 'PoolShutdownError'
  | 'WorkerError'
  | 'AuthenticationError'
  | 'PONotFoundError'
  | 'NetworkError'
  | 'SessionCorruptionError'
  | 'TimeoutError'
  | 'DownloadError'
  | 'UnauthorizedClientError';

export interface WireError {
  kind: ErrorKind;
  message: string;
  data?: Record<string, unknown>;
}

export class PoolError extends Error {
  readonly kind: ErrorKind = 'PoolError';
  constructor(message: string, readonly data?: Record<string, unknown>) {
    super(message);
  }
  override get name(): string {
    return this.kind;
  }
  toWire(): WireError {
    return { kind: this.kind, message: this.message, ...(this.data ? { data: this.data } : {}) };
  }
}

/** Names the offending field and its allowed range, so the message alone tells the user what to fix. */
export class ConfigurationError extends PoolError {
  override readonly kind: ErrorKind = 'ConfigurationError';
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`, { field });
  }
}
export class ProfileCorruptionError extends PoolError {
  override readonly kind: ErrorKind = 'ProfileCorruptionError';
}
export class InsufficientResourcesError extends PoolError {
  override readonly kind: ErrorKind = 'InsufficientResourcesError';
}
export class PoolShutdownError extends PoolError {
  override readonly kind: ErrorKind = 'PoolShutdownError';
}
/** A client that did not present the supervisor's token (or presented a wrong one). */
export class UnauthorizedClientError extends PoolError {
  override readonly kind: ErrorKind = 'UnauthorizedClientError';
}

export class WorkerError extends PoolError {
  override readonly kind: ErrorKind = 'WorkerError';
}
/** The Coupa session is gone and could not be re-established without a person signing in. */
export class AuthenticationError extends WorkerError {
  override readonly kind: ErrorKind = 'AuthenticationError';
}
/** Coupa says the PO does not exist (confirmed with a live session). Never retried. */
export class PONotFoundError extends WorkerError {
  override readonly kind: ErrorKind = 'PONotFoundError';
}
/** Connectivity, 5xx, 429: worth retrying with backoff. */
export class NetworkError extends WorkerError {
  override readonly kind: ErrorKind = 'NetworkError';
}
/** The browser or its profile stopped working as a session; the worker is restarted. */
export class SessionCorruptionError extends WorkerError {
  override readonly kind: ErrorKind = 'SessionCorruptionError';
}
/** A task or start-up step ran past its time limit. */
export class TimeoutError extends WorkerError {
  override readonly kind: ErrorKind = 'TimeoutError';
}
/** A file could not be downloaded or written (size cap, HTML instead of a file, disk full). */
export class DownloadError extends WorkerError {
  override readonly kind: ErrorKind = 'DownloadError';
}

const constructors: Record<ErrorKind, new (message: string, data?: Record<string, unknown>) => PoolError> = {
  PoolError,
  ConfigurationError: class extends ConfigurationError {
    constructor(message: string, data?: Record<string, unknown>) {
      super(String(data?.field ?? 'config'), message.replace(/^[^:]*: /, ''));
    }
  },
  ProfileCorruptionError,
  InsufficientResourcesError,
  PoolShutdownError,
  UnauthorizedClientError,
  WorkerError,
  AuthenticationError,
  PONotFoundError,
  NetworkError,
  SessionCorruptionError,
  TimeoutError,
  DownloadError,
};

/** JSON-RPC error codes: one per kind, in the implementation-defined server-error range. */
export const errorCodes: Record<ErrorKind, number> = {
  PoolError: -32000,
  ConfigurationError: -32001,
  ProfileCorruptionError: -32002,
  InsufficientResourcesError: -32003,
  PoolShutdownError: -32004,
  WorkerError: -32010,
  AuthenticationError: -32011,
  PONotFoundError: -32012,
  NetworkError: -32013,
  SessionCorruptionError: -32014,
  TimeoutError: -32015,
  DownloadError: -32016,
  UnauthorizedClientError: -32020,
};

export function isErrorKind(value: unknown): value is ErrorKind {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(constructors, value);
}

/** Any thrown value as a wire error; unknown errors become a plain `PoolError` with their message. */
export function toWireError(err: unknown): WireError {
  if (err instanceof PoolError) return err.toWire();
  const message = err instanceof Error ? err.message : String(err);
  return { kind: 'PoolError', message };
}

export function errorFromWire(wire: WireError): PoolError {
  const Ctor = isErrorKind(wire.kind) ? constructors[wire.kind] : PoolError;
  return new Ctor(wire.message, wire.data);
}

/** Errors the supervisor retries with backoff (a not-found PO or a bad configuration never is). */
export function isRetryable(kind: ErrorKind): boolean {
  return kind === 'NetworkError' || kind === 'TimeoutError' || kind === 'SessionCorruptionError' ||
    kind === 'WorkerError' || kind === 'AuthenticationError' || kind === 'PoolError';
}
