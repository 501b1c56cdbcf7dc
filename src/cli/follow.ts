/**
 * Following the pool until work is done. Notifications make it prompt; a status poll every second
 * makes it right even when a notification is missed; a closed connection is reopened (a crashed
 * supervisor is restarted by the next client and resumes from its journal).
 */
import { PoolError } from '../protocol/errors';
import { GetStatus, ListTasks, StatusChanged, TasksChanged, WorkerHealthChanged } from '../protocol/rpc';
import { isFinal, type PoolStatus, type TaskInfo, type TaskStatus } from '../protocol/types';
import type { PoolClient } from '../client/client';
import type { Progress } from './format';
import type { LiveView } from './live';
import { batches } from './options';
import { isSuccess } from './outcome';

const PAGE = 1000;
const POLL_MS = 1000;
/** Without notifications, the tracked tasks are listed again this often. */
const RECONCILE_MS = 10_000;
/** Work waiting while no pool runs is only a problem if it stays so (a pool may be resuming). */
const STUCK_MS = 5000;

/** The statuses of one run's tasks, kept current from notifications. */
export class TaskTracker {
  private readonly tracked = new Map<string, { poNumber: string; status: TaskStatus }>();
  /** Changes that arrived before the submission that created them was answered. */
  private readonly early = new Map<string, TaskStatus>();

  track(taskId: string, poNumber: string, status: TaskStatus): void {
    this.tracked.set(taskId, { poNumber, status: this.early.get(taskId) ?? status });
  }

  update(tasks: Pick<TaskInfo, 'taskId' | 'status'>[]): void {
    for (const t of tasks) {
      const entry = this.tracked.get(t.taskId);
      if (entry) entry.status = t.status;
      else this.early.set(t.taskId, t.status);
    }
  }

  get size(): number {
    return this.tracked.size;
  }

  get taskIds(): Set<string> {
    return new Set(this.tracked.keys());
  }

  get poNumbers(): string[] {
    return [...new Set([...this.tracked.values()].map((t) => t.poNumber))];
  }

  allFinal(): boolean {
    return [...this.tracked.values()].every((t) => isFinal(t.status));
  }

  progress(): Progress {
    const all = [...this.tracked.values()];
    const done = all.filter((t) => isFinal(t.status));
    return { done: done.length, total: all.length, failed: done.filter((t) => !isSuccess(t.status)).length };
  }
}

/** Progress over everything the pool knows, for `status --watch` and `wait`. */
export function poolProgress(status: PoolStatus): Progress {
  const done = Math.max(0, status.total - status.queueDepth - status.running);
  const failed = Object.entries(status.counts)
    .filter(([s]) => isFinal(s as TaskStatus) && !isSuccess(s as TaskStatus))
    .reduce((sum, [, n]) => sum + (n ?? 0), 0);
  return { done, total: status.total, failed };
}

/** Every task (optionally only those of some POs), one page of at most 1000 at a time. */
export async function listAllTasks(client: PoolClient, poNumbers?: string[]): Promise<TaskInfo[]> {
  const groups = poNumbers ? batches(poNumbers, PAGE) : [undefined];
  const out: TaskInfo[] = [];
  for (const group of groups) {
    for (let offset = 0; ; offset += PAGE) {
      const page = await client.request(ListTasks, { offset, limit: PAGE, ...(group ? { poNumbers: group } : {}) });
      out.push(...page.tasks);
      if (page.tasks.length === 0 || offset + PAGE >= page.total) break;
    }
  }
  return out;
}

export interface FollowerOptions {
  /** Only these tasks; without one, everything queued or running in the pool. */
  tracker?: TaskTracker;
  /** A new connection after the old one closed; undefined when no supervisor is there any more. */
  reconnect: () => Promise<PoolClient | undefined>;
}

export type FollowEnd = 'done' | 'timeout' | 'stopped';

export class Follower {
  private wake?: () => void;
  private stopped = false;
  /** Set once there is something to show; the follower subscribes earlier, before tasks exist. */
  view?: LiveView;

  constructor(private current: PoolClient, private readonly options: FollowerOptions) {
    this.subscribe(current);
  }

  get client(): PoolClient {
    return this.current;
  }

  /** Follows until the work is done, the timeout comes, or `stop()` is called. */
  async until(timeoutMs?: number): Promise<FollowEnd> {
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    let lastReconcile = Date.now();
    let stuckSince: number | undefined;
    for (;;) {
      if (this.stopped) return 'stopped';
      if (this.current.isClosed) await this.reopen();
      let status: PoolStatus;
      try {
        status = await this.current.request(GetStatus, undefined);
      } catch (err) {
        if (this.current.isClosed || this.stopped) continue;
        throw err;
      }
      const idle = status.queueDepth === 0 && status.running === 0;
      const tracker = this.options.tracker;
      if (tracker && !tracker.allFinal() && (idle || Date.now() - lastReconcile >= RECONCILE_MS)) {
        tracker.update(await listAllTasks(this.current, tracker.poNumbers));
        lastReconcile = Date.now();
      }
      this.show(status);
      if (tracker ? tracker.allFinal() || idle : idle) return 'done';

      if (status.state === 'TERMINATED' || status.state === 'ERROR') {
        stuckSince ??= Date.now();
        if (Date.now() - stuckSince >= STUCK_MS) throw stuckError(status, this.current.hello.logFile);
      } else {
        stuckSince = undefined;
      }
      if (Date.now() >= deadline) return 'timeout';
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(POLL_MS, deadline - Date.now()));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  private show(status: PoolStatus): void {
    this.view?.update(status, this.options.tracker?.progress() ?? poolProgress(status));
  }

  private subscribe(client: PoolClient): void {
    client.onNotification(TasksChanged, (tasks) => {
      this.options.tracker?.update(tasks);
      if (this.options.tracker?.allFinal()) this.wake?.();
    });
    client.onNotification(StatusChanged, (status) => {
      this.show(status);
      if (status.queueDepth === 0 && status.running === 0) this.wake?.();
    });
    client.onNotification(WorkerHealthChanged, (workers) => this.view?.health(workers));
  }

  private async reopen(): Promise<void> {
    const next = await this.options.reconnect();
    if (!next) throw new PoolError('the supervisor stopped while waiting');
    this.current = next;
    this.subscribe(next);
  }
}

function stuckError(status: PoolStatus, logFile: string): PoolError {
  const waiting = status.queueDepth + status.running;
  if (status.state === 'ERROR') return new PoolError(`the pool stopped with an error while ${waiting} PO(s) wait; see "po-pool status" and ${logFile}`);
  return new PoolError(`${waiting} PO(s) wait but no pool is running; start one with "po-pool start --coupa URL --profile DIR"`);
}
