/**
 * End-to-end helpers: the real editor (code-server, set up by scripts/e2e-setup.mjs) with our .vsix
 * installed, driven through Debian's Chromium by playwright-core, much as a person would use it.
 * Selectors are the workbench's own class names, so they are the first thing to check when a new
 * code-server changes its markup.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Frame, type Locator, type Page } from 'playwright-core';
import { isFinal, type PoolStatus, type TaskInfo, type TaskStatus } from '../../src/protocol/types';
import { descendants, isAlive, killPids } from '../../src/shared/processTree';
import { browserArgs, findBrowser, installHint } from '../../src/shared/browsers.mjs';

// Run from the repository root, as scripts/test.mjs does.
export const CODE_SERVER = resolve('.cache/code-server/node_modules/.bin/code-server');
export const VSIX = resolve('coupa-po-pool.vsix');
export const RESULTS_DIR = resolve('test-results');

export interface CodeServer {
  url: string;
  /** Its temp home (user data, extensions, TMPDIR): the installed extension runs from in here. */
  home: string;
  /** code-server's own pid (the leader of its process group). */
  pid: number;
  /** Milliseconds spent in `--install-extension`, and from spawning the server to its "listening" line. */
  timings: { installExtensionMs: number; listenMs: number };
  /**
   * Stops code-server, its group and every descendant, except the processes in `spare` and their
   * descendants: the extension's supervisor is detached on purpose so it outlives the window, and a
   * test stops it as a person would, with `po-pool shutdown`.
   */
  stop(options?: { spare?: number[] }): Promise<void>;
}

export interface Workbench {
  page: Page;
  context: BrowserContext;
  close(): Promise<void>;
}

/** Everything started and not yet stopped, for cleanup() and for the last-resort exit hook. */
const live = {
  servers: new Set<CodeServer>(),
  workbenches: new Set<Workbench>(),
  groups: new Set<number>(),
  /** Folders (state, downloads, workspaces) whose processes must not outlive this test process. */
  markers: new Set<string>(),
};

process.on('exit', () => {
  // Mocha may exit on a failure before after() hooks finish: never leave an editor behind.
  for (const pgid of live.groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  // A supervisor (detached, its own session) and its workers and browsers, should a test die early.
  if (live.markers.size) killPids(processesMentioning([...live.markers]), 'SIGKILL');
});

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `po-e2e-${prefix}-`));
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The environment code-server runs in: no VS Code of ours leaks in, and no state lands in $HOME. */
function codeServerEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // Inside a VS Code terminal VSCODE_IPC_HOOK_CLI would make code-server hand the folder to that editor.
    if (!key.startsWith('VSCODE_')) env[key] = value;
  }
  // TMPDIR too: code-server leaves its IPC sockets (vscode-ipc-*.sock, vscode-git-*.sock) behind when killed.
  const tmp = join(home, 'tmp');
  mkdirSync(tmp, { recursive: true });
  return { ...env, ...extra, TMPDIR: tmp, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data'), XDG_CACHE_HOME: join(home, 'cache') };
}

function runToEnd(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(cmd, args, { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (error) reject(new Error(`${cmd} ${args.join(' ')} failed: ${error.message}\n${output}`));
      else resolvePromise(output);
    });
  });
}

/**
 * Starts code-server on a free loopback port with `vsix` installed (through its own
 * --install-extension: copying a folder skips the registration VS Code does on install) and
 * `workspace` open. Settings are seeded so that nothing but the workbench greets the browser.
 */
