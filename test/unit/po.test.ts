import { strict as assert } from 'node:assert';
import { normalizePo, parsePoCells, parsePoText } from '../../src/protocol/po';

describe('PO numbers', () => {
  it('normalises the spellings users hold to one PO', () => {
    for (const raw of ['PO15262984', 'po 15262984', 'PO-15262984', ' 15262984 ', 'PO#15262984', '\uFEFF15262984']) {
      const r = normalizePo(raw);
      assert.ok(r.ok, raw);
      assert.equal(r.poNumber, 'PO15262984');
      assert.equal(r.id, '15262984');
    }
    const pm = normalizePo('PM 15262984');
    assert.ok(pm.ok && pm.poNumber === 'PM15262984' && pm.id === '15262984');
  });

  it('rejects the rest with a reason', () => {
    const cases: [string, RegExp][] = [
      ['PO12345', /at least 6 digits/],
      ['', /empty/],
      ['hello', /invalid PO format/],
      ['PO15262984x', /invalid PO format/],
      ['1234567890123', /more than 12 digits/],
    ];
    for (const [raw, reason] of cases) {
      const r = normalizePo(raw);
      assert.ok(!r.ok, raw);
      assert.match(r.reason, reason);
    }
  });

  it('finds POs in pasted text, with line numbers for what it could not use', () => {
    const text = [
      'PO Number',
      'PO15262984',
      '  po 15262985   invoice attached',
      '',
      '# a comment',
      'Supplier ACME total 1,234.50 on 2024-01-15',
      'PO123',
      '15262984',
      'PO15262986, PO15262987',
    ].join('\n');
    const r = parsePoText(text, { firstLine: 10 });
    assert.deepEqual(r.pos.map((p) => [p.poNumber, p.line]), [
      ['PO15262984', 11], ['PO15262985', 12], ['PO15262986', 18], ['PO15262987', 18],
    ]);
    assert.deepEqual(r.invalid.map((i) => [i.line, i.reason]), [
      [15, 'no PO number on this line'],
      [16, 'invalid PO format: needs at least 6 digits, got 3'],
    ]);
    assert.deepEqual(r.duplicates, [{ poNumber: 'PO15262984', lines: [11, 17] }]);
  });

  it('does not take amounts, dates or longer numbers for POs', () => {
    const r = parsePoText('total 1234567.89\nref 2024-01-15\nphone +44 1234567,5\n');
    assert.equal(r.pos.length, 0);
  });

  it('reports binary garbage as not text instead of finding POs in it', () => {
    const r = parsePoText('\u0000\u0001\u0002 123456789 \uFFFD\n');
    assert.equal(r.pos.length, 0);
    assert.match(r.invalid[0].reason, /not text/);
  });

  it('uses a custom pattern when the user sets one', () => {
    const r = parsePoText('ORDER-00123456 and ORDER-00999999', { pattern: 'ORDER-(\\d+)' });
    assert.deepEqual(r.pos.map((p) => p.poNumber), ['PO123456', 'PO999999']);
  });

  it('reads cells one PO each', () => {
    const r = parsePoCells([{ line: 2, value: 'PO100001' }, { line: 3, value: 'n/a' }, { line: 4, value: '' }]);
    assert.equal(r.pos.length, 1);
    assert.deepEqual(r.invalid.map((i) => i.line), [3]);
  });

  it('parses 100 000 lines in about ten times the time of 10 000 (linear, not quadratic)', () => {
    const text = (n: number) => Array.from({ length: n }, (_, i) => (i % 10 === 0 ? 'junk line' : `PO${1_000_000 + i}`)).join('\n');
    const timed = (t: string) => {
      const started = process.hrtime.bigint();
      const r = parsePoText(t);
      return { r, ms: Number(process.hrtime.bigint() - started) / 1e6 };
    };
    // Side by side, so a busy machine slows both; the smaller run warms the parser up first.
    timed(text(10_000));
    const small = timed(text(10_000));
    const big = timed(text(100_000));
    assert.equal(big.r.pos.length, 90_000);
    assert.equal(big.r.invalid.length, 10_000);
    assert.ok(big.ms < 30 * Math.max(small.ms, 5), `100 000 lines took ${big.ms.toFixed(0)} ms, 10 000 took ${small.ms.toFixed(0)} ms`);
  });
});
