/**
 * The shared browsers of a pool whose workers share them (`workersPerBrowser` > 1): one host process
 * (dist/browserHost.js) per group of workers, started when its first worker needs it and again after
 * it died. Workers connect to their host's browser; a host's death ends their sessions, and they
 * restart (starting the host again) as after any crash.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { errorFromWire, WorkerError, type PoolError } from '../protocol/errors';
import type { BrowserHostInit, BrowserStorageState, FromBrowserHost, ToBrowserHost } from '../protocol/workerMessages';
import { killPids } from '../shared/processTree';
import { removeProfileCopy } from '../shared/profile';
import { forkBrowserOwner } from './browserOwner';
import type { Logger } from './log';

export interface SharedBrowser {
  wsEndpoint: string;
  storageState: BrowserStorageState;
}

export interface BrowserHostsOptions {
  /** dist/browserHost.js */
  script: string;
  execPath?: string;
  log: Logger;
  tmpRoot: string;
  tmpPrefix: string;
  profilesDir: string;
  init: Omit<BrowserHostInit, 'hostId' | 'profileCopyDir'>;
}

interface Host {
  id: string;
  proc?: ChildProcess;
  starting?: Promise<SharedBrowser>;
  /** The host's browser processes, read at ready: killed when the host dies, so none is left. */
  browserPids: number[];
  tmpDir: string;
  profileCopyDir: string;
}

export class BrowserHosts {
  private readonly hosts: Host[];
  private closed = false;

  constructor(count: number, private readonly options: BrowserHostsOptions) {
    this.hosts = Array.from({ length: count }, (_, i) => ({ id: `browser-${i + 1}`, browserPids: [], tmpDir: '', profileCopyDir: '' }));
  }

  /** The host's browser, started when it is not running; rejects when it cannot start. */
  browser(index: number): Promise<SharedBrowser> {
    const host = this.hosts[index];
    if (this.closed) return Promise.reject(new WorkerError('the pool is shutting down'));
    host.starting ??= this.start(host);
    return host.starting;
  }

  /** Host process pids by host index, for the memory monitor. */
  pids(): (number | undefined)[] {
    return this.hosts.map((h) => h.proc?.pid);
  }

  private start(host: Host): Promise<SharedBrowser> {
    const { log } = this.options;
    host.profileCopyDir = join(this.options.profilesDir, `${host.id}-${Date.now().toString(36)}`);
    const { proc, tmpDir } = forkBrowserOwner({
      script: this.options.script, execPath: this.options.execPath, tmpRoot: this.options.tmpRoot, tmpPrefix: this.options.tmpPrefix,
      tag: host.id.replace('browser-', 'b'), id: host.id, log,
    });
    host.tmpDir = tmpDir;
    host.proc = proc;
    return new Promise<SharedBrowser>((resolve, reject) => {
      let failure: PoolError | undefined;
      proc.on('message', (m: FromBrowserHost) => {
        if (m.type === 'log') log.log(m.level, m.message, host.id);
        else if (m.type === 'startFailed') failure = errorFromWire(m.error);
        else if (m.type === 'ready') {
          host.browserPids = m.browserPids;
          resolve({ wsEndpoint: m.wsEndpoint, storageState: m.storageState });
        }
      });
      proc.on('exit', (code, signal) => {
        if (host.proc === proc) this.cleanUp(host);
        if (!this.closed) log.warn(`${host.id}: the shared browser's host exited (${signal ?? `code ${code}`}); it starts again with its next worker`);
        reject(failure ?? new WorkerError(`the shared browser's host exited (${signal ?? `code ${code}`}) before it was ready`));
      });
      this.send(proc, { type: 'init', init: { ...this.options.init, hostId: host.id, profileCopyDir: host.profileCopyDir } });
    });
  }

  private send(proc: ChildProcess, message: ToBrowserHost): void {
    try {
      proc.send(message);
    } catch {
      // The exit handler deals with a host that is gone.
    }
  }

  private cleanUp(host: Host): void {
    killPids(host.browserPids);
    host.browserPids = [];
    host.proc = undefined;
    host.starting = undefined;
    removeProfileCopy(host.profileCopyDir);
    if (host.tmpDir) rmSync(host.tmpDir, { recursive: true, force: true });
  }

  /** Stops every host (its workers are gone by then); kills what does not stop within `timeoutMs`. */
  async close(timeoutMs = 5_000): Promise<void> {
    this.closed = true;
    const live = this.hosts.filter((h) => h.proc);
    const exited = live.map((h) => new Promise<void>((resolve) => h.proc!.once('exit', () => resolve())));
    for (const host of live) this.send(host.proc!, { type: 'terminate' });
    const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([Promise.all(exited), timer]);
    for (const host of live) {
      if (host.proc?.pid) killPids([...host.browserPids, host.proc.pid]);
    }
    await Promise.race([Promise.all(exited), new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref())]);
    for (const host of this.hosts) if (host.proc) this.cleanUp(host);
  }
}