export async function startCodeServer(options: {
  workspace: string;
  vsix: string;
  settings?: Record<string, unknown>;
  /** Extra environment for code-server and what it starts (the extension host, the supervisor). */
  env?: NodeJS.ProcessEnv;
}): Promise<CodeServer> {
  if (!existsSync(CODE_SERVER)) throw new Error(`${CODE_SERVER} is missing: run \`node scripts/e2e-setup.mjs\``);
  if (!existsSync(options.vsix)) throw new Error(`${options.vsix} is missing: run \`node scripts/e2e-setup.mjs\``);
  const home = tempDir('code-server');
  const userDataDir = join(home, 'user-data');
  const extensionsDir = join(home, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(join(userDataDir, 'User/settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'security.workspace.trust.enabled': false,
    'workbench.tips.enabled': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'telemetry.telemetryLevel': 'off',
    ...options.settings,
  }, null, 2));
  const env = codeServerEnv(home, options.env);
  const dirs = ['--extensions-dir', extensionsDir, '--user-data-dir', userDataDir];

  let server: ChildProcess | undefined;
  const removeHome = () => rmSync(home, { recursive: true, force: true, maxRetries: 5 });
  try {
    const installStarted = Date.now();
    const installed = await runToEnd(CODE_SERVER, [...dirs, '--install-extension', options.vsix], env, 120_000);
    if (!/successfully installed/i.test(installed)) throw new Error(`installing ${options.vsix} said:\n${installed}`);

    const installExtensionMs = Date.now() - installStarted;
    const started = Date.now();
    // Its own process group, so stop() reaches the extension host and every other child it spawns.
    server = spawn(CODE_SERVER, [
      '--auth', 'none', '--bind-addr', '127.0.0.1:0', ...dirs,
      '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
      options.workspace,
    ], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const child = server;
    live.groups.add(child.pid!);
    let output = '';
    const url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`code-server did not report its address within 60 s:\n${output}`)), 60_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        // "HTTP server listening on http://127.0.0.1:41234/": the port the kernel picked for :0.
        const match = /HTTP server listening on (http:\/\/\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          // Keep draining its output (a full pipe would block it) without keeping it.
          child.stdout!.off('data', onData).resume();
          child.stderr!.off('data', onData).resume();
          resolveUrl(match[1].replace(/\/?$/, '/'));
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`code-server exited (${code ?? signal}) before listening:\n${output}`));
      });
    });
    if (process.env.DEBUG_E2E) {
      child.stdout!.on('data', (c: Buffer) => process.stdout.write(`    [code-server] ${c}`));
      child.stderr!.on('data', (c: Buffer) => process.stdout.write(`    [code-server] ${c}`));
    }
    const handle: CodeServer = {
      url,
      home,
      pid: child.pid!,
      timings: { installExtensionMs, listenMs: Date.now() - started },
      async stop(stopOptions) {
        live.servers.delete(handle);
        await stopProcessGroup(child, stopOptions?.spare);
        removeHome();
      },
    };
    live.servers.add(handle);
    return handle;
  } catch (error) {
    if (server) await stopProcessGroup(server);
    removeHome();
    throw error;
  }
}

/** TERM the group (and any child that moved to a session of its own), then KILL what is left. */
async function stopProcessGroup(child: ChildProcess, spare: number[] = []): Promise<void> {
  const pgid = child.pid!;
  const spared = new Set([...spare, ...[...(await descendants(spare)).values()].flat()]);
  const tree = [pgid, ...((await descendants([pgid])).get(pgid) ?? [])].filter((pid) => !spared.has(pid));
  const signalAll = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pgid, signal);
    } catch {
      // group already empty
    }
    killPids(tree, signal);
  };
  signalAll('SIGTERM');
  try {
    await waitFor(() => tree.every((pid) => !isAlive(pid)), 5_000, 'code-server to exit');
  } catch {
    signalAll('SIGKILL');
    await waitFor(() => tree.every((pid) => !isAlive(pid)), 5_000, 'code-server to die');
  }
  live.groups.delete(pgid);
}

