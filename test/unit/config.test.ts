import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError, InsufficientResourcesError } from '../../src/protocol/errors';
import { resolveConfig } from '../../src/supervisor/config';

describe('pool configuration', () => {
  let profile: string;
  const GB = 1024 ** 3;
  before(() => (profile = mkdtempSync(join(tmpdir(), 'po-profile-'))));
  after(() => rmSync(profile, { recursive: true, force: true }));
  const base = () => ({ baseProfilePath: profile, coupaUrl: 'https://acme.coupahost.com/', downloadDir: '/tmp/out' });

  it('fills in the contract defaults', () => {
    const c = resolveConfig(base(), 16 * GB);
    assert.equal(c.workerCount, 4);
    assert.equal(c.headlessMode, true);
    assert.equal(c.memoryThreshold, 0.75);
    assert.equal(c.maxRestartAttempts, 3);
    assert.equal(c.taskTimeout, 300);
    assert.equal(c.shutdownTimeout, 60);
    assert.equal(c.workersPerBrowser, 1, 'a browser per worker: measured best with the headless shell');
    assert.equal(c.coupaUrl, 'https://acme.coupahost.com', 'trailing slash dropped');
  });

  const refusals: [string, Record<string, unknown>, RegExp][] = [
    ['workerCount', { workerCount: 9 }, /workerCount: must be a whole number from 1 to 8 \(got 9\)/],
    ['workerCount', { workerCount: 0 }, /from 1 to 8/],
    ['workerCount', { workerCount: 2.5 }, /whole number/],
    ['memoryThreshold', { memoryThreshold: 0.95 }, /memoryThreshold: must be a number from 0.5 to 0.9/],
    ['memoryThreshold', { memoryThreshold: 0.4 }, /from 0.5 to 0.9/],
    ['taskTimeout', { taskTimeout: 0 }, /taskTimeout: .*seconds/],
    ['coupaUrl', { coupaUrl: 'acme' }, /coupaUrl: must be your Coupa address/],
    ['downloadDir', { downloadDir: 'relative/dir' }, /downloadDir: must be an absolute folder path/],
    ['baseProfilePath', { baseProfilePath: '/no/such/profile' }, /baseProfilePath: \/no\/such\/profile does not exist/],
    ['remoteEndpoints', { remoteEndpoints: ['http://x'] }, /ws:\/\//],
    ['workersPerBrowser', { workersPerBrowser: 0 }, /workersPerBrowser: must be a whole number from 1 to 8 \(got 0\)/],
    ['workersPerBrowser', { workersPerBrowser: 9 }, /from 1 to 8/],
    ['workersPerBrowser', { workersPerBrowser: 1.5 }, /whole number/],
  ];
  for (const [field, override, message] of refusals) {
    it(`refuses a bad ${field} (${JSON.stringify(override)}) naming the field and the range`, () => {
      assert.throws(() => resolveConfig({ ...base(), ...override }, 16 * GB), (err: unknown) => {
        assert.ok(err instanceof ConfigurationError);
        assert.equal(err.field, field);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  it('needs no base profile when every worker drives a remote browser', () => {
    const c = resolveConfig({ ...base(), baseProfilePath: '', remoteEndpoints: ['ws://127.0.0.1:9000/x'] }, 16 * GB);
    assert.deepEqual(c.remoteEndpoints, ['ws://127.0.0.1:9000/x']);
  });

  it('refuses a machine with less than 4 GB of RAM', () => {
    assert.throws(() => resolveConfig(base(), 2 * GB), (err: unknown) => err instanceof InsufficientResourcesError && /at least 4 GB/.test(err.message));
  });
});
