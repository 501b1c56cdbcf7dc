import { strict as assert } from 'node:assert';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStandin, type Standin } from '../../src/coupa/standin';
import type { PoolStatus, TaskInfo } from '../../src/protocol/types';
import type { OutcomeJson, RunJson } from '../../src/cli/json';
import { CLI_SCRIPT, killAll, makeBaseProfile, processesMentioning, tempDir, waitUntil } from '../support';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The built CLI as a user runs it, on its own state folder, with a config folder of the test's
 * (`<cwd>/config`) so that no real user's settings leak in.
 */
function startCli(stateDir: string, cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [CLI_SCRIPT, ...args], { cwd, env: { ...process.env, XDG_CONFIG_HOME: join(cwd, 'config'), PO_POOL_STATE_DIR: stateDir, ...env } });
}

interface CliOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Standard input, for `-`. */
  input?: string;
}

function cli(stateDir: string, cwd: string, args: string[], options: CliOptions | number = {}): Promise<Ran> {
  const { timeoutMs = 150_000, env, input } = typeof options === 'number' ? { timeoutMs: options } : options;
  return new Promise((resolve, reject) => {
    const child = startCli(stateDir, cwd, args, env);
    child.stdin.end(input ?? '');
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`po-pool ${args.join(' ')} took over ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The supervisor of a state folder, and every process it ever reported, must be gone. */
async function assertNothingLeft(stateDir: string, pids: Set<number>): Promise<void> {
  const left = () => [...pids].filter(alive).concat(processesMentioning(stateDir).map((p) => p.pid));
  await waitUntil(() => left().length === 0, 20_000, 'the supervisor, workers and browsers to exit').catch((err) => {
    killAll(left());
    throw err;
  });
}

function lockPid(stateDir: string): number | undefined {
  try {
    return Number(readFileSync(join(stateDir, 'supervisor.lock'), 'utf8')) || undefined;
  } catch {
    return undefined;
  }
}

describe('cli: po-pool as a user runs it', function () {
  this.timeout(300_000);

  describe('coupa-standin', () => {
    it('prints its URL and the sign-in, serves PO pages, and stops cleanly on Ctrl-C', async () => {
      const cwd = tempDir('cli-standin');
      const child = startCli(join(cwd, 'state'), cwd, ['coupa-standin', '--po-count', '20', '--seed', '3']);
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      try {
        await waitUntil(() => /sign in as/.test(stdout), 15_000, 'the stand-in to print its address');
        const url = /Coupa stand-in at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
        assert.ok(url, stdout);
        assert.match(stdout, /sign in as demo@example\.com \/ demo/);
        assert.match(stdout, /POs PO100000\.\.PO100019/);

        const signIn = await fetch(`${url}/sessions`, {
          method: 'POST',
          body: new URLSearchParams({ 'user[login]': 'demo@example.com', 'user[password]': 'demo', return_to: '/order_headers/100001' }),
          redirect: 'manual',
        });
        assert.equal(signIn.status, 302);
        const cookie = signIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
        const page = await fetch(`${url}/order_headers/100001`, { headers: { cookie }, redirect: 'manual' });
        assert.ok(page.status === 200 || page.status === 404, `a PO page or Coupa's not-found page, got ${page.status}`);
        assert.match(await page.text(), /<html/i);

        const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
        child.kill('SIGINT');
        assert.equal(await exited, 0);
      } finally {
        child.kill('SIGKILL');
        rmSync(cwd, { recursive: true, force: true });
      }
    });
  });

  describe('a pool on a stand-in', () => {
    let standin: Standin;
    let root: string;
    let stateDir: string;
    let profile: string;
    const pids = new Set<number>();
    let pos: string[];
    const po = (args: string[], options?: CliOptions | number) => cli(stateDir, root, args, options);

    before(async () => {
      standin = await createStandin({ seed: 21, poCount: 40, missingRate: 0, requisitionRate: 0, maxAttachments: 2 });
      root = tempDir('cli');
      stateDir = join(root, 'state');
      profile = join(root, 'profile');
      await makeBaseProfile(profile, standin.url);
      pos = standin.catalog.ids().slice(0, 6).map((id) => `PO${id}`);
      writeFileSync(join(root, 'list.txt'), `PO Number\n${pos.join('\n')}\n`);
    });

    after(async () => {
      await po(['shutdown', '--force'], 60_000).catch(() => undefined);
      await assertNothingLeft(stateDir, pids).finally(async () => {
        await standin?.close();
        rmSync(root, { recursive: true, force: true });
      });
    });

    it('--version prints the package\'s version, without a supervisor', async () => {
      const r = await po(['--version']);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `${JSON.parse(readFileSync('package.json', 'utf8')).version}\n`);
    });

    it('looks without starting anything: status and wait exit 2, shutdown has nothing to stop', async () => {
      const status = await po(['status', '--json']);
      assert.equal(status.code, 2);
      assert.equal(status.stderr, 'po-pool: UsageError: no supervisor running\n');
      assert.equal((await po(['wait'])).code, 2);
      const stop = await po(['shutdown']);
      assert.equal(stop.code, 0);
      assert.match(stop.stdout, /nothing to stop/);
      assert.equal(existsSync(join(stateDir, 'supervisor.lock')), false, 'no supervisor was started');
    });

    it('refuses --workers 9 with exit 2 and a one-line reason', async () => {
      const r = await po(['start', '--coupa', standin.url, '--profile', profile, '--workers', '9']);
      const pid = lockPid(stateDir);
      if (pid) pids.add(pid);
      assert.equal(r.code, 2);
      assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('po-pool:')).length, 1, r.stderr);
      assert.match(r.stderr, /^po-pool: ConfigurationError: workerCount: must be a whole number from 1 to 8 \(got 9\)$/m);
    });

    it('run: starts the pool, downloads a list, summarises, exits 0, and leaves files and the report on disk', async () => {
      const r = await po(['run', 'list.txt', '--coupa', standin.url, '--profile', 'profile', '--workers', '2', '--out', 'dl', '--idle-minutes', '2']);
      assert.equal(r.code, 0, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
      assert.match(r.stdout, /^submitted 6 POs$/m);
      assert.match(r.stdout, /^6 POs in .* on 2 workers$/m);
      assert.match(r.stdout, new RegExp(`^report: ${join(root, 'dl', 'po-pool-report.csv').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
      assert.ok(existsSync(join(root, 'dl', 'po-pool-report.csv')));
      const folders = readdirSync(join(root, 'dl')).filter((name) => pos.includes(name));
      assert.ok(folders.length > 0, 'PO folders were written');
      assert.ok(folders.some((f) => readdirSync(join(root, 'dl', f)).length > 0), 'with files in them');
    });

    it('status --json is the PoolStatus, with worker and browser pids', async () => {
      const r = await po(['status', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const status = JSON.parse(r.stdout) as PoolStatus;
      pids.add(status.supervisorPid);
      assert.equal(status.workers.length, 2);
      for (const w of status.workers) {
        assert.ok(w.pid && alive(w.pid), `${w.workerId} has a live pid`);
        pids.add(w.pid);
        for (const b of w.browserPids) pids.add(b);
      }
      assert.equal(status.counts.QUEUED ?? 0, 0);
      assert.equal(status.total, 6);
      const human = await po(['status']);
      assert.match(human.stdout, /^pool (READY|PROCESSING) · supervisor pid \d+/);
      assert.match(human.stdout, /worker-1 +(IDLE|READY)/);
    });

    it('results: a table and a JSON array, filtered by status', async () => {
      const table = await po(['results']);
      assert.equal(table.code, 0);
      assert.match(table.stdout, /^PO +STATUS +FILES +SUPPLIER +ERROR$/m);
      for (const p of pos) assert.match(table.stdout, new RegExp(`^${p} +(COMPLETED|NO_ATTACHMENTS) `, 'm'));
      const json = JSON.parse((await po(['results', '--json'])).stdout) as TaskInfo[];
      assert.deepEqual(json.map((t) => t.poNumber).sort(), [...pos].sort());
      assert.deepEqual(JSON.parse((await po(['results', '--json', '--status', 'FAILED'])).stdout), []);
    });

    it('submit: lists invalid POs with their reason and known ones with their status', async () => {
      const bad = await po(['submit', 'PO123']);
      assert.equal(bad.code, 2);
      assert.match(bad.stdout, /^ {2}argument: PO123 — invalid PO format: needs at least 6 digits, got 3$/m);
      assert.match(bad.stderr, /^po-pool: UsageError: no PO numbers to submit$/m);
      const mixed = await po(['submit', pos[0], 'PO123']);
      assert.equal(mixed.code, 0, mixed.stderr);
      assert.match(mixed.stdout, /^submitted 0 POs$/m);
      assert.match(mixed.stdout, new RegExp(`^ {2}${pos[0]} {2}(COMPLETED|NO_ATTACHMENTS), already in this folder$`, 'm'));
      assert.match(mixed.stdout, /^1 invalid:$/m);
    });

    it('wait: exits 0 when every PO succeeded', async () => {
      const r = await po(['wait', '--timeout', '60']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^6 POs: /);
    });

    /** Files of the list's POs on disk under `dir/<PO>/`. */
    const filesOnDisk = (dir: string) => pos.flatMap((p) => (existsSync(join(dir, p)) ? readdirSync(join(dir, p)).map((f) => join(dir, p, f)) : []));
    const reportPos = (dir: string) => readFileSync(join(dir, 'po-pool-report.csv'), 'utf8').trim().split('\n').slice(1).map((row) => row.split(',')[0]).sort();
    /** The supervisor rewrites a folder's report within half a second of a change. */
    const reportLists = (dir: string, expected: string[]) => waitUntil(() => existsSync(join(dir, 'po-pool-report.csv')) && reportPos(dir).join() === [...expected].sort().join(), 5000, `${dir}'s report to list ${expected.join(', ')}`);

    it('run: the same list into another folder (from stdin, settings from the environment and a config file) is downloaded there, with its own report', async () => {
      mkdirSync(join(root, 'config', 'po-pool'), { recursive: true });
      writeFileSync(join(root, 'config', 'po-pool', 'config.json'), JSON.stringify({ baseProfilePath: profile, workerCount: 2, headless: true }));
      const r = await po(['run', '-', '--json', '--idle-minutes', '2'], {
        env: { PO_POOL_COUPA_URL: standin.url, PO_POOL_OUT: 'dl2' }, input: `${pos.join('\n')}\n`,
      });
      assert.equal(r.code, 0, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
      const out = JSON.parse(r.stdout) as RunJson;
      const dl2 = join(root, 'dl2');
      assert.equal(out.exitCode, 0);
      assert.equal(out.timedOut, false);
      assert.equal(out.downloadDir, dl2, 'PO_POOL_OUT, relative to the current folder');
      assert.equal(out.report, join(dl2, 'po-pool-report.csv'));
      assert.deepEqual(out.pos.map((p) => p.poNumber).sort(), [...pos].sort());
      for (const p of out.pos) {
        assert.equal(p.alreadyDone, false, `${p.poNumber} was downloaded anew in this folder`);
        assert.equal(p.downloadDir, dl2);
        for (const f of p.files) assert.ok(f.path.startsWith(`${dl2}/${p.poNumber}/`) && statSync(f.path).size === f.bytes, f.path);
      }
      assert.match(r.stderr, /^submitted 6 POs$/m, 'the submission report goes to stderr with --json');
      assert.deepEqual(out.pos.flatMap((p) => p.files.map((f) => f.path)).sort(), filesOnDisk(dl2).sort(), 'every file on disk is in the JSON');

      await reportLists(dl2, pos);
      await reportLists(join(root, 'dl'), pos);
      assert.ok(filesOnDisk(join(root, 'dl')).length > 0 && filesOnDisk(dl2).length === filesOnDisk(join(root, 'dl')).length, 'both folders have the files');
    });

    it('run: the same list into the same folder again is already there (exit 0); --redo downloads it anew; each summary counts what is on disk', async () => {
      const dl = join(root, 'dl');
      const again = await po(['run', 'list.txt', '--out', 'dl']);
      assert.equal(again.code, 0, `stdout: ${again.stdout}\nstderr: ${again.stderr}`);
      assert.match(again.stdout, /^submitted 0 POs$/m);
      for (const p of pos) assert.match(again.stdout, new RegExp(`^ {2}${p} {2}(COMPLETED|NO_ATTACHMENTS), already in this folder$`, 'm'));
      assert.match(again.stdout, /^already in this folder: 6 POs, not downloaded again/m);

      const redo = await po(['run', 'list.txt', '--out', 'dl', '--redo']);
      assert.equal(redo.code, 0, `stdout: ${redo.stdout}\nstderr: ${redo.stderr}`);
      assert.match(redo.stdout, /^submitted 6 POs$/m);
      assert.doesNotMatch(redo.stdout, /already in this folder/);

      for (const r of [again, redo]) {
        const files = /^files: (\d+) \(.*\) in (.*)\/<PO>\/$/m.exec(r.stdout);
        assert.ok(files, r.stdout);
        assert.equal(files[2], dl);
        assert.equal(Number(files[1]), filesOnDisk(dl).length, 'the count is what is on disk where it says');
        assert.match(r.stdout, new RegExp(`^report: ${join(dl, 'po-pool-report.csv').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
      }
      await reportLists(dl, pos); // a redo replaces the PO's row, it does not add one
    });

    it('results and wait: the latest task per folder and PO, filtered by --out', async () => {
      const all = JSON.parse((await po(['results', '--json'])).stdout) as TaskInfo[];
      assert.equal(all.length, 12, 'six POs in each of two folders');
      const dl2 = JSON.parse((await po(['results', '--json', '--out', 'dl2'])).stdout) as TaskInfo[];
      assert.deepEqual(dl2.map((t) => t.downloadDir), Array(6).fill(join(root, 'dl2')));
      assert.match((await po(['results'])).stdout, /^PO +STATUS +FILES +SUPPLIER +FOLDER +ERROR$/m);
      const waited = await po(['wait', '--json', '--out', 'dl']);
      assert.equal(waited.code, 0, waited.stderr);
      const verdict = JSON.parse(waited.stdout) as OutcomeJson;
      assert.equal(verdict.pos.length, 6);
      assert.ok(verdict.pos.every((p) => p.ok && p.downloadDir === join(root, 'dl')));
    });

    it('run --timeout: exits 124 with the POs as they stand; the pool finishes them', async () => {
      const more = standin.catalog.ids().slice(6, 9).map((id) => `PO${id}`);
      const r = await po(['run', ...more, '--out', 'dl3', '--timeout', '0.001', '--json']);
      assert.equal(r.code, 124, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
      assert.match(r.stderr, /^po-pool: TimeoutError: not finished after 0\.001 s; the pool keeps working/m);
      const out = JSON.parse(r.stdout) as RunJson;
      assert.equal(out.timedOut, true);
      assert.equal(out.exitCode, 124);
      assert.ok(out.pos.some((p) => p.status === 'QUEUED' || p.status === 'RUNNING'), r.stdout);
      const waited = await po(['wait', '--timeout', '120', '--out', 'dl3']);
      assert.equal(waited.code, 0, waited.stderr);
      assert.match(waited.stdout, /^3 POs: /);
    });

    it('shutdown: stops the pool and the supervisor, and no process is left', async () => {
      const r = await po(['shutdown']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^pool shut down cleanly$/m);
      assert.match(r.stdout, /^supervisor \d+ stopped$/m);
      await assertNothingLeft(stateDir, pids);
    });
  });

  describe('demo', () => {
    let root: string;
    const pids = new Set<number>();
    after(async () => {
      const stateDir = join(root, 'state');
      await cli(stateDir, root, ['shutdown', '--force'], 60_000).catch(() => undefined);
      await assertNothingLeft(stateDir, pids).finally(() => rmSync(root, { recursive: true, force: true }));
    });

    it('runs the sample list on the embedded stand-in, summarises, shuts everything down, and exits 0', async () => {
      root = tempDir('cli-demo');
      const stateDir = join(root, 'state');
      const run = cli(stateDir, root, ['demo', '--workers', '2', '--out', 'tmp'], 280_000);
      await waitUntil(() => lockPid(stateDir) !== undefined, 20_000, 'the supervisor to start').then(() => pids.add(lockPid(stateDir)!), () => undefined);
      const r = await run;
      assert.equal(r.code, 0, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
      assert.match(r.stdout, /^Coupa stand-in at http:\/\/127\.0\.0\.1:\d+; 2 workers signed in$/m);
      assert.match(r.stdout, /samples\/po-list\.txt:\d+: PO123 — invalid PO format/);
      assert.match(r.stdout, /^\d+ POs in .* on 2 workers$/m);
      assert.match(r.stdout, /^files: \d+ \(.*\) in .*tmp\/<PO>\/$/m);
      assert.ok(existsSync(join(root, 'tmp', 'po-pool-report.csv')), 'the report');
      assert.ok(readdirSync(join(root, 'tmp')).some((name) => /^PO\d+$/.test(name)), 'PO folders');
      assert.match(r.stderr, /pool shut down/);
      await assertNothingLeft(stateDir, pids);
    });
  });
});