/** Debian's Chromium (or whichever browser findBrowser() picks), headless, on the workbench at `url`. */
export async function openWorkbench(url: string): Promise<Workbench> {
  const found = findBrowser('auto');
  if (!found) throw new Error(`No Chromium-family browser for the e2e tests. ${installHint()}`);
  // A profile folder of our own, so that close() can find any browser process by its command line.
  const profile = tempDir('chromium');
  // Its own TMPDIR too: a Chromium that is killed leaves its org.chromium.Chromium.* folder there.
  const tmp = join(profile, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const context = await chromium.launchPersistentContext(join(profile, 'profile'), {
    env: { ...process.env, TMPDIR: tmp },
    executablePath: found.executablePath,
    args: browserArgs(),
    headless: true,
    viewport: { width: 1400, height: 900 },
  });
  const workbench: Workbench = {
    page: context.pages()[0] ?? (await context.newPage()),
    context,
    async close() {
      live.workbenches.delete(workbench);
      await context.close().catch(() => undefined);
      const leftovers = processesMentioning(profile);
      killPids(leftovers, 'SIGKILL');
      await waitFor(() => leftovers.every((pid) => !isAlive(pid)), 5_000, 'chromium to exit');
      rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
    },
  };
  live.workbenches.add(workbench);
  try {
    await workbench.page.goto(url);
    await workbench.page.waitForSelector('div.monaco-workbench', { timeout: 60_000 });
  } catch (error) {
    await workbench.close();
    throw error;
  }
  return workbench;
}

/**
 * Pids of the processes whose command line mentions `marker` (or, given several, any of them) or,
 * for folders handed down by environment (PO_POOL_STATE_DIR), whose environment does.
 */
export function processesMentioning(marker: string | string[]): number[] {
  const markers = (Array.isArray(marker) ? marker : [marker]).filter(Boolean);
  if (markers.length === 0) return [];
  const found = new Set<number>();
  for (const line of execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n')) {
    if (markers.some((m) => line.includes(m))) found.add(Number(line.trim().split(/\s+/, 1)[0]));
  }
  if (process.platform === 'linux') {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const environ = readFileSync(`/proc/${name}/environ`, 'latin1');
        if (markers.some((m) => environ.includes(m))) found.add(Number(name));
      } catch {
        // gone, or not ours to read
      }
    }
  }
  found.delete(process.pid);
  found.delete(0);
  return [...found].filter((pid) => Number.isInteger(pid) && pid > 0);
}

/** What `ps` says about those pids, for a failure message. */
export function describeProcesses(pids: number[]): string {
  if (pids.length === 0) return '';
  try {
    return execFileSync('ps', ['-o', 'pid=,ppid=,args=', '-p', pids.join(',')], { encoding: 'utf8' }).trim();
  } catch {
    return pids.join(', ');
  }
}

/** Registers folders whose processes the exit hook kills, should the test die before cleaning up. */
export function trackMarkers(...markers: string[]): void {
  for (const m of markers) live.markers.add(m);
}

export function untrackMarkers(...markers: string[]): void {
  for (const m of markers) live.markers.delete(m);
}

/** Stops every code-server and closes every browser this process started and did not stop yet. */
export async function cleanup(): Promise<void> {
  for (const workbench of [...live.workbenches]) await workbench.close();
  for (const server of [...live.servers]) await server.stop();
}

/** Opens the command palette with `text` typed after its ">" and returns the labels it lists. */
export async function commandPalette(page: Page, text: string): Promise<string[]> {
  const widget = page.locator('.quick-input-widget');
  if (!(await widget.isVisible())) {
    await page.keyboard.press('Control+Shift+P');
    await widget.waitFor({ state: 'visible', timeout: 10_000 });
  }
  const input = widget.locator('input.input');
  // The list is recomputed when the text changes: filling in the same text again would keep showing
  // the answer from before the extension's commands were registered.
  if ((await input.inputValue()) === `>${text}`) await input.fill('>');
  await input.fill(`>${text}`);
  // The list refilters asynchronously after each keystroke; a short settle keeps stale rows out.
  await page.waitForTimeout(300);
  return widget.locator('.monaco-list-row .label-name').allInnerTexts();
}

/** Runs a command by its palette title, as a person would: Ctrl+Shift+P, type, Enter. */
export async function runCommand(page: Page, title: string): Promise<void> {
  const labels = await waitFor(async () => {
    const found = await commandPalette(page, title);
    return found.some((l) => l.trim() === title) && found;
  }, 30_000, `"${title}" in the command palette`);
  if (labels[0].trim() !== title) {
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first().click();
  } else {
    await page.keyboard.press('Enter');
  }
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
}

export async function closeQuickInput(page: Page): Promise<void> {
  if (await page.locator('.quick-input-widget').isVisible()) await page.keyboard.press('Escape');
}

/** Texts of the notification toasts (and of the notification center, when open). */
export async function notifications(page: Page): Promise<string[]> {
  return (await page.locator('.notification-list-item-message').allInnerTexts()).map(oneLine);
}

