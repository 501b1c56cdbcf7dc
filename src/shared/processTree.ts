/** Process trees: a worker's browser is its descendant, and both count for memory and clean-up. */
import { readdirSync, readFileSync } from 'node:fs';
import pidtree from 'pidtree';
import pidusage from 'pidusage';

/**
 * Every (ppid, pid) pair. On Linux straight from /proc: pidtree spawns `ps`, and that spawn (every
 * 2 s) was a visible share of the supervisor's blocked time while workers were busy. The reads are
 * synchronous on purpose: procfs answers from memory (a few ms for hundreds of processes), cheaper
 * than as many asynchronous file operations.
 */
async function processTable(): Promise<{ ppid: number; pid: number }[]> {
  if (process.platform !== 'linux') return (await pidtree(-1, { advanced: true })) as { ppid: number; pid: number }[];
  const pairs: { ppid: number; pid: number }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      // "pid (command) state ppid ...": the command may hold spaces and parentheses, so split after the last ')'.
      pairs.push({ ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]), pid: Number(name) });
    } catch {
      // ended since the listing
    }
  }
  return pairs;
}

/** Every descendant of each root, from one read of the process table. */
export async function descendants(roots: number[]): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  if (roots.length === 0) return out;
  const pairs = await processTable();
  const children = new Map<number, number[]>();
  for (const { ppid, pid } of pairs) {
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)!.push(pid);
  }
  for (const root of roots) {
    const found: number[] = [];
    const stack = [...(children.get(root) ?? [])];
    while (stack.length) {
      const pid = stack.pop()!;
      found.push(pid);
      stack.push(...(children.get(pid) ?? []));
    }
    out.set(root, found);
  }
  return out;
}

/** Resident bytes per pid; pids that are gone are left out. */
export async function residentMemory(pids: number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (pids.length === 0) return out;
  try {
    const stats = await pidusage(pids);
    for (const [pid, s] of Object.entries(stats)) if (s) out.set(Number(pid), s.memory);
  } catch {
    // A pid that ended between the two reads fails the whole call; measure one by one instead.
    for (const pid of pids) {
      try {
        out.set(pid, (await pidusage(pid)).memory);
      } catch {
        // gone
      }
    }
  }
  return out;
}

/** Signals each pid (a worker and its browser processes, read beforehand); gone ones are skipped. */
export function killPids(pids: number[], signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
