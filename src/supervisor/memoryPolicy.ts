/**
 * Memory pressure: which worker gives its memory back. A pure decision over the latest sample, so
 * it is tested without browsers; the pool measures and restarts.
 */

/** After one worker is restarted for memory, the next sample must not pick another at once. */
export const MEMORY_COOLDOWN_MS = 30_000;

export interface MemorySample {
  workerId: string;
  memoryBytes: number;
  /** Only workers that are up (READY, IDLE, PROCESSING) can be restarted. */
  up: boolean;
  /** Already marked to restart after its PO. */
  recycling: boolean;
}

/**
 * Above the threshold, the highest-memory worker that is up is restarted (after its current PO),
 * unless a restart for memory is already under way or happened within the cool-down.
 */
export function workerToRecycle(workers: MemorySample[], usage: number, threshold: number, lastRecycleAt: number, now: number): string | undefined {
  if (usage <= threshold) return undefined;
  if (now - lastRecycleAt < MEMORY_COOLDOWN_MS || workers.some((w) => w.recycling)) return undefined;
  const candidates = workers.filter((w) => w.up);
  if (candidates.length === 0) return undefined;
  return candidates.reduce((a, b) => (b.memoryBytes > a.memoryBytes ? b : a)).workerId;
}
