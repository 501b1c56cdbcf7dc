/** Where the built processes are, a temp folder per test, and a logger that keeps what it was told. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LogEntry } from '../../src/protocol/rpc';
import { createLogger, type Logger } from '../../src/supervisor/log';

export const WORKER_SCRIPT = resolve('dist/worker.js');
export const SUPERVISOR_SCRIPT = resolve('dist/supervisor.js');
export const CLI_SCRIPT = resolve('dist/cli.js');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `po-${prefix}-`));
}

/** A logger that keeps what it was told, for assertions (and prints warnings when DEBUG is set). */
export function memoryLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const logger = createLogger(undefined, (e) => {
    entries.push(e);
    if (process.env.DEBUG_POOL) console.log(`    [${e.level}] ${e.workerId ?? ''} ${e.message}`);
  });
  return Object.assign(logger, { entries });
}