/** Row texts of the tree or list in the view titled `viewTitle` (any view when omitted). */
export async function treeRows(page: Page, viewTitle?: string): Promise<string[]> {
  const scope = viewTitle
    ? page.locator('.pane').filter({ has: page.locator('.pane-header h3.title', { hasText: new RegExp(`^${escapeRegExp(viewTitle)}$`, 'i') }) }).locator('.pane-body')
    : page.locator('.part.sidebar');
  return (await scope.locator('.monaco-list-row').allInnerTexts()).map(oneLine);
}

/** The frame holding a webview's own document (VS Code nests it: outer iframe, then #active-frame). */
export async function webviewFrame(page: Page, timeoutMs = 30_000): Promise<Frame> {
  const outer = await page.waitForSelector('iframe.webview.ready', { timeout: timeoutMs });
  const outerFrame = await outer.contentFrame();
  if (!outerFrame) throw new Error('webview iframe has no frame');
  const inner = await outerFrame.waitForSelector('#active-frame', { timeout: timeoutMs });
  const frame = await inner.contentFrame();
  if (!frame) throw new Error('webview #active-frame has no frame');
  return frame;
}

export async function statusBarTexts(page: Page): Promise<string[]> {
  return (await page.locator('.statusbar-item').allInnerTexts()).map(oneLine).filter(Boolean);
}

/** Saves test-results/<name>.png (named after the test, so a failed run leaves a picture). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path });
  return path;
}

/** An item's text as a person reads it: an icon's label and its count are on separate lines in the DOM. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------------
// The pool's side: a supervisor of the test's own (PO_POOL_STATE_DIR), the CLI against it, and a
// session that starts and cleans up everything one test file needs.

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

// ---------------------------------------------------------------------------------------------
// The workbench as a person sees it: views, editors, the status bar, hovers, notifications.

/** Shows the PO Pool container (Workers, Queue, Results) in the side bar. */
export async function showPoolViews(page: Page): Promise<void> {
  await runCommand(page, 'View: Show PO Pool');
  await page.locator('.part.sidebar .pane-header h3.title', { hasText: /^Workers$/i }).waitFor({ state: 'visible', timeout: 30_000 });
}

/** The body of the view titled `viewTitle` in the side bar. */
export function viewBody(page: Page, viewTitle: string): Locator {
  return page.locator('.part.sidebar .pane')
    .filter({ has: page.locator('.pane-header h3.title', { hasText: new RegExp(`^${escapeRegExp(viewTitle)}$`, 'i') }) })
    .locator('.pane-body');
}

/** Texts of the buttons and links of a view's welcome content (empty when the view shows rows). */
export async function welcomeItems(page: Page, viewTitle: string): Promise<string[]> {
  return (await viewBody(page, viewTitle).locator('.welcome-view-content').locator('.monaco-button, a').allInnerTexts()).map(oneLine).filter(Boolean);
}

/** The row of a tree view whose label is `label` (the row text starts with it). */
export function treeRow(page: Page, viewTitle: string, label: string | RegExp): Locator {
  const starts = typeof label === 'string' ? new RegExp(`^\\s*${escapeRegExp(label)}(\\s|$)`) : label;
  return viewBody(page, viewTitle).locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: starts }) }).first();
}

export interface TreeItemText {
  label: string;
  description: string;
  /** Label and description as one line, as a person reads the row. */
  text: string;
  expanded?: boolean;
}

/** Rows of the tree in the view titled `viewTitle`, label and description apart. */
export async function treeItems(page: Page, viewTitle: string): Promise<TreeItemText[]> {
  return viewBody(page, viewTitle).locator('.monaco-list-row').evaluateAll((rows) => rows.map((row) => {
    const text = (selector: string) => (row.querySelector(selector)?.textContent ?? '').replace(/\s+/g, ' ').trim();
    const expanded = row.getAttribute('aria-expanded');
    const label = text('.label-name');
    const description = text('.label-description');
    return { label, description, text: [label, description].filter(Boolean).join(' '), ...(expanded ? { expanded: expanded === 'true' } : {}) };
  }));
}

/** Expands a collapsed tree row (a Results group) by clicking its twistie. */
export async function expandTreeRow(page: Page, viewTitle: string, label: string | RegExp): Promise<void> {
  const row = treeRow(page, viewTitle, label);
  await row.waitFor({ state: 'visible', timeout: 30_000 });
  if ((await row.getAttribute('aria-expanded')) !== 'true') await row.locator('.monaco-tl-twistie').click();
  await waitFor(async () => (await row.getAttribute('aria-expanded')) === 'true', 10_000, `${String(label)} to expand in ${viewTitle}`);
}

