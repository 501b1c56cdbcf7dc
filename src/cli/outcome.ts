/**
 * What the CLI's exit code says, and the one line on stderr when a command cannot do its job.
 * Scripts rely on these codes: 0 every PO succeeded, 1 some did not, 2 the command itself failed,
 * 124 its --timeout came first, 130 it was interrupted.
 */
import { PoolError } from '../protocol/errors';
import { successStatuses, type OutcomeStatus, type TaskInfo, type TaskStatus } from '../protocol/types';
import { printable } from './printable';

export const EXIT_OK = 0;
export const EXIT_PO_FAILED = 1;
export const EXIT_USAGE = 2;
/** `--timeout` passed first; as timeout(1) says it, so a script can tell "not yet" from "went wrong". */
export const EXIT_TIMEOUT = 124;
/** Ctrl-C while following: the shell's convention (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/** A mistake in how the CLI was called, or a state it cannot work in; always exit code 2. */
export class UsageError extends Error {
  readonly kind = 'UsageError';
}

/** `wait --timeout` or `run --timeout` passed before the POs finished; exit code 124. The pool keeps working. */
export class DeadlineError extends Error {
  readonly kind = 'TimeoutError';
}

/** `po-pool: <Kind>: <message>`, on one line and printable whatever the message holds. */
export function errorLine(err: unknown): string {
  const kind = err instanceof PoolError || err instanceof UsageError || err instanceof DeadlineError ? err.kind : 'Error';
  const message = printable(err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
  return `po-pool: ${kind}: ${message}`;
}

/** The exit code of a command that threw. */
export function exitCodeOfError(err: unknown): number {
  return err instanceof DeadlineError ? EXIT_TIMEOUT : EXIT_USAGE;
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
 * The latest task of each PO in each place (tenant and download folder), in first-seen order: a PO
 * submitted again with `--redo` is judged by its newest attempt, as the folder's report does, and
 * the same PO in another folder is another PO.
 */
export function latestTasks(tasks: TaskInfo[]): TaskInfo[] {
  const latest = new Map<string, TaskInfo>();
  for (const task of tasks) {
    const key = `${task.tenant}\n${task.downloadDir}\n${task.poNumber}`;
    const prior = latest.get(key);
    if (!prior || task.submittedAt >= prior.submittedAt) latest.set(key, task);
  }
  return [...latest.values()];
}
