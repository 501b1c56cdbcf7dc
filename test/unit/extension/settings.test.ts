import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { ConfigurationError } from '../../../src/protocol/errors';
import {
  changedRestartSettings, defaultSettings, downloadDir, isFirstRun, readSettings, settingForField, settingTitle,
  startDemoParams, startPoolParams, usesDemo, type PoolSettings,
} from '../../../src/extension/settings';

const home = join('/', 'home', 'ann');
const ws = join('/', 'work', 'orders');

function settings(over: Partial<PoolSettings> = {}): PoolSettings {
  return { ...defaultSettings, ...over };
}

describe('extension: settings', () => {
  it('falls back to the defaults for missing or mistyped values and trims text', () => {
    const values: Record<string, unknown> = { workerCount: '6', headless: false, coupaUrl: '  https://acme.coupahost.com ', remoteEndpoints: 'ws://x' };
    const s = readSettings((k) => values[k]);
    assert.equal(s.workerCount, 4, 'a string is not a worker count');
    assert.equal(s.headless, false);
    assert.equal(s.coupaUrl, 'https://acme.coupahost.com');
    assert.deepEqual(s.remoteEndpoints, []);
  });

  it('maps every setting to the StartPool field the supervisor expects', () => {
    const p = startPoolParams(settings({ coupaUrl: 'https://acme.coupahost.com', baseProfilePath: '/p', headless: false, maxDownloadBytes: 50, workerCount: 2, workersPerBrowser: 2, blockPageResources: true }), { workspaceFolder: ws, home });
    assert.deepEqual(p, {
      workerCount: 2, workersPerBrowser: 2, blockPageResources: true, headlessMode: false, baseProfilePath: '/p', memoryThreshold: 0.75, maxRestartAttempts: 3, taskTimeout: 300,
      shutdownTimeout: 60, coupaUrl: 'https://acme.coupahost.com', downloadDir: join(ws, 'downloads'), browser: 'auto',
      remoteEndpoints: [], maxRetries: 3, maxDownloadBytes: 50 * 1024 * 1024, idleShutdownMinutes: 10,
    });
  });

  it('puts downloads in the workspace, else the home folder, and expands ~ and ${workspaceFolder}', () => {
    assert.equal(downloadDir(settings(), { workspaceFolder: ws, home }), join(ws, 'downloads'));
    assert.equal(downloadDir(settings(), { home }), join(home, 'po-pool-downloads'));
    assert.equal(downloadDir(settings({ downloadFolder: '~/pos' }), { home }), join(home, 'pos'));
    assert.equal(downloadDir(settings({ downloadFolder: '${workspaceFolder}/out' }), { workspaceFolder: ws, home }), `${ws}/out`);
  });

  it('refuses a relative download folder naming the field, so the error can open that setting', () => {
    assert.throws(() => downloadDir(settings({ downloadFolder: 'out' }), { home }), (err: unknown) =>
      err instanceof ConfigurationError && err.field === 'downloadDir' && /absolute/.test(err.message));
    assert.throws(() => downloadDir(settings({ downloadFolder: '${workspaceFolder}/x' }), { home }), /no folder is open/);
    assert.equal(settingForField('downloadDir'), 'downloadFolder');
    assert.equal(settingForField('headlessMode'), 'headless');
    assert.equal(settingForField('workerCount'), 'workerCount');
    assert.equal(settingForField('tasks'), undefined);
  });

  it('runs the demo when no Coupa address is set, and calls that the first run until something is set', () => {
    assert.ok(usesDemo(settings()));
    assert.ok(!usesDemo(settings({ coupaUrl: 'https://acme.coupahost.com' })));
    assert.ok(!usesDemo(settings({ remoteEndpoints: ['ws://h:1'] })));
    assert.ok(isFirstRun(settings()));
    assert.ok(!isFirstRun(settings({ baseProfilePath: '/p' })));
    assert.deepEqual(startDemoParams(settings({ workerCount: 3 }), { home }), { downloadDir: join(home, 'po-pool-downloads'), workerCount: 3, idleShutdownMinutes: 10 });
  });

  it('knows which changes need a pool restart and names them as the Settings editor does', () => {
    const changed = new Set(['poPool.workerCount', 'poPool.poPattern', 'poPool.downloadFolder']);
    assert.deepEqual(changedRestartSettings((k) => changed.has(k)), ['workerCount', 'downloadFolder']);
    assert.equal(settingTitle('workerCount'), 'Worker Count');
    assert.equal(settingTitle('maxDownloadBytes'), 'Max Download Bytes');
  });
});
