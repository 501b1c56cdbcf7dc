/**
 * Forking a process that will own a browser (a worker, or a shared browser's host), the same way for
 * both: a temporary folder of its own, a lower CPU priority, and its output in the pool's log.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import type { Logger } from './log';

/** A worker and the browser it launches (which inherits this) yield the CPU to the supervisor and the editor. */
const BROWSER_OWNER_NICENESS = 5;

export interface BrowserOwnerOptions {
  script: string;
  execPath?: string;
  /** Where its temporary folder goes, and the folder name's start (`<prefix><tag>-XXXXXX`). */
  tmpRoot: string;
  tmpPrefix: string;
  tag: string;
  /** How its lines are labelled in the log (`worker-1`, `browser-1`). */
  id: string;
  log: Logger;
}

export function forkBrowserOwner(options: BrowserOwnerOptions): { proc: ChildProcess; tmpDir: string } {
  const { log, id } = options;
  // The process's and its browser's temporary files (downloads in flight, Chromium's singleton
  // socket) get a folder of their own that goes with it even when the browser is killed. mkdtemp
  // makes it new, owner-only and unguessable: one planted beforehand by someone else is never used.
  const tmpDir = mkdtempSync(join(options.tmpRoot, `${options.tmpPrefix}${options.tag}-`));
  const proc = fork(options.script, [], {
    execPath: options.execPath ?? process.execPath,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', TMPDIR: tmpDir, TMP: tmpDir, TEMP: tmpDir },
    serialization: 'advanced',
  });
  // On a small machine busy browsers otherwise delay every status answer and view update.
  if (proc.pid) {
    try {
      setPriority(proc.pid, BROWSER_OWNER_NICENESS);
    } catch (err) {
      log.debug(`${id}: could not lower its priority: ${(err as Error).message}`);
    }
  }
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) log.log('debug', line.trim(), id);
  };
  proc.stdout?.on('data', forward);
  proc.stderr?.on('data', forward);
  proc.on('error', (err) => log.warn(`${id}: ${err.message}`));
  return { proc, tmpDir };
}
