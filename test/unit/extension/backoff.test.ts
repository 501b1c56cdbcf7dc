import { strict as assert } from 'node:assert';
import { Backoff } from '../../../src/extension/backoff';

describe('extension: reconnect backoff', () => {
  it('retries quickly first, then doubles up to the cap, and starts over after a success', () => {
    const b = new Backoff({ initialMs: 500, maxMs: 5000, jitter: 0 });
    assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [500, 1000, 2000, 4000, 5000, 5000]);
    assert.equal(b.failures, 6);
    b.reset();
    assert.equal(b.next(), 500);
  });

  it('spreads windows apart by the jitter, never past the cap or below zero', () => {
    const high = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: 0.2, random: () => 1 });
    assert.equal(high.next(), 1000, 'capped');
    const low = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0 });
    assert.equal(low.next(), 800);
  });
});
