/**
 * What the CLI's exit code says, and the one line on stderr when a command cannot do its job.
 * Scripts rely on three codes only: 0 every PO succeeded, 1 some did not, 2 the command itself failed.
 */
import { PoolError } from '../protocol/errors';
import { successStatuses, type OutcomeStatus, type TaskInfo, type TaskStatus } from '../protocol/types';

export const EXIT_OK = 0;
export const EXIT_PO_FAILED = 1;
export const EXIT_USAGE = 2;
/** Ctrl-C while following: the shell's convention (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/** A mistake in how the CLI was called, or a state it cannot work in; always exit code 2. */
export class UsageError extends Error {
  readonly kind = 'UsageError';
}

/** `po-pool: <Kind>: <message>`, on one line whatever the message holds. */
export function errorLine(err: unknown): string {
  const kind = err instanceof PoolError || err instanceof UsageError ? err.kind : 'Error';
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ').trim();
  return `po-pool: ${kind}: ${message}`;
}

export function isSuccess(status: TaskStatus): boolean {
  return successStatuses.includes(status as OutcomeStatus);
}

/** `wait` and `run`: 0 only when every PO ended COMPLETED or NO_ATTACHMENTS. */
export function exitCodeFor(statuses: TaskStatus[]): number {
  return statuses.every(isSuccess) ? EXIT_OK : EXIT_PO_FAILED;
}

/**
 * The demo's sample list holds POs that do not exist on purpose, so only a PO that failed or timed
 * out makes the demo fail.
 */
export function demoExitCode(statuses: TaskStatus[]): number {
  return statuses.some((s) => s === 'FAILED' || s === 'TIMEOUT') ? EXIT_PO_FAILED : EXIT_OK;
}

/**
 * The latest task of each PO, in first-seen order: a PO submitted again with `--redo` is judged by its
 * newest attempt, as the report does.
 */
export function latestPerPo(tasks: TaskInfo[]): TaskInfo[] {
  const latest = new Map<string, TaskInfo>();
  for (const task of tasks) {
    const prior = latest.get(task.poNumber);
    if (!prior || task.submittedAt >= prior.submittedAt) latest.set(task.poNumber, task);
  }
  return [...latest.values()];
}
