/**
 * Coupa answers too many requests with 429 and a Retry-After. Workers that each back off on their
 * own start together again and meet the limit again, failing POs once their retries run out; so the
 * pool slows down as a whole: a 429 stops new POs from starting until Retry-After has passed and
 * halves how many may run at once, and every few POs that go through let one more run again.
 */
import { MAX_RETRY_DELAY_MS } from './outcomePolicy';

export class RateGovernor {
  private lanes: number;
  private pausedUntil = 0;
  private successes = 0;

  constructor(private readonly maxLanes: number, private readonly successesPerLane = 5) {
    this.lanes = maxLanes;
  }

  /** How many POs may run at once now. */
  get limit(): number {
    return this.lanes;
  }

  /**
   * Coupa said 429 while `running` POs ran. Returns what to tell the user, or undefined when this
   * 429 belongs to a slow-down already under way (workers that were mid-PO hit it too).
   */
  limited(running: number, retryAfterMs: number | undefined, now = Date.now()): string | undefined {
    // Retry-After can say anything (years, or garbage): wait at least a second and at most the cap.
    const wait = Math.min(MAX_RETRY_DELAY_MS, Math.max(1_000, Number.isFinite(retryAfterMs) ? retryAfterMs! : 0));
    const already = now < this.pausedUntil;
    this.pausedUntil = Math.max(this.pausedUntil, now + wait);
    this.successes = 0;
    if (already) return undefined;
    this.lanes = Math.max(1, Math.min(this.lanes, Math.ceil(running / 2)));
    return `Coupa is rate limiting (429): no new PO for ${(wait / 1000).toFixed(1)} s, then ${this.lanes} at a time`;
  }

  /** A PO went through. Returns what to tell the user when that lets one more run at once. */
  succeeded(): string | undefined {
    if (this.lanes >= this.maxLanes || ++this.successes < this.successesPerLane) return undefined;
    this.successes = 0;
    this.lanes++;
    return this.lanes === this.maxLanes ? `rate limit eased: back to ${this.lanes} POs at a time` : undefined;
  }

  /** Whether another PO may start while `running` run; if not because of a pause, when to ask again. */
  mayStart(running: number, now = Date.now()): { ok: boolean; wakeAt?: number } {
    if (now < this.pausedUntil) return { ok: false, wakeAt: this.pausedUntil };
    return { ok: running < this.lanes };
  }
}
