/**
 * `connect()`: the user's supervisor, as the extension and the CLI reach it (started when none
 * runs), with typed helpers for what scripts do most: start the pool, submit, look, wait.
 */
import { resolve } from 'node:path';
import { connectToSupervisor, type PoolClient } from '../client/client';
import { PoolError, TimeoutError } from '../protocol/errors';
import {
  CancelTask, GetStatus, ListTasks, RetryTasks, Shutdown, StartPool, StatusChanged, SubmitTasks, TasksChanged,
} from '../protocol/rpc';
import { isFinal, type PoolStatus, type TaskHandle, type TaskInfo, type TaskStatus } from '../protocol/types';
import type { ListOptions, StartOptions, SubmitOptions, SubmitResult, TaskInput } from './types';

export interface ConnectOptions {
  /** The supervisor's state folder; default `$PO_POOL_STATE_DIR`, else the per-user one the CLI and the editor use. */
  stateDir?: string;
  /** Start a supervisor when none runs (default true). */
  start?: boolean;
  /** Who is connecting, for the supervisor's log (default "api"). */
  clientName?: string;
}

export interface WaitOptions {
  /** Give up (TimeoutError) after this long; the pool keeps working. Default: no limit. */
  timeoutMs?: number;
}

const PAGE = 1000;
/** Notifications make waiting prompt; a poll this often makes it right when one is missed. */
const POLL_MS = 1000;

export function connect(options: ConnectOptions = {}): Promise<PoolConnection> {
  return PoolConnection.open(options);
}

/** One connection to the supervisor. `close()` it when done; the pool keeps running without it. */
export class PoolConnection {
  // Private, so the published types need not describe the client it wraps.
  private constructor(private readonly client: PoolClient) {}

  /** `connect()`. */
  static async open(options: ConnectOptions = {}): Promise<PoolConnection> {
    return new PoolConnection(await connectToSupervisor({ clientName: options.clientName ?? 'api', stateDir: options.stateDir, spawn: options.start ?? true }));
  }

  get supervisorPid(): number {
    return this.client.hello.supervisorPid;
  }

  /** The supervisor's log file, for when something went wrong. */
  get logFile(): string {
    return this.client.hello.logFile;
  }

  /**
   * Starts the pool. A running pool of the same configuration is kept; an idle one of another is
   * restarted; a busy one of another is refused with a ConfigurationError.
   */
  start(config: StartOptions): Promise<PoolStatus> {
    return this.client.request(StartPool, config);
  }

  /** Queues POs (journalled before this resolves), 1000 per request. */
  async submit(tasks: TaskInput[], options: SubmitOptions = {}): Promise<SubmitResult> {
    const merged: SubmitResult = { handles: [], duplicates: [], invalid: [] };
    const inputs = tasks.map((t) => (typeof t === 'string' ? { poNumber: t, ...(options.priority !== undefined ? { priority: options.priority } : {}) } : t));
    for (let i = 0; i < inputs.length; i += PAGE) {
      const r = await this.client.request(SubmitTasks, {
        tasks: inputs.slice(i, i + PAGE),
        ...(options.downloadDir !== undefined ? { downloadDir: resolve(options.downloadDir) } : {}),
        ...(options.redo ? { redo: true } : {}),
      });
      merged.handles.push(...r.handles);
      merged.duplicates.push(...r.duplicates);
      merged.invalid.push(...r.invalid);
    }
    return merged;
  }

  status(): Promise<PoolStatus> {
    return this.client.request(GetStatus, undefined);
  }

  /** Every task the supervisor knows (or those of some statuses or POs), in queue order. */
  async list(options: ListOptions = {}): Promise<TaskInfo[]> {
    const groups = options.poNumbers ? chunks(options.poNumbers, PAGE) : [undefined];
    const out: TaskInfo[] = [];
    for (const poNumbers of groups) {
      for (let offset = 0; ; offset += PAGE) {
        const page = await this.client.request(ListTasks, { offset, limit: PAGE, ...(options.status ? { status: options.status } : {}), ...(poNumbers ? { poNumbers } : {}) });
        out.push(...page.tasks);
        if (page.tasks.length === 0 || offset + PAGE >= page.total) break;
      }
    }
    return out;
  }

  /**
   * Resolves with the tasks of a submission (its new tasks and the duplicates it was answered
   * with) once every one of them has ended, however it ended.
   */
  async waitForDone(submitted: SubmitResult | TaskHandle[], options: WaitOptions = {}): Promise<TaskInfo[]> {
    const handles = Array.isArray(submitted) ? submitted : [...submitted.handles, ...submitted.duplicates];
    const ids = new Set(handles.map((h) => h.taskId));
    const poNumbers = [...new Set(handles.map((h) => h.poNumber))];
    const deadline = Date.now() + (options.timeoutMs ?? Infinity);
    let wake = () => {};
    const changes = this.client.onNotification(TasksChanged, (tasks) => {
      if (tasks.some((t) => ids.has(t.taskId) && isFinal(t.status))) wake();
    });
    const closed = this.client.onClose(() => wake());
    try {
      for (;;) {
        if (this.client.isClosed) throw new PoolError(`the supervisor closed the connection while waiting; see ${this.logFile}`);
        const tasks = poNumbers.length ? (await this.list({ poNumbers })).filter((t) => ids.has(t.taskId)) : [];
        const left = tasks.filter((t) => !isFinal(t.status)).length;
        if (left === 0) return tasks;
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new TimeoutError(`${left} of ${ids.size} POs not done after ${options.timeoutMs} ms; the pool keeps working`);
        await new Promise<void>((done) => {
          const timer = setTimeout(done, Math.min(POLL_MS, remaining));
          wake = () => {
            clearTimeout(timer);
            done();
          };
        });
      }
    } finally {
      changes.dispose();
      closed.dispose();
    }
  }

  cancel(taskId: string): Promise<{ cancelled: boolean; status: TaskStatus }> {
    return this.client.request(CancelTask, { taskId });
  }

  /** Queues finished tasks again; with none given, every task that ended in a failure state. */
  async retry(taskIds?: string[]): Promise<TaskHandle[]> {
    return (await this.client.request(RetryTasks, taskIds ? { taskIds } : {})).handles;
  }

  /**
   * Stops the pool: running POs get `timeout` seconds (default: its shutdownTimeout), or none with
   * `force`; the supervisor ends too unless `exit` is false. True when it finished gracefully in time.
   */
  async shutdown(options: { timeout?: number; force?: boolean; exit?: boolean } = {}): Promise<boolean> {
    return (await this.client.request(Shutdown, options)).clean;
  }

  /** Every change of the pool's status, several a second while it works. Returns the unsubscribe. */
  onStatus(listener: (status: PoolStatus) => void): () => void {
    const sub = this.client.onNotification(StatusChanged, listener);
    return () => sub.dispose();
  }

  /** Tasks whose status changed. Returns the unsubscribe. */
  onTasks(listener: (tasks: TaskInfo[]) => void): () => void {
    const sub = this.client.onNotification(TasksChanged, listener);
    return () => sub.dispose();
  }

  close(): void {
    this.client.dispose();
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
