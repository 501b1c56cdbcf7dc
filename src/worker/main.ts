/**
 * The worker process (dist/worker.js), forked by the supervisor. It owns one browser and must never
 * outlive the supervisor with it: whichever way it ends, the browser and the profile copy go first.
 */
import { AuthenticationError, TimeoutError, toWireError } from '../protocol/errors';
import type { FromWorker, ToWorker, WorkerHealthSnapshot, WorkerInit, WorkerTask } from '../protocol/workerMessages';
import { killPids, memoryShare } from '../shared/processTree';
import { BrowserSession } from './browserSession';
import { descendantPids, sendToParent } from './childProcess';
import { copyProfile, removeProfileCopy, validateBaseProfile } from '../shared/profile';
import { SIGN_IN_ADVICE, Worker } from './worker';

type Level = 'debug' | 'info' | 'warn' | 'error';

let init: WorkerInit | undefined;
let session: BrowserSession | undefined;
let worker: Worker | undefined;
let running: Promise<void> | undefined;
let exiting = false;

const send = (message: FromWorker) => sendToParent(message);

function log(level: Level, message: string): void {
  void send({ type: 'log', level, message });
}

/** Whatever `close()` left behind (a hung browser, its helpers) is killed: no orphan, ever. */
async function killLeftovers(): Promise<void> {
  killPids(await descendantPids());
}

async function cleanUp(closeTimeoutMs: number): Promise<void> {
  await session?.close(closeTimeoutMs).catch(() => undefined);
  session = undefined;
  await killLeftovers();
  // What cannot go now (a browser killed a moment ago still writing) goes at the pool's next start.
  if (init && !removeProfileCopy(init.profileCopyDir)) process.stderr.write(`could not remove the profile copy ${init.profileCopyDir}; the next start will\n`);
}

/**
 * `terminated` is sent once everything is cleaned up (that is what it promises); a failure is sent
 * first, so the supervisor learns the cause at once.
 */
async function exitWith(code: number, closeTimeoutMs: number, message?: FromWorker): Promise<never> {
  if (!exiting) {
    exiting = true;
    if (message && message.type !== 'terminated') await send(message);
    await cleanUp(closeTimeoutMs);
    if (message?.type === 'terminated') await send(message);
  }
  process.exit(code);
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(`${what} took longer than ${Math.round(ms / 1000)} s`)), ms);
    work.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e); });
  });
}

async function start(config: WorkerInit): Promise<void> {
  init = config;
  const started = Date.now();
  try {
    await withTimeout((async () => {
      // A remote browser needs the profile only for its cookies; without a profile it may still be signed in by SSO.
      if (config.baseProfilePath || !config.remoteEndpoint) {
        await validateBaseProfile(config.baseProfilePath);
        const ms = await copyProfile(config.baseProfilePath, config.profileCopyDir);
        log('debug', `profile copied in ${ms} ms`);
      }
      const usesProfile = Boolean(config.baseProfilePath || !config.remoteEndpoint);
      const open = async (headlessShell: boolean): Promise<boolean> => {
        session = new BrowserSession({
          baseUrl: config.coupaUrl,
          profileDir: usesProfile ? config.profileCopyDir : '',
          headless: config.headless,
          browser: config.browser,
          headlessShell,
          remoteEndpoint: config.remoteEndpoint,
          storageState: config.storageState,
          startupTimeout: config.startupTimeout,
          blockPageResources: config.blockPageResources,
          authTimeout: config.authTimeout,
          recoveryTimeout: config.recoveryTimeout,
          log,
          onLost: (reason) => void exitWith(1, 2_000, { type: 'sessionLost', error: { kind: 'SessionCorruptionError', message: reason } }),
        });
        await session.launch();
        return session.authenticate();
      };
      let signedIn = await open(true);
      if (!signedIn && session?.shell) {
        // A headless shell may not read cookies the headed browser encrypted (another password store
        // or key): the same profile then works in the full browser, which is slower but signed in.
        log('warn', `the headless shell ${session.shell} is not signed in with this profile; trying the full browser, which may read cookies the shell cannot`);
        await session.close(5_000);
        await killLeftovers();
        if (usesProfile) await copyProfile(config.baseProfilePath, config.profileCopyDir);
        signedIn = await open(false);
      }
      if (!signedIn) {
        throw new AuthenticationError(`not signed in to Coupa at ${config.coupaUrl}: ${SIGN_IN_ADVICE}`);
      }
    })(), config.startupTimeout, 'starting the worker');
  } catch (err) {
    log('error', `start failed: ${(err as Error).message}`);
    await exitWith(1, 5_000, { type: 'startFailed', error: toWireError(err) });
  }
  worker = new Worker(session!, {
    baseUrl: config.coupaUrl,
    maxDownloadBytes: config.maxDownloadBytes,
    log,
  });
  const pids = config.remoteEndpoint ? [] : await descendantPids();
  log('info', `ready in ${Date.now() - started} ms${pids.length ? ` (browser pid ${pids[0]})` : ''}`);
  await send({ type: 'ready', browserPids: pids, sessionStartedAt: session!.startedAt ?? Date.now() });
}

async function runTask(task: WorkerTask): Promise<void> {
  if (!worker) {
    await send({ type: 'taskError', taskId: task.taskId, error: { kind: 'WorkerError', message: 'the worker is not ready' } });
    return;
  }
  try {
    const result = await worker.processPo(task);
    if (!exiting) await send({ type: 'result', taskId: task.taskId, result });
  } catch (err) {
    const wire = toWireError(err);
    // A tab can fail a moment before the browser's own close event: give that event the chance to
    // arrive, since sessionLost already tells the supervisor and a taskError too would count the PO twice.
    if (wire.kind === 'SessionCorruptionError') await new Promise((r) => setTimeout(r, 1_000));
    if (!exiting && !session?.isLost) await send({ type: 'taskError', taskId: task.taskId, error: wire });
  }
}

/** The worker's own view of its health, with the memory of this process and its browser. */
async function health(w: Worker): Promise<WorkerHealthSnapshot> {
  const pids = [process.pid, ...(await descendantPids())];
  const share = await memoryShare(pids);
  return { ...w.getHealthStatus(), memoryBytes: pids.reduce((sum, pid) => sum + (share.get(pid) ?? 0), 0) };
}

async function terminate(force: boolean): Promise<void> {
  if (exiting) return;
  if (!force && running) await running;
  await worker?.terminate(force).catch(() => undefined);
  await exitWith(0, force ? 3_000 : 10_000, { type: 'terminated' });
}

process.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'init':
      void start(message.init);
      break;
    case 'process':
      running = runTask(message.task).finally(() => {
        running = undefined;
      });
      break;
    case 'health':
      if (worker) void health(worker).then((h) => send({ type: 'health', health: h }));
      break;
    case 'terminate':
      void terminate(message.force);
      break;
  }
});

// The supervisor is gone (exited, crashed, killed): nobody will ever stop this browser but us.
process.on('disconnect', () => void exitWith(0, 3_000));
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void exitWith(0, 3_000));
process.on('uncaughtException', (err) => {
  process.stderr.write(`worker: uncaught ${err.stack ?? err.message}\n`);
  void exitWith(1, 3_000, { type: 'sessionLost', error: { kind: 'SessionCorruptionError', message: `worker crashed: ${err.message}` } });
});
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`worker: unhandled rejection ${(reason as Error)?.stack ?? String(reason)}\n`);
});
