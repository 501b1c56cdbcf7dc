/**
 * The Workers view as data: the latest health of every worker, merged from full status snapshots
 * and per-worker health notifications, and what each row shows.
 */
import type { PoolStatus, WorkerHealth, WorkerState } from '../protocol/types';
import { clip, formatAgo, formatDuration, formatMegabytes, plural } from './format';
import type { IconSpec, Row } from './row';

/** `contextValue` is `worker.<state>`: menus offer Restart only where it makes sense. */
export type WorkerRow = Row;

const icons: Record<WorkerState, IconSpec> = {
  STARTING: { id: 'loading~spin', color: 'charts.yellow' },
  READY: { id: 'pass', color: 'testing.iconPassed' },
  IDLE: { id: 'circle-large-outline', color: 'charts.green' },
  PROCESSING: { id: 'sync~spin', color: 'charts.blue' },
  CRASHED: { id: 'error', color: 'errorForeground' },
  RESTARTING: { id: 'debug-restart', color: 'charts.orange' },
  TERMINATING: { id: 'circle-slash', color: 'disabledForeground' },
  TERMINATED: { id: 'circle-slash', color: 'disabledForeground' },
};

export function workerRow(w: WorkerHealth, now: number): WorkerRow {
  const parts: string[] = [];
  if (w.currentPo) parts.push(w.currentPo);
  parts.push(formatMegabytes(w.memoryBytes));
  if (w.sessionStartedAt) parts.push(`up ${formatDuration((now - w.sessionStartedAt) / 1000)}`);
  parts.push(`${w.tasksDone} done`);
  if (w.restarts > 0) parts.push(plural(w.restarts, 'restart'));

  const tip = [
    `${w.workerId}: ${w.state.toLowerCase()}`,
    w.currentPo ? `Working on ${w.currentPo}` : undefined,
    `Memory: ${formatMegabytes(w.memoryBytes)} (its share, browser included: the workers' figures add up to the pool's)`,
    w.sessionStartedAt ? `Browser session up for ${formatDuration((now - w.sessionStartedAt) / 1000)}` : undefined,
    `POs done: ${w.tasksDone} · restarts: ${w.restarts}`,
    w.pid ? `PID ${w.pid}${w.browserPids.length ? `, browser ${w.browserPids.join(', ')}` : ''}` : undefined,
    w.remoteEndpoint ? `Remote browser: ${w.remoteEndpoint}` : undefined,
    w.lastError ? `Last error (${formatAgo(w.lastError.at, now)}): ${w.lastError.kind}: ${clip(w.lastError.message, 300)}` : undefined,
  ].filter((l): l is string => l !== undefined);

  return {
    id: w.workerId,
    label: w.workerId,
    description: parts.join(' · '),
    tooltip: tip.join('\n'),
    icon: icons[w.state] ?? { id: 'question' },
    contextValue: `worker.${w.state.toLowerCase()}`,
  };
}

/** A stopped pool's workers are history, not something to act on: the view shows its welcome instead. */
export function liveWorkers(status: PoolStatus | undefined): WorkerHealth[] {
  if (!status || status.state === 'TERMINATED') return [];
  return status.workers;
}

export interface TableChange {
  /** Rows added or removed: the whole list must be redrawn. */
  structural: boolean;
  /** Rows whose content changed: only those are redrawn, which keeps the others from flickering. */
  changed: string[];
}

export class WorkerTable {
  private readonly rows = new Map<string, WorkerHealth>();

  get ids(): string[] {
    return [...this.rows.keys()].sort(byWorkerNumber);
  }

  get(id: string): WorkerHealth | undefined {
    return this.rows.get(id);
  }

  /** A full snapshot: workers not in it are gone. */
  replaceAll(workers: WorkerHealth[]): TableChange {
    const incoming = new Set(workers.map((w) => w.workerId));
    let structural = false;
    for (const id of this.rows.keys()) {
      if (!incoming.has(id)) {
        this.rows.delete(id);
        structural = true;
      }
    }
    const change = this.upsert(workers);
    return { structural: structural || change.structural, changed: change.changed };
  }

  /** Some workers changed; the others are as they were. */
  upsert(workers: WorkerHealth[]): TableChange {
    let structural = false;
    const changed: string[] = [];
    for (const w of workers) {
      const prior = this.rows.get(w.workerId);
      if (!prior) structural = true;
      else if (JSON.stringify(prior) === JSON.stringify(w)) continue;
      else changed.push(w.workerId);
      this.rows.set(w.workerId, w);
    }
    return { structural, changed: structural ? [] : changed };
  }
}

/** worker-2 before worker-10. */
function byWorkerNumber(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
