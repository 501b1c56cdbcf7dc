/**
 * The supervisor process: started detached by the first client, shared by every window and the
 * CLI, and gone by itself once nothing is queued and no client has been attached for a while.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { takeLock } from '../shared/lock';
import { ensureOwnerOnlyDir, socketDir, statePaths } from '../shared/paths';
import { createLogger } from './log';
import { RpcServer } from './rpcServer';
import { legacyPlace, SupervisorService } from './service';
import { TaskStore } from './taskStore';
import { demoStarter } from './demo';

const IDLE_CHECK_MS = 15_000;

async function main(): Promise<void> {
  const paths = statePaths();
  ensureOwnerOnlyDir(paths.dir);
  ensureOwnerOnlyDir(socketDir(paths));
  const holder = takeLock(paths.lock);
  if (holder.pid !== process.pid) {
    // Another client started one at the same moment: its clients and ours will all reach that one.
    console.log(`supervisor ${holder.pid} holds the lock ${paths.lock}; ${process.pid} leaving`);
    return;
  }
  let rpc: RpcServer | undefined;
  const log = createLogger(paths.log, (entry) => rpc?.sendLog(entry));
  // A failed background operation (a memory sample, a notification) must not take the queue and
  // every worker down with it: it is logged, with its stack, and the supervisor goes on.
  process.on('unhandledRejection', (reason) => log.error(`unhandled rejection: ${(reason as Error)?.stack ?? String(reason)}`));

  const replayStart = Date.now();
  const { store, replayedRecords, tornRecords, skippedRecords } = TaskStore.open(paths.journal, { legacy: legacyPlace(paths), onError: (m) => log.error(m) });
  const damaged = tornRecords + skippedRecords ? `; skipped ${tornRecords} torn and ${skippedRecords} malformed record(s)` : '';
  log.info(`supervisor ${process.pid} (node ${process.versions.node}) replayed ${replayedRecords} journal records in ${Date.now() - replayStart} ms: ${store.total} tasks, ${store.queued} queued${damaged}`);

  const demo = demoStarter(paths, log);
  const service = new SupervisorService(paths, store, log, { workerScript: join(__dirname, 'worker.js'), demo: (dir) => demo.start(dir) });
  if (process.env.PO_POOL_IDLE_MINUTES) service.setIdleMinutes(Number(process.env.PO_POOL_IDLE_MINUTES));

  let exiting = false;
  const exit = async (why: string, code = 0) => {
    if (exiting) return;
    exiting = true;
    log.info(`exiting: ${why}`);
    await service.shutdownPool().catch((err) => log.error(`shutdown: ${(err as Error).message}`));
    rpc?.close();
    await demo.close();
    store.close();
    // The lock is left as it is: a dead holder holds nothing.
    tryUnlink(paths.socket);
    process.exit(code);
  };

  const token = randomBytes(32).toString('hex');
  writeFileSync(paths.token, token, { mode: 0o600 });
  chmodSync(paths.token, 0o600);
  rpc = new RpcServer(service, token, log, {
    exit: () => setTimeout(() => void exit('asked to by a client'), 100),
    // Loaded when first needed: playwright-core costs an idle supervisor ~80 MB and half a second.
    signIn: async (p) => (await import('../coupa/signIn')).signInInteractive({
      profileDir: p.profilePath, coupaUrl: p.coupaUrl, browser: p.browser, timeoutMs: (p.timeout ?? 300) * 1000, signal: p.signal,
    }),
  });
  if (process.platform !== 'win32') tryUnlink(paths.socket);
  await new Promise<void>((resolve, reject) => {
    rpc!.server.once('error', reject);
    rpc!.server.listen(paths.socket, () => resolve());
  });
  if (process.platform !== 'win32') chmodSync(paths.socket, 0o600);
  log.info(`listening on ${paths.socket}`);

  service.resumeWithLastConfig();

  let idleSince = Date.now();
  setInterval(() => {
    if (rpc!.attached > 0 || !service.isIdle()) {
      idleSince = Date.now();
    } else if (Date.now() - idleSince >= service.idleShutdownMinutes * 60_000) {
      void exit(`idle for ${service.idleShutdownMinutes} min with no client attached`);
    }
  }, Math.min(IDLE_CHECK_MS, Math.max(1000, service.idleShutdownMinutes * 60_000))).unref();

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void exit(signal));
  // After a programming error the state is not to be trusted: log it, stop the workers and browsers
  // (no orphans), and let the next client start a fresh supervisor from the journal.
  process.on('uncaughtException', (err) => {
    log.error(`uncaught exception: ${err.stack ?? err.message}`);
    void exit('uncaught exception', 1);
  });
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // not there
  }
}

main().catch((err) => {
  console.error(`supervisor failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
