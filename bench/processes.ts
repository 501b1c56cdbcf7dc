/**
 * The bench process's children: running a command with a hard timeout, connecting to a supervisor of
 * a state folder, and ending whatever a contestant left running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connectToSupervisor, type PoolClient } from '../src/client/client';
import { processesMentioning } from '../test/support/processes';
import { killPids, treePids } from './lib';
import { log, SUPERVISOR, type Leftover } from './scenario';

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** Runs a command with a hard timeout; on timeout its whole tree is killed. */
export function runProcess(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number; onSpawn?: (child: ChildProcess) => void }): Promise<Ran> {
  return new Promise((resolvePromise) => {
    const started = Date.now();
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    opts.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void treePids([child.pid!]).then((pids) => killPids(pids));
    }, opts.timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // Give the pipes a moment to drain.
      setTimeout(() => resolvePromise({ code, signal, stdout, stderr, ms: Date.now() - started, timedOut }), 20);
    });
  });
}

/** Processes whose environment names `marker` (a supervisor's command line does not name its state folder). */
function processesWithEnv(marker: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').includes(marker)) out.push(Number(name));
    } catch {
      // gone, or not ours
    }
  }
  return out;
}

/** Everything a contestant may have left: by command line (profile copies) and by environment (supervisors). */
export async function leftovers(marker: string): Promise<Leftover[]> {
  const byArgs = processesMentioning(marker);
  const byEnv = processesWithEnv(marker).filter((pid) => !byArgs.some((p) => p.pid === pid));
  const described = byEnv.map((pid) => {
    let args = '';
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ').trim();
    } catch {
      // gone
    }
    return { pid, args };
  }).filter((p) => p.args !== '');
  return [...byArgs, ...described];
}

export async function cleanUp(marker: string, quiet = false): Promise<Leftover[]> {
  await new Promise((r) => setTimeout(r, 500));
  const left = await leftovers(marker);
  if (left.length && !quiet) log(`killing ${left.length} leftover process(es) of ${marker}`);
  if (left.length) {
    const trees = await treePids(left.map((p) => p.pid));
    killPids(trees);
  }
  return left;
}
export async function connect(stateDir: string, env: Record<string, string> = {}): Promise<PoolClient> {
  return connectToSupervisor({ clientName: 'bench', stateDir, spawn: true, supervisorScript: SUPERVISOR, env, timeoutMs: 30_000 });
}
