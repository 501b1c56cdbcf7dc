import { strict as assert } from 'node:assert';
import { clip, formatAgo, formatBytes, formatCount, formatDuration, formatEta, formatMegabytes, formatRate, listSome, plural } from '../../../src/extension/format';

describe('extension: formatting', () => {
  it('writes durations precisely when short and coarsely when long', () => {
    assert.equal(formatDuration(0), '0 s');
    assert.equal(formatDuration(45.4), '45 s');
    assert.equal(formatDuration(180), '3 min');
    assert.equal(formatDuration(3900), '1 h 05 min');
    assert.equal(formatDuration(2 * 86400 + 3 * 3600), '2 d 3 h');
    assert.equal(formatDuration(-5), '0 s', 'clock skew never shows a negative time');
  });

  it('writes sizes, counts and rates as people read them', () => {
    assert.equal(formatMegabytes(512 * 1024 * 1024), '512 MB');
    assert.equal(formatBytes(900), '900 B');
    assert.equal(formatBytes(1_300_000), '1.2 MB');
    assert.equal(formatBytes(3 * 1024 ** 3), '3.00 GB');
    assert.equal(formatCount(10000), '10,000');
    assert.equal(formatRate(12.345), '12 POs/min');
    assert.equal(formatRate(2.25), '2.3 POs/min');
    assert.equal(formatEta(undefined), 'unknown');
    assert.equal(formatEta(125), '2 min');
    assert.equal(formatAgo(1000, 61_000), '1 min ago');
  });

  it('pluralises and keeps long text and lists to one line', () => {
    assert.equal(plural(1, 'file'), '1 file');
    assert.equal(plural(3, 'file'), '3 files');
    assert.equal(plural(2, 'entry', 'entries'), '2 entries');
    assert.equal(clip('a\n  b', 10), 'a b');
    assert.equal(clip('x'.repeat(20), 10), `${'x'.repeat(9)}…`);
    assert.equal(listSome([1, 2, 3]), '1, 2, 3');
    assert.equal(listSome([1, 2, 3, 4, 5, 6, 7], 5), '1, 2, 3, 4, 5 and 2 more');
  });
});
