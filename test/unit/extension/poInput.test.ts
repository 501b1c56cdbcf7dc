import { strict as assert } from 'node:assert';
import { parsePoText } from '../../../src/protocol/po';
import { chunks, mergeParseResults, mergeSubmitResults, parseSummary, processArgs, submitSummary, validatePriority } from '../../../src/extension/poInput';

describe('extension: PO input', () => {
  it('accepts a list, text, an options object or a priority as command arguments', () => {
    assert.deepEqual(processArgs([['PO1', 'PO2']]), { poNumbers: ['PO1', 'PO2'] });
    assert.deepEqual(processArgs(['PO1\nPO2, PO3']), { poNumbers: ['PO1', 'PO2', 'PO3'] });
    assert.deepEqual(processArgs([['PO1'], 7]), { poNumbers: ['PO1'], priority: 7 });
    assert.deepEqual(processArgs([{ poNumbers: ['PO1'], priority: 2, redo: true, path: '/x.csv' }]), { poNumbers: ['PO1'], priority: 2, redo: true, path: '/x.csv' });
    class Uri { fsPath = '/x.txt'; }
    assert.deepEqual(processArgs([new Uri()]), {}, 'a context menu\'s URI is not a PO list');
    assert.deepEqual(processArgs([]), {});
  });

  it('merges several selections, keeping each one\'s line numbers and finding duplicates across them', () => {
    const a = parsePoText('PO100001\nPO100002', { firstLine: 3 });
    const b = parsePoText('hello\npo 100001', { firstLine: 10 });
    const m = mergeParseResults([a, b]);
    assert.deepEqual(m.pos.map((p) => [p.poNumber, p.line]), [['PO100001', 3], ['PO100002', 4]]);
    assert.deepEqual(m.duplicates, [{ poNumber: 'PO100001', lines: [3, 11] }]);
    assert.deepEqual(m.invalid.map((i) => i.line), [10]);
  });

  it('tells how many POs were found, which lines were skipped and which POs are listed twice', () => {
    const r = parsePoText('PO100001\nPO123\nPO100002\nPO100001\nfoo', { firstLine: 1 });
    const s = parseSummary(r, 'the selection');
    assert.equal(s.severity, 'warning');
    assert.equal(s.message, 'Found 2 POs in the selection; 2 lines skipped (line 2: invalid PO format: needs at least 6 digits, got 3; line 5: no PO number on this line); 1 PO listed more than once (PO100001 on lines 1, 4).');
    assert.deepEqual(parseSummary(parsePoText('PO100001'), 'line 1'), { severity: 'info', message: 'Found 1 PO in line 1.' });
    assert.equal(parseSummary(parsePoText('nothing here'), 'the selection').severity, 'error');
  });

  it('reports the POs the supervisor refused as already in hand', () => {
    const s = submitSummary({
      handles: [{ taskId: 'a', poNumber: 'PO1' }],
      duplicates: [{ poNumber: 'PO2', taskId: 'b', status: 'COMPLETED' }, { poNumber: 'PO3', taskId: 'c', status: 'PO_NOT_FOUND' }],
      invalid: [],
    });
    assert.equal(s.severity, 'warning');
    assert.equal(s.message, 'Queued 1 PO; 2 POs already queued, running or done: PO2 (completed), PO3 (PO not found).');
    assert.deepEqual(submitSummary({ handles: [{ taskId: 'a', poNumber: 'PO1' }], duplicates: [], invalid: [] }), { severity: 'info', message: 'Queued 1 PO.' });
  });

  it('submits long lists in chunks and adds their answers up', () => {
    assert.deepEqual(chunks([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
    assert.equal(chunks(Array.from({ length: 2500 }, (_, i) => i)).length, 3);
    const merged = mergeSubmitResults([
      { handles: [{ taskId: 'a', poNumber: 'PO1' }], duplicates: [], invalid: [] },
      { handles: [{ taskId: 'b', poNumber: 'PO2' }], duplicates: [], invalid: [{ poNumber: 'x', reason: 'bad' }] },
    ]);
    assert.deepEqual([merged.handles.length, merged.invalid.length], [2, 1]);
  });

  it('takes whole numbers as priorities', () => {
    assert.equal(validatePriority('5'), undefined);
    assert.equal(validatePriority(' -2 '), undefined);
    assert.match(validatePriority('high') ?? '', /whole number/);
    assert.match(validatePriority('1.5') ?? '', /whole number/);
  });
});
