import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { ConfigurationError } from '../../src/protocol/errors';
import type { ParseResult } from '../../src/protocol/po';
import type { PoolStatus, TaskInfo, TaskStatus, WorkerHealth } from '../../src/protocol/types';
import { standinOptions } from '../../src/cli/commands/standin';
import type { Io } from '../../src/cli/context';
import { poolProgress, TaskTracker } from '../../src/cli/follow';
import {
  formatDuration, formatProgressLine, formatResultsTable, formatStatus, formatSubmitReport, formatSummary,
} from '../../src/cli/format';
import { collectInputs, submitJson } from '../../src/cli/inputs';
import { liveView } from '../../src/cli/live';
import { batches, startParams } from '../../src/cli/options';
import { demoExitCode, errorLine, exitCodeFor, latestPerPo, UsageError } from '../../src/cli/outcome';
import { runCli, type Commands } from '../../src/cli/program';

const MB = 1024 * 1024;
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);

function worker(over: Partial<WorkerHealth> = {}): WorkerHealth {
  return { workerId: 'worker-1', state: 'IDLE', pid: 4101, browserPids: [4102, 4103], memoryBytes: 312 * MB, tasksDone: 12, restarts: 0, ...over };
}

function poolStatus(over: Partial<PoolStatus> = {}): PoolStatus {
  return {
    state: 'PROCESSING',
    supervisorPid: 4000,
    startedAt: NOW - 5 * 60_000,
    workers: [worker({ state: 'PROCESSING', currentPo: 'PO100013' }), worker({ workerId: 'worker-2', pid: 4201, browserPids: [4202], tasksDone: 11, memoryBytes: 298 * MB })],
    workerCounts: { PROCESSING: 1, IDLE: 1 },
    queueDepth: 9,
    running: 1,
    counts: { QUEUED: 9, RUNNING: 1, COMPLETED: 30, NO_ATTACHMENTS: 2, FAILED: 2, PO_NOT_FOUND: 2 },
    total: 46,
    processingRate: 12.34,
    etaSeconds: 45,
    memory: { systemTotalBytes: 8 * 1024 * MB, systemUsedPercent: 43.5, poolBytes: 610 * MB, threshold: 0.75 },
    errors: { byKind: { NetworkError: { count: 3, lastAt: NOW - 120_000 } }, lastErrorAt: NOW - 120_000 },
    config: {
      workerCount: 2, headlessMode: true, baseProfilePath: '/p', memoryThreshold: 0.75, maxRestartAttempts: 3, taskTimeout: 300,
      shutdownTimeout: 60, coupaUrl: 'https://acme.coupahost.com', downloadDir: '/data/downloads', browser: 'auto', remoteEndpoints: [],
      maxRetries: 3, maxDownloadBytes: 200 * MB,
    },
    ...over,
  };
}

function task(poNumber: string, status: TaskStatus, over: Partial<TaskInfo> = {}, files: number[] = []): TaskInfo {
  const final = status !== 'QUEUED' && status !== 'RUNNING';
  return {
    taskId: `t-${poNumber}-${status}`,
    poNumber,
    tenant: 'https://acme.coupahost.com',
    downloadDir: '/out',
    priority: 0,
    status,
    retryCount: 0,
    submittedAt: NOW,
    metadata: {},
    ...(final ? {
      result: {
        taskId: `t-${poNumber}`, poNumber, status: status as never, attempts: 1, supplier: 'Acme Supplies', attachments: [],
        files: files.map((bytes, i) => ({ name: `f${i}.pdf`, originalName: `f${i}.pdf`, path: `/d/${poNumber}/f${i}.pdf`, bytes, sha256: '' })),
        timings: { startedAt: NOW, finishedAt: NOW + 1000, navigationMs: 500, downloadMs: 500 },
        ...(status === 'FAILED' ? { error: { kind: 'NetworkError' as const, message: 'HTTP 503 from Coupa' } } : {}),
        ...(status === 'PO_NOT_FOUND' ? { error: { kind: 'PONotFoundError' as const, message: 'Coupa says PO999999 does not exist' } } : {}),
      },
    } : {}),
    ...over,
  };
}

