/**
 * The real editor: code-server (set up by scripts/e2e-setup.mjs) with our .vsix installed, driven
 * through Debian's Chromium by playwright-core; every process it starts is tracked and stopped.
 * Selectors are the workbench's own class names, so they are the first thing to check when a new
 * code-server changes its markup.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Frame, type Page } from 'playwright-core';
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
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
