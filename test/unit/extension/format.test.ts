import { strict as assert } from 'node:assert';
import {
  clip, formatAgo, formatBytes, formatCount, formatDuration, formatEta, formatMegabytes, formatRate, listSome, plural, setDisplayLocale,
} from '../../../src/extension/format';

describe('extension: formatting', () => {
  afterEach(() => setDisplayLocale('en'));
  beforeEach(() => setDisplayLocale('en'));

  it('writes durations precisely when short and coarsely when long', () => {
    assert.equal(formatDuration(0), '0 sec');
    assert.equal(formatDuration(45.4), '45 sec');
    assert.equal(formatDuration(180), '3 min');
    assert.equal(formatDuration(3900), '1 hr 5 min');
    assert.equal(formatDuration(2 * 86400 + 3 * 3600), '2 days 3 hr');
    assert.equal(formatDuration(-5), '0 sec', 'clock skew never shows a negative time');
  });

  it('writes sizes, counts and rates as people read them', () => {
    assert.equal(formatMegabytes(512 * 1024 * 1024), '512 MB');
    assert.equal(formatBytes(900), '900 byte');
    assert.equal(formatBytes(1_300_000), '1.2 MB');
    assert.equal(formatBytes(3 * 1024 ** 3), '3 GB');
    assert.equal(formatCount(10000), '10,000');
    assert.equal(formatRate(12.345), '12 POs/min');
    assert.equal(formatRate(2.25), '2.3 POs/min');
    assert.equal(formatEta(undefined), 'unknown');
    assert.equal(formatEta(125), '2 min 5 sec');
    assert.equal(formatAgo(1000, 61_000), '1 minute ago');
  });

  it('writes numbers in the window\'s display language', () => {
    setDisplayLocale('de');
    assert.equal(formatCount(10000), '10.000');
    assert.equal(formatBytes(1_300_000), '1,2 MB');
    assert.equal(plural(1200, 'file'), '1.200 files');
    assert.equal(listSome([1, 2, 3, 4, 5, 6], 1), '1 and 5 more');
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
