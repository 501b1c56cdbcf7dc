import { strict as assert } from 'node:assert';
import type { TaskInfo } from '../../../src/protocol/types';
import { poNumbersText, selectedNodes, selectedTasks } from '../../../src/extension/selectionModel';

const task = (po: string, taskId = `t-${po}`) => ({ taskId, poNumber: po, status: 'FAILED' }) as TaskInfo;
const row = (po: string, taskId?: string) => ({ kind: 'result' as const, task: task(po, taskId) });

describe('extension: several rows selected', () => {
  it('acts on every selected row when the clicked one is among them, else on the clicked one', () => {
    const a = row('PO100001');
    const b = row('PO100002');
    const c = row('PO100003');
    assert.deepEqual(selectedNodes([a, [a, b]]), [a, b]);
    assert.deepEqual(selectedNodes([c, [a, b]]), [c], 'a right-click outside the selection');
    assert.deepEqual(selectedNodes([a]), [a]);
    assert.deepEqual(selectedNodes([{ taskIds: ['x'] }]), [], 'arguments from a script are not rows');
    assert.deepEqual(selectedNodes([]), []);
  });

  it('takes each selected task once, skipping groups, and copies one PO number a line', () => {
    const a = row('PO100001');
    const group = { kind: 'status' as const, status: 'FAILED' as const, count: 3 };
    const tasks = selectedTasks([a, group, row('PO100001', 't-PO100001'), { kind: 'task', task: task('PO100002') }]);
    assert.deepEqual(tasks.map((t) => t.taskId), ['t-PO100001', 't-PO100002']);
    assert.equal(poNumbersText([...tasks, task('PO100001', 'other')]), 'PO100001\nPO100002');
  });
});
