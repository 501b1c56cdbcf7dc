/**
 * The status panel's data: a summary of the latest status and a short history of queue depth and
 * per-worker memory, sent to media/panel.js through the messages below (and only what it draws).
 */
import type { PoolStatus } from '../protocol/types';
import { formatEta, formatRate } from './format';
import { finishedCount } from './statusBarModel';

export interface PanelSummary {
  state: string;
  processed: number;
  total: number;
  queueDepth: number;
  running: number;
  failed: number;
  throughput: string;
  eta: string;
  /** The pool's memory limit in MB (fraction of system RAM); 0 when no pool runs. */
  thresholdMb: number;
  poolMb: number;
  workers: { id: string; state: string; memoryMb: number; currentPo?: string }[];
  errors: { kind: string; count: number; lastAt: number }[];
  lastErrorAt?: number;
}

/** Compact on purpose: the whole history is posted when the panel is shown again. */
export interface PanelSample {
  /** Epoch ms. */
  t: number;
  queue: number;
  /** Worker id -> MB. */
  mem: Record<string, number>;
}

export type ToPanel =
  | { type: 'snapshot'; summary: PanelSummary | undefined; samples: PanelSample[] }
  | { type: 'update'; summary: PanelSummary; sample: PanelSample };

export const panelCommands = ['poPool.startPool', 'poPool.stopPool', 'poPool.retryFailed', 'poPool.openDownloads', 'poPool.showLog'] as const;
export type PanelCommand = (typeof panelCommands)[number];

export type FromPanel = { type: 'ready' } | { type: 'command'; command: PanelCommand };

export function isFromPanel(value: unknown): value is FromPanel {
  const v = value as FromPanel | undefined;
  if (!v || typeof v !== 'object') return false;
  return v.type === 'ready' || (v.type === 'command' && (panelCommands as readonly string[]).includes(v.command));
}

/** What the panel keeps across reloads in `setState`, handed back to the serializer. */
export interface PanelState {
  summary?: PanelSummary;
  samples?: PanelSample[];
}

const MB = 1024 * 1024;

export function panelSummary(status: PoolStatus): PanelSummary {
  const failed = (['PARTIAL', 'PO_NOT_FOUND', 'FAILED', 'TIMEOUT'] as const).reduce((n, s) => n + (status.counts[s] ?? 0), 0);
  const running = status.state !== 'TERMINATED' && status.state !== 'ERROR';
  return {
    state: status.state,
    processed: finishedCount(status),
    total: status.total,
    queueDepth: status.queueDepth,
    running: status.running,
    failed,
    throughput: formatRate(status.processingRate),
    eta: status.queueDepth + status.running === 0 ? '—' : formatEta(status.etaSeconds),
    thresholdMb: running ? Math.round((status.memory.systemTotalBytes * status.memory.threshold) / MB) : 0,
    poolMb: Math.round(status.memory.poolBytes / MB),
    workers: (running ? status.workers : []).map((w) => ({
      id: w.workerId, state: w.state, memoryMb: Math.round(w.memoryBytes / MB), ...(w.currentPo ? { currentPo: w.currentPo } : {}),
    })),
    errors: Object.entries(status.errors.byKind)
      .filter((e): e is [string, { count: number; lastAt: number }] => e[1] !== undefined)
      .map(([kind, e]) => ({ kind, count: e.count, lastAt: e.lastAt }))
      .sort((a, b) => b.count - a.count),
    ...(status.errors.lastErrorAt ? { lastErrorAt: status.errors.lastErrorAt } : {}),
  };
}

export function panelSample(summary: PanelSummary, t: number): PanelSample {
  return { t, queue: summary.queueDepth, mem: Object.fromEntries(summary.workers.map((w) => [w.id, w.memoryMb])) };
}

/**
 * Samples at most every `intervalMs` (a burst of notifications updates the newest sample instead
 * of adding points), keeping the last `capacity`: 10 minutes at the defaults.
 */
export class PanelHistory {
  private samples: PanelSample[] = [];

  constructor(private readonly intervalMs = 2000, private readonly capacity = 300) {}

  /** True when the sample became a new point; false when it replaced the newest. */
  add(sample: PanelSample): boolean {
    const last = this.samples[this.samples.length - 1];
    if (last && sample.t - last.t < this.intervalMs) {
      this.samples[this.samples.length - 1] = { ...sample, t: last.t };
      return false;
    }
    this.samples.push(sample);
    if (this.samples.length > this.capacity) this.samples.splice(0, this.samples.length - this.capacity);
    return true;
  }

  all(): PanelSample[] {
    return [...this.samples];
  }

  /** Restores what a previous panel kept in its webview state, dropping anything malformed. */
  static fromState(state: unknown, intervalMs?: number, capacity?: number): PanelHistory {
    const h = new PanelHistory(intervalMs, capacity);
    const samples = (state as PanelState | undefined)?.samples;
    if (Array.isArray(samples)) {
      for (const s of samples) {
        if (s && typeof s.t === 'number' && typeof s.queue === 'number' && s.mem && typeof s.mem === 'object') h.add(s);
      }
    }
    return h;
  }
}

export interface PanelHtmlInputs {
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  /** The display language (`vscode.env.language`), which the panel formats its numbers in. */
  locale: string;
}

/** Nothing remote and no inline script but the nonce'd one; styles only from media/. */
export function panelHtml(i: PanelHtmlInputs): string {
  const csp = [
    "default-src 'none'",
    `style-src ${i.cspSource}`,
    `img-src ${i.cspSource}`,
    `font-src ${i.cspSource}`,
    `script-src 'nonce-${i.nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${i.styleUri}">
<title>PO Pool Status</title>
</head>
<body>
<main id="root" data-testid="status-panel" data-locale="${i.locale}"><p class="muted">Connecting to the pool…</p></main>
<script nonce="${i.nonce}" src="${i.scriptUri}"></script>
</body>
</html>`;
}
