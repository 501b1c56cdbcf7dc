/** What every step of one PO shares: the caller's options, and the PO's deadline. */
import type { Page } from 'playwright-core';
import { TimeoutError } from '../protocol/errors';

export interface AdapterOptions {
  baseUrl: string;
  downloadDir: string;
  maxDownloadBytes: number;
  /** Epoch ms by which to give up. */
  deadline: number;
  /**
   * Gets the browser's Coupa session back (through the identity provider): true when it is alive again,
   * false when a person must sign in. Without it, an ended session is an AuthenticationError, and the
   * caller renews the session and runs the PO again.
   */
  renewSession?: () => Promise<boolean>;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

export interface Context {
  /** The normalised PO number, for messages. */
  po: string;
  /** The base URL without a trailing slash. */
  base: string;
  options: AdapterOptions;
  log: NonNullable<AdapterOptions['log']>;
  /**
   * A second tab for session checks, opened at the first and closed with the PO. Kept between checks:
   * a new tab costs a renderer start, and the check after a renewal must come before a short-lived
   * session ends again.
   */
  probe?: Page;
}

export function remaining(ctx: Context): number {
  return ctx.options.deadline - Date.now();
}

export function timeoutError(ctx: Context, what: string): TimeoutError {
  return new TimeoutError(`${ctx.po}: ran out of time ${what}`, { poNumber: ctx.po });
}

export function checkDeadline(ctx: Context, what: string): number {
  const left = remaining(ctx);
  if (left <= 0) throw timeoutError(ctx, what);
  return left;
}

/** Browser waits have no notion of our deadline (saveAs has no timeout at all): race them with it. */
export function withDeadline<T>(ctx: Context, what: string, work: Promise<T>, onTimeout?: () => void): Promise<T> {
  const left = checkDeadline(ctx, what);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout?.();
      reject(timeoutError(ctx, what));
    }, left);
    work.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (err: unknown) => { clearTimeout(timer); reject(err); },
    );
  });
}

export function isClosedError(err: unknown): boolean {
  return /Target page, context or browser has been closed|Target closed|browser has disconnected|Page closed/i
    .test((err as Error)?.message ?? '');
}
