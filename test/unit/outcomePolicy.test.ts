import { strict as assert } from 'node:assert';
import { workerToRecycle } from '../../src/supervisor/memoryPolicy';
import { PoolMetrics } from '../../src/supervisor/metrics';
import { afterCrash, afterTaskError, afterWorkerDeath, CRASH_WINDOW_MS, MAX_RETRY_DELAY_MS, timerDelay } from '../../src/supervisor/outcomePolicy';

const NOW = 1_000_000_000;
const ctx = { retryCount: 0, maxRetries: 3, retryBaseMs: 1000, shuttingDown: false, now: NOW };

describe('outcome policy: after a failed attempt', () => {
  it('never retries a PO that does not exist, and retries network errors with doubling backoff', () => {
    assert.deepEqual(afterTaskError({ kind: 'PONotFoundError', message: 'gone' }, ctx), { retry: false, status: 'PO_NOT_FOUND', error: { kind: 'PONotFoundError', message: 'gone' } });
    const delays = [0, 1, 2].map((retryCount) => afterTaskError({ kind: 'NetworkError', message: 'x' }, { ...ctx, retryCount }));
    assert.deepEqual(delays.map((d) => d.retry && d.delayMs), [1000, 2000, 4000]);
    const last = afterTaskError({ kind: 'NetworkError', message: 'x' }, { ...ctx, retryCount: 3 });
    assert.deepEqual([last.retry, !last.retry && last.status], [false, 'FAILED']);
    const timeout = afterTaskError({ kind: 'TimeoutError', message: 'slow' }, { ...ctx, retryCount: 3 });
    assert.equal(!timeout.retry && timeout.status, 'TIMEOUT');
    const download = afterTaskError({ kind: 'DownloadError', message: 'too big' }, ctx);
    assert.equal(download.retry, false, 'a file too large stays too large');
  });

  it('waits for Retry-After, but never longer than the cap', () => {
    const soon = afterTaskError({ kind: 'NetworkError', message: '429', data: { retryAfterMs: 7000 } }, ctx);
    assert.equal(soon.retry && soon.delayMs, 7000);
    const years = afterTaskError({ kind: 'NetworkError', message: '429', data: { retryAfterMs: 99_999_999_000 } }, ctx);
    assert.equal(years.retry && years.delayMs, MAX_RETRY_DELAY_MS);
  });

  it('ends a PO as TIMEOUT when its whole time limit would pass before the next try', () => {
    const d = afterTaskError({ kind: 'NetworkError', message: 'x' }, { ...ctx, deadline: NOW + 500 });
    assert.equal(!d.retry && d.status, 'TIMEOUT');
    assert.match(!d.retry ? d.error.message : '', /no time left/);
  });

  it('gives a PO back to the queue after a worker death until three workers died on it', () => {
    assert.deepEqual(afterWorkerDeath(2, false, false), { requeue: true });
    const third = afterWorkerDeath(3, false, false);
    assert.equal(!third.requeue && third.status, 'FAILED');
    assert.equal(!third.requeue && third.error.kind, 'WorkerError');
    const hung = afterWorkerDeath(3, true, false);
    assert.equal(!hung.requeue && hung.status, 'TIMEOUT');
    const late = afterWorkerDeath(1, false, true);
    assert.equal(!late.requeue && late.status, 'TIMEOUT');
  });
});

describe('outcome policy: restarting a crashed worker', () => {
  const base = { streak: 0, crashTimes: [NOW], maxRestartAttempts: 3, needsSignIn: false, now: NOW };

  it('restarts, a little later each time it fails to come up, and retires it after the limit in a row', () => {
    assert.deepEqual([0, 1, 2].map((streak) => afterCrash({ ...base, streak })), [
      { restart: true, delayMs: 1000 }, { restart: true, delayMs: 2000 }, { restart: true, delayMs: 3000 },
    ]);
    assert.deepEqual(afterCrash({ ...base, streak: 3 }), { restart: false, reason: 'after 3 restarts in a row' });
    assert.deepEqual(afterCrash({ ...base, maxRestartAttempts: 0 }), { restart: false, reason: 'after 0 restarts in a row' });
  });

  it('retires a worker that comes up every time but crashes again and again within ten minutes', () => {
    const times = [NOW - 9 * 60_000, NOW - 5 * 60_000, NOW - 60_000, NOW];
    assert.deepEqual(afterCrash({ ...base, crashTimes: times }), { restart: false, reason: 'after 4 crashes within 10 minutes' });
    assert.equal(afterCrash({ ...base, crashTimes: [NOW - CRASH_WINDOW_MS - 1, ...times.slice(1)] }).restart, true, 'older crashes do not count');
  });

  it('does not restart a worker whose session needs a person to sign in', () => {
    assert.deepEqual(afterCrash({ ...base, needsSignIn: true }), { restart: false, reason: 'until a person signs in to Coupa again' });
  });

  it('keeps every timer within what setTimeout can wait', () => {
    assert.deepEqual([timerDelay(-5), timerDelay(Number.NaN), timerDelay(2 ** 40), timerDelay(1500)], [0, 0, 2 ** 31 - 1, 1500]);
  });
});

describe('memory policy', () => {
  const workers = [
    { workerId: 'worker-1', memoryBytes: 300, up: true, recycling: false },
    { workerId: 'worker-2', memoryBytes: 900, up: true, recycling: false },
    { workerId: 'worker-3', memoryBytes: 5000, up: false, recycling: false },
  ];

  it('picks the largest worker that is up, only above the threshold and outside the cool-down', () => {
    assert.equal(workerToRecycle(workers, 0.8, 0.75, 0, NOW), 'worker-2');
    assert.equal(workerToRecycle(workers, 0.7, 0.75, 0, NOW), undefined);
    assert.equal(workerToRecycle(workers, 0.8, 0.75, NOW - 10_000, NOW), undefined);
    assert.equal(workerToRecycle(workers.map((w, i) => ({ ...w, recycling: i === 0 })), 0.8, 0.75, 0, NOW), undefined, 'one at a time');
  });
});

describe('pool metrics', () => {
  it('gives the rate over the last minutes and the time left', () => {
    let started = NOW - 120_000;
    const m = new PoolMetrics(() => started);
    for (let i = 0; i < 30; i++) m.taskFinished(NOW - i * 2000);
    assert.deepEqual(m.rate(45, NOW), { perMinute: 15, etaSeconds: 180 });
    started = NOW - 10_000;
    assert.equal(m.rate(0, NOW).perMinute, 30, 'a young pool is measured over at least a minute');
    assert.equal(m.rate(0, NOW + 10 * 60_000).perMinute, 0, 'old finishes drop out');
    m.error('NetworkError', NOW);
    m.error('NetworkError', NOW + 5);
    assert.deepEqual(m.errors(), { byKind: { NetworkError: { count: 2, lastAt: NOW + 5 } }, lastErrorAt: NOW + 5 });
  });
});
