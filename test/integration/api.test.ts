import { strict as assert } from 'node:assert';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createStandin, type Standin } from '../../src/coupa/standin';
import { killAll, makeBaseProfile, processesMentioning, tempDir, waitUntil } from '../support';

const run = promisify(execFile);
const TSC = resolve('node_modules/typescript/bin/tsc');
const PACKAGE = JSON.parse(readFileSync('package.json', 'utf8')) as { name: string; version: string };

/**
 * The package as an ops engineer gets it: `npm pack`, `npm install -g` into a folder of its own, the
 * `po-pool` on that PATH, and the examples of docs/api.md run from a plain folder against the
 * installed library and type-checked against its published types.
 */
describe('api: the npm package, installed', function () {
  this.timeout(600_000);
  let root: string;
  let prefix: string;
  let installed: string;
  let consumer: string;
  let standin: Standin;
  let profile: string;
  let pos: string[];
  const env = () => ({
    ...process.env, PO_POOL_STATE_DIR: join(root, 'state'), XDG_CONFIG_HOME: join(root, 'config'), PO_POOL_COUPA_URL: standin.url, PO_POOL_PROFILE: profile,
  });
  const poPool = (args: string[]) => run(join(prefix, 'bin', 'po-pool'), args, { cwd: consumer, env: env(), timeout: 180_000 });
  const left = () => processesMentioning(root).map((p) => p.pid);

  before(async () => {
    root = tempDir('api');
    prefix = join(root, 'prefix');
    consumer = join(root, 'consumer');
    // The published types are built from src/api; the bundles are the ones under test (`node esbuild.mjs`).
    execFileSync(process.execPath, [TSC, '-p', 'tsconfig.types.json']);
    const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', root], { encoding: 'utf8' })) as { filename: string }[];
    const started = Date.now();
    execFileSync('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(root, packed[0].filename)], { stdio: 'pipe' });
    console.log(`      (npm install -g of the tarball: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    installed = join(prefix, 'lib', 'node_modules', PACKAGE.name);

    mkdirSync(join(consumer, 'node_modules'), { recursive: true });
    symlinkSync(installed, join(consumer, 'node_modules', PACKAGE.name));
    symlinkSync(resolve('node_modules/@types'), join(consumer, 'node_modules', '@types'));
    for (const name of readdirSync('examples')) copyFileSync(join('examples', name), join(consumer, name));

    standin = await createStandin({ seed: 33, poCount: 20, missingRate: 0, requisitionRate: 0, maxAttachments: 2 });
    profile = join(root, 'profile');
    await makeBaseProfile(profile, standin.url);
    pos = standin.catalog.ids().slice(0, 6).map((id) => `PO${id}`);
  });

  after(async () => {
    await poPool(['shutdown', '--force']).catch(() => undefined);
    await waitUntil(() => left().length === 0, 20_000, 'every process of the package to exit').catch((err) => {
      killAll(left());
      throw err;
    }).finally(async () => {
      await standin?.close();
      rmSync(root, { recursive: true, force: true });
    });
  });

  it('installs with playwright-core its only dependency, and puts po-pool on the PATH', async () => {
    assert.deepEqual(readdirSync(join(installed, 'node_modules')).filter((n) => !n.startsWith('.')), ['playwright-core']);
    const { stdout } = await poPool(['--version']);
    assert.equal(stdout, `${PACKAGE.version}\n`);
    assert.ok(existsSync(join(installed, 'dist', 'types', 'api', 'index.d.ts')));
  });

  it('type-checks the examples against the installed package\'s types (no skipLibCheck)', async () => {
    await run(process.execPath, [TSC, '-p', join(consumer, 'tsconfig.json')], { cwd: consumer }).catch((err: { stdout: string }) => assert.fail(err.stdout));
  });

  it('po-pool run from the installed package downloads a list', async () => {
    const { stdout } = await poPool(['run', pos[0], pos[1], '--workers', '2', '--out', 'cli-out', '--json']);
    const out = JSON.parse(stdout) as { exitCode: number; pos: { poNumber: string; ok: boolean }[] };
    assert.equal(out.exitCode, 0);
    assert.deepEqual(out.pos.map((p) => p.ok), [true, true]);
    assert.ok(readdirSync(join(consumer, 'cli-out')).includes(pos[0]));
  });

  it('examples/download-list.mjs: connect(), start, submit, waitForDone on the same supervisor', async () => {
    const { stdout, stderr } = await run(process.execPath, ['download-list.mjs', pos[2], pos[3], 'PO12', '--out', 'script-out'], { cwd: consumer, env: env(), timeout: 180_000 });
    const lines = stdout.trim().split('\n').map((l) => l.split('\t'));
    assert.deepEqual(lines.map((l) => l[0]), [pos[2], pos[3]]);
    for (const l of lines) {
      assert.match(l[1], /^(COMPLETED|NO_ATTACHMENTS)$/);
      if (l[1] === 'COMPLETED') assert.equal(l[3], join(consumer, 'script-out', l[0]));
    }
    assert.match(stderr, /^PO12: invalid PO format/m);
    const status = JSON.parse((await poPool(['status', '--json'])).stdout) as { total: number };
    assert.equal(status.total, 4, 'the same supervisor as the CLI\'s');
    await poPool(['shutdown']);
    await waitUntil(() => left().length === 0, 20_000, 'the supervisor, workers and browsers to exit');
  });

  it('examples/in-process.mjs: a PersistentWorkerPool in the script\'s own process, its callbacks as events', async () => {
    const { stdout } = await run(process.execPath, ['in-process.mjs', pos[4], pos[5], '--out', 'inproc-out'], { cwd: consumer, env: env(), timeout: 180_000 });
    const lines = stdout.trim().split('\n').map((l) => l.split('\t'));
    assert.deepEqual(lines.map((l) => l[0]).sort(), [pos[4], pos[5]].sort());
    for (const l of lines) assert.match(l[1], /^(COMPLETED|NO_ATTACHMENTS)$/);
    assert.ok(readdirSync(join(consumer, 'inproc-out')).some((n) => n === pos[4] || n === pos[5]));
    assert.deepEqual(left(), [], 'the script\'s workers and browsers stopped with it');
  });
});
