/**
 * The pool as the features see it: the shared session to the supervisor, the settings, and the
 * operations more than one feature needs (make sure a pool runs, start it, stop it, submit POs).
 */
import { homedir } from 'node:os';
import * as vscode from 'vscode';
import { PoolShutdownError } from '../protocol/errors';
import {
  Shutdown, StartDemo, StartPool, SubmitTasks, type StartDemoResult, type SubmitTasksResult,
} from '../protocol/rpc';
import type { PoolStatus } from '../protocol/types';
import { connectToSupervisor } from '../client/client';
import { setDisplayLocale } from './format';
import { chunks, mergeSubmitResults } from './poInput';
import { SupervisorConnection } from './connection';
import {
  SECTION, downloadDir, readSettings, startDemoParams, startPoolParams, usesDemo, type Places, type PoolSettings,
} from './settings';
import { untilCancelled, withNotificationProgress } from './ui';

export function isPoolUp(status: PoolStatus | undefined): boolean {
  return status !== undefined && (status.state === 'INITIALIZING' || status.state === 'READY' || status.state === 'PROCESSING');
}

export class PoolController implements vscode.Disposable {
  readonly connection: SupervisorConnection;
  readonly log: vscode.LogOutputChannel;

  constructor(readonly context: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('PO Pool', { log: true });
    this.connection = new SupervisorConnection(() => connectToSupervisor({
      clientName: 'vscode',
      spawn: true,
      execPath: process.execPath,
      supervisorScript: context.asAbsolutePath('dist/supervisor.js'),
    }));
  }

  settings(): PoolSettings {
    const config = vscode.workspace.getConfiguration(SECTION);
    return readSettings((key) => config.get(key));
  }

  places(): Places {
    const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
    return { workspaceFolder: folder?.uri.fsPath, home: homedir() };
  }

  /** Where this window's POs go: the settings' folder, whatever folder the running pool was started with. */
  downloadDir(): string {
    return downloadDir(this.settings(), this.places());
  }

  /** The processing commands call this first: a pool that is not running is started from the settings. */
  async ensureRunning(token?: vscode.CancellationToken): Promise<PoolStatus> {
    const status = await this.connection.refreshStatus();
    if (isPoolUp(status)) return status;
    if (status.state === 'SHUTTING_DOWN') throw new PoolShutdownError('the pool is shutting down; start it again when it has stopped');
    return this.start(token);
  }

  /** Starts the pool from the settings: on the embedded stand-in when no Coupa address is set. */
  async start(token?: vscode.CancellationToken): Promise<PoolStatus> {
    const settings = this.settings();
    if (usesDemo(settings)) return (await this.startDemo(token)).status;
    const params = startPoolParams(settings, this.places());
    return this.progress(`Starting ${settings.workerCount} workers on ${settings.coupaUrl}…`, token, (t) => this.connection.request(StartPool, params, t));
  }

  startDemo(token?: vscode.CancellationToken): Promise<StartDemoResult> {
    const params = startDemoParams(this.settings(), this.places());
    return this.progress('Starting the Coupa stand-in and a demo pool…', token, (t) => this.connection.request(StartDemo, params, t));
  }

  /** Graceful first: running POs get `shutdownTimeout` seconds; the supervisor stays for the other windows. */
  async stop(force = false, token?: vscode.CancellationToken): Promise<boolean> {
    const title = force ? 'Stopping the pool now…' : `Stopping the pool (running POs get up to ${this.settings().shutdownTimeout} s)…`;
    const { clean } = await this.progress(title, token, (t) => this.connection.request(Shutdown, { force, exit: false }, t));
    return clean;
  }

  /**
   * Submits in chunks so a long list shows progress and can be stopped between chunks; POs the
   * supervisor already holds come back as duplicates.
   */
  async submit(
    poNumbers: string[],
    options: { priority?: number; redo?: boolean } = {},
    progress?: vscode.Progress<{ message?: string; increment?: number }>,
    token?: vscode.CancellationToken,
  ): Promise<SubmitTasksResult> {
    progress?.report({ message: 'checking the pool' });
    await this.ensureRunning(token);
    const results: SubmitTasksResult[] = [];
    const parts = chunks(poNumbers);
    let sent = 0;
    for (const part of parts) {
      if (token?.isCancellationRequested) break;
      const tasks = part.map((poNumber) => ({ poNumber, ...(options.priority !== undefined ? { priority: options.priority } : {}) }));
      results.push(await this.connection.request(SubmitTasks, { tasks, downloadDir: this.downloadDir(), ...(options.redo ? { redo: true } : {}) }));
      sent += part.length;
      progress?.report({ message: `${sent} of ${poNumbers.length} submitted`, increment: 100 / parts.length });
    }
    return mergeSubmitResults(results);
  }

  dispose(): void {
    this.connection.dispose();
    this.log.dispose();
  }

  /**
   * Inside a caller's progress when given its token; otherwise in a notification of its own whose
   * Cancel reaches the supervisor.
   */
  private async progress<T>(title: string, token: vscode.CancellationToken | undefined, work: (token: vscode.CancellationToken) => Promise<T>): Promise<T> {
    if (token) return untilCancelled(work(token), token);
    return withNotificationProgress(`PO Pool: ${title}`, (_, own) => untilCancelled(work(own), own));
  }
}

export function initPoolConnection(context: vscode.ExtensionContext): PoolController {
  // Before any feature formats a number.
  setDisplayLocale(vscode.env.language);
  const pool = new PoolController(context);
  context.subscriptions.push(pool);
  // Connecting (and maybe starting the supervisor) happens after activation returns.
  setImmediate(() => pool.connection.start());
  return pool;
}
