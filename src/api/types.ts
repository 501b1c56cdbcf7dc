/**
 * The shapes of the library's requests and answers. They mirror the protocol's (the compiler holds
 * them together where the library passes one for the other), declared here so that the published
 * types need nothing but Node's own: the protocol's module also holds its JSON-RPC method objects.
 */
import type { PoolConfig, POTaskInput, TaskHandle, TaskStatus } from '../protocol/types';

/** `PoolConfig` fields to start with (the rest keep their defaults). */
export type StartOptions = Partial<PoolConfig> & {
  /** The supervisor exits after this many minutes with nothing queued and no client attached. */
  idleShutdownMinutes?: number;
};

export interface SubmitOptions {
  /** Where these POs' files go (made absolute); default: the pool's `downloadDir`. */
  downloadDir?: string;
  /** Download POs again even when already done in that folder. */
  redo?: boolean;
  /** For POs given as plain numbers: higher runs first (default 0). */
  priority?: number;
}

/** A PO number, or a task with its own priority, timeout and metadata. */
export type TaskInput = string | POTaskInput;

export interface SubmitResult {
  handles: TaskHandle[];
  /**
   * POs not submitted because a task for the same PO, tenant and folder is queued or running, or
   * succeeded with its files still in that folder.
   */
  duplicates: { poNumber: string; taskId: string; status: TaskStatus }[];
  /** Entries that were not PO numbers. */
  invalid: { poNumber: string; reason: string }[];
}

export interface ListOptions {
  status?: TaskStatus[];
  poNumbers?: string[];
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  time: number;
  level: LogLevel;
  message: string;
  workerId?: string;
}
