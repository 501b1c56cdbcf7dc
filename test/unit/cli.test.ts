import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { ConfigurationError } from '../../src/protocol/errors';
import type { ParseResult } from '../../src/protocol/po';
import type { PoolStatus, TaskInfo, TaskStatus, WorkerHealth } from '../../src/protocol/types';
import { standinOptions } from '../../src/cli/commands/standin';
import { login } from '../../src/cli/commands/login';
import {
  defaultConfigPath, envSettings, flagSettings, layer, readConfigFile, startParams, type Settings,
} from '../../src/cli/config';
import { print, type Io } from '../../src/cli/context';
import { poolProgress, TaskTracker } from '../../src/cli/follow';
import {
  formatProgressLine, formatResultsTable, formatStatus, formatSubmitReport, formatSummary, formatWorkerInfo, jsonText,
} from '../../src/cli/format';
import { collectInputs, inputSources, submitJson } from '../../src/cli/inputs';
import { outcomeJson } from '../../src/cli/json';
import { liveView } from '../../src/cli/live';
import { batches } from '../../src/cli/options';
import {
  DeadlineError, demoExitCode, errorLine, exitCodeFor, exitCodeOfError, latestTasks, UsageError,
} from '../../src/cli/outcome';
import { runCli, type Commands } from '../../src/cli/program';
import type { PoolClient } from '../../src/client/client';

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
      workersPerBrowser: 4, maxRetries: 3, maxDownloadBytes: 200 * MB, blockPageResources: true,
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
      const text = formatStatus(poolStatus(), NOW, 'en');
      const lines = text.split('\n');
      assert.equal(lines[0], 'pool PROCESSING · supervisor pid 4000 · up 5 min');
      assert.equal(lines[1], 'coupa https://acme.coupahost.com · downloads /data/downloads');
      assert.match(text, /WORKER\s+STATE\s+PO\s+MEMORY\s+DONE\s+RESTARTS\s+PID\s+BROWSER PIDS/);
      assert.match(text, /worker-1\s+PROCESSING\s+PO100013\s+312 MB\s+12\s+0\s+4101\s+4102,4103/);
      assert.match(text, /worker-2\s+IDLE\s+-\s+298 MB\s+11\s+0\s+4201\s+4202/);
      assert.match(text, /^queue: 9 queued · 1 running · 46 total$/m);
      assert.match(text, /^tasks: QUEUED 9 · RUNNING 1 · COMPLETED 30 · NO_ATTACHMENTS 2 · PO_NOT_FOUND 2 · FAILED 2$/m);
      assert.match(text, /^rate: 12 POs\/min · ETA 45 sec$/m);
      assert.match(text, /^memory: pool 610 MB · system 43\.5% used \(restart threshold 75%\)$/m);
      assert.match(text, /^errors: NetworkError ×3 \(last 2 min ago\)$/m);
    });

    it('says plainly when no pool runs', () => {
      const text = formatStatus(poolStatus({
        state: 'TERMINATED', startedAt: undefined, workers: [], workerCounts: {}, queueDepth: 0, running: 0, counts: {}, total: 0,
        processingRate: 0, etaSeconds: undefined, errors: { byKind: {} }, config: undefined,
        memory: { systemTotalBytes: 0, systemUsedPercent: 0, poolBytes: 0, threshold: 0 },
      }), NOW, 'en');
      assert.equal(text, [
        'pool TERMINATED · supervisor pid 4000',
        'no workers',
        'queue: 0 queued · 0 running · 0 total',
        'tasks: none',
        'rate: 0 POs/min · ETA -',
      ].join('\n'));
    });

    it('prints a one-line progress for logs', () => {
      const line = formatProgressLine({ done: 36, total: 46, failed: 4 }, poolStatus(), new Date(2025, 0, 15, 9, 5, 7), 'en');
      assert.equal(line, '[09:05:07] 36/46 done · 4 not successful · 1 running · 9 queued · 12 POs/min · ETA 45 sec · pool PROCESSING (workers: 1 processing, 1 idle)');
    });

    it('writes numbers in the user\'s locale', () => {
      const status = poolStatus({ queueDepth: 12_345, total: 20_000 });
      assert.match(formatStatus(status, NOW, 'en'), /^queue: 12,345 queued · 1 running · 20,000 total$/m);
      assert.match(formatStatus(status, NOW, 'de'), /^queue: 12\.345 queued · 1 running · 20\.000 total$/m);
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

    it('judges each PO by its latest task in each folder and tenant', () => {
      const old = task('PO100001', 'FAILED', { taskId: 'a', submittedAt: NOW - 1000 });
      const redo = task('PO100001', 'COMPLETED', { taskId: 'b', submittedAt: NOW });
      const other = task('PO100002', 'COMPLETED', { taskId: 'c' });
      const elsewhere = task('PO100001', 'FAILED', { taskId: 'd', downloadDir: '/other', submittedAt: NOW - 5000 });
      const otherTenant = task('PO100001', 'TIMEOUT', { taskId: 'e', tenant: 'https://beta.coupahost.com', submittedAt: NOW - 5000 });
      assert.deepEqual(latestTasks([old, other, elsewhere, redo, otherTenant]).map((t) => t.taskId), ['b', 'c', 'd', 'e']);
    });

    it('adds a FOLDER column when the POs went to more than one folder', () => {
      const text = formatResultsTable([task('PO100001', 'COMPLETED', {}, [1]), task('PO100001', 'COMPLETED', { taskId: 'x', downloadDir: '/b' }, [1, 2])], 'en');
      assert.deepEqual(text.split('\n'), [
        'PO        STATUS     FILES  SUPPLIER       FOLDER  ERROR',
        'PO100001  COMPLETED  1      Acme Supplies  /out',
        'PO100001  COMPLETED  2      Acme Supplies  /b',
      ]);
    });

    it('summarises a run: counts, files and bytes, time and rate, where things are, what failed', () => {
      const tasks = [
        task('PO100001', 'COMPLETED', {}, [MB, MB]), task('PO100002', 'COMPLETED', {}, [MB / 2]), task('PO100003', 'NO_ATTACHMENTS'),
        task('PO999999', 'PO_NOT_FOUND'), task('PO100004', 'FAILED'),
      ];
      const text = formatSummary({ tasks, alreadyDone: new Set(), wallSeconds: 30, workerCount: 2, downloadDir: '/data/dl', reportPath: '/data/dl/po-pool-report.csv' }, 'en');
      assert.deepEqual(text.split('\n'), [
        '5 POs in 30 sec (10 POs/min) on 2 workers',
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

    it('says which POs were already in the folder, and rates only the work done now', () => {
      const tasks = [task('PO100001', 'COMPLETED', { taskId: 'old' }, [MB]), task('PO100002', 'COMPLETED', { taskId: 'new' }, [MB])];
      const text = formatSummary({ tasks, alreadyDone: new Set(['old']), wallSeconds: 60, downloadDir: '/data/dl' }, 'en');
      assert.deepEqual(text.split('\n'), [
        '2 POs in 1 min (1 POs/min)',
        '  COMPLETED           2',
        'already in this folder: 1 PO, not downloaded again (--redo to download them anew)',
        'files: 2 (2 MB) in /data/dl/<PO>/',
      ]);
    });

    it('lists POs still queued or running after a timeout, but not as failures', () => {
      const text = formatSummary({ tasks: [task('PO100001', 'COMPLETED'), task('PO100002', 'QUEUED'), task('PO100003', 'RUNNING')], alreadyDone: new Set(), wallSeconds: 10 }, 'en');
      assert.match(text, /^ {2}QUEUED +1$/m);
      assert.match(text, /^ {2}RUNNING +1$/m);
      assert.doesNotMatch(text, /not successful/);
    });

    it('gives scripts one JSON record per PO with its verdict, files and error', () => {
      const done = task('PO100001', 'COMPLETED', { taskId: 'a' }, [1000]);
      const missing = task('PO999999', 'PO_NOT_FOUND', { taskId: 'b' });
      const queued = task('PO100002', 'QUEUED', { taskId: 'c' });
      const json = outcomeJson([done, missing, queued], 124, true, new Set(['a']));
      assert.deepEqual({ ...json, pos: json.pos.map((p) => ({ ...p, files: p.files.length })) }, {
        exitCode: 124,
        timedOut: true,
        counts: { COMPLETED: 1, PO_NOT_FOUND: 1, QUEUED: 1 },
        pos: [
          { poNumber: 'PO100001', status: 'COMPLETED', ok: true, alreadyDone: true, tenant: 'https://acme.coupahost.com', downloadDir: '/out', supplier: 'Acme Supplies', files: 1, attempts: 1, taskId: 'a' },
          {
            poNumber: 'PO999999', status: 'PO_NOT_FOUND', ok: false, alreadyDone: false, tenant: 'https://acme.coupahost.com', downloadDir: '/out', supplier: 'Acme Supplies', files: 0,
            error: { kind: 'PONotFoundError', message: 'Coupa says PO999999 does not exist' }, attempts: 1, taskId: 'b',
          },
          { poNumber: 'PO100002', status: 'QUEUED', ok: false, alreadyDone: false, tenant: 'https://acme.coupahost.com', downloadDir: '/out', files: 0, taskId: 'c' },
        ],
      });
      assert.equal(outcomeJson([done], 0, false).pos[0].alreadyDone, undefined, '`wait` has no notion of it');
    });
  });

  describe('hostile text from Coupa', () => {
    const ESC = '\u001b';
    const hostile = `Evil${ESC}[2J${ESC}]0;pwned\u0007 Corp\u009b31m\u202eevil\u2066x\u2069\u007f\r\nFAKE`;
    const controls = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

    function hostileTask(): TaskInfo {
      const t = task('PO100001', 'FAILED');
      t.result!.supplier = hostile;
      t.result!.error = { kind: 'NetworkError', message: `page said: ${hostile}` };
      return t;
    }

    it('reaches the results table, the summary, the status and progress lines without its control characters', () => {
      const t = hostileTask();
      const status = poolStatus({ workers: [worker({ currentPo: `PO1${ESC}[5m`, lastError: { kind: 'NetworkError', message: hostile, at: NOW } })] });
      const outputs = {
        results: formatResultsTable([t], 'en'),
        summary: formatSummary({ tasks: [t], alreadyDone: new Set(), wallSeconds: 1 }, 'en'),
        status: formatStatus(status, NOW, 'en'),
        progress: formatProgressLine({ done: 1, total: 2, failed: 1 }, poolStatus({ state: `PROCESSING${ESC}[2J` as never }), new Date(NOW), 'en'),
        worker: formatWorkerInfo(status.workers[0], 'en'),
        submit: formatSubmitReport({ result: { handles: [], duplicates: [], invalid: [{ poNumber: hostile, reason: `bad${ESC}[1m` }] }, invalid: [], repeated: [] }, 'en'),
        error: errorLine(new Error(hostile)),
      };
      for (const [what, text] of Object.entries(outputs)) assert.doesNotMatch(text, controls, `${what}: ${JSON.stringify(text)}`);
      assert.match(outputs.results, /^PO100001 +FAILED +0 +Evil\[2J\]0;pwned Corp31mevilx … +NetworkError: page said: Evil\[2J/m, 'the printable rest is kept');
      assert.equal(outputs.results.split('\n').length, 2, 'a line break in a name does not make a row of its own');
    });

    it('is stripped by every print, line breaks of the output kept', () => {
      const io = captureIo();
      print(io.stdout, `one${ESC}[31m\ntwo\u0007\u202e`);
      assert.equal(io.out(), 'one[31m\ntwo\n');
    });

    it('stays intact as data in JSON, escaped so a terminal shows it instead of obeying it', () => {
      const text = jsonText({ supplier: hostile });
      assert.doesNotMatch(text, controls);
      assert.equal(JSON.parse(text).supplier, hostile);
      assert.match(text, /\\u001b\[2J/);
      assert.match(text, /\\u009b31m\\u202eevil/);
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
      const inputs = await collectInputs(['list.txt', 'PM-100003', '100001', 'abc'], {
        readFile: async (path) => {
          read.push(path);
          return fileParse;
        },
        readStdin: async () => assert.fail('no - given'),
        cwd: dir,
      });
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
      const sources = { readFile: async () => fileParse, readStdin: async () => '', cwd: dir };
      await assert.rejects(collectInputs(['lsit.txt'], sources), (err: unknown) => err instanceof UsageError && /lsit\.txt: no such file/.test(err.message));
      await assert.rejects(collectInputs(['.'], sources), /is a folder, not a PO list/);
    });

    it('reads - from standard input: PO numbers or lines of text, problems by their line, once only', async () => {
      const io = { ...captureIo(), stdin: Readable.from([Buffer.from('PO Number\nPO100005\nsee po 100006 please\nPO123\nPO100005\n')]) };
      const sources = inputSources({ io }, {} as PoolClient);
      const inputs = await collectInputs(['PO100001', '-'], { ...sources, cwd: dir });
      assert.deepEqual(inputs.pos, ['PO100001', 'PO100005', 'PO100006']);
      assert.deepEqual(inputs.invalid, [{ where: 'stdin:4', text: 'PO123', reason: 'invalid PO format: needs at least 6 digits, got 3' }]);
      assert.deepEqual(inputs.repeated, [{ poNumber: 'PO100005', where: ['stdin:2', 'stdin:5'] }]);
      await assert.rejects(collectInputs(['-', '-'], { ...sources, cwd: dir }), /- \(standard input\) can be given only once/);
    });

    it('reads standard input with the user\'s own PO pattern', async () => {
      const io = { ...captureIo(), stdin: Readable.from(['order REF-200001 shipped\n']) };
      const inputs = await collectInputs(['-'], { ...inputSources({ io }, {} as PoolClient, 'REF-(\\d+)'), cwd: dir });
      assert.deepEqual(inputs.pos, ['PO200001']);
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

    it('gives a --timeout that passed its own code, 124, not a usage error\'s 2', () => {
      assert.equal(exitCodeOfError(new DeadlineError('not finished after 30 s')), 124);
      assert.equal(exitCodeOfError(new UsageError('no supervisor running')), 2);
      assert.equal(exitCodeOfError(new ConfigurationError('workerCount', 'must be a whole number from 1 to 8 (got 9)')), 2);
      assert.equal(errorLine(new DeadlineError('not finished after 30 s')), 'po-pool: TimeoutError: not finished after 30 s');
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
      const flags = { coupa: 'https://acme.coupahost.com', profile: 'prof', out: './downloads', workers: 2, headed: true, remote: ['ws://a:1', 'ws://b:2'], taskTimeout: 60, memoryThreshold: 0.8, idleMinutes: 1 };
      assert.deepEqual(startParams(flagSettings(flags, '/home/ops'), '/home/ops'), {
        coupaUrl: 'https://acme.coupahost.com', baseProfilePath: '/home/ops/prof', downloadDir: '/home/ops/downloads', workerCount: 2,
        headlessMode: false, remoteEndpoints: ['ws://a:1', 'ws://b:2'], taskTimeout: 60, memoryThreshold: 0.8, idleShutdownMinutes: 1,
      });
      assert.equal(flagSettings({ browser: './bin/chrome' }, '/home/ops').browser, '/home/ops/bin/chrome');
      assert.equal(flagSettings({ browser: 'msedge' }, '/home/ops').browser, 'msedge');
      assert.deepEqual(startParams({}, '/work'), { downloadDir: '/work/downloads', headlessMode: true }, 'unset options keep the pool defaults');
      assert.equal(startParams({ maxDownloadBytes: 50 }, '/').maxDownloadBytes, 50 * MB, 'megabytes, as in the editor');
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
    /** No config file unless a test writes one: the user's own must not leak in. */
    let configHome: string;
    before(() => (configHome = mkdtempSync(join(tmpdir(), 'po-cli-config-'))));
    after(() => rmSync(configHome, { recursive: true, force: true }));
    async function parse(argv: string[], code = 0, env: NodeJS.ProcessEnv = {}) {
      const calls: Call[] = [];
      const io = captureIo();
      const exit = await runCli(['node', 'po-pool', ...argv], io, fake(calls, code), { XDG_CONFIG_HOME: configHome, ...env });
      return { exit, call: calls[0], out: io.out(), err: io.err() };
    }

    it('start: every pool option, typed, as the editor\'s settings', async () => {
      const { exit, call } = await parse(['--state-dir', '/tmp/st', 'start', '--coupa', 'https://a.coupahost.com', '--profile', 'p', '--workers', '2', '--workers-per-browser', '1', '--headed',
        '--browser', 'chromium', '--remote', 'ws://a', '--remote', 'ws://b', '--task-timeout', '90', '--memory-threshold', '0.6', '--idle-minutes', '0.5']);
      assert.equal(exit, 0);
      assert.deepEqual(call, {
        command: 'start', stateDir: '/tmp/st',
        options: {
          settings: {
            coupaUrl: 'https://a.coupahost.com', baseProfilePath: resolve('p'), workerCount: 2, workersPerBrowser: 1, headless: false, browser: 'chromium',
            remoteEndpoints: ['ws://a', 'ws://b'], taskTimeout: 90, memoryThreshold: 0.6, idleShutdownMinutes: 0.5,
          },
        },
      });
    });

    it('--version prints the package\'s version', async () => {
      const { exit, out } = await parse(['--version']);
      assert.equal(exit, 0);
      assert.equal(out, `${(await import('../../package.json')).version}\n`);
    });

    describe('settings: flags, then the environment, then the config file', () => {
      const file = (settings: object, name = 'config.json') => {
        const dir = join(configHome, 'po-pool');
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, name), JSON.stringify(settings));
        return join(dir, name);
      };
      afterEach(() => rmSync(join(configHome, 'po-pool'), { recursive: true, force: true }));

      it('takes each from the highest place that gives it', async () => {
        file({ coupaUrl: 'https://file.coupahost.com', baseProfilePath: '~/file-profile', downloadFolder: 'file-dl', workerCount: 3, headless: false, maxDownloadBytes: 10, askPriority: true });
        const env = { PO_POOL_COUPA_URL: 'https://env.coupahost.com', PO_POOL_OUT: 'env-dl' };
        const { call, err } = await parse(['run', 'list.txt', '--out', 'flag-dl', '--timeout', '60'], 0, env);
        assert.deepEqual(call.options, {
          timeout: 60,
          settings: {
            coupaUrl: 'https://env.coupahost.com', baseProfilePath: join(homedir(), 'file-profile'), downloadFolder: resolve('flag-dl'), workerCount: 3,
            headless: false, maxDownloadBytes: 10,
          },
        });
        assert.equal(err, '', 'askPriority is an editor setting: no note');
        const outOf = async (e: NodeJS.ProcessEnv) => ((await parse(['run', 'list.txt'], 0, e)).call.options.settings as Settings).downloadFolder;
        assert.equal(await outOf(env), resolve('env-dl'));
        assert.equal(await outOf({}), join(configHome, 'po-pool', 'file-dl'), 'relative to the file');
      });

      it('reads the file --config names, and refuses one that is missing or wrong', async () => {
        const path = file({ coupaUrl: 'https://other.coupahost.com' }, 'team.json');
        assert.equal(((await parse(['--config', path, 'login', '--profile', '/p'])).call.options.settings as Settings).coupaUrl, 'https://other.coupahost.com');
        const missing = await parse(['--config', join(configHome, 'nope.json'), 'start']);
        assert.equal(missing.exit, 2);
        assert.match(missing.err, /^po-pool: UsageError: .*nope\.json: no such config file\n$/);
        file({ workerCount: 'four' });
        const wrong = await parse(['start']);
        assert.equal(wrong.exit, 2);
        assert.match(wrong.err, /^po-pool: ConfigurationError: workerCount: in .*config\.json must be a number \(got "four"\)\n$/);
        writeFileSync(join(configHome, 'po-pool', 'config.json'), '{ not json');
        assert.match((await parse(['start'])).err, /^po-pool: UsageError: .*config\.json is not valid JSON/);
      });

      it('notes keys it does not know, so a typo is not silently ignored', async () => {
        file({ workercount: 2, 'poPool.coupaUrl': 'x' });
        const { exit, err } = await parse(['start']);
        assert.equal(exit, 0);
        assert.match(err, /^note: .*config\.json: "workercount", "poPool\.coupaUrl" ignored: not a setting po-pool knows\n$/);
      });

      it('login without a Coupa address or a profile says where to give one', async () => {
        await assert.rejects(login({ io: captureIo() }, { settings: { baseProfilePath: '/p' } }), /login needs your Coupa address: --coupa URL, PO_POOL_COUPA_URL, or coupaUrl in the config file/);
        await assert.rejects(login({ io: captureIo() }, { settings: { coupaUrl: 'https://a.coupahost.com' } }), /--profile DIR, PO_POOL_PROFILE, or baseProfilePath/);
      });

      it('lives in the per-user config folder', () => {
        assert.equal(defaultConfigPath({ XDG_CONFIG_HOME: '/x' }, 'linux'), '/x/po-pool/config.json');
        assert.equal(defaultConfigPath({ HOME: '/home/ops' }, 'darwin'), '/home/ops/.config/po-pool/config.json');
        assert.equal(defaultConfigPath({ APPDATA: 'C:\\Users\\ops\\AppData\\Roaming' }, 'win32'), join('C:\\Users\\ops\\AppData\\Roaming', 'po-pool', 'config.json'));
      });

      it('layers and places paths without a command line', () => {
        const dir = mkdtempSync(join(tmpdir(), 'po-cli-file-'));
        try {
          writeFileSync(join(dir, 'c.json'), JSON.stringify({ downloadFolder: '${workspaceFolder}/dl', browser: './chrome', coupaUrl: '' }));
          const read = readConfigFile(join(dir, 'c.json'), true, '/work');
          assert.deepEqual(read.settings, { downloadFolder: '/work/dl', browser: join(dir, 'chrome') }, 'an empty text is "not set"');
          assert.deepEqual(envSettings({ PO_POOL_PROFILE: 'prof', PO_POOL_COUPA_URL: '' }, '/work'), { baseProfilePath: '/work/prof' });
          assert.deepEqual(layer({ workerCount: 2, browser: 'a' }, { workerCount: undefined, browser: 'b' }), { workerCount: 2, browser: 'b' });
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    });

    it('a relative --state-dir is made absolute', async () => {
      assert.equal((await parse(['--state-dir', 'st', 'status'])).call.stateDir, resolve('st'));
      assert.equal((await parse(['status'])).call.stateDir, undefined, 'unset: the default folder');
    });

    it('submit and run: inputs and their options; the command\'s exit code is the process\'s', async () => {
      const s = await parse(['submit', 'list.csv', 'PO100001', '--priority', '5', '--redo', '--json'], 1);
      assert.equal(s.exit, 1);
      assert.deepEqual(s.call, { command: 'submit', args: ['list.csv', 'PO100001'], options: { priority: 5, redo: true, json: true, settings: {} }, stateDir: undefined });
      const r = await parse(['run', 'list.txt', '-', '--workers', '2', '--out', 'dl', '--timeout', '600', '--json', '--redo']);
      assert.deepEqual(r.call.args, ['list.txt', '-']);
      assert.deepEqual(r.call.options, { timeout: 600, json: true, redo: true, settings: { workerCount: 2, downloadFolder: resolve('dl') } });
    });

    it('status, wait, results, shutdown', async () => {
      assert.deepEqual((await parse(['status', '--json', '--watch'])).call.options, { json: true, watch: true });
      assert.deepEqual((await parse(['wait', '--timeout', '30', '--json', '--out', 'dl'])).call.options, { timeout: 30, json: true, out: 'dl' });
      assert.deepEqual((await parse(['results', '--json', '--status', 'failed,timeout', 'PO_NOT_FOUND', '--out', 'dl'])).call.options, { json: true, status: ['FAILED', 'TIMEOUT', 'PO_NOT_FOUND'], out: 'dl' });
      assert.deepEqual((await parse(['shutdown', '--timeout', '10', '--force'])).call.options, { timeout: 10, force: true });
    });

    it('login, coupa-standin, demo', async () => {
      assert.deepEqual((await parse(['login', '--coupa', 'https://a.coupahost.com', '--profile', 'p', '--browser', 'msedge'])).call.options, { settings: { coupaUrl: 'https://a.coupahost.com', baseProfilePath: resolve('p'), browser: 'msedge' } });
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
      assert.match(out, /^Exit codes:\n {2}0 {4}every PO ended COMPLETED or NO_ATTACHMENTS/m);
      assert.match(out, /^ {2}2 {4}usage or configuration error/m);
      assert.match(out, /^ {2}124 {2}--timeout passed before the POs finished/m);
      assert.match(out, /^ {2}130 {2}interrupted/m);
      assert.match(out, /PO_POOL_COUPA_URL, PO_POOL_PROFILE, PO_POOL_OUT/);
      assert.match(out, new RegExp(`default ${join(configHome, 'po-pool', 'config.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
    });
  });
});
