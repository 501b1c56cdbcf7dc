/**
 * The one connection to the supervisor that every feature shares: connects (starting the
 * supervisor when none answers), reconnects with backoff when the socket drops, and republishes
 * the supervisor's notifications. It caches only the latest status; after a reconnect `onDidReset`
 * tells the features to rebuild from `GetStatus` and `ListTasks`, so nothing is lost with a socket.
 */
import type { CancellationToken, RequestType } from 'vscode-jsonrpc';
import type { SupervisorClient } from '../client/client';
import {
  GetStatus, LogLine, StatusChanged, TasksChanged, WorkerHealthChanged, type LogEntry,
} from '../protocol/rpc';
import type { PoolStatus, TaskInfo, WorkerHealth } from '../protocol/types';
import { Backoff } from './backoff';
import { Emitter, type Disposable } from './events';

export type ConnectionState =
  | { kind: 'connecting' }
  | { kind: 'connected'; supervisorPid: number; logFile: string }
  | { kind: 'retrying'; error: string; retryAt: number };

export class SupervisorConnection {
  private current?: SupervisorClient;
  private attempt?: Promise<SupervisorClient>;
  private retryTimer?: ReturnType<typeof setTimeout>;
  private subscriptions: Disposable[] = [];
  private disposed = false;
  private latest?: PoolStatus;
  private connection: ConnectionState = { kind: 'connecting' };

  private readonly connectionEmitter = new Emitter<ConnectionState>();
  private readonly statusEmitter = new Emitter<PoolStatus>();
  private readonly workersEmitter = new Emitter<WorkerHealth[]>();
  private readonly tasksEmitter = new Emitter<TaskInfo[]>();
  private readonly logEmitter = new Emitter<LogEntry>();
  private readonly resetEmitter = new Emitter<PoolStatus>();

  readonly onDidChangeConnection = this.connectionEmitter.event;
  readonly onDidChangeStatus = this.statusEmitter.event;
  /** Only the workers that changed. */
  readonly onDidChangeWorkers = this.workersEmitter.event;
  /** Only the tasks whose status changed. */
  readonly onDidChangeTasks = this.tasksEmitter.event;
  readonly onLog = this.logEmitter.event;
  /** After every (re)connect, with a fresh status: throw away what was derived from the old connection. */
  readonly onDidReset = this.resetEmitter.event;

  constructor(private readonly connect: () => Promise<SupervisorClient>, private readonly backoff = new Backoff()) {}

  get status(): PoolStatus | undefined {
    return this.latest;
  }

  get state(): ConnectionState {
    return this.connection;
  }

  /** Starts connecting in the background; activation does not wait for it. */
  start(): void {
    this.tryNow().catch(() => undefined);
  }

  /**
   * The connected client. When disconnected, tries at once instead of waiting for the backoff, and
   * fails with that attempt's error so a command can tell the person why.
   */
  client(): Promise<SupervisorClient> {
    if (this.current) return Promise.resolve(this.current);
    return this.tryNow();
  }

  /** A fired token reaches the supervisor, which stops the work (a starting pool, a sign-in window). */
  async request<P, R>(type: RequestType<P, R, void>, params: P, token?: CancellationToken): Promise<R> {
    return (await this.client()).request(type, params, token);
  }

  async refreshStatus(): Promise<PoolStatus> {
    const status = await this.request(GetStatus, undefined);
    this.setStatus(status);
    return status;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.retryTimer);
    this.detach();
    for (const e of [this.connectionEmitter, this.statusEmitter, this.workersEmitter, this.tasksEmitter, this.logEmitter, this.resetEmitter]) e.dispose();
  }

  private tryNow(): Promise<SupervisorClient> {
    if (this.disposed) return Promise.reject(new Error('the PO Pool extension is shutting down'));
    if (!this.attempt) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.setConnection({ kind: 'connecting' });
      const attempt = this.attach().finally(() => (this.attempt = undefined));
      attempt.catch((err) => this.scheduleRetry(err));
      this.attempt = attempt;
    }
    return this.attempt;
  }

  private async attach(): Promise<SupervisorClient> {
    const client = await this.connect();
    if (this.disposed) {
      client.dispose();
      throw new Error('the PO Pool extension is shutting down');
    }
    // Subscribed before asking for the status, so no change falls between the two.
    this.subscriptions = [
      client.onNotification(StatusChanged, (s) => this.setStatus(s)),
      client.onNotification(WorkerHealthChanged, (w) => this.workersEmitter.fire(w)),
      client.onNotification(TasksChanged, (t) => this.tasksEmitter.fire(t)),
      client.onNotification(LogLine, (e) => this.logEmitter.fire(e)),
      client.onClose(() => this.lost(client)),
    ];
    let status: PoolStatus;
    try {
      status = await client.request(GetStatus, undefined);
    } catch (err) {
      this.detach();
      client.dispose();
      throw err;
    }
    this.current = client;
    this.backoff.reset();
    this.latest = status;
    this.setConnection({ kind: 'connected', supervisorPid: client.hello.supervisorPid, logFile: client.hello.logFile });
    this.resetEmitter.fire(status);
    this.statusEmitter.fire(status);
    return client;
  }

  private lost(client: SupervisorClient): void {
    if (this.current !== client) return;
    this.detach();
    if (!this.disposed) this.start();
  }

  private detach(): void {
    for (const s of this.subscriptions) s.dispose();
    this.subscriptions = [];
    this.current?.dispose();
    this.current = undefined;
  }

  private scheduleRetry(err: unknown): void {
    if (this.disposed || this.current || this.retryTimer) return;
    const delay = this.backoff.next();
    this.setConnection({ kind: 'retrying', error: err instanceof Error ? err.message : String(err), retryAt: Date.now() + delay });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.start();
    }, delay);
  }

  private setStatus(status: PoolStatus): void {
    this.latest = status;
    this.statusEmitter.fire(status);
  }

  private setConnection(state: ConnectionState): void {
    this.connection = state;
    this.connectionEmitter.fire(state);
  }
}
