/**
 * What the pool does after a PO's attempt fails or its worker dies, and whether a crashed worker is
 * started again: pure decisions, so they are tested without a browser.
 */
import { isRetryable, type WireError } from '../protocol/errors';
import type { OutcomeStatus } from '../protocol/types';

/** A task on a worker that dies this many times is failed rather than tried forever. */
export const MAX_CRASHES_PER_TASK = 3;
/** Crashes of one worker counted together when deciding to retire it. */
export const CRASH_WINDOW_MS = 10 * 60_000;
/** The longest any retry or slow-down waits: Coupa's Retry-After can say anything. */
export const MAX_RETRY_DELAY_MS = 5 * 60_000;

export type AfterFailure =
  | { retry: true; retryCount: number; delayMs: number; why: string }
  | { retry: false; status: OutcomeStatus; error: WireError };

export interface FailureContext {
  retryCount: number;
  maxRetries: number;
  /** Milliseconds before the first retry; doubles each time, capped at 30 s. */
  retryBaseMs: number;
  /** Epoch ms after which this PO may not run any more (its whole time limit). */
  deadline?: number;
  shuttingDown: boolean;
  now: number;
}

/** One attempt of a PO ended in `error`: retry it after a backoff, or record its final outcome. */
export function afterTaskError(error: WireError, ctx: FailureContext): AfterFailure {
  if (error.kind === 'PONotFoundError') return { retry: false, status: 'PO_NOT_FOUND', error };
  const final = (): AfterFailure => ({ retry: false, status: error.kind === 'TimeoutError' ? 'TIMEOUT' : 'FAILED', error });
  if (!isRetryable(error.kind) || ctx.retryCount >= ctx.maxRetries || ctx.shuttingDown) return final();
  const retryCount = ctx.retryCount + 1;
  const backoff = Math.min(30_000, ctx.retryBaseMs * 2 ** (retryCount - 1));
  const delayMs = Math.min(MAX_RETRY_DELAY_MS, Math.max(backoff, finiteMs(error.data?.retryAfterMs)));
  if (ctx.deadline !== undefined && ctx.now + delayMs >= ctx.deadline) {
    return { retry: false, status: 'TIMEOUT', error: { kind: 'TimeoutError', message: `no time left for another try (${error.message})` } };
  }
  return { retry: true, retryCount, delayMs, why: `${error.kind} (${error.message})` };
}

/**
 * The worker running a PO died (crash, kill, hang). The PO goes back to the queue unless workers
 * have died on it too often or its time is up.
 */
export function afterWorkerDeath(crashes: number, hung: boolean, deadlinePassed: boolean): { requeue: true } | { requeue: false; status: OutcomeStatus; error: WireError } {
  if (deadlinePassed) {
    return { requeue: false, status: 'TIMEOUT', error: { kind: 'TimeoutError', message: 'the PO ran out of time while its worker was stopped' } };
  }
  if (crashes < MAX_CRASHES_PER_TASK) return { requeue: true };
  return {
    requeue: false,
    status: hung ? 'TIMEOUT' : 'FAILED',
    error: { kind: hung ? 'TimeoutError' : 'WorkerError', message: `the worker died ${crashes} times while processing this PO` },
  };
}

export type AfterCrash = { restart: true; delayMs: number } | { restart: false; reason: string };

/**
 * A worker crashed. It is started again unless it has now failed to start `maxRestartAttempts`
 * times in a row, or crashed more than that many times within CRASH_WINDOW_MS (a browser that dies
 * on every PO comes up fine each time, so the streak alone would restart it for ever), or it needs
 * a person to sign in.
 */
export function afterCrash(options: { streak: number; crashTimes: number[]; maxRestartAttempts: number; needsSignIn: boolean; now: number }): AfterCrash {
  if (options.needsSignIn) return { restart: false, reason: 'until a person signs in to Coupa again' };
  if (options.streak >= options.maxRestartAttempts) {
    return { restart: false, reason: `after ${options.streak} restart${options.streak === 1 ? '' : 's'} in a row` };
  }
  const recent = options.crashTimes.filter((t) => options.now - t < CRASH_WINDOW_MS).length;
  if (recent > options.maxRestartAttempts) {
    return { restart: false, reason: `after ${recent} crashes within ${CRASH_WINDOW_MS / 60_000} minutes` };
  }
  // Visible as CRASHED for a moment, longer the more it crashes.
  return { restart: true, delayMs: Math.min(1000 * (options.streak + 1), 5000) };
}

/** setTimeout fires at once for anything above 2^31-1 ms: every delay the pool sets goes through this. */
export function timerDelay(ms: number): number {
  return Math.min(2 ** 31 - 1, Math.max(0, finiteMs(ms)));
}

function finiteMs(value: unknown): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
