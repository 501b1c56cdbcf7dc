/**
 * Turning command-line text into typed values. Ranges are the supervisor's to check (it names the
 * field and the allowed range); here a value only has to be the right kind of thing.
 */
import { InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import type { StartPoolParams } from '../protocol/rpc';
import { taskStatuses, type TaskStatus } from '../protocol/types';

export function parseWholeNumber(value: string): number {
  if (!/^\s*-?\d+\s*$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}

export function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number');
  return n;
}

/** For options given more than once: `--remote ws://a --remote ws://b`. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--status FAILED TIMEOUT`, `--status failed,timeout`. */
export function collectStatuses(value: string, previous: TaskStatus[] = []): TaskStatus[] {
  const out = [...previous];
  for (const part of value.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean)) {
    if (!(taskStatuses as readonly string[]).includes(part)) {
      throw new InvalidArgumentError(`"${part}" is not a task status (${taskStatuses.join(', ')})`);
    }
    out.push(part as TaskStatus);
  }
  return out;
}

/** The options `start`, `run` share. */
export interface PoolOptions {
  coupa?: string;
  profile?: string;
  workers?: number;
  out: string;
  headed?: boolean;
  browser?: string;
  remote?: string[];
  taskTimeout?: number;
  memoryThreshold?: number;
  idleMinutes?: number;
}

/** The supervisor runs in another folder than the shell, so paths go to it absolute. */
export function startParams(options: PoolOptions, cwd = process.cwd()): StartPoolParams {
  const params: StartPoolParams = {
    downloadDir: resolve(cwd, options.out),
    headlessMode: !options.headed,
  };
  if (options.coupa !== undefined) params.coupaUrl = options.coupa;
  if (options.profile !== undefined) params.baseProfilePath = resolve(cwd, options.profile);
  if (options.workers !== undefined) params.workerCount = options.workers;
  // A browser is a name (`chrome`) or an executable's path, which must be absolute too.
  if (options.browser !== undefined) params.browser = /[\\/]/.test(options.browser) ? resolve(cwd, options.browser) : options.browser;
  if (options.remote?.length) params.remoteEndpoints = options.remote;
  if (options.taskTimeout !== undefined) params.taskTimeout = options.taskTimeout;
  if (options.memoryThreshold !== undefined) params.memoryThreshold = options.memoryThreshold;
  if (options.idleMinutes !== undefined) params.idleShutdownMinutes = options.idleMinutes;
  return params;
}

/** Submissions go in batches so one request never carries an unbounded list. */
export const SUBMIT_BATCH = 1000;

export function batches<T>(items: T[], size = SUBMIT_BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
