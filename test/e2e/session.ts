/** The pool's side: a supervisor of the test's own (PO_POOL_STATE_DIR), the CLI against it, and a
 * session that starts and cleans up everything one test file needs. */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Page } from 'playwright-core';
import { isFinal, type PoolStatus, type TaskInfo, type TaskStatus } from '../../src/protocol/types';
import { isAlive, killPids } from '../../src/shared/processTree';
import { type CodeServer, describeProcesses, notifications, openWorkbench, processesMentioning, RESULTS_DIR, screenshot, startCodeServer, tempDir, trackMarkers, untrackMarkers, VSIX, waitFor, type Workbench } from './editor';
import { clipText, notificationCenter } from './views';

export const CLI = resolve('dist/cli.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node dist/cli.js <args>` against the supervisor of `stateDir`; never throws on a non-zero exit. */
export function cli(stateDir: string, args: string[], timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [CLI, ...args], {
      env: { ...process.env, PO_POOL_STATE_DIR: stateDir },
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
      maxBuffer: 64 * 1024 * 1024,
    }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** `status --json`, or undefined when no supervisor runs. */
export async function cliStatus(stateDir: string): Promise<PoolStatus | undefined> {
  const r = await cli(stateDir, ['status', '--json']);
  if (r.code !== 0) {
    if (/no supervisor running/.test(r.stderr)) return undefined;
    throw new Error(`po-pool status --json exited ${r.code}: ${r.stderr}${r.stdout}`);
  }
  return JSON.parse(r.stdout) as PoolStatus;
}

/** `results --json`: each PO's latest task. */
export async function cliResults(stateDir: string): Promise<TaskInfo[]> {
  const r = await cli(stateDir, ['results', '--json']);
  if (r.code !== 0) throw new Error(`po-pool results --json exited ${r.code}: ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout) as TaskInfo[];
}

/** POs that reached a final status, as the status bar, the panel and the CLI count them. */
export function finishedOf(status: PoolStatus): number {
  return Object.entries(status.counts).reduce((n, [s, c]) => (isFinal(s as TaskStatus) ? n + (c ?? 0) : n), 0);
}

/** The supervisor that owns `stateDir`, by its lock file, when it is alive. */
export function supervisorPid(stateDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(stateDir, 'supervisor.lock'), 'utf8').trim());
    return pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface SessionDirs {
  /** The folder code-server opens. */
  workspace: string;
  /** PO_POOL_STATE_DIR of the editor's supervisor. */
  stateDir: string;
  /** A folder for `poPool.downloadFolder`, when a test wants one. */
  downloads: string;
}

export interface E2eSession extends SessionDirs {
  server: CodeServer;
  workbench: Workbench;
  page: Page;
  /**
   * After a failure: a screenshot, every notification (the center too, where toasts go when they
   * hide) and the supervisor's log, in test-results/<name>*.
   */
  saveDiagnostics(name: string): Promise<void>;
  /**
   * Closes the browser, stops code-server (sparing the detached supervisor), shuts the supervisor
   * down with `po-pool shutdown --force`, and checks that no process mentions any of the session's
   * folders any more. Throws, after killing them, if some did.
   */
  close(): Promise<void>;
}

/**
 * One code-server with our .vsix, a workspace holding `files`, its supervisor in a state folder of
 * its own (PO_POOL_STATE_DIR), and Chromium on the workbench.
 */
export async function startSession(options: {
  name: string;
  files?: Record<string, string>;
  settings?: (dirs: SessionDirs) => Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
}): Promise<E2eSession> {
  // The state folder's path is about as long as a real user's default (/home/alice/.local/state/po-pool
  // is 32 characters), and everything the pool keeps (sockets included) lives under it.
  // PO_E2E_STATE_ROOT puts it somewhere else, e.g. a shorter parent to tell a path-length problem apart.
  const stateRoot = process.env.PO_E2E_STATE_ROOT;
  if (stateRoot) mkdirSync(stateRoot, { recursive: true });
  const dirs: SessionDirs = {
    workspace: tempDir(`${options.name}-ws`),
    stateDir: stateRoot ? mkdtempSync(join(stateRoot, `${options.name}-`)) : tempDir(`${options.name}-state`),
    downloads: tempDir(`${options.name}-dl`),
  };
  trackMarkers(dirs.workspace, dirs.stateDir, dirs.downloads);
  for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(join(dirs.workspace, name), text);
  let server: CodeServer | undefined;
  let workbench: Workbench | undefined;
  const close = async () => {
    const problems: string[] = [];
    const pid = supervisorPid(dirs.stateDir);
    await workbench?.close().catch((err) => problems.push(`closing Chromium: ${err}`));
    await server?.stop({ spare: pid ? [pid] : [] }).catch((err) => problems.push(`stopping code-server: ${err}`));
    // Exit 1 with --force only says that running POs were cut off, which a failed test may leave.
    const shutdown = await cli(dirs.stateDir, ['shutdown', '--force'], 60_000);
    if (!(shutdown.code === 0 || (shutdown.code === 1 && /pool shut down/.test(shutdown.stdout)))) {
      problems.push(`po-pool shutdown --force exited ${shutdown.code}: ${shutdown.stdout}${shutdown.stderr}`);
    }
    if (pid) await waitFor(() => !isAlive(pid), 20_000, `supervisor ${pid} to exit`).catch((err) => problems.push(String(err)));
    const markers = [dirs.workspace, dirs.stateDir, dirs.downloads, ...(server ? [server.home] : [])];
    // Browsers close a moment after their worker says it is done.
    const left = await waitFor(() => processesMentioning(markers).length === 0, 10_000, 'the pool\'s processes to exit')
      .then(() => [] as number[], () => processesMentioning(markers));
    if (left.length) {
      problems.push(`processes left behind after the shutdown:\n${describeProcesses(left)}`);
      killPids(left, 'SIGKILL');
    }
    untrackMarkers(dirs.workspace, dirs.stateDir, dirs.downloads);
    for (const dir of [dirs.workspace, dirs.stateDir, dirs.downloads]) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    if (problems.length) throw new Error(problems.join('\n'));
  };
  try {
    server = await startCodeServer({
      workspace: dirs.workspace,
      vsix: VSIX,
      settings: options.settings?.(dirs),
      // The supervisor the extension starts inherits these; an idle one exits by itself, should a
      // test die before it is shut down.
      env: { PO_POOL_STATE_DIR: dirs.stateDir, PO_POOL_IDLE_MINUTES: '2', ...options.env },
    });
    workbench = await openWorkbench(server.url);
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  const saveDiagnostics = async (name: string) => {
    const page = workbench!.page;
    await screenshot(page, name).catch(() => undefined);
    const shown = await notifications(page).catch(() => [] as string[]);
    const center = await notificationCenter(page).catch(() => [] as string[]);
    const safe = name.replace(/[^\w.-]+/g, '-');
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, `${safe}-notifications.txt`), [...shown, '--- notification center ---', ...center].join('\n'));
    const log = join(dirs.stateDir, 'supervisor.log');
    if (existsSync(log)) {
      const text = readFileSync(log, 'utf8');
      writeFileSync(join(RESULTS_DIR, `${safe}-supervisor.log`), text);
      const fatal = [...new Set(text.split('\n').filter((l) => /FATAL|^\S+ ERROR /.test(l)).map((l) => clipText(l.replace(/^.*?\]\[err\] /, ''), 300)))].slice(0, 4);
      if (fatal.length) console.log(`      supervisor log errors:\n        ${fatal.join('\n        ')}`);
    }
    console.log(`      diagnostics: test-results/${safe}.png, -notifications.txt, -supervisor.log; notifications: ${JSON.stringify([...shown, ...center])}`);
  };
  return { ...dirs, server, workbench, page: workbench.page, close, saveDiagnostics };
}
