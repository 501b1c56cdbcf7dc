/** Process trees: a worker's browser is its descendant, and both count for memory and clean-up. */
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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
    const stat = procStat(Number(name));
    if (stat) pairs.push({ ppid: Number(stat[1]), pid: Number(name) });
  }
  return pairs;
}

/**
 * The fields of /proc/<pid>/stat from the state on (field 3 is [0]), or undefined once the process
 * is gone. The command before them may hold spaces and parentheses, so the split is after the last ')'.
 */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
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

/**
 * Each process's fair share of memory, in bytes; pids that are gone are left out. On Linux that is
 * PSS (a page shared by n processes counts 1/n to each), so a browser's dozen processes, or a browser
 * that several workers share, add up to what the machine lost instead of several times it: their RSS
 * sum counted shared pages once per process (3.2 GB for four workers whose PSS was 1.0 GB). Elsewhere,
 * or where smaps_rollup cannot be read, resident memory stands in. The reads are asynchronous: the
 * kernel walks each process's page tables to answer, which for a browser takes milliseconds.
 */
export async function memoryShare(pids: number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const unread: number[] = [];
  await Promise.all(pids.map(async (pid) => {
    const pss = process.platform === 'linux' ? await proportionalSetSize(pid) : undefined;
    if (pss === undefined) unread.push(pid);
    else if (pss !== 'gone') out.set(pid, pss);
  }));
  for (const [pid, bytes] of await residentMemory(unread)) out.set(pid, bytes);
  return out;
}

async function proportionalSetSize(pid: number): Promise<number | 'gone' | undefined> {
  try {
    const pss = /^Pss:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/smaps_rollup`, 'latin1'))?.[1];
    return pss === undefined ? undefined : Number(pss) * 1024;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH' ? 'gone' : undefined;
  }
}

/** Resident bytes per pid; pids that are gone are left out. */
async function residentMemory(pids: number[]): Promise<Map<number, number>> {
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

/**
 * Whether the process still runs. A zombie does not: it is dead and only waits for its parent to
 * collect it, which may take seconds, or forever under a PID 1 that never does (a container
 * without an init), yet kill(pid, 0) succeeds on it.
 */
export function isAlive(pid: number): boolean {
  // kill(0) and kill(-1) would test our process group or every process, not one process.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (process.platform !== 'linux') return true;
  const state = procStat(pid)?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** A process told apart from a later one given the same pid, where the system says when each started. */
export interface ProcessIdentity {
  pid: number;
  /** Linux: clock ticks from boot to the process's start (/proc/<pid>/stat field 22). */
  startTime?: string;
}

export function identityOf(pid: number): ProcessIdentity {
  const startTime = process.platform === 'linux' ? procStat(pid)?.[19] : undefined;
  return startTime === undefined ? { pid } : { pid, startTime };
}

/**
 * Whether this very process still runs. Elsewhere than on Linux only the pid can be compared, so
 * an unrelated process that was given the same pid passes for it.
 */
export function isRunning(who: ProcessIdentity): boolean {
  return isAlive(who.pid) && identityOf(who.pid).startTime === who.startTime;
}
