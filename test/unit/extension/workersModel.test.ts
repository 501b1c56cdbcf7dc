import { strict as assert } from 'node:assert';
import type { PoolStatus, WorkerHealth } from '../../../src/protocol/types';
import { liveWorkers, workerRow, WorkerTable } from '../../../src/extension/workersModel';

const MB = 1024 * 1024;
const now = 1_700_000_000_000;
function worker(id: string, over: Partial<WorkerHealth> = {}): WorkerHealth {
  return { workerId: id, state: 'IDLE', browserPids: [], memoryBytes: 300 * MB, tasksDone: 0, restarts: 0, ...over };
}

describe('extension: Workers view', () => {
  it('shows what a worker is doing, its memory, uptime, work done and restarts', () => {
    const row = workerRow(worker('worker-2', {
      state: 'PROCESSING', currentPo: 'PO100007', memoryBytes: 612 * MB, sessionStartedAt: now - 185_000, tasksDone: 12, restarts: 1, pid: 42, browserPids: [43, 44],
    }), now);
    assert.equal(row.label, 'worker-2');
    assert.equal(row.description, 'PO100007 · 612 MB · up 3 min 5 sec · 12 done · 1 restart');
    assert.deepEqual(row.icon, { id: 'sync~spin', color: 'charts.blue' });
    assert.equal(row.contextValue, 'worker.processing');
    assert.match(row.tooltip, /Working on PO100007/);
    assert.match(row.tooltip, /PID 42, browser 43, 44/);
  });

  it('puts the last error in the tooltip and a red icon on a crashed worker', () => {
    const row = workerRow(worker('worker-1', {
      state: 'CRASHED', restarts: 3, lastError: { kind: 'SessionCorruptionError', message: 'browser disconnected', at: now - 60_000 },
    }), now);
    assert.deepEqual(row.icon, { id: 'error', color: 'errorForeground' });
    assert.equal(row.description, '300 MB · 0 done · 3 restarts');
    assert.match(row.tooltip, /Last error \(1 minute ago\): SessionCorruptionError: browser disconnected/);
    assert.equal(row.contextValue, 'worker.crashed');
  });

  it('gives every state its own icon and colour', () => {
    const states = ['STARTING', 'READY', 'PROCESSING', 'IDLE', 'CRASHED', 'RESTARTING', 'TERMINATING', 'TERMINATED'] as const;
    for (const state of states) assert.ok(workerRow(worker('w', { state }), now).icon.color, state);
    assert.equal(workerRow(worker('w', { state: 'STARTING' }), now).icon.id, 'loading~spin');
  });

  it('redraws only the workers that changed, and the whole list when one comes or goes', () => {
    const t = new WorkerTable();
    assert.deepEqual(t.replaceAll([worker('worker-10'), worker('worker-2')]), { structural: true, changed: [] });
    assert.deepEqual(t.ids, ['worker-2', 'worker-10'], 'in worker order, not string order');
    assert.deepEqual(t.upsert([worker('worker-2', { memoryBytes: 400 * MB })]), { structural: false, changed: ['worker-2'] });
    assert.deepEqual(t.upsert([worker('worker-2', { memoryBytes: 400 * MB })]), { structural: false, changed: [] }, 'the same report again redraws nothing');
    assert.deepEqual(t.replaceAll([worker('worker-2', { memoryBytes: 400 * MB })]), { structural: true, changed: [] }, 'worker-10 went away');
    assert.deepEqual(t.ids, ['worker-2']);
  });

  it('shows no workers for a stopped pool, so the view offers to start it', () => {
    const status = { state: 'TERMINATED', workers: [worker('worker-1', { state: 'TERMINATED' })] } as PoolStatus;
    assert.deepEqual(liveWorkers(status), []);
    assert.deepEqual(liveWorkers(undefined), []);
    assert.equal(liveWorkers({ ...status, state: 'READY' }).length, 1);
  });
});
