/**
 * Every task the supervisor knows, its queue order, and the journal behind them. Order: higher
 * priority first, then submission order. A task keeps its submission number for life, so one taken
 * back from a crashed worker goes ahead of later submissions of its priority.
 *
 * A task is identified by (tenant, PO, download folder): the same PO into another folder, or from
 * another tenant, is new work; inside one folder a PO already done (and still on disk) is not.
 */
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { normalizePo } from '../protocol/po';
import type { ListTasksParams, ListTasksResult, SubmitTasksResult } from '../protocol/rpc';
import {
  isFinal, successStatuses, type OutcomeStatus, type POTaskInput, type TaskInfo, type TaskPlace, type TaskResult,
  type TaskStatus,
} from '../protocol/types';
import { Journal, type JournalFs, type JournalRecord, type ReplayedTask } from './journal';

interface Entry extends ReplayedTask {
  /** Bumped whenever the task is queued again, so stale heap entries can be skipped. */
  generation: number;
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
/** Bounds of what a submitter may ask for (seconds, counts, bytes). */
export const TASK_LIMITS = { maxPriority: 1_000_000, maxRetryCount: 100, maxTimeoutOverride: 3600, maxMetadataBytes: 16 * 1024 };

export function taskKey(t: { tenant: string; downloadDir: string; poNumber: string }): string {
  return `${t.tenant}\n${t.downloadDir}\n${t.poNumber}`;
}

export interface OpenOptions {
  /** Tenant and folder of tasks journalled by versions that did not record them. */
  legacy?: TaskPlace;
  onError?: (message: string) => void;
  fs?: JournalFs;
}

export class TaskStore {
  private readonly entries = new Map<string, Entry>();
  /** (tenant, folder, PO) -> its latest task. */
  private readonly byKey = new Map<string, string>();
  /** One queue per tenant: a pool only ever takes its own tenant's work. */
  private readonly heaps = new Map<string, HeapItem[]>();
  private readonly delayed = new Set<string>();
  private seq = 0;
  private readonly listeners = new Set<TaskListener>();
  private readonly counts: Partial<Record<TaskStatus, number>> = {};
  private readonly queuedByTenant = new Map<string, number>();
  /** Queued and running tasks per download folder. */
  private readonly activeByFolder = new Map<string, number>();
  /** Every tenant a task was ever submitted for. */
  private readonly tenants = new Set<string>();
  /**
   * Every entry in queue order. Priority and submission number never change, so the order changes
   * only when tasks are added: listing and the report read it instead of sorting on every call.
   */
  private ordered: Entry[] = [];
  private orderedStale = false;

  private constructor(private readonly journal: Journal | undefined) {}

