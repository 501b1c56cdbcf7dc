/**
 * Every task the supervisor knows, its queue order, and the journal behind them. Order: higher
 * priority first, then submission order. A task keeps its submission number for life, so one taken
 * back from a crashed worker goes ahead of later submissions of its priority.
 */
import { randomUUID } from 'node:crypto';
import { normalizePo } from '../protocol/po';
import type { ListTasksParams, ListTasksResult, SubmitTasksResult } from '../protocol/rpc';
import {
  isFinal, successStatuses, type OutcomeStatus, type POTaskInput, type TaskInfo, type TaskResult, type TaskStatus,
} from '../protocol/types';
import { Journal, type JournalRecord, type ReplayedTask } from './journal';

interface Entry {
  task: TaskInfo;
  seq: number;
  /** Bumped whenever the task is queued again, so stale heap entries can be skipped. */
  generation: number;
  notBefore: number;
}

interface HeapItem {
  priority: number;
  seq: number;
  taskId: string;
  generation: number;
}

export type TaskListener = (task: TaskInfo) => void;

const MAX_PAGE = 1000;
// Compact when the history is this many times larger than the task count.
const COMPACT_FACTOR = 4;

export class TaskStore {
  private readonly entries = new Map<string, Entry>();
  /** PO number -> its latest task, for duplicate detection. */
  private readonly byPo = new Map<string, string>();
  private readonly heap: HeapItem[] = [];
  private readonly delayed = new Set<string>();
  private seq = 0;
  private readonly listeners = new Set<TaskListener>();
  private readonly counts: Partial<Record<TaskStatus, number>> = {};
  /**
   * Every entry in queue order. Priority and submission number never change, so the order changes
   * only when tasks are added: listing and the report read it instead of sorting on every call.
   */
  private ordered: Entry[] = [];
  private orderedStale = false;

  private constructor(private readonly journal: Journal | undefined) {}

  /** Opens the journal at `path` (created if missing), replays it and compacts it. */
  static open(path: string): { store: TaskStore; replayedRecords: number; tornRecords: number } {
    const { tasks, records, torn } = Journal.replay(path);
    const journal = new Journal(path);
    const store = new TaskStore(journal);
    for (const t of tasks) store.load(t);
    journal.compact(store.snapshot());
    return { store, replayedRecords: records, tornRecords: torn };
  }

  /** A store with no journal, for tests of scheduling alone. */
  static inMemory(): TaskStore {
    return new TaskStore(undefined);
  }

