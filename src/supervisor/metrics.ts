/** What the pool has done lately: POs finished per minute, the time left, and errors by kind. */
import type { PoolStatus } from '../protocol/types';

const RATE_WINDOW_MS = 5 * 60_000;

export class PoolMetrics {
  private readonly finishedAt: number[] = [];
  private readonly byKind: Record<string, { count: number; lastAt: number }> = {};
  private lastErrorAt?: number;

  constructor(private readonly startedAt: () => number | undefined) {}

  taskFinished(at = Date.now()): void {
    this.finishedAt.push(at);
  }

  error(kind: string, at = Date.now()): void {
    const entry = (this.byKind[kind] ??= { count: 0, lastAt: at });
    entry.count++;
    entry.lastAt = at;
    this.lastErrorAt = at;
  }

  /**
   * POs per minute over the last five minutes (at least the last minute, so the first few POs do
   * not read as a burst), and the seconds until `remaining` POs are done at that rate.
   */
  rate(remaining: number, now = Date.now()): { perMinute: number; etaSeconds?: number } {
    while (this.finishedAt.length && this.finishedAt[0] < now - RATE_WINDOW_MS) this.finishedAt.shift();
    const started = this.startedAt() ?? now;
    const windowMs = this.finishedAt.length ? Math.max(60_000, Math.min(RATE_WINDOW_MS, now - started)) : 0;
    const perMinute = windowMs ? (this.finishedAt.length / windowMs) * 60_000 : 0;
    return {
      perMinute: Math.round(perMinute * 10) / 10,
      ...(perMinute > 0 && remaining > 0 ? { etaSeconds: Math.round((remaining / perMinute) * 60) } : {}),
    };
  }

  errors(): PoolStatus['errors'] {
    return { byKind: { ...this.byKind }, ...(this.lastErrorAt ? { lastErrorAt: this.lastErrorAt } : {}) };
  }
}
