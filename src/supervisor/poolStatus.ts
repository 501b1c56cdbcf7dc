/**
 * What the pool says about itself: the contract's `PoolStatus`, why it runs degraded or why no
 * worker came up, and each worker's memory as its health reports it (its whole process tree, and
 * its share of a browser it shares). Reading only, apart from the measured memory it records.
 */
import { freemem, totalmem } from 'node:os';
import { errorFromWire, InsufficientResourcesError, type PoolError } from '../protocol/errors';
import type { PoolConfig, PoolState, PoolStatus, WorkerState } from '../protocol/types';
import { descendants, memoryShare } from '../shared/processTree';
import type { BrowserHosts } from './browserHosts';
import type { PoolMetrics } from './metrics';
import type { TaskStore } from './taskStore';
import type { WorkerSlot } from './workerSlot';

export interface StatusSources {
  state: PoolState;
  /** The error that ended the pool, shown as its reason while it is in ERROR. */
  fatal?: PoolError;
  startedAt?: number;
  slots: readonly WorkerSlot[];
  store: TaskStore;
  tenant: string;
  metrics: PoolMetrics;
  config: PoolConfig;
  running: number;
  systemMemory(): { total: number; used: number };
}

export function poolStatus(s: StatusSources): PoolStatus {
  const { store, slots } = s;
  const queued = store.queuedFor(s.tenant);
  const { perMinute, etaSeconds } = s.metrics.rate(queued + s.running);
  const workerCounts: Partial<Record<WorkerState, number>> = {};
  for (const w of slots) workerCounts[w.state] = (workerCounts[w.state] ?? 0) + 1;
  const { total, used } = s.systemMemory();
  const degraded = s.state === 'ERROR' ? s.fatal?.message : degradedReason(slots);
  return {
    state: s.state,
    ...(degraded ? { degraded } : {}),
    supervisorPid: process.pid,
    startedAt: s.startedAt,
    workers: slots.map((w) => w.health()),
    workerCounts,
    queueDepth: queued,
    running: s.running,
    counts: store.countsByStatus(),
    total: store.total,
    processingRate: perMinute,
    etaSeconds: s.state === 'PROCESSING' ? etaSeconds : undefined,
    memory: {
      systemTotalBytes: total,
      systemUsedPercent: Math.round((used / total) * 1000) / 10,
      poolBytes: slots.reduce((sum, w) => sum + w.memoryBytes, 0),
      threshold: s.config.memoryThreshold,
    },
    errors: s.metrics.errors(),
    config: s.config,
  };
}

/** The machine's memory, or the test's stand-in for it. */
export function systemMemory(override?: () => { total: number; used: number }): { total: number; used: number } {
  if (override) return override();
  const total = totalmem();
  return { total, used: total - freemem() };
}

/** Fewer workers than configured, said in a sentence; undefined when none was retired. */
export function degradedReason(slots: readonly WorkerSlot[]): string | undefined {
  const out = slots.filter((s) => s.retired);
  if (out.length === 0) return undefined;
  const why = out.map((s) => `${s.id} retired ${s.retired!.reason}${s.lastError ? ` (${s.lastError.kind}: ${s.lastError.message})` : ''}`);
  return `${slots.length - out.length} of ${slots.length} workers: ${why.join('; ')}`;
}

/** Why no worker came up within `withinMs`, as the most useful error: a person's action first, else a shortage. */
export function noWorkerError(slots: readonly WorkerSlot[], withinMs: number): PoolError {
  const errors = slots.map((s) => s.lastError).filter((e): e is NonNullable<typeof e> => e !== undefined);
  const decisive = errors.find((e) => e.kind === 'ProfileCorruptionError') ?? errors.find((e) => e.kind === 'AuthenticationError') ?? errors.find((e) => e.kind === 'ConfigurationError');
  if (decisive) return errorFromWire(decisive);
  const why = [...new Set(errors.map((e) => `${e.kind}: ${e.message}`))].join('; ');
  return new InsufficientResourcesError(`no worker could start within ${withinMs / 1000} s${why ? ` (${why})` : ''}`);
}

/**
 * Asks live workers for their health and records each one's fair share of memory (its process tree's
 * PSS, plus its part of the shared browser it uses), reporting each worker's new health.
 */
export async function measureWorkers(
  slots: readonly WorkerSlot[], hosts: BrowserHosts | undefined, hostOf: (slot: WorkerSlot) => number, emitHealth: (slot: WorkerSlot) => void,
): Promise<void> {
  const live = slots.filter((s) => s.proc?.pid);
  for (const slot of live) if (slot.state !== 'STARTING') slot.send({ type: 'health' });
  const pids = live.map((s) => s.proc!.pid!);
  const hostPids = hosts?.pids() ?? [];
  const trees = await descendants([...pids, ...hostPids.filter((p): p is number => p !== undefined)]);
  // A worker may have exited during the await: use the pids read before it, never slot.proc.
  const all = [...pids, ...hostPids].flatMap((pid) => (pid ? [pid, ...(trees.get(pid) ?? [])] : []));
  const share = await memoryShare(all);
  const treeBytes = (pid: number | undefined) => (pid ? [pid, ...(trees.get(pid) ?? [])].reduce((sum, p) => sum + (share.get(p) ?? 0), 0) : 0);
  // A shared browser's memory is split among its live workers, so the pool's total counts it once.
  const sharing = hostPids.map((_, i) => live.filter((s) => hostOf(s) === i).length || 1);
  for (const slot of live) {
    const pid = slot.proc?.pid;
    if (!pid) continue;
    const tree = trees.get(pid) ?? [];
    const shared = hosts ? treeBytes(hostPids[hostOf(slot)]) / sharing[hostOf(slot)] : 0;
    slot.memoryBytes = treeBytes(pid) + Math.round(shared);
    if (!slot.remoteEndpoint && tree.length) slot.browserPids = tree;
    emitHealth(slot);
  }
}