  onChange(listener: TaskListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(taskId: string): TaskInfo | undefined {
    return this.entries.get(taskId)?.task;
  }

  countsByStatus(): Partial<Record<TaskStatus, number>> {
    return { ...this.counts };
  }

  get total(): number {
    return this.entries.size;
  }

  get queued(): number {
    return this.counts.QUEUED ?? 0;
  }

  /**
   * Validates, de-duplicates, journals and queues. Returns only after the journal is on disk.
   * A PO whose latest task is queued, running or succeeded is reported as a duplicate unless `redo`.
   */
  submit(inputs: POTaskInput[], redo = false): SubmitTasksResult {
    const result: SubmitTasksResult = { handles: [], duplicates: [], invalid: [] };
    const records: JournalRecord[] = [];
    const added: Entry[] = [];
    const now = Date.now();
    for (const input of inputs) {
      const parsed = normalizePo(String(input.poNumber ?? ''));
      if (!parsed.ok) {
        result.invalid.push({ poNumber: String(input.poNumber), reason: parsed.reason });
        continue;
      }
      const priorId = this.byPo.get(parsed.poNumber);
      const prior = priorId ? this.entries.get(priorId)?.task : undefined;
      if (prior && blocksResubmit(prior.status, redo)) {
        result.duplicates.push({ poNumber: parsed.poNumber, taskId: prior.taskId, status: prior.status });
        continue;
      }
      const task: TaskInfo = {
        taskId: randomUUID(),
        poNumber: parsed.poNumber,
        priority: finiteInt(input.priority, 0),
        status: 'QUEUED',
        retryCount: finiteInt(input.retryCount, 0),
        submittedAt: now,
        metadata: { ...(input.metadata ?? {}), ...(input.timeoutOverride ? { timeoutOverride: input.timeoutOverride } : {}) },
      };
      const entry: Entry = { task, seq: ++this.seq, generation: 0, notBefore: 0 };
      records.push({ t: 'submit', task, seq: entry.seq });
      added.push(entry);
      this.byPo.set(task.poNumber, task.taskId);
      result.handles.push({ taskId: task.taskId, poNumber: task.poNumber });
    }
    this.journal?.append(records);
    if (added.length) this.orderedStale = true;
    for (const entry of added) {
      this.entries.set(entry.task.taskId, entry);
      this.bump(undefined, 'QUEUED');
      this.push(entry);
      this.emit(entry.task);
    }
    return result;
  }

  /** The next task a worker should take, or undefined; `wakeAt` says when a delayed retry becomes due. */
  next(now = Date.now()): { task?: TaskInfo; wakeAt?: number } {
    let wakeAt: number | undefined;
    for (const id of this.delayed) {
      const entry = this.entries.get(id);
      if (!entry || entry.task.status !== 'QUEUED') {
        this.delayed.delete(id);
      } else if (entry.notBefore <= now) {
        this.delayed.delete(id);
        this.heapPush(entry);
      } else {
        wakeAt = Math.min(wakeAt ?? Infinity, entry.notBefore);
      }
    }
    while (this.heap.length) {
      const top = this.heapPop()!;
      const entry = this.entries.get(top.taskId);
      if (entry && entry.task.status === 'QUEUED' && entry.generation === top.generation) return { task: entry.task };
    }
    return { wakeAt };
  }

  markStarted(taskId: string, workerId: string): void {
    const entry = this.mustGet(taskId);
    const at = Date.now();
    this.journal?.append([{ t: 'start', taskId, workerId, at }], false);
    this.setStatus(entry, 'RUNNING');
    entry.task.workerId = workerId;
    entry.task.startedAt = at;
    this.emit(entry.task);
  }

  /**
   * Back in the queue (a crash, a retry after backoff); keeps its place among its priority.
   * `crashes` counts the workers that died on it, kept across supervisor restarts.
   */
  requeue(taskId: string, retryCount: number, delayMs = 0, crashes?: number): void {
    const entry = this.mustGet(taskId);
    const notBefore = delayMs > 0 ? Date.now() + delayMs : 0;
    this.journal?.append([{ t: 'requeue', taskId, retryCount, ...(notBefore ? { notBefore } : {}), ...(crashes !== undefined ? { crashes } : {}) }], false);
    if (crashes !== undefined) entry.task.metadata.crashes = crashes;
    this.setStatus(entry, 'QUEUED');
    entry.task.retryCount = retryCount;
    delete entry.task.workerId;
    delete entry.task.result;
    delete entry.task.finishedAt;
    entry.notBefore = notBefore;
    entry.generation++;
    this.push(entry);
    this.emit(entry.task);
  }

  finish(taskId: string, status: OutcomeStatus | 'CANCELLED', result?: TaskResult): void {
    const entry = this.mustGet(taskId);
    const at = Date.now();
    this.journal?.append([{ t: 'end', taskId, status, at, ...(result ? { result } : {}) }], false);
    this.setStatus(entry, status);
    entry.task.finishedAt = at;
    if (result) entry.task.result = result;
    this.emit(entry.task);
    this.maybeCompact();
  }

  /** Cancels a queued task. A running one is cancelled by the pool, which ends it with `finish`. */
  cancelQueued(taskId: string): boolean {
    const entry = this.entries.get(taskId);
    if (!entry || entry.task.status !== 'QUEUED') return false;
    this.finish(taskId, 'CANCELLED');
    return true;
  }

  /** Tasks that ended in failure (or the given ones, if final) queued again from scratch. */
  retry(taskIds?: string[]): TaskInfo[] {
    const ids = taskIds ?? [...this.entries.values()]
      .filter((e) => isFinal(e.task.status) && !successStatuses.includes(e.task.status as OutcomeStatus) && this.byPo.get(e.task.poNumber) === e.task.taskId)
      .map((e) => e.task.taskId);
    const retried: TaskInfo[] = [];
    for (const id of ids) {
      const entry = this.entries.get(id);
      if (!entry || !isFinal(entry.task.status)) continue;
      this.requeue(id, 0, 0, 0); // from scratch: its earlier crashes no longer count
      retried.push(entry.task);
    }
    return retried;
  }

  list(params: ListTasksParams = {}): ListTasksResult {
    const offset = Math.max(0, finiteInt(params.offset, 0));
    const limit = Math.min(MAX_PAGE, Math.max(0, finiteInt(params.limit, 100)));
    const statuses = params.status?.length ? new Set(params.status) : undefined;
    const pos = params.poNumbers?.length ? new Set(params.poNumbers) : undefined;
    const all = this.inQueueOrder();
    if (!statuses && !pos) return { total: all.length, tasks: all.slice(offset, offset + limit).map((e) => e.task) };
    const page: TaskInfo[] = [];
    let total = 0;
    for (const entry of all) {
      if (statuses && !statuses.has(entry.task.status)) continue;
      if (pos && !pos.has(entry.task.poNumber)) continue;
      if (total >= offset && page.length < limit) page.push(entry.task);
      total++;
    }
    return { total, tasks: page };
  }

  /** The latest task per PO, in queue order: what a report shows. */
  latestPerPo(): TaskInfo[] {
    return this.inQueueOrder().filter((e) => this.byPo.get(e.task.poNumber) === e.task.taskId).map((e) => e.task);
  }

  close(): void {
    this.journal?.close();
  }

  private inQueueOrder(): Entry[] {
    if (this.orderedStale) {
      this.ordered = [...this.entries.values()].sort(queueOrder);
      this.orderedStale = false;
    }
    return this.ordered;
  }

  private load({ task, seq }: ReplayedTask): void {
    const notBefore = Number(task.metadata?.notBefore ?? 0);
    const entry: Entry = { task, seq, generation: 0, notBefore };
    this.orderedStale = true;
    this.entries.set(task.taskId, entry);
    this.byPo.set(task.poNumber, task.taskId);
    this.seq = Math.max(this.seq, seq);
    this.bump(undefined, task.status);
    if (task.status === 'QUEUED') this.push(entry);
  }

  private snapshot(): ReplayedTask[] {
    return [...this.entries.values()].map(({ task, seq }) => ({ task, seq }));
  }

  private maybeCompact(): void {
    if (this.journal && this.journal.size > COMPACT_FACTOR * Math.max(1000, this.entries.size)) {
      this.journal.compact(this.snapshot());
    }
  }

  private push(entry: Entry): void {
    if (entry.notBefore > Date.now()) this.delayed.add(entry.task.taskId);
    else this.heapPush(entry);
  }

  private setStatus(entry: Entry, status: TaskStatus): void {
    this.bump(entry.task.status, status);
    entry.task.status = status;
  }

  private bump(from: TaskStatus | undefined, to: TaskStatus): void {
    if (from) this.counts[from] = (this.counts[from] ?? 1) - 1;
    this.counts[to] = (this.counts[to] ?? 0) + 1;
  }

  private emit(task: TaskInfo): void {
    for (const l of this.listeners) l(task);
  }

  private mustGet(taskId: string): Entry {
    const entry = this.entries.get(taskId);
    if (!entry) throw new Error(`unknown task ${taskId}`);
    return entry;
  }

  // A binary heap on (priority desc, seq asc).
  private heapPush(entry: Entry): void {
    const item: HeapItem = { priority: entry.task.priority, seq: entry.seq, taskId: entry.task.taskId, generation: entry.generation };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private heapPop(): HeapItem | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: { priority: number; seq: number }, b: { priority: number; seq: number }): boolean {
  return a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq;
}

function queueOrder(a: Entry, b: Entry): number {
  return before({ priority: a.task.priority, seq: a.seq }, { priority: b.task.priority, seq: b.seq }) ? -1 : 1;
}

/** Queued, running and succeeded tasks block a resubmission; with `redo`, only queued and running do. */
function blocksResubmit(status: TaskStatus, redo: boolean): boolean {
  if (status === 'QUEUED' || status === 'RUNNING') return true;
  if (redo) return false;
  return successStatuses.includes(status as OutcomeStatus);
}

function finiteInt(value: unknown, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) ? Math.trunc(n) : fallback;
}