/** Streams that keep what was written, as a terminal would show it. */
function captureIo(tty = false): Io & { out: () => string; err: () => string } {
  const make = () => {
    const s = new PassThrough() as PassThrough & { isTTY?: boolean; text: string };
    s.text = '';
    s.on('data', (c) => (s.text += String(c)));
    s.isTTY = tty;
    return s;
  };
  const stdout = make();
  const stderr = make();
  return { stdout, stderr, out: () => stdout.text, err: () => stderr.text };
}

describe('cli: what a user sees', () => {
  describe('status', () => {
    it('shows the pool, each worker with its state, PO, memory, tasks and pids, the queue, counts, rate and ETA', () => {
      const text = formatStatus(poolStatus(), NOW);
      const lines = text.split('\n');
      assert.equal(lines[0], 'pool PROCESSING · supervisor pid 4000 · up 5 min 00 s');
      assert.equal(lines[1], 'coupa https://acme.coupahost.com · downloads /data/downloads');
      assert.match(text, /WORKER\s+STATE\s+PO\s+MEMORY\s+DONE\s+RESTARTS\s+PID\s+BROWSER PIDS/);
      assert.match(text, /worker-1\s+PROCESSING\s+PO100013\s+312\.0 MB\s+12\s+0\s+4101\s+4102,4103/);
      assert.match(text, /worker-2\s+IDLE\s+-\s+298\.0 MB\s+11\s+0\s+4201\s+4202/);
      assert.match(text, /^queue: 9 queued · 1 running · 46 total$/m);
      assert.match(text, /^tasks: QUEUED 9 · RUNNING 1 · COMPLETED 30 · NO_ATTACHMENTS 2 · PO_NOT_FOUND 2 · FAILED 2$/m);
      assert.match(text, /^rate: 12 POs\/min · ETA 45 s$/m);
      assert.match(text, /^memory: pool 610\.0 MB · system 43\.5% used \(restart threshold 75%\)$/m);
      assert.match(text, /^errors: NetworkError ×3 \(last 2 min 00 s ago\)$/m);
    });

    it('says plainly when no pool runs', () => {
      const text = formatStatus(poolStatus({
        state: 'TERMINATED', startedAt: undefined, workers: [], workerCounts: {}, queueDepth: 0, running: 0, counts: {}, total: 0,
        processingRate: 0, etaSeconds: undefined, errors: { byKind: {} }, config: undefined,
        memory: { systemTotalBytes: 0, systemUsedPercent: 0, poolBytes: 0, threshold: 0 },
      }), NOW);
      assert.equal(text, [
        'pool TERMINATED · supervisor pid 4000',
        'no workers',
        'queue: 0 queued · 0 running · 0 total',
        'tasks: none',
        'rate: 0.0 POs/min · ETA -',
      ].join('\n'));
    });

    it('prints a one-line progress for logs', () => {
      const line = formatProgressLine({ done: 36, total: 46, failed: 4 }, poolStatus(), new Date(2025, 0, 15, 9, 5, 7));
      assert.equal(line, '[09:05:07] 36/46 done · 4 not successful · 1 running · 9 queued · 12 POs/min · ETA 45 s · pool PROCESSING (workers: 1 processing, 1 idle)');
    });

    it('reads durations precisely when short and coarsely when long', () => {
      assert.equal(formatDuration(44.6), '45 s');
      assert.equal(formatDuration(185), '3 min 05 s');
      assert.equal(formatDuration(3900), '1 h 05 min');
    });

    it('prints plain lines, not bars, when the output is not a terminal', async () => {
      const io = captureIo(false);
      const view = liveView(io.stdout, 60_000);
      view.update(poolStatus(), { done: 36, total: 46, failed: 4 });
      view.stop();
      assert.match(io.out(), /^\[\d\d:\d\d:\d\d\] 36\/46 done · 4 not successful/);
      assert.equal(io.out().split('\n').length, 2, 'one line, no escape sequences');
      assert.doesNotMatch(io.out(), /\u001b\[/);
    });
  });

  describe('results and summary', () => {
    it('lists one row per PO with status, files, supplier and error', () => {
      const text = formatResultsTable([task('PO100001', 'COMPLETED', {}, [1000, 2000]), task('PO999999', 'PO_NOT_FOUND'), task('PO100002', 'QUEUED')]);
      assert.deepEqual(text.split('\n'), [
        'PO        STATUS        FILES  SUPPLIER       ERROR',
        'PO100001  COMPLETED     2      Acme Supplies',
        'PO999999  PO_NOT_FOUND  0      Acme Supplies  PONotFoundError: Coupa says PO999999 does not exist',
        'PO100002  QUEUED        -',
      ]);
      assert.equal(formatResultsTable([]), 'no tasks');
    });

    it('judges each PO by its latest task', () => {
      const old = task('PO100001', 'FAILED', { taskId: 'a', submittedAt: NOW - 1000 });
      const redo = task('PO100001', 'COMPLETED', { taskId: 'b', submittedAt: NOW });
      const other = task('PO100002', 'COMPLETED', { taskId: 'c' });
      assert.deepEqual(latestPerPo([old, other, redo]).map((t) => t.taskId), ['b', 'c']);
    });

    it('summarises a run: counts, files and bytes, time and rate, where things are, what failed', () => {
      const tasks = [
        task('PO100001', 'COMPLETED', {}, [MB, MB]), task('PO100002', 'COMPLETED', {}, [MB / 2]), task('PO100003', 'NO_ATTACHMENTS'),
        task('PO999999', 'PO_NOT_FOUND'), task('PO100004', 'FAILED'),
      ];
      const text = formatSummary({ tasks, wallSeconds: 30, workerCount: 2, downloadDir: '/data/dl', reportPath: '/data/dl/po-pool-report.csv' });
      assert.deepEqual(text.split('\n'), [
        '5 POs in 30 s (10 POs/min) on 2 workers',
        '  COMPLETED           2',
        '  NO_ATTACHMENTS      1',
        '  PO_NOT_FOUND        1',
        '  FAILED              1',
        'files: 3 (2.5 MB) in /data/dl/<PO>/',
        'report: /data/dl/po-pool-report.csv',
        'not successful (2):',
        '  PO        STATUS        ERROR',
        '  PO999999  PO_NOT_FOUND  PONotFoundError: Coupa says PO999999 does not exist',
        '  PO100004  FAILED        NetworkError: HTTP 503 from Coupa',
      ]);
    });
  });

  describe('submit', () => {
    const fileParse: ParseResult = {
      pos: [
        { poNumber: 'PO100001', id: '100001', line: 2, raw: 'PO100001' },
        { poNumber: 'PO100002', id: '100002', line: 3, raw: 'po 100002' },
      ],
      invalid: [{ line: 5, text: 'PO123', reason: 'invalid PO format: needs at least 6 digits, got 3' }],
      duplicates: [{ poNumber: 'PO100002', lines: [3, 4] }],
    };
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'po-cli-'));
      writeFileSync(join(dir, 'list.txt'), 'unused: the supervisor reads it');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('reads files through the supervisor, normalises arguments, and keeps where each problem was', async () => {
      const read: string[] = [];
      const inputs = await collectInputs(['list.txt', 'PM-100003', '100001', 'abc'], async (path) => {
        read.push(path);
        return fileParse;
      }, dir);
      assert.deepEqual(read, [join(dir, 'list.txt')], 'the path goes to the supervisor absolute');
      assert.deepEqual(inputs.pos, ['PO100001', 'PO100002', 'PM100003']);
      assert.deepEqual(inputs.invalid, [
        { where: 'list.txt:5', text: 'PO123', reason: 'invalid PO format: needs at least 6 digits, got 3' },
        { where: 'argument', text: 'abc', reason: 'invalid PO format: "abc"' },
      ]);
      assert.deepEqual(inputs.repeated, [
        { poNumber: 'PO100001', where: ['list.txt:2', 'argument'] },
        { poNumber: 'PO100002', where: ['list.txt:3', 'list.txt:4'] },
      ]);
    });

    it('takes a missing list file for a typo, not for a PO number', async () => {
      await assert.rejects(collectInputs(['lsit.txt'], async () => fileParse, dir), (err: unknown) => err instanceof UsageError && /lsit\.txt: no such file/.test(err.message));
      await assert.rejects(collectInputs(['.'], async () => fileParse, dir), /is a folder, not a PO list/);
    });

    it('prints what was submitted, what was already known with its status, and every invalid entry', () => {
      const report = {
        result: {
          handles: [{ taskId: 'a', poNumber: 'PO100001' }],
          duplicates: [{ poNumber: 'PO100002', taskId: 'b', status: 'COMPLETED' as const }],
          invalid: [],
        },
        invalid: [{ where: 'list.txt:5', text: 'PO123', reason: 'invalid PO format: needs at least 6 digits, got 3' }],
        repeated: [{ poNumber: 'PO100002', where: ['list.txt:3', 'list.txt:4'] }],
      };
      assert.deepEqual(formatSubmitReport(report).split('\n'), [
        'submitted 1 PO',
        '1 already queued, running or done in this folder (--redo runs done ones again):',
        '  PO100002  COMPLETED, already in this folder',
        '1 invalid:',
        '  list.txt:5: PO123 — invalid PO format: needs at least 6 digits, got 3',
        '1 repeated in the input (submitted once):',
        '  PO100002  list.txt:3, list.txt:4',
      ]);
      assert.deepEqual(Object.keys(submitJson(report)), ['submitted', 'duplicates', 'invalid', 'repeated']);
    });

    it('splits submissions into batches of 1000', () => {
      const pos = Array.from({ length: 2500 }, (_, i) => `PO${100000 + i}`);
      const sizes = batches(pos).map((b) => b.length);
      assert.deepEqual(sizes, [1000, 1000, 500]);
      assert.deepEqual(batches(pos).flat(), pos, 'nothing lost or reordered');
      assert.deepEqual(batches([]), []);
    });
  });

  describe('exit codes', () => {
    it('is 0 only when every PO ended COMPLETED or NO_ATTACHMENTS, else 1', () => {
      assert.equal(exitCodeFor(['COMPLETED', 'NO_ATTACHMENTS']), 0);
      assert.equal(exitCodeFor([]), 0);
      for (const s of ['PARTIAL', 'PO_NOT_FOUND', 'FAILED', 'TIMEOUT', 'CANCELLED'] as const) assert.equal(exitCodeFor(['COMPLETED', s]), 1, s);
    });

    it('lets the demo pass with its deliberately missing POs, but not with a failure', () => {
      assert.equal(demoExitCode(['COMPLETED', 'PO_NOT_FOUND', 'NO_ATTACHMENTS']), 0);
      assert.equal(demoExitCode(['COMPLETED', 'TIMEOUT']), 1);
      assert.equal(demoExitCode(['FAILED']), 1);
    });

    it('reports errors on one line with their kind', () => {
      assert.equal(errorLine(new ConfigurationError('workerCount', 'must be a whole number from 1 to 8 (got 9)')), 'po-pool: ConfigurationError: workerCount: must be a whole number from 1 to 8 (got 9)');
      assert.equal(errorLine(new UsageError('no supervisor running')), 'po-pool: UsageError: no supervisor running');
      assert.equal(errorLine(new Error('two\n  lines')), 'po-pool: Error: two lines');
    });
  });

  describe('following a run', () => {
    it('tracks its own tasks, including changes that arrive before the submission is answered', () => {
      const tracker = new TaskTracker();
      tracker.update([{ taskId: 'a', status: 'RUNNING' }, { taskId: 'someone-elses', status: 'FAILED' }]);
      tracker.track('a', 'PO100001', 'QUEUED');
      tracker.track('b', 'PO100002', 'QUEUED');
      tracker.track('c', 'PO100003', 'COMPLETED');
      assert.deepEqual(tracker.progress(), { done: 1, total: 3, failed: 0 });
      assert.equal(tracker.allFinal(), false);
      tracker.update([{ taskId: 'a', status: 'COMPLETED' }, { taskId: 'b', status: 'PO_NOT_FOUND' }]);
      assert.deepEqual(tracker.progress(), { done: 3, total: 3, failed: 1 });
      assert.equal(tracker.allFinal(), true);
      assert.deepEqual(tracker.poNumbers, ['PO100001', 'PO100002', 'PO100003']);
    });

    it('counts the whole pool when following everything', () => {
      assert.deepEqual(poolProgress(poolStatus()), { done: 36, total: 46, failed: 4 });
    });
  });

  describe('starting', () => {
    it('sends paths absolute, since the supervisor does not share the shell\'s folder', () => {
      const p = startParams({ coupa: 'https://acme.coupahost.com', profile: 'prof', out: './downloads', workers: 2, headed: true, remote: ['ws://a:1', 'ws://b:2'], taskTimeout: 60, memoryThreshold: 0.8, idleMinutes: 1 }, '/home/ops');
      assert.deepEqual(p, {
        coupaUrl: 'https://acme.coupahost.com', baseProfilePath: '/home/ops/prof', downloadDir: '/home/ops/downloads', workerCount: 2,
        headlessMode: false, remoteEndpoints: ['ws://a:1', 'ws://b:2'], taskTimeout: 60, memoryThreshold: 0.8, idleShutdownMinutes: 1,
      });
      assert.equal(startParams({ out: 'x', browser: './bin/chrome' }, '/home/ops').browser, '/home/ops/bin/chrome');
      assert.equal(startParams({ out: 'x', browser: 'msedge' }, '/home/ops').browser, 'msedge');
      assert.deepEqual(Object.keys(startParams({ out: 'x' }, '/')).sort(), ['downloadDir', 'headlessMode'], 'unset options keep the pool defaults');
    });

    it('maps the stand-in options to the stand-in', () => {
      assert.deepEqual(standinOptions({ port: 8080, pageLatency: 100, sessionLifetime: 2.5, sso: false, expiredSession: 'error-page', slowDownload: 5000, rateLimit: 20, poCount: 50 }), {
        port: 8080, pageLatencyMs: 100, sessionLifetimeSec: 2.5, sso: false, expiredSession: 'error-page', slowDownloadBytesPerSec: 5000,
        rateLimitPerSec: 20, poCount: 50, firstPoId: 100000, credentials: { email: 'demo@example.com', password: 'demo' },
      });
    });
  });

  describe('arguments', () => {
    type Call = { command: string; args?: string[]; options: Record<string, unknown>; stateDir?: string };
    function fake(calls: Call[], code = 0): Commands {
      const rec = (command: string) => async (ctx: { stateDir?: string }, a: unknown, b?: unknown) => {
        calls.push(b === undefined
          ? { command, options: { ...(a as object) }, stateDir: ctx.stateDir }
          : { command, args: a as string[], options: { ...(b as object) }, stateDir: ctx.stateDir });
        return code;
      };
      return {
        start: rec('start'), submit: rec('submit'), status: rec('status'), wait: rec('wait'), results: rec('results'), shutdown: rec('shutdown'),
        run: rec('run'), login: rec('login'), coupaStandin: rec('coupa-standin'), demo: rec('demo'),
      } as unknown as Commands;
    }
    async function parse(argv: string[], code = 0) {
      const calls: Call[] = [];
      const io = captureIo();
      const exit = await runCli(['node', 'po-pool', ...argv], io, fake(calls, code));
      return { exit, call: calls[0], out: io.out(), err: io.err() };
    }

    it('start: every pool option, typed', async () => {
      const { exit, call } = await parse(['--state-dir', '/tmp/st', 'start', '--coupa', 'https://a.coupahost.com', '--profile', 'p', '--workers', '2', '--headed',
        '--browser', 'chromium', '--remote', 'ws://a', '--remote', 'ws://b', '--task-timeout', '90', '--memory-threshold', '0.6', '--idle-minutes', '0.5']);
      assert.equal(exit, 0);
      assert.deepEqual(call, {
        command: 'start', stateDir: '/tmp/st',
        options: { coupa: 'https://a.coupahost.com', profile: 'p', workers: 2, out: './downloads', headed: true, browser: 'chromium', remote: ['ws://a', 'ws://b'], taskTimeout: 90, memoryThreshold: 0.6, idleMinutes: 0.5 },
      });
    });

    it('a relative --state-dir is made absolute', async () => {
      assert.equal((await parse(['--state-dir', 'st', 'status'])).call.stateDir, resolve('st'));
      assert.equal((await parse(['status'])).call.stateDir, undefined, 'unset: the default folder');
    });

    it('submit and run: inputs and their options; the command\'s exit code is the process\'s', async () => {
      const s = await parse(['submit', 'list.csv', 'PO100001', '--priority', '5', '--redo', '--json'], 1);
      assert.equal(s.exit, 1);
      assert.deepEqual(s.call, { command: 'submit', args: ['list.csv', 'PO100001'], options: { priority: 5, redo: true, json: true }, stateDir: undefined });
      const r = await parse(['run', 'list.txt', '--workers', '2', '--out', 'dl', '--timeout', '600']);
      assert.deepEqual(r.call.args, ['list.txt']);
      assert.deepEqual(r.call.options, { workers: 2, out: 'dl', timeout: 600 });
    });

    it('status, wait, results, shutdown', async () => {
      assert.deepEqual((await parse(['status', '--json', '--watch'])).call.options, { json: true, watch: true });
      assert.deepEqual((await parse(['wait', '--timeout', '30'])).call.options, { timeout: 30 });
      assert.deepEqual((await parse(['results', '--json', '--status', 'failed,timeout', 'PO_NOT_FOUND'])).call.options, { json: true, status: ['FAILED', 'TIMEOUT', 'PO_NOT_FOUND'] });
      assert.deepEqual((await parse(['shutdown', '--timeout', '10', '--force'])).call.options, { timeout: 10, force: true });
    });

    it('login, coupa-standin, demo', async () => {
      assert.deepEqual((await parse(['login', '--coupa', 'https://a.coupahost.com', '--profile', 'p', '--browser', 'msedge'])).call.options, { coupa: 'https://a.coupahost.com', profile: 'p', browser: 'msedge' });
      assert.deepEqual((await parse(['coupa-standin', '--port', '9000', '--markup', 'links', '--no-sso', '--error-rate', '0.1', '--hostile-names', '--expired-session', 'error-page', '--truncate-rate', '0.2', '--download-latency', '50'])).call.options, {
        port: 9000, markup: 'links', sso: false, errorRate: 0.1, hostileNames: true, expiredSession: 'error-page', truncateRate: 0.2, downloadLatency: 50,
      });
      assert.deepEqual((await parse(['coupa-standin'])).call.options, { sso: true });
      assert.deepEqual((await parse(['demo', '--workers', '2', '--out', 'tmp'])).call.options, { workers: 2, out: 'tmp' });
    });

    const usage: [string, string[], RegExp][] = [
      ['a non-number worker count', ['start', '--workers', 'two'], /^po-pool: UsageError: option '--workers <n>' argument 'two' is invalid\. must be a whole number\n$/],
      ['an unknown status', ['results', '--status', 'DONE'], /"DONE" is not a task status/],
      ['an unknown markup', ['coupa-standin', '--markup', 'tables'], /Allowed choices are spans, links, mixed/],
      ['login without --coupa', ['login', '--profile', 'p'], /required option '--coupa <url>' not specified/],
      ['submit with nothing', ['submit'], /missing required argument 'inputs'/],
      ['an unknown command', ['resutls'], /unknown command 'resutls'.*Did you mean results\?/],
      ['an unknown option', ['status', '--jsno'], /unknown option '--jsno'/],
    ];
    for (const [what, argv, message] of usage) {
      it(`exits 2 with one line for ${what}`, async () => {
        const { exit, call, err } = await parse(argv);
        assert.equal(exit, 2);
        assert.equal(call, undefined, 'the command did not run');
        assert.match(err, message);
        assert.equal(err.trimEnd().split('\n').length, 1, err);
        assert.match(err, /^po-pool: UsageError: /);
      });
    }

    it('exits 2 with the pool error\'s kind when a command fails', async () => {
      const io = captureIo();
      const failing = { ...fake([]), start: async () => { throw new ConfigurationError('workerCount', 'must be a whole number from 1 to 8 (got 9)'); } };
      assert.equal(await runCli(['node', 'po-pool', 'start', '--workers', '9'], io, failing), 2);
      assert.equal(io.err(), 'po-pool: ConfigurationError: workerCount: must be a whole number from 1 to 8 (got 9)\n');
    });

    it('--help on every command exits 0 and describes its options', async () => {
      for (const command of ['start', 'submit', 'status', 'wait', 'results', 'shutdown', 'run', 'login', 'coupa-standin', 'demo']) {
        const { exit, out } = await parse([command, '--help']);
        assert.equal(exit, 0, command);
        assert.match(out, new RegExp(`^Usage: po-pool ${command} `), command);
      }
      const { exit, out } = await parse(['--help']);
      assert.equal(exit, 0);
      assert.match(out, /Exit codes: 0 every PO ended COMPLETED or NO_ATTACHMENTS, 1 some did not, 2 usage/);
    });
  });
});
