/**
 * The durable copy of the supervisor's truth: an append-only JSON-lines file. Every record is
 * written before the change it records is visible, so it survives a kill -9 of the supervisor. A
 * submission is also fsynced before it is acknowledged (it survives a power cut); the records that
 * follow a task's progress are fsynced in the background, at most one fsync at a time, because a
 * synchronous fsync per record stalled the supervisor's answers while workers were busy.
 *
 * A damaged journal never keeps the supervisor down: replay skips (and counts) torn lines and
 * records of the wrong shape. A write that fails (a full disk) is cut back to the last whole record,
 * so the file never holds half a line followed by more records; a refused submission is the
 * caller's error to report, and progress records wait in memory until the disk takes them again.
 */
import { closeSync, existsSync, fsync, fsyncSync, ftruncateSync, fstatSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { taskStatuses, type TaskInfo, type TaskPlace, type TaskResult, type TaskStatus } from '../protocol/types';

export type JournalRecord =
  | { t: 'submit'; task: TaskInfo; seq: number }
  | { t: 'start'; taskId: string; workerId: string; at: number }
  | { t: 'requeue'; taskId: string; retryCount: number; notBefore?: number; crashes?: number }
  | { t: 'end'; taskId: string; status: TaskStatus; at: number; result?: TaskResult }
  | { t: 'snapshot'; task: TaskInfo; seq: number; notBefore?: number; crashes?: number };

export interface ReplayedTask {
  task: TaskInfo;
  seq: number;
  /** Not before this time (a retry's backoff); 0 = now. */
  notBefore: number;
  /** Workers that died while running it, since it was last submitted or retried. */
  crashes: number;
}

export interface ReplayResult {
  tasks: ReplayedTask[];
  records: number;
  /** Lines that are not JSON: a write cut short. */
  torn: number;
  /** JSON of the wrong shape, or about a task never submitted. */
  skipped: number;
}

/** How the journal writes; tests put a full disk behind it. */
export interface JournalFs {
  writeSync(fd: number, text: string): number;
}

export class Journal {
  private fd: number;
  private records = 0;
  /** Bytes of whole records on disk: a failed write is cut back to here. */
  private size: number;
  /** Progress records the disk refused, written before anything newer. */
  private pending: string[] = [];
  private syncing = false;
  private syncAgain = false;

  constructor(readonly path: string, private readonly onError: (message: string) => void = () => undefined, private readonly fs: JournalFs = { writeSync }) {
    this.fd = openSync(path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  /**
   * Appends a batch as one write. `durable` fsyncs it before returning and throws when it cannot be
   * written (the caller must not acknowledge it); otherwise a failure keeps it for the next append.
   */
  append(batch: JournalRecord[], durable = true): void {
    if (batch.length === 0) return;
    const lines = [...this.pending, ...batch.map((r) => JSON.stringify(r) + '\n')];
    try {
      this.writeWhole(lines.join(''));
    } catch (err) {
      if (durable) throw err;
      this.pending = lines;
      if (this.pending.length === batch.length) this.onError(`cannot write the journal ${this.path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); progress is kept in memory until it can be written`);
      return;
    }
    if (this.pending.length) this.onError(`the journal ${this.path} is written again (${this.pending.length} delayed record(s))`);
    this.pending = [];
    this.records += lines.length;
    if (durable) fsyncSync(this.fd);
    else this.syncSoon();
  }

  /** Records written since the last compaction. */
  get recordCount(): number {
    return this.records;
  }

  private writeWhole(text: string): void {
    const bytes = Buffer.byteLength(text);
    let written = 0;
    try {
      written = this.fs.writeSync(this.fd, text);
      if (written !== bytes) throw Object.assign(new Error(`short write (${written} of ${bytes} bytes)`), { code: 'ENOSPC' });
    } catch (err) {
      // Half a record followed by the next one would make both unreadable: cut back to the last whole one.
      if (written > 0 || fstatSync(this.fd).size !== this.size) ftruncateSync(this.fd, this.size);
      throw err;
    }
    this.size += bytes;
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

  /**
   * Rewrites the journal as one snapshot record per task (temp file, fsync, atomic rename), so
   * replay time follows the number of tasks, not the history. On a full disk the old journal stays.
   */
  compact(tasks: ReplayedTask[]): boolean {
    const tmp = `${this.path}.tmp`;
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        const lines = tasks.map(({ task, seq, notBefore, crashes }) => JSON.stringify({
          t: 'snapshot', task, seq, ...(notBefore ? { notBefore } : {}), ...(crashes ? { crashes } : {}),
        } satisfies JournalRecord));
        const text = lines.length ? lines.join('\n') + '\n' : '';
        if (this.fs.writeSync(fd, text) !== Buffer.byteLength(text)) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
    } catch (err) {
      this.onError(`could not compact the journal ${this.path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); it stays as it is`);
      return false;
    }
    closeSync(this.fd);
    this.fd = openSync(this.path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
    this.records = tasks.length;
    this.pending = [];
    return true;
  }

  close(): void {
    try {
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
    }
  }

  /**
   * Reads every task back. Tasks that were running when the supervisor died come back queued.
   * Records written by versions before tasks had a tenant and a folder get `legacy`'s.
   */
  static replay(path: string, legacy?: TaskPlace): ReplayResult {
    const byId = new Map<string, ReplayedTask>();
    const result: ReplayResult = { tasks: [], records: 0, torn: 0, skipped: 0 };
    if (!existsSync(path)) return result;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        result.torn++;
        continue;
      }
      if (!isRecord(record) || !apply(byId, record, legacy)) {
        result.skipped++;
        continue;
      }
      result.records++;
    }
    for (const entry of byId.values()) {
      if (entry.task.status === 'RUNNING') {
        entry.task.status = 'QUEUED';
        delete entry.task.workerId;
        delete entry.task.startedAt;
      }
    }
    result.tasks = [...byId.values()];
    return result;
  }
}

const str = (v: unknown): v is string => typeof v === 'string' && v !== '';
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isTask(v: unknown): v is TaskInfo {
  return obj(v) && str(v.taskId) && str(v.poNumber) && num(v.priority) && num(v.retryCount) && num(v.submittedAt) &&
    (taskStatuses as readonly unknown[]).includes(v.status) && (v.metadata === undefined || obj(v.metadata));
}

function isRecord(r: unknown): r is JournalRecord {
  if (!obj(r)) return false;
  switch (r.t) {
    case 'submit':
    case 'snapshot':
      return isTask(r.task) && num(r.seq);
    case 'start':
      return str(r.taskId) && str(r.workerId) && num(r.at);
    case 'requeue':
      return str(r.taskId) && num(r.retryCount);
    case 'end':
      return str(r.taskId) && (taskStatuses as readonly unknown[]).includes(r.status) && num(r.at) && (r.result === undefined || obj(r.result));
    default:
      return false;
  }
}

/** Earlier versions kept internal counters in the user's metadata and had no tenant or folder. */
function migrate(task: TaskInfo, legacy: TaskPlace | undefined): { notBefore: number; crashes: number } {
  const meta = { ...(task.metadata ?? {}) };
  const internal = { notBefore: Number(meta.notBefore) || 0, crashes: Number(meta.crashes) || 0 };
  if (task.tenant === undefined || task.downloadDir === undefined) {
    if (meta.timeoutOverride !== undefined && task.timeoutOverride === undefined) task.timeoutOverride = Number(meta.timeoutOverride) || undefined;
    delete meta.notBefore;
    delete meta.crashes;
    delete meta.timeoutOverride;
    task.tenant ??= legacy?.tenant ?? '';
    task.downloadDir ??= legacy?.downloadDir ?? '';
  }
  task.metadata = meta;
  return internal;
}

/** False for a record about a task the journal never introduced. */
function apply(byId: Map<string, ReplayedTask>, r: JournalRecord, legacy: TaskPlace | undefined): boolean {
  if (r.t === 'submit' || r.t === 'snapshot') {
    const migrated = migrate(r.task, legacy);
    byId.set(r.task.taskId, {
      task: r.task,
      seq: r.seq,
      notBefore: r.t === 'snapshot' && r.notBefore ? r.notBefore : migrated.notBefore,
      crashes: r.t === 'snapshot' && r.crashes ? r.crashes : migrated.crashes,
    });
    return true;
  }
  const entry = byId.get(r.taskId);
  if (!entry) return false;
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
      entry.notBefore = r.notBefore ?? 0;
      if (r.crashes !== undefined) entry.crashes = r.crashes;
      break;
    case 'end':
      task.status = r.status;
      task.finishedAt = r.at;
      if (r.result) task.result = r.result;
      break;
  }
  return true;
}