  /** Opens the journal at `path` (created if missing), replays it and compacts it. */
  static open(path: string, options: OpenOptions = {}): { store: TaskStore; replayedRecords: number; tornRecords: number; skippedRecords: number } {
    const { tasks, records, torn, skipped } = Journal.replay(path, options.legacy);
    const journal = new Journal(path, options.onError, options.fs);
    const store = new TaskStore(journal);
    for (const t of tasks) store.load(t);
    journal.compact(store.snapshot());
    return { store, replayedRecords: records, tornRecords: torn, skippedRecords: skipped };
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

  /** Workers that died while running this task since it was submitted or retried. */
  crashesOf(taskId: string): number {
    return this.entries.get(taskId)?.crashes ?? 0;
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

  /** Whether any task into this folder is queued or running. */
  hasWorkIn(downloadDir: string): boolean {
    return (this.activeByFolder.get(downloadDir) ?? 0) > 0;
  }

  /** Queued tasks a pool of this tenant can take. */
  queuedFor(tenant: string): number {
    return this.queuedByTenant.get(tenant) ?? 0;
  }

  /**
   * Validates, de-duplicates, journals and queues. Returns only after the journal is on disk, and
   * throws (accepting nothing) when it cannot be written. A PO whose task in this place is queued or
   * running is a duplicate; one that succeeded is too while its files are still where they were put,
   * unless `redo`.
   */
  submit(inputs: POTaskInput[], place: TaskPlace, options: { redo?: boolean } = {}): SubmitTasksResult {
    const result: SubmitTasksResult = { handles: [], duplicates: [], invalid: [] };
    const records: JournalRecord[] = [];
    const added: Entry[] = [];
    const inBatch = new Map<string, Entry>();
    const now = Date.now();
    for (const input of inputs) {
      const checked = checkInput(input);
      if ('reason' in checked) {
        result.invalid.push({ poNumber: String(input?.poNumber ?? ''), reason: checked.reason });
        continue;
      }
      const key = taskKey({ ...place, poNumber: checked.poNumber });
      const other = this.otherTenantsFiles(place, checked.poNumber);
      if (other) {
        result.invalid.push({ poNumber: checked.poNumber, reason: `already in this folder from ${other}: its files would be replaced; use another folder for this tenant` });
        continue;
      }
      const prior = this.entries.get(this.byKey.get(key) ?? '')?.task;
      if (prior && blocksResubmit(prior, options.redo ?? false)) {
        result.duplicates.push({ poNumber: prior.poNumber, taskId: prior.taskId, status: prior.status });
        continue;
      }
      const earlier = inBatch.get(key);
      if (earlier) {
        result.duplicates.push({ poNumber: earlier.task.poNumber, taskId: earlier.task.taskId, status: 'QUEUED' });
        continue;
      }
      const task: TaskInfo = {
        taskId: randomUUID(),
        poNumber: checked.poNumber,
        tenant: place.tenant,
        downloadDir: place.downloadDir,
        priority: checked.priority,
        status: 'QUEUED',
        retryCount: checked.retryCount,
        submittedAt: now,
        ...(checked.timeoutOverride !== undefined ? { timeoutOverride: checked.timeoutOverride } : {}),
        metadata: checked.metadata,
      };
      const entry: Entry = { task, seq: this.seq + added.length + 1, generation: 0, notBefore: 0, crashes: 0 };
      records.push({ t: 'submit', task, seq: entry.seq });
      added.push(entry);
      inBatch.set(key, entry);
      result.handles.push({ taskId: task.taskId, poNumber: task.poNumber });
    }
    this.journal?.append(records);
    this.seq += added.length;
    if (added.length) this.orderedStale = true;
    for (const entry of added) {
      this.entries.set(entry.task.taskId, entry);
      this.byKey.set(taskKey(entry.task), entry.task.taskId);
      this.tenants.add(entry.task.tenant);
      this.bump(entry.task, undefined, 'QUEUED');
      this.push(entry);
      this.emit(entry.task);
    }
    return result;
  }

  /** The next task of `tenant` a worker should take, or undefined; `wakeAt` says when a delayed retry becomes due. */
  next(tenant: string, now = Date.now()): { task?: TaskInfo; wakeAt?: number } {
    let wakeAt: number | undefined;
    for (const id of this.delayed) {
      const entry = this.entries.get(id);
      if (!entry || entry.task.status !== 'QUEUED') {
        this.delayed.delete(id);
      } else if (entry.notBefore <= now) {
        this.delayed.delete(id);
        this.heapPush(entry);
      } else if (entry.task.tenant === tenant) {
        wakeAt = Math.min(wakeAt ?? Infinity, entry.notBefore);
      }
    }
    const heap = this.heaps.get(tenant) ?? [];
    while (heap.length) {
      const top = heapPop(heap)!;
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
    if (crashes !== undefined) entry.crashes = crashes;
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

  /**
   * Tasks that ended in failure (or the given ones, if final) queued again from scratch; without
   * ids, the latest failed task of each PO, of `tenant` only when given.
   */
  retry(taskIds?: string[], tenant?: string): TaskInfo[] {
    const ids = taskIds ?? this.latest()
      .filter((t) => isFinal(t.status) && !successStatuses.includes(t.status as OutcomeStatus) && (tenant === undefined || t.tenant === tenant))
      .map((t) => t.taskId);
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

  /** The latest task of each (tenant, folder, PO), in queue order. */
  latest(): TaskInfo[] {
    return this.inQueueOrder().filter((e) => this.isLatest(e.task)).map((e) => e.task);
  }

  /** What a folder's report shows: the latest task of each of its POs, in queue order. */
  inFolder(downloadDir: string): TaskInfo[] {
    return this.inQueueOrder().filter((e) => e.task.downloadDir === downloadDir && this.isLatest(e.task)).map((e) => e.task);
  }

  close(): void {
    this.journal?.close();
  }

  /** The tenant whose copy of this PO is done in this folder, when it is another tenant's: both would publish to `<folder>/<PO>`. */
  private otherTenantsFiles(place: TaskPlace, poNumber: string): string | undefined {
    for (const tenant of this.tenants) {
      if (tenant === place.tenant) continue;
      const task = this.entries.get(this.byKey.get(taskKey({ tenant, downloadDir: place.downloadDir, poNumber })) ?? '')?.task;
      if (task && (task.status === 'RUNNING' || task.status === 'QUEUED' || (task.result?.files.length && filesStillThere(task.result)))) return tenant;
    }
    return undefined;
  }

  private isLatest(task: TaskInfo): boolean {
    return this.byKey.get(taskKey(task)) === task.taskId;
  }

  private inQueueOrder(): Entry[] {
    if (this.orderedStale) {
      this.ordered = [...this.entries.values()].sort(queueOrder);
      this.orderedStale = false;
    }
    return this.ordered;
  }

  private load(replayed: ReplayedTask): void {
    const entry: Entry = { ...replayed, generation: 0 };
    const { task } = entry;
    this.orderedStale = true;
    this.entries.set(task.taskId, entry);
    this.tenants.add(task.tenant);
    const key = taskKey(task);
    const prior = this.entries.get(this.byKey.get(key) ?? '');
    if (!prior || prior.seq < entry.seq) this.byKey.set(key, task.taskId);
    this.seq = Math.max(this.seq, entry.seq);
    this.bump(task, undefined, task.status);
    if (task.status === 'QUEUED') this.push(entry);
  }

  private snapshot(): ReplayedTask[] {
    return [...this.entries.values()].map(({ task, seq, notBefore, crashes }) => ({ task, seq, notBefore, crashes }));
  }

  private maybeCompact(): void {
    if (this.journal && this.journal.recordCount > COMPACT_FACTOR * Math.max(1000, this.entries.size)) {
      this.journal.compact(this.snapshot());
    }
  }

  private push(entry: Entry): void {
    if (entry.notBefore > Date.now()) this.delayed.add(entry.task.taskId);
    else this.heapPush(entry);
  }

  private setStatus(entry: Entry, status: TaskStatus): void {
    this.bump(entry.task, entry.task.status, status);
    entry.task.status = status;
  }

  private bump(task: TaskInfo, from: TaskStatus | undefined, to: TaskStatus): void {
    if (from) this.counts[from] = (this.counts[from] ?? 1) - 1;
    this.counts[to] = (this.counts[to] ?? 0) + 1;
    const queuedChange = (to === 'QUEUED' ? 1 : 0) - (from === 'QUEUED' ? 1 : 0);
    if (queuedChange) this.queuedByTenant.set(task.tenant, (this.queuedByTenant.get(task.tenant) ?? 0) + queuedChange);
    const activeChange = (isFinal(to) ? 0 : 1) - (from === undefined || isFinal(from) ? 0 : 1);
    if (activeChange) this.activeByFolder.set(task.downloadDir, (this.activeByFolder.get(task.downloadDir) ?? 0) + activeChange);
  }

  private emit(task: TaskInfo): void {
    for (const l of this.listeners) l(task);
  }

  private mustGet(taskId: string): Entry {
    const entry = this.entries.get(taskId);
    if (!entry) throw new Error(`unknown task ${taskId}`);
    return entry;
  }

  private heapPush(entry: Entry): void {
    let heap = this.heaps.get(entry.task.tenant);
    if (!heap) this.heaps.set(entry.task.tenant, (heap = []));
    heapAdd(heap, { priority: entry.task.priority, seq: entry.seq, taskId: entry.task.taskId, generation: entry.generation });
  }
}

type Checked = { poNumber: string; priority: number; retryCount: number; timeoutOverride?: number; metadata: Record<string, unknown> } | { reason: string };

/** The contract's POTask fields, each within its bounds; internal state never comes from a submitter. */
function checkInput(input: POTaskInput): Checked {
  if (typeof input !== 'object' || input === null) return { reason: 'not a task: expected { poNumber, priority?, timeoutOverride?, retryCount?, metadata? }' };
  const parsed = normalizePo(String(input.poNumber ?? ''));
  if (!parsed.ok) return { reason: parsed.reason };
  const whole = (value: unknown, name: string, min: number, max: number): number | string => {
    if (value === undefined) return 0;
    return Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max ? (value as number) : `${name} must be a whole number from ${min} to ${max}`;
  };
  const priority = whole(input.priority, 'priority', -TASK_LIMITS.maxPriority, TASK_LIMITS.maxPriority);
  if (typeof priority === 'string') return { reason: priority };
  const retryCount = whole(input.retryCount, 'retryCount', 0, TASK_LIMITS.maxRetryCount);
  if (typeof retryCount === 'string') return { reason: retryCount };
  const timeout = input.timeoutOverride;
  if (timeout !== undefined && timeout !== null && !(typeof timeout === 'number' && timeout > 0 && timeout <= TASK_LIMITS.maxTimeoutOverride)) {
    return { reason: `timeoutOverride must be more than 0 and at most ${TASK_LIMITS.maxTimeoutOverride} seconds` };
  }
  const metadata = input.metadata ?? {};
  if (typeof metadata !== 'object' || Array.isArray(metadata) || metadata === null) return { reason: 'metadata must be an object' };
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(metadata));
  } catch {
    return { reason: 'metadata must be plain JSON' };
  }
  if (size > TASK_LIMITS.maxMetadataBytes) return { reason: `metadata is ${size} bytes; at most ${TASK_LIMITS.maxMetadataBytes}` };
  return {
    poNumber: parsed.poNumber, priority, retryCount, metadata: metadata as Record<string, unknown>,
    ...(typeof timeout === 'number' ? { timeoutOverride: timeout } : {}),
  };
}

/** Queued and running tasks block a resubmission; succeeded ones too, unless `redo` or their files are gone. */
function blocksResubmit(task: TaskInfo, redo: boolean): boolean {
  if (task.status === 'QUEUED' || task.status === 'RUNNING') return true;
  if (redo || !successStatuses.includes(task.status as OutcomeStatus)) return false;
  return filesStillThere(task.result);
}

/** A PO done earlier counts as done only while what it downloaded is still where it was put. */
function filesStillThere(result: TaskResult | undefined): boolean {
  for (const file of result?.files ?? []) {
    try {
      if (statSync(file.path).size !== file.bytes) return false;
    } catch {
      return false;
    }
  }
  return true;
}

function before(a: { priority: number; seq: number }, b: { priority: number; seq: number }): boolean {
  return a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq;
}

function queueOrder(a: Entry, b: Entry): number {
  return before({ priority: a.task.priority, seq: a.seq }, { priority: b.task.priority, seq: b.seq }) ? -1 : 1;
}

// A binary heap on (priority desc, seq asc).
function heapAdd(h: HeapItem[], item: HeapItem): void {
  h.push(item);
  let i = h.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(h[i], h[parent])) break;
    [h[i], h[parent]] = [h[parent], h[i]];
    i = parent;
  }
}

function heapPop(h: HeapItem[]): HeapItem | undefined {
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

function finiteInt(value: unknown, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) ? Math.trunc(n) : fallback;
}
