/**
 * Live progress while the pool works: bars (overall and one per worker) on a terminal, a plain line
 * every few seconds anywhere else (CI logs, `| tee`), so output stays readable in both.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { PoolStatus, WorkerHealth } from '../protocol/types';
import { formatDuration, formatRate } from '../shared/format';
import { formatProgressLine, formatWorkerInfo, type Progress } from './format';
import { printable } from './printable';

export interface LiveView {
  update(status: PoolStatus, progress: Progress): void;
  health(workers: WorkerHealth[]): void;
  stop(): void;
}

export function liveView(stream: NodeJS.WritableStream & { isTTY?: boolean }, lineIntervalMs = 5000): LiveView {
  return stream.isTTY ? new BarsView(stream) : new LinesView(stream, lineIntervalMs);
}

const LABEL = 10;

class BarsView implements LiveView {
  private readonly multibar: MultiBar;
  private readonly overall: SingleBar;
  private readonly workers = new Map<string, SingleBar>();
  private total = 0;

  constructor(stream: NodeJS.WritableStream) {
    this.multibar = new MultiBar(
      { stream, format: '{label} |{bar}| {info}', barsize: 20, hideCursor: true, clearOnComplete: false, fps: 5, forceRedraw: true },
      Presets.shades_classic,
    );
    this.overall = this.multibar.create(0, 0, { label: 'overall'.padEnd(LABEL), info: 'waiting for the pool…' });
  }

  update(status: PoolStatus, progress: Progress): void {
    this.total = progress.total;
    const parts = [`${progress.done}/${progress.total}`];
    if (progress.failed) parts.push(`${progress.failed} not ok`);
    parts.push(formatRate(status.processingRate));
    if (status.etaSeconds !== undefined && progress.done < progress.total) parts.push(`ETA ${formatDuration(status.etaSeconds)}`);
    // Kept short to fit 80 columns: the state is news only when the pool is not simply working.
    if (status.state !== 'PROCESSING' && status.state !== 'READY') parts.push(`pool ${status.state}`);
    this.overall.setTotal(Math.max(1, progress.total));
    this.overall.update(progress.done, { info: printable(parts.join(' · ')) });
    this.health(status.workers);
  }

  health(workers: WorkerHealth[]): void {
    for (const w of workers) {
      let bar = this.workers.get(w.workerId);
      if (!bar) {
        bar = this.multibar.create(1, 0, { label: printable(w.workerId).padEnd(LABEL), info: '' });
        this.workers.set(w.workerId, bar);
      }
      // A worker's share of the work: its bar fills as it finishes POs of the whole list.
      bar.setTotal(Math.max(1, this.total, w.tasksDone));
      bar.update(w.tasksDone, { info: formatWorkerInfo(w) });
    }
  }

  stop(): void {
    this.multibar.stop();
  }
}

class LinesView implements LiveView {
  private last?: { status: PoolStatus; progress: Progress };
  private printed = '';
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly stream: NodeJS.WritableStream, intervalMs: number) {
    this.timer = setInterval(() => this.print(), intervalMs);
  }

  update(status: PoolStatus, progress: Progress): void {
    this.last = { status, progress };
  }

  health(): void {
    // The periodic line summarises workers from the status; single worker changes are too chatty for a log.
  }

  stop(): void {
    clearInterval(this.timer);
    this.print();
  }

  private print(): void {
    if (!this.last) return;
    const line = formatProgressLine(this.last.progress, this.last.status);
    // The clock is the first 10 characters; an unchanged rest is not worth another line.
    if (line.slice(10) === this.printed.slice(10)) return;
    this.printed = line;
    this.stream.write(`${line}\n`);
  }
}
