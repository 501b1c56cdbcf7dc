/**
 * Reads a PO list in a child process. A list comes from anywhere (a supplier's spreadsheet, a
 * download): a zip bomb dressed as .xlsx, or a pattern that backtracks for ever, must cost the child
 * its life, not the supervisor, which holds every client's queue.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { ParseResult } from '../protocol/po';

/** Heap for the child; a real PO list needs a small fraction of it. */
const CHILD_HEAP_MB = 512;
const READ_TIMEOUT_MS = 60_000;

type Answer = { ok: true; result: ParseResult } | { ok: false; message: string };

/** `script` is the child's bundle (dist/listReader.js), next to the supervisor's by default. */
export function readPoFileIsolated(path: string, pattern?: string, script = join(__dirname, 'listReader.js'), timeoutMs = READ_TIMEOUT_MS): Promise<ParseResult> {
  return new Promise((resolve, reject) => {
    const child = fork(script, [], {
      execArgv: [`--max-old-space-size=${CHILD_HEAP_MB}`],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      serialization: 'advanced',
    });
    let answer: Answer | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('message', (m: Answer) => (answer = m));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot read ${path}: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (answer?.ok) return resolve(answer.result);
      if (answer) return reject(new Error(answer.message));
      const why = signal === 'SIGKILL' ? `it took longer than ${timeoutMs / 1000} s` : `reading it ran out of memory or crashed (${signal ?? `code ${code}`})`;
      reject(new Error(`cannot read ${path}: ${why}; is it really a PO list?`));
    });
    child.send({ path, pattern });
  });
}
