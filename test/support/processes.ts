/**
 * The process table, for tests that must end every process they start and may kill only their own:
 * processes named by a test's temp folder, a process's parent, command line and environment.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Live processes whose command line mentions `marker` (a temp folder the test owns). */
export function processesMentioning(marker: string): { pid: number; args: string }[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return out.split('\n').map((line) => line.trim()).filter(Boolean)
    .map((line) => ({ pid: Number(line.split(/\s+/, 1)[0]), args: line.slice(line.indexOf(' ') + 1) }))
    .filter((p) => p.args.includes(marker) && p.pid !== process.pid && !p.args.startsWith('ps '));
}

export function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

function readProc(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

export function parentOf(pid: number): number | undefined {
  const stat = readProc(pid, 'stat');
  const m = /\) \S+ (\d+)/.exec(stat);
  return m ? Number(m[1]) : undefined;
}

export function cmdline(pid: number): string {
  return readProc(pid, 'cmdline').replace(/\0/g, ' ');
}

export function environMentions(pid: number, marker: string): boolean {
  return readProc(pid, 'environ').includes(marker);
}

/** kill -9, after checking the pid is ours (never a process another engineer's test started). */
export function kill9(pid: number, isOurs: (pid: number) => boolean): boolean {
  if (!pid || !isOurs(pid)) return false;
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}
