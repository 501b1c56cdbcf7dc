/** The status bar item: `$(sync~spin) POs 34/120 · 4 workers` while the pool works, a plain icon otherwise. */
import { isFinal, type PoolStatus, type TaskStatus } from '../protocol/types';
import { formatCount, formatEta, formatRate, plural } from './format';
import type { ConnectionState } from './connection';

export interface StatusBarView {
  text: string;
  tooltip: string;
  /** Draws attention (warning background) when the pool cannot work. */
  alert: boolean;
}

export function finishedCount(status: PoolStatus): number {
  return Object.entries(status.counts).reduce((sum, [s, n]) => (isFinal(s as TaskStatus) ? sum + (n ?? 0) : sum), 0);
}

export function activeWorkers(status: PoolStatus): number {
  return status.workers.filter((w) => w.state !== 'TERMINATED' && w.state !== 'TERMINATING').length;
}

export function statusBarView(connection: ConnectionState, status: PoolStatus | undefined, now: number): StatusBarView {
  if (connection.kind === 'connecting') return { text: '$(loading~spin) PO Pool', tooltip: 'PO Pool: connecting to the supervisor…', alert: false };
  if (connection.kind === 'retrying') {
    const wait = Math.max(0, Math.ceil((connection.retryAt - now) / 1000));
    return {
      text: '$(debug-disconnect) PO Pool',
      tooltip: `PO Pool: no supervisor (${connection.error}); trying again in ${wait} s. Click for the status panel.`,
      alert: true,
    };
  }
  if (!status) return { text: '$(server-process) PO Pool', tooltip: 'PO Pool', alert: false };

  const done = finishedCount(status);
  const workers = activeWorkers(status);
  const busy = status.running > 0 || (status.queueDepth > 0 && status.state !== 'TERMINATED');
  const failed = (['PARTIAL', 'PO_NOT_FOUND', 'FAILED', 'TIMEOUT'] as const).reduce((n, s) => n + (status.counts[s] ?? 0), 0);
  const tooltip = [
    `PO Pool: ${status.state.toLowerCase().replace(/_/g, ' ')} · ${plural(workers, 'worker')}`,
    `${formatCount(done)} of ${formatCount(status.total)} POs finished${failed ? `, ${formatCount(failed)} not completed` : ''}`,
    status.queueDepth || status.running ? `${formatCount(status.queueDepth)} queued, ${formatCount(status.running)} running` : undefined,
    busy ? `${formatRate(status.processingRate)}, done in ${formatEta(status.etaSeconds)}` : undefined,
    'Click for the status panel',
  ].filter(Boolean).join('\n');

  if (status.state === 'ERROR') return { text: '$(error) PO Pool', tooltip, alert: true };
  if (status.state === 'TERMINATED' && status.total === 0) return { text: '$(server-process) PO Pool', tooltip, alert: false };
  const icon = busy ? '$(sync~spin)' : status.state === 'TERMINATED' ? '$(debug-stop)' : '$(server-process)';
  return { text: `${icon} POs ${formatCount(done)}/${formatCount(status.total)} · ${plural(workers, 'worker')}`, tooltip, alert: false };
}
