import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
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
    const report = new ReportWriter(dir, () => store.inFolder(dir), (m) => assert.fail(m));
    store.onChange((t) => report.changed(t.taskId));
    const { handles } = store.submit([{ poNumber: 'PO100001' }, { poNumber: 'PO100002', priority: 1 }], { tenant: 'demo', downloadDir: dir });
    await report.write();
    const read = () => readFileSync(join(dir, REPORT_NAME), 'utf8').split('\n').filter(Boolean);
    let lines = read();
    assert.ok(lines[0].startsWith('\ufeffpo_number,status,'), 'a BOM, so Excel reads it as UTF-8, then the header');
    assert.deepEqual(lines.slice(1).map((l) => l.split(',').slice(0, 2).join(',')), ['PO100002,QUEUED', 'PO100001,QUEUED']);

    store.markStarted(handles[0].taskId, 'worker-1');
    store.finish(handles[0].taskId, 'PO_NOT_FOUND');
    await report.write();
    lines = read();
    assert.equal(lines.length, 3);
    assert.match(lines[2], /^PO100001,PO_NOT_FOUND,/);
    assert.match(lines[2], /worker-1/);
  });
});

describe('report: safe to open in a spreadsheet', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'po-report-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('neutralises cells a spreadsheet would run as formulas, lists only its folder, and writes owner-only', async () => {
    const store = TaskStore.inMemory();
    const report = new ReportWriter(dir, () => store.inFolder(dir), (m) => assert.fail(m));
    const [h] = store.submit([{ poNumber: 'PO100003' }], { tenant: 'demo', downloadDir: dir }).handles;
    store.submit([{ poNumber: 'PO100004' }], { tenant: 'demo', downloadDir: join(dir, 'elsewhere') });
    store.markStarted(h.taskId, 'worker-1');
    store.finish(h.taskId, 'PARTIAL', {
      taskId: h.taskId, poNumber: 'PO100003', status: 'PARTIAL', attempts: 1, supplier: '=HYPERLINK("http://evil","Click")',
      attachments: ['+cmd|calc', '@SUM(A1)'], files: [], timings: { startedAt: 0, finishedAt: 1, navigationMs: 0, downloadMs: 0 },
      error: { kind: 'DownloadError', message: '-2+3 failed' },
    });
    await report.write();
    const text = readFileSync(join(dir, REPORT_NAME), 'utf8');
    assert.match(text, /'=HYPERLINK/);
    assert.match(text, /'\+cmd\|calc/, 'the cell starts with an apostrophe');
    assert.match(text, /,'-2\+3 failed,/);
    assert.doesNotMatch(text, /PO100004/, 'another folder\'s PO');
    assert.equal(statSync(join(dir, REPORT_NAME)).mode & 0o077, 0);
    assert.deepEqual(readdirSync(dir), [REPORT_NAME], 'no temp file left');
  });
});
