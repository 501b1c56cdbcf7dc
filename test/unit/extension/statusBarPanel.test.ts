import { strict as assert } from 'node:assert';
import type { PoolStatus, WorkerHealth } from '../../../src/protocol/types';
import { isFromPanel, panelHtml, panelSample, panelSummary, PanelHistory } from '../../../src/extension/panelModel';
import { statusBarView } from '../../../src/extension/statusBarModel';

const MB = 1024 * 1024;
const worker = (id: string, mb: number, over: Partial<WorkerHealth> = {}): WorkerHealth =>
  ({ workerId: id, state: 'PROCESSING', browserPids: [], memoryBytes: mb * MB, tasksDone: 0, restarts: 0, ...over });
function status(over: Partial<PoolStatus> = {}): PoolStatus {
  return {
    state: 'PROCESSING', supervisorPid: 1, workers: [worker('worker-1', 500), worker('worker-2', 700), worker('worker-3', 400), worker('worker-4', 300)],
    workerCounts: {}, queueDepth: 82, running: 4, counts: { COMPLETED: 30, FAILED: 2, NO_ATTACHMENTS: 2, QUEUED: 82, RUNNING: 4 }, total: 120,
    processingRate: 12, etaSeconds: 410,
    memory: { systemTotalBytes: 16 * 1024 * MB, systemUsedPercent: 40, poolBytes: 1900 * MB, threshold: 0.75 },
    errors: { byKind: { NetworkError: { count: 3, lastAt: 5 }, TimeoutError: { count: 5, lastAt: 9 } }, lastErrorAt: 9 },
    ...over,
  };
}
const connected = { kind: 'connected', supervisorPid: 1, logFile: '/l' } as const;

describe('extension: status bar', () => {
  it('spins and counts while the pool works', () => {
    const v = statusBarView(connected, status(), 0);
    assert.equal(v.text, '$(sync~spin) POs 34/120 · 4 workers');
    assert.match(v.tooltip, /34 of 120 POs finished, 2 not completed/);
    assert.match(v.tooltip, /82 queued, 4 running/);
    assert.match(v.tooltip, /12 POs\/min, done in 6 min/);
    assert.equal(v.alert, false);
  });

  it('shows a plain icon when idle, and a stopped pool as stopped', () => {
    const idle = status({ state: 'READY', queueDepth: 0, running: 0, counts: { COMPLETED: 120 } });
    assert.equal(statusBarView(connected, idle, 0).text, '$(server-process) POs 120/120 · 4 workers');
    assert.equal(statusBarView(connected, status({ state: 'TERMINATED', workers: [], queueDepth: 0, running: 0, counts: {}, total: 0 }), 0).text, '$(server-process) PO Pool');
    assert.equal(statusBarView(connected, status({ state: 'ERROR' }), 0).text, '$(error) PO Pool');
  });

  it('says when it is connecting or waiting to reconnect', () => {
    assert.equal(statusBarView({ kind: 'connecting' }, undefined, 0).text, '$(loading~spin) PO Pool');
    const v = statusBarView({ kind: 'retrying', error: 'connect ECONNREFUSED', retryAt: 4000 }, status(), 1000);
    assert.equal(v.text, '$(debug-disconnect) PO Pool');
    assert.match(v.tooltip, /ECONNREFUSED.*trying again in 3 s/);
    assert.equal(v.alert, true);
  });
});

describe('extension: status panel data', () => {
  it('sends only what the panel shows', () => {
    const s = panelSummary(status());
    assert.deepEqual(
      { state: s.state, processed: s.processed, total: s.total, queue: s.queueDepth, running: s.running, failed: s.failed, throughput: s.throughput, eta: s.eta, thresholdMb: s.thresholdMb, poolMb: s.poolMb },
      { state: 'PROCESSING', processed: 34, total: 120, queue: 82, running: 4, failed: 2, throughput: '12 POs/min', eta: '6 min 50 sec', thresholdMb: 12288, poolMb: 1900 },
    );
    assert.deepEqual(s.workers[1], { id: 'worker-2', state: 'PROCESSING', memoryMb: 700 });
    assert.deepEqual(s.errors.map((e) => [e.kind, e.count]), [['TimeoutError', 5], ['NetworkError', 3]], 'most frequent first');
    assert.equal(s.lastErrorAt, 9);
    assert.equal(panelSummary(status({ state: 'TERMINATED', queueDepth: 0, running: 0 })).eta, '—');
    assert.deepEqual(panelSummary(status({ state: 'TERMINATED' })).workers, []);
  });

  it('samples at most every interval, keeps a bounded history and restores it from the webview state', () => {
    const s = panelSummary(status());
    const h = new PanelHistory(2000, 3);
    assert.ok(h.add(panelSample(s, 0)));
    assert.ok(!h.add(panelSample({ ...s, queueDepth: 80 }, 1000)), 'a burst replaces the newest point');
    assert.deepEqual(h.all().map((p) => [p.t, p.queue]), [[0, 80]]);
    for (const t of [2000, 4000, 6000]) h.add(panelSample(s, t));
    assert.deepEqual(h.all().map((p) => p.t), [2000, 4000, 6000]);
    assert.deepEqual(h.all()[0].mem, { 'worker-1': 500, 'worker-2': 700, 'worker-3': 400, 'worker-4': 300 });
    const restored = PanelHistory.fromState({ samples: [...h.all(), { t: 'bad' }, null] }, 2000, 3);
    assert.equal(restored.all().length, 3);
    assert.equal(PanelHistory.fromState(undefined).all().length, 0);
  });

  it('accepts only its own messages from the webview', () => {
    assert.ok(isFromPanel({ type: 'ready' }));
    assert.ok(isFromPanel({ type: 'command', command: 'poPool.retryFailed' }));
    assert.ok(!isFromPanel({ type: 'command', command: 'workbench.action.terminal.new' }));
    assert.ok(!isFromPanel('ready'));
  });

  it('has a strict content security policy: nothing remote, scripts only with the nonce', () => {
    const html = panelHtml({ cspSource: 'vscode-webview:', nonce: 'abc123', scriptUri: 'vscode-webview:/media/panel.js', styleUri: 'vscode-webview:/media/panel.css', locale: 'de' });
    const csp = /content="([^"]+)"/.exec(html)?.[1] ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-abc123'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    assert.match(html, /<script nonce="abc123" src="vscode-webview:\/media\/panel.js"><\/script>/);
    assert.equal((html.match(/<script/g) ?? []).length, 1);
    assert.match(html, /<main id="root"[^>]* data-locale="de">/, 'the panel formats in the display language');
  });
});
