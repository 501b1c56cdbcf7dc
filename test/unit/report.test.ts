import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPORT_NAME } from '../../src/shared/paths';
import { ReportWriter } from '../../src/supervisor/report';
import { TaskStore } from '../../src/supervisor/taskStore';

describe('report: po-pool-report.csv', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'po-report-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('has a row per PO in queue order that follows every change, readable by a spreadsheet', async () => {
    const store = TaskStore.inMemory();
    const report = new ReportWriter(() => store.latestPerPo(), (m) => assert.fail(m));
    store.onChange((t) => report.changed(t.taskId));
    const { handles } = store.submit([{ poNumber: 'PO100001' }, { poNumber: 'PO100002', priority: 1 }]);
    await report.write(dir);
    const read = () => readFileSync(join(dir, REPORT_NAME), 'utf8').split('\n').filter(Boolean);
    let lines = read();
    assert.ok(lines[0].startsWith('\ufeffpo_number,status,'), 'a BOM, so Excel reads it as UTF-8, then the header');
    assert.deepEqual(lines.slice(1).map((l) => l.split(',').slice(0, 2).join(',')), ['PO100002,QUEUED', 'PO100001,QUEUED']);

    store.markStarted(handles[0].taskId, 'worker-1');
    store.finish(handles[0].taskId, 'PO_NOT_FOUND');
    await report.write(dir);
    lines = read();
    assert.equal(lines.length, 3);
    assert.match(lines[2], /^PO100001,PO_NOT_FOUND,/);
    assert.match(lines[2], /worker-1/);
  });
});
