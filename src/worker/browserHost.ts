/**
 * The browser host process (dist/browserHost.js), forked by the supervisor when workers share
 * browsers: one Playwright browser server on 127.0.0.1 that several worker processes connect to,
 * each with a context (cookie jar, tabs, downloads) of its own. A crash here ends that browser's
 * sessions but never the supervisor. Like a worker, it never outlives the supervisor with its browser.
 */
import { randomBytes } from 'node:crypto';
import { chromium, type BrowserServer } from 'playwright-core';
import { TimeoutError, toWireError } from '../protocol/errors';
import type { BrowserHostInit, FromBrowserHost, ToBrowserHost } from '../protocol/workerMessages';
import { browserArgs } from '../shared/browsers.mjs';
import { killPids } from '../shared/processTree';
import { copyProfile, removeProfileCopy, validateBaseProfile } from '../shared/profile';
import { launchTarget, readScopedStorageState } from './browserSession';
import { descendantPids, sendToParent } from './childProcess';

type Level = 'debug' | 'info' | 'warn' | 'error';

let server: BrowserServer | undefined;
let init: BrowserHostInit | undefined;
let exiting = false;

const send = (message: FromBrowserHost) => sendToParent(message);

function log(level: Level, message: string): void {
  void send({ type: 'log', level, message });
}

async function exitWith(code: number): Promise<never> {
  if (!exiting) {
    exiting = true;
    const pids = await descendantPids();
    await Promise.race([server?.close().catch(() => undefined), new Promise((r) => setTimeout(r, 3_000))]);
    // Whatever close() left behind (a hung browser, its helpers): no orphan, ever.
    killPids([...pids, ...(await descendantPids())]);
    if (init) removeProfileCopy(init.profileCopyDir);
  }
  process.exit(code);
}

async function start(config: BrowserHostInit): Promise<void> {
  init = config;
  const started = Date.now();
  try {
    const timer = setTimeout(() => void fail(new TimeoutError(`starting the shared browser took longer than ${config.startupTimeout / 1000} s`)), config.startupTimeout);
    await validateBaseProfile(config.baseProfilePath);
    await copyProfile(config.baseProfilePath, config.profileCopyDir);
    const { scoped: storageState, cookiesInProfile, hosts } = await readScopedStorageState(config.profileCopyDir, config.browser, config.coupaUrl, config.startupTimeout);
    removeProfileCopy(config.profileCopyDir);
    log('debug', `${storageState.cookies.length} of ${cookiesInProfile} cookies kept, for ${hosts.join(', ')}`);
    const target = launchTarget(config.browser, config.headless);
    server = await chromium.launchServer({
      ...(target.channel ? { channel: target.channel } : { executablePath: target.executablePath }),
      args: browserArgs(),
      headless: config.headless,
      timeout: config.startupTimeout,
      host: '127.0.0.1',
      // Whoever knows the endpoint drives the browser: only the supervisor and its workers learn it.
      wsPath: `/${randomBytes(18).toString('base64url')}`,
    });
    clearTimeout(timer);
    server.on('close', () => {
      if (exiting) return;
      log('warn', 'the shared browser closed (crashed or was killed)');
      void exitWith(1);
    });
    const pids = await descendantPids();
    log('info', `shared browser ${target.name} ready in ${Date.now() - started} ms (pid ${server.process().pid})`);
    await send({ type: 'ready', wsEndpoint: server.wsEndpoint(), storageState, browserPids: pids });
  } catch (err) {
    await fail(err);
  }
}

async function fail(err: unknown): Promise<void> {
  if (exiting) return;
  log('error', `start failed: ${(err as Error).message}`);
  await send({ type: 'startFailed', error: toWireError(err) });
  await exitWith(1);
}

process.on('message', (message: ToBrowserHost) => {
  if (message.type === 'init') void start(message.init);
  else if (message.type === 'terminate') void exitWith(0);
});

// The supervisor is gone (exited, crashed, killed): nobody will ever stop this browser but us.
process.on('disconnect', () => void exitWith(0));
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void exitWith(0));
process.on('uncaughtException', (err) => {
  process.stderr.write(`browser host: uncaught ${err.stack ?? err.message}\n`);
  void exitWith(1);
});
