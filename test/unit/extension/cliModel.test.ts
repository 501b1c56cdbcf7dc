import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliEnv, shimScript, taskArgs } from '../../../src/extension/cliModel';
import { defaultSettings } from '../../../src/extension/settings';

describe('extension: the CLI in the terminal and in tasks', () => {
  it('writes a shim that runs the CLI with the given runtime, arguments passed on as given', function () {
    if (process.platform === 'win32') this.skip();
    const dir = mkdtempSync(join(tmpdir(), "po pool's shim-"));
    try {
      const cli = join(dir, 'cli.js');
      writeFileSync(cli, 'console.log(JSON.stringify([process.env.ELECTRON_RUN_AS_NODE, ...process.argv.slice(2)]))');
      const shim = join(dir, 'po-pool');
      writeFileSync(shim, shimScript(process.execPath, cli, false), { mode: 0o700 });
      assert.deepEqual(JSON.parse(execFileSync(shim, ['run', 'my list.txt', '--json'], { encoding: 'utf8' })), ['1', 'run', 'my list.txt', '--json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.match(shimScript('C:\\Code\\Code.exe', 'C:\\ext\\dist\\cli.js', true), /^@echo off\r\nset ELECTRON_RUN_AS_NODE=1\r\n"C:\\Code\\Code.exe" "C:\\ext\\dist\\cli.js" %\*\r\n$/);
  });

  it('runs a task\'s list with its priority and redo, on the window\'s tenant and folder', () => {
    assert.deepEqual(taskArgs({ type: 'po-pool', file: 'lists/weekly.txt' }), ['run', 'lists/weekly.txt']);
    assert.deepEqual(taskArgs({ type: 'po-pool', file: 'a.csv', priority: 5, redo: true }), ['run', 'a.csv', '--priority', '5', '--redo']);
    assert.deepEqual(cliEnv({ ...defaultSettings, coupaUrl: 'https://acme.coupahost.com', baseProfilePath: '/p' }, '/out'), {
      ELECTRON_RUN_AS_NODE: '1', PO_POOL_OUT: '/out', PO_POOL_COUPA_URL: 'https://acme.coupahost.com', PO_POOL_PROFILE: '/p',
    });
    assert.deepEqual(cliEnv(defaultSettings, '/out'), { ELECTRON_RUN_AS_NODE: '1', PO_POOL_OUT: '/out' }, 'no address: the CLI\'s own defaults');
  });
});