/**
 * The text of the hover that shows when the pointer rests on `target` (a tree row's tooltip, an
 * editor decoration's hover message), once it matches `expect` when given.
 */
export async function hoverText(page: Page, target: Locator, expect?: RegExp): Promise<string> {
  const hovers = page.locator('.monaco-hover:visible, .workbench-hover:visible');
  let last = '';
  return waitFor(async () => {
    // Away first, and until any earlier hover is gone, so its text is not taken for this one's.
    await page.mouse.move(1, 1);
    await waitFor(async () => (await hovers.count()) === 0, 3_000, 'earlier hovers to close').catch(() => undefined);
    await target.hover();
    await hovers.first().waitFor({ state: 'visible', timeout: 3_000 });
    last = (await hovers.allInnerTexts()).map(oneLine).join(' | ');
    return last.length > 0 && (!expect || expect.test(last)) && last;
  }, 20_000, `a hover${expect ? ` matching ${expect}` : ''}`).catch((err) => {
    throw new Error(`${(err as Error).message}; last hover: ${JSON.stringify(last)}`);
  });
}

/** Opens a workspace file with Quick Open (Ctrl+P), as a person would. */
export async function openFile(page: Page, name: string): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  await closeQuickInput(page);
  await page.keyboard.press('Control+P');
  await widget.waitFor({ state: 'visible', timeout: 10_000 });
  await widget.locator('input.input').fill(name);
  await widget.locator('.monaco-list-row', { hasText: name }).first().waitFor({ state: 'visible', timeout: 15_000 });
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ state: 'visible', timeout: 15_000 });
  await page.locator('.editor-instance .monaco-editor .view-line').first().waitFor({ state: 'visible', timeout: 15_000 });
}

