/**
 * One supervisor per state folder, however many clients start one at once and however the last
 * one ended (kill -9, out of memory, a zombie nobody reaps).
 *
 * The lock is a folder of numbered entries; the highest one names the holder, by pid and start
 * time, so that a later process given the same pid is not taken for it. A starter may create only
 * the entry after the highest, and only once that one's process is gone. Creating an entry that
 * exists fails, so of several starters who found the same dead holder exactly one wins. Numbers
 * are never used twice while a higher one exists: the holder's entry stays when it exits (a dead
 * holder holds nothing), only the entries below it are removed, and a starter that looked before
 * a whole generation came and went, then created a removed number, finds a higher one and yields.
 */
import { mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createFile } from './paths';
import { identityOf, isRunning, type ProcessIdentity } from './processTree';

/** Who holds the lock, when that process still runs: a supervisor running, starting or ending. */
export function lockHolder(lockDir: string): ProcessIdentity | undefined {
  const holder = newest(lockDir)?.holder;
  return holder && isRunning(holder) ? holder : undefined;
}

/** Takes the lock for this process unless a live process holds it; returns who holds it now. */
export function takeLock(lockDir: string): ProcessIdentity {
  mkdirSync(lockDir, { recursive: true, mode: 0o700 });
  const me = identityOf(process.pid);
  // Each round wins, yields to a live holder, or finds that another starter was first and looks
  // again; the bound only keeps a folder someone filled with odd names from looping for ever.
  for (let round = 0; round < 100; round++) {
    const top = newest(lockDir);
    if (top?.holder && isRunning(top.holder)) return top.holder;
    const mine = (top?.number ?? 0) + 1;
    if (!createFile(join(lockDir, String(mine)), JSON.stringify(me))) continue;
    const after = newest(lockDir);
    if (after && after.number > mine) {
      unlinkSync(join(lockDir, String(mine)));
      continue;
    }
    for (const n of entryNumbers(lockDir)) if (n < mine) tryUnlink(join(lockDir, String(n)));
    return me;
  }
  throw new Error(`cannot take the lock ${lockDir}; when no supervisor runs, remove that folder`);
}

function newest(lockDir: string): { number: number; holder?: ProcessIdentity } | undefined {
  // A new holder may remove the entry between the listing and the read: then look again.
  for (;;) {
    const number = Math.max(0, ...entryNumbers(lockDir));
    if (number === 0) return undefined;
    try {
      return { number, holder: parseIdentity(readFileSync(join(lockDir, String(number)), 'utf8')) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

function entryNumbers(lockDir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(lockDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.filter((n) => /^[1-9]\d{0,14}$/.test(n)).map(Number);
}

/** Anything but an identity (an empty or damaged entry) names nobody. */
function parseIdentity(text: string): ProcessIdentity | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { pid, startTime } = (value ?? {}) as Record<string, unknown>;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
  if (startTime === undefined) return { pid };
  return typeof startTime === 'string' ? { pid, startTime } : undefined;
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // a newer holder removed it already
  }
}
