/** What the per-PO-browser and Crawlee contestants share: their arguments, outcomes and report. */
import { readFileSync, writeFileSync } from 'node:fs';
import { isErrorKind, isRetryable, toWireError } from '../src/protocol/errors';
import type { POResult } from '../src/protocol/types';
import { selfCpuWithChildren, type ContestantArgs, type ContestantReport, type Outcome } from './lib';

export function readArgs(): ContestantArgs {
  return JSON.parse(readFileSync(process.argv[2], 'utf8')) as ContestantArgs;
}

export function fromResult(result: POResult, startedAt: number, attempts: number): Outcome {
  return {
    poNumber: result.poNumber,
    status: result.status,
    files: result.files.map((f) => ({ path: f.path, sha256: f.sha256, bytes: f.bytes })),
    startedAt,
    finishedAt: Date.now(),
    attempts,
    adapter: { ms: result.timings.finishedAt - result.timings.startedAt, navigationMs: result.timings.navigationMs, downloadMs: result.timings.downloadMs },
    attachments: result.files.length,
    ...(result.error ? { error: `${result.error.kind}: ${result.error.message}` } : {}),
  };
}

/** How the pool ends a PO on an error (src/supervisor/pool.ts failAttempt): not found, timeout, or failed. */
export function fromError(poNumber: string, err: unknown, startedAt: number, attempts: number): Outcome {
  const wire = toWireError(err);
  const status = wire.kind === 'PONotFoundError' ? 'PO_NOT_FOUND' : wire.kind === 'TimeoutError' ? 'TIMEOUT' : 'FAILED';
  return { poNumber, status, files: [], startedAt, finishedAt: Date.now(), attempts, error: `${wire.kind}: ${wire.message}` };
}

/** As the pool decides: PONotFoundError is final, retryable kinds get another attempt. */
export function worthRetrying(err: unknown): boolean {
  const wire = toWireError(err);
  return wire.kind !== 'PONotFoundError' && (!isErrorKind(wire.kind) || isRetryable(wire.kind));
}

export function writeReport(args: ContestantArgs, outcomes: Outcome[], startedAt: number): void {
  const report: ContestantReport = { outcomes, startedAt, finishedAt: Date.now(), cpuSecondsWithChildren: selfCpuWithChildren() };
  writeFileSync(args.outcomesFile, JSON.stringify(report));
}