/** Selects whole lines `first`..`last` (1-based) of the active editor with the keyboard. */
export async function selectLines(page: Page, first: number, last: number): Promise<void> {
  await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+Home');
  for (let i = 1; i < first; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.down('Shift');
  for (let i = first; i <= last; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.up('Shift');
}

export interface EditorLine {
  /** 1-based, from the line's position. */
  line: number;
  text: string;
  /** What decorations draw after the text (the `after` content), '' when nothing. */
  after: string;
  /** Gutter decorations (glyph margin / line decorations) on the line. */
  gutter: boolean;
}

/** The visible lines of the active editor with what is drawn after each. */
export async function editorLines(page: Page): Promise<EditorLine[]> {
  const editor = page.locator('.editor-instance .monaco-editor').first();
  return editor.evaluate((root) => {
    const unquote = (c: string) => {
      if (!c || c === 'none' || c === 'normal') return '';
      const m = /^"(.*)"$/s.exec(c);
      return m ? m[1].replace(/\\(.)/g, '$1') : c;
    };
    const lineHeight = parseFloat(getComputedStyle(root.querySelector('.view-line') as HTMLElement).height) || 19;
    const scrollTop = (root.querySelector('.lines-content') as HTMLElement | null)?.style.top ?? '0px';
    const offset = -parseFloat(scrollTop) || 0;
    // Gutter icons are backgrounds of elements in the margin, positioned at their line's top.
    const gutterTops = new Set<number>();
    for (const el of Array.from(root.querySelectorAll('.margin *')) as HTMLElement[]) {
      if (getComputedStyle(el).backgroundImage === 'none') continue;
      let at: HTMLElement | null = el;
      while (at && !at.style.top && !at.classList.contains('margin')) at = at.parentElement;
      if (at?.style.top) gutterTops.add(Math.round(parseFloat(at.style.top)));
    }
    return (Array.from(root.querySelectorAll('.view-lines .view-line')) as HTMLElement[]).map((el) => {
      const top = parseFloat(el.style.top) || 0;
      const after = (Array.from(el.querySelectorAll('span')) as HTMLElement[])
        .map((span) => unquote(getComputedStyle(span, '::after').content))
        .filter(Boolean)
        .join(' ');
      return {
        line: Math.round((top + offset) / lineHeight) + 1,
        text: (el.textContent ?? '').replace(/\u00a0/g, ' '),
        after,
        gutter: gutterTops.has(Math.round(top)),
      };
    }).sort((a, b) => a.line - b.line);
  });
}

export interface PoolStatusBar {
  text: string;
  done: number;
  total: number;
  workers: number;
}

/** The extension's status bar item, parsed when it shows `POs n/m · k workers`. */
export async function poolStatusBar(page: Page): Promise<PoolStatusBar | undefined> {
  for (const text of await statusBarTexts(page)) {
    const m = /POs ([\d,]+)\/([\d,]+) · (\d+) workers?/.exec(text);
    if (m) return { text, done: Number(m[1].replace(/,/g, '')), total: Number(m[2].replace(/,/g, '')), workers: Number(m[3]) };
  }
  return undefined;
}

/** The extension's status bar item shows the pool in ERROR (an error icon before "PO Pool"). */
export async function poolInError(page: Page): Promise<boolean> {
  return (await page.locator('.statusbar-item', { hasText: /^\s*PO Pool\s*$/ }).locator('.codicon-error').count()) > 0;
}

/**
 * Waits until a notification toast matching `pattern` shows, and returns its text. An error toast
 * shown instead (the pool's errors come as error notifications) fails at once, unless `failOnError`
 * is false; on a timeout the message lists every notification, those already hidden in the
 * notification center too.
 */
export async function waitForNotification(page: Page, pattern: RegExp, timeoutMs = 60_000, failOnError = true): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shown = await notifications(page).catch(() => [] as string[]);
    const found = shown.find((n) => pattern.test(n));
    if (found) return found;
    const error = failOnError && (await errorNotifications(page).catch(() => [] as string[])).find((n) => /^PO Pool: /.test(n));
    if (error) throw new Error(`waiting for a notification matching ${pattern}, this error showed instead: ${clipText(error, 2000)}`);
    if (failOnError && (await poolInError(page))) {
      const all = [...shown, ...(await notificationCenter(page).catch(() => [] as string[]))];
      throw new Error(`waiting for a notification matching ${pattern}, the status bar shows the pool in error; notifications: ${clipText(JSON.stringify(all), 2000)}`);
    }
    if (Date.now() > deadline) {
      const all = [...shown, ...(await notificationCenter(page).catch(() => [] as string[]))];
      throw new Error(`timed out after ${timeoutMs} ms waiting for a notification matching ${pattern}; notifications: ${clipText(JSON.stringify(all), 2000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Texts of the error toasts: VS Code marks their severity with the error codicon. */
export async function errorNotifications(page: Page): Promise<string[]> {
  const items = page.locator('.notification-list-item').filter({ has: page.locator('.codicon-error') });
  return (await items.locator('.notification-list-item-message').allInnerTexts()).map(oneLine);
}

function clipText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Every notification in the notification center (toasts hide there after a while). */
export async function notificationCenter(page: Page): Promise<string[]> {
  await runCommand(page, 'Notifications: Show Notifications');
  const texts = (await page.locator('.notifications-center .notification-list-item-message').allInnerTexts()).map(oneLine);
  await runCommand(page, 'Notifications: Hide Notifications').catch(() => undefined);
  return texts;
}

/** Dismisses every notification toast, so the next one is easy to tell apart. */
export async function clearNotifications(page: Page): Promise<void> {
  await runCommand(page, 'Notifications: Clear All Notifications').catch(() => undefined);
}

/** The numbers of the status panel, as its `data-testid`s show them. */
export async function panelNumbers(frame: Frame): Promise<Record<'state' | 'processed' | 'total' | 'queueDepth' | 'running' | 'failed' | 'throughput' | 'eta', string>> {
  const text = async (id: string) => oneLine(await frame.locator(`[data-testid="${id}"]`).innerText({ timeout: 10_000 }));
  return {
    state: await text('pool-state'),
    processed: await text('processed'),
    total: await text('total'),
    queueDepth: await text('queue-depth'),
    running: await text('running'),
    failed: await text('failed'),
    throughput: await text('throughput'),
    eta: await text('eta'),
  };
}

/** A number as the panel prints it (`1,234`), or NaN for a dash. */
export function panelNumber(text: string): number {
  return /^[\d,]+$/.test(text) ? Number(text.replace(/,/g, '')) : NaN;
}

// ---------------------------------------------------------------------------------------------
// What a finished run must look like, from the supervisor's account (`po-pool results --json`).

/** How the Results view titles each outcome (src/extension/outcome.ts). */
export const GROUP_TITLES: Record<TaskStatus, string> = {
  QUEUED: 'Queued',
  RUNNING: 'Running',
  COMPLETED: 'Completed',
  NO_ATTACHMENTS: 'No attachments',
  PARTIAL: 'Partial',
  FAILED: 'Failed',
  TIMEOUT: 'Timed out',
  PO_NOT_FOUND: 'PO not found',
  CANCELLED: 'Cancelled',
};

export function countByStatus(tasks: TaskInfo[]): Partial<Record<TaskStatus, number>> {
  const out: Partial<Record<TaskStatus, number>> = {};
  for (const t of tasks) out[t.status] = (out[t.status] ?? 0) + 1;
  return out;
}

/** The top rows the Results view must show for these tasks: "Completed 9", "PO not found 2", ... */
export function expectedResultGroups(tasks: TaskInfo[]): string[] {
  return Object.entries(countByStatus(tasks)).map(([s, n]) => `${GROUP_TITLES[s as TaskStatus]} ${n}`).sort();
}

/** Waits until the Results view's group rows are exactly `wanted` (collapsed groups, as they start). */
export async function waitForResultGroups(page: Page, wanted: string[], timeoutMs = 30_000): Promise<void> {
  const groups = async () => (await treeItems(page, 'Results')).filter((r) => r.expanded !== undefined).map((r) => r.text).sort();
  await waitFor(async () => JSON.stringify(await groups()) === JSON.stringify([...wanted].sort()), timeoutMs, `the Results view to show ${JSON.stringify(wanted)}`)
    .catch(async (err) => {
      throw new Error(`${(err as Error).message}; it shows ${JSON.stringify(await treeItems(page, 'Results'))}`);
    });
}

/** The after-line text a finished PO shows (src/extension/outcome.ts `outcomeText`). */
export function expectedAfterText(task: TaskInfo): string {
  const files = task.result?.files.length ?? 0;
  switch (task.status) {
    case 'COMPLETED':
      return `✓ done, ${files} ${files === 1 ? 'file' : 'files'}`;
    case 'NO_ATTACHMENTS':
      return '✓ done, no attachments';
    case 'CANCELLED':
      return '⊘ cancelled';
    default: {
      // The reason without the PO number the line already shows.
      const reason = (task.result?.error?.message ?? '').replace(new RegExp(`^${task.poNumber}: `), '');
      return `✗ ${GROUP_TITLES[task.status].toLowerCase()}: ${clipLine(reason, 50)}`;
    }
  }
}

function clipLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

/**
 * Every PO with files has exactly those files, of the reported sizes, in `<downloads>/<PO>/`; a PO
 * without files has no folder; nothing is left in `.work/`; the report is there. Returns the file count.
 */
export function assertFilesOnDisk(downloads: string, tasks: TaskInfo[]): number {
  let count = 0;
  for (const task of tasks) {
    const dir = join(downloads, task.poNumber);
    const files = task.result?.files ?? [];
    if (files.length === 0) {
      assert(!existsSync(dir) || readdirSync(dir).length === 0, `${task.poNumber} (${task.status}) has no files, yet ${dir} holds ${existsSync(dir) ? readdirSync(dir).join(', ') : ''}`);
      continue;
    }
    assert.equal(task.result?.folder, dir, `${task.poNumber}'s folder`);
    assert.deepEqual(readdirSync(dir).sort(), files.map((f) => f.name).sort(), `${task.poNumber}'s files on disk`);
    for (const f of files) {
      assert.equal(f.path, join(dir, f.name), `${f.name}'s path`);
      assert.equal(statSync(f.path).size, f.bytes, `${f.path} has the reported size`);
    }
    count += files.length;
  }
  const work = join(downloads, '.work');
  assert(!existsSync(work) || readdirSync(work).length === 0, `nothing is left in ${work}: ${existsSync(work) ? readdirSync(work).join(', ') : ''}`);
  assert(existsSync(join(downloads, 'po-pool-report.csv')), `the report is written in ${downloads}`);
  return count;
}
