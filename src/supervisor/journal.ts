/**
 * The durable copy of the supervisor's truth: an append-only JSON-lines file. Every record is
 * written before the change it records is visible, so it survives a kill -9 of the supervisor. A
 * submission is also fsynced before it is acknowledged (it survives a power cut); the records that
 * follow a task's progress are fsynced in the background, at most one fsync at a time, because a
 * synchronous fsync per record stalled the supervisor's answers while workers were busy. Replaying
 * the file gives back every task and its latest state; a torn last line is ignored.
 */
import { closeSync, existsSync, fsync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { TaskInfo, TaskResult, TaskStatus } from '../protocol/types';

export type JournalRecord =
  | { t: 'submit'; task: TaskInfo; seq: number }
  | { t: 'start'; taskId: string; workerId: string; at: number }
  | { t: 'requeue'; taskId: string; retryCount: number; notBefore?: number; crashes?: number }
  | { t: 'end'; taskId: string; status: TaskStatus; at: number; result?: TaskResult }
  | { t: 'snapshot'; task: TaskInfo; seq: number };

export interface ReplayedTask {
  task: TaskInfo;
  seq: number;
}

export class Journal {
  private fd: number;
  private records = 0;
  private syncing = false;
  private syncAgain = false;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a', 0o600);
  }

  /** Appends a batch as one write; `durable` fsyncs it before returning, else soon after. */
  append(batch: JournalRecord[], durable = true): void {
    if (batch.length === 0) return;
    const text = batch.map((r) => JSON.stringify(r)).join('\n') + '\n';
    writeSync(this.fd, text);
    this.records += batch.length;
    if (durable) fsyncSync(this.fd);
    else this.syncSoon();
  }

  private syncSoon(): void {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    fsync(this.fd, () => {
      // An error here means the descriptor was closed or replaced (compaction, shutdown), both of
      // which fsync what they wrote themselves.
      this.syncing = false;
      if (this.syncAgain) {
        this.syncAgain = false;
        this.syncSoon();
      }
    });
  }

  get size(): number {
    return this.records;
  }

  /**
   * Rewrites the journal as one snapshot record per task (temp file, fsync, atomic rename), so
   * replay time follows the number of tasks, not the history.
   */
  compact(tasks: ReplayedTask[]): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      const lines = tasks.map(({ task, seq }) => JSON.stringify({ t: 'snapshot', task, seq } satisfies JournalRecord));
      if (lines.length) writeSync(fd, lines.join('\n') + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    closeSync(this.fd);
    this.fd = openSync(this.path, 'a', 0o600);
    this.records = tasks.length;
  }

  close(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
  }

  /** Reads every task back. Tasks that were running when the supervisor died come back queued. */
  static replay(path: string): { tasks: ReplayedTask[]; records: number; torn: number } {
    const byId = new Map<string, ReplayedTask>();
    let records = 0;
    let torn = 0;
    if (!existsSync(path)) return { tasks: [], records, torn };
    const text = readFileSync(path, 'utf8');
    for (const line of text.split('\n')) {
      if (line === '') continue;
      let r: JournalRecord;
      try {
        r = JSON.parse(line) as JournalRecord;
      } catch {
        torn++;
        continue;
      }
      records++;
      apply(byId, r);
    }
    for (const entry of byId.values()) {
      if (entry.task.status === 'RUNNING') {
        entry.task.status = 'QUEUED';
        delete entry.task.workerId;
        delete entry.task.startedAt;
      }
    }
    return { tasks: [...byId.values()], records, torn };
  }
}

function apply(byId: Map<string, ReplayedTask>, r: JournalRecord): void {
  if (r.t === 'submit' || r.t === 'snapshot') {
    byId.set(r.task.taskId, { task: r.task, seq: r.seq });
    return;
  }
  const entry = byId.get(r.taskId);
  if (!entry) return;
  const task = entry.task;
  switch (r.t) {
    case 'start':
      task.status = 'RUNNING';
      task.workerId = r.workerId;
      task.startedAt = r.at;
      break;
    case 'requeue':
      task.status = 'QUEUED';
      task.retryCount = r.retryCount;
      delete task.workerId;
      delete task.result;
      delete task.finishedAt;
      if (r.notBefore) task.metadata = { ...task.metadata, notBefore: r.notBefore };
      if (r.crashes !== undefined) task.metadata = { ...task.metadata, crashes: r.crashes };
      break;
    case 'end':
      task.status = r.status;
      task.finishedAt = r.at;
      if (r.result) task.result = r.result;
      break;
  }
}
