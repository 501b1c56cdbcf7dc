import { strict as assert } from 'node:assert';
import { RateGovernor } from '../../src/supervisor/rateGovernor';

describe('rate governor: the pool slows down as a whole when Coupa says 429', () => {
  it('starts nothing until Retry-After has passed, then half as many at a time', () => {
    const g = new RateGovernor(4);
    assert.deepEqual(g.mayStart(3, 0), { ok: true });
    assert.match(g.limited(4, 3_000, 1_000)!, /no new PO for 3\.0 s, then 2 at a time/);
    assert.deepEqual(g.mayStart(0, 3_999), { ok: false, wakeAt: 4_000 });
    assert.deepEqual(g.mayStart(1, 4_000), { ok: true });
    assert.deepEqual(g.mayStart(2, 4_000), { ok: false });
  });

  it('counts the 429s of POs already running in one slow-down, and waits at least a second', () => {
    const g = new RateGovernor(8);
    assert.ok(g.limited(8, undefined, 0));
    assert.equal(g.limited(7, 5_000, 500), undefined, 'the same slow-down, said once');
    assert.equal(g.limit, 4, 'halved once, not twice');
    assert.deepEqual(g.mayStart(0, 999), { ok: false, wakeAt: 5_500 }, 'the longer Retry-After wins');
  });

  it('lets one more run after every five POs that go through, up to the worker count', () => {
    const g = new RateGovernor(2, 5);
    g.limited(2, 1_000, 0);
    assert.equal(g.limit, 1);
    const said = Array.from({ length: 5 }, () => g.succeeded());
    assert.deepEqual(said.slice(0, 4), [undefined, undefined, undefined, undefined]);
    assert.match(said[4]!, /back to 2 POs at a time/);
    assert.equal(g.limit, 2);
    for (let i = 0; i < 10; i++) g.succeeded();
    assert.equal(g.limit, 2, 'never more than the workers');
  });
});
