/**
 * Turning command-line text into typed values. Ranges are the supervisor's to check (it names the
 * field and the allowed range); here a value only has to be the right kind of thing.
 */
import { InvalidArgumentError } from 'commander';
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

/** Submissions go in batches so one request never carries an unbounded list. */
export const SUBMIT_BATCH = 1000;

export function batches<T>(items: T[], size = SUBMIT_BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
