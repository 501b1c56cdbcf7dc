/** Shared by the integration and reliability suites: a stand-in, a signed-in profile, the process table. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createStandin, type Standin, type StandinOptions } from '../../src/coupa/standin';
import type { LogEntry } from '../../src/protocol/rpc';
import { createLogger, type Logger } from '../../src/supervisor/log';
import { createSignedInProfile } from '../../src/coupa/signIn';

export const WORKER_SCRIPT = resolve('dist/worker.js');
export const SUPERVISOR_SCRIPT = resolve('dist/supervisor.js');
export const CLI_SCRIPT = resolve('dist/cli.js');
export const CREDENTIALS = { email: 'demo@example.com', password: 'demo' };

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `po-${prefix}-`));
}

export async function makeBaseProfile(profileDir: string, coupaUrl: string): Promise<void> {
  await createSignedInProfile({ profileDir, coupaUrl, ...CREDENTIALS });
}

/**
 * How real tenants treat sessions, on unless a test says otherwise: Coupa's own session ends (here
 * every 20 s) while the corporate identity provider's lives on, and any page sent to sign-in bounces
 * through the provider and back. Tests that reset the stand-in (`resetKnobs()`) come back to this.
 */
export const REAL_SESSIONS: StandinOptions = { expiredSession: 'idp-bounce', sessionLifetimeSec: 20 };

/**
 * For a whole describe block: a stand-in with REAL_SESSIONS unless `options` says otherwise, and a
 * base profile signed into it (through its identity provider), in a temp folder named after
 * `prefix`; both gone after the block. Read them in hooks and tests, not at definition time.
 */
export function standinWithProfile(options: StandinOptions, prefix: string): { standin: Standin; profile: string } {
  const env = { root: '' } as { standin: Standin; profile: string; root: string };
  before(async () => {
    env.standin = await createStandin({ ...REAL_SESSIONS, ...options });
    env.root = tempDir(prefix);
    env.profile = join(env.root, 'base-profile');
    await makeBaseProfile(env.profile, env.standin.url);
  });
  after(async () => {
    await env.standin?.close();
    if (env.root) rmSync(env.root, { recursive: true, force: true });
  });
  return env;
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

/** Live processes whose command line mentions `marker` (a temp folder the test owns). */
export function processesMentioning(marker: string): { pid: number; args: string }[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return out.split('\n').map((line) => line.trim()).filter(Boolean)
    .map((line) => ({ pid: Number(line.split(/\s+/, 1)[0]), args: line.slice(line.indexOf(' ') + 1) }))
    .filter((p) => p.args.includes(marker) && p.pid !== process.pid && !p.args.startsWith('ps '));
}

export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
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
