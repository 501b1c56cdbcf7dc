import { strict as assert } from 'node:assert';
import { clip, formatAgo, formatBytes, formatCount, formatDuration, formatMegabytes, formatRate, plural } from '../../src/shared/format';

describe('format: numbers, sizes and times in the user\'s locale', () => {
  it('gives durations in their two largest units', () => {
    assert.deepEqual([0, 45, 60, 187, 3900, 7200, 3 * 86400 + 3 * 3600 + 59].map((s) => formatDuration(s, 'en')),
      ['0 sec', '45 sec', '1 min', '3 min 7 sec', '1 hr 5 min', '2 hr', '3 days 3 hr']);
    assert.equal(formatDuration(Number.NaN, 'en'), '0 sec');
    assert.equal(formatDuration(187, 'de'), '3 Min., 7 Sek.');
  });

  it('writes counts, sizes and rates with the locale\'s digits', () => {
    assert.equal(formatCount(1234.4, 'en'), '1,234');
    assert.equal(formatCount(1234.4, 'de'), '1.234');
    assert.deepEqual([512, 48 * 1024, 3.45 * 1024 * 1024, 1.25 * 1024 ** 3].map((b) => formatBytes(b, 'en')), ['512 byte', '48 kB', '3.5 MB', '1.25 GB']);
    assert.equal(formatMegabytes(312.4 * 1024 * 1024, 'en'), '312 MB');
    assert.deepEqual([formatRate(12.34, 'en'), formatRate(2.54, 'en')], ['12 POs/min', '2.5 POs/min']);
  });

  it('picks the noun\'s form by the count and says how long ago', () => {
    assert.deepEqual([plural(1, 'PO', undefined, 'en'), plural(3, 'PO', undefined, 'en'), plural(1200, 'file', undefined, 'en')], ['1 PO', '3 POs', '1,200 files']);
    assert.equal(formatAgo(1_000_000 - 5 * 60_000, 1_000_000, 'en'), '5 minutes ago');
    assert.equal(clip('a  long\nmessage that goes on', 10), 'a long me…');
  });
});
