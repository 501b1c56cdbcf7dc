import { strict as assert } from 'node:assert';
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NOT_FOUND_TEXT, type Standin } from '../../src/coupa/standin';
import type { Evidence } from '../../src/protocol/types';
import type { FromWorker, WorkerInit } from '../../src/protocol/workerMessages';
import { findHeadlessShell } from '../../src/shared/browsers.mjs';
import { isAlive } from '../../src/shared/processTree';
import { killAll, processesMentioning, tempDir, waitUntil, WORKER_SCRIPT, standinWithProfile } from '../support';

/** One worker process (dist/worker.js) driven over the fork IPC channel as the supervisor drives it. */
class Driven {
  readonly messages: FromWorker[] = [];
  readonly exited: Promise<number | null>;
  private waiters: (() => void)[] = [];

  constructor(readonly proc: ChildProcess) {
    proc.on('message', (m: FromWorker) => {
      this.messages.push(m);
      if (process.env.DEBUG_POOL && m.type === 'log') console.log(`    [worker ${m.level}] ${m.message}`);
      for (const w of this.waiters.splice(0)) w();
    });
    this.exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  }

  /** The first message of this type not yet taken. */
  async next<T extends FromWorker['type']>(type: T, timeoutMs = 60_000): Promise<Extract<FromWorker, { type: T }>> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const i = this.messages.findIndex((m) => m.type === type);
      if (i >= 0) return this.messages.splice(i, 1)[0] as Extract<FromWorker, { type: T }>;
      const left = until - Date.now();
      if (left <= 0) throw new Error(`no "${type}" within ${timeoutMs} ms; got ${this.messages.map((m) => m.type).join(', ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  send(message: unknown): void {
    this.proc.send(message as never);
  }
}

describe('worker process: fork IPC, a real browser, and no orphans', function () {
  this.timeout(180_000);
  let standin: Standin;
  let profile: string;
  let dir: string;
  let driven: Driven | undefined;

  const env = standinWithProfile({ seed: 9, maxAttachments: 3, poCount: 300 }, 'worker');
  before(() => ({ standin, profile } = env));

  beforeEach(() => {
    dir = tempDir('worker-run');
    standin.resetKnobs();
  });

  afterEach(async () => {
    if (driven && driven.proc.exitCode === null && driven.proc.signalCode === null) {
      // Only after a failed test: the worker was not stopped properly.
      driven.proc.kill('SIGKILL');
      await waitUntil(() => processesMentioning(dir).length === 0, 10_000, 'the browser of a killed worker to exit').catch(() => undefined);
    }
    driven = undefined;
    const left = processesMentioning(dir);
    killAll(left.map((p) => p.pid));
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(left, [], 'no worker or browser left running');
  });

  function start(overrides: Partial<WorkerInit> = {}): Driven {
    const proc = fork(WORKER_SCRIPT, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced' });
    proc.stdout?.resume();
    proc.stderr?.on('data', (chunk: Buffer) => { if (process.env.DEBUG_POOL) process.stderr.write(chunk); });
    driven = new Driven(proc);
    const init: WorkerInit = {
      workerId: 'w1',
      baseProfilePath: profile,
      profileCopyDir: join(dir, 'profiles', 'w1'),
      coupaUrl: standin.url,
      headless: true,
      browser: 'auto',
      maxDownloadBytes: 50 * 1024 * 1024,
      startupTimeout: 30_000,
      authTimeout: 30_000,
      recoveryTimeout: 15_000,
      ...overrides,
    };
    driven.send({ type: 'init', init });
    return driven;
  }

  const withFiles = () => standin.catalog.ids().map((id) => standin.catalog.po(id)!).filter((r) => r.attachments.length > 0);

  it('init -> ready -> process -> result -> terminate, leaving nothing behind', async () => {
    const w = start();
    const ready = await w.next('ready');
    assert.ok(ready.browserPids.length > 0, 'reports its browser pids');
    assert.ok(ready.browserPids.every(isAlive));
    assert.ok(ready.sessionStartedAt <= Date.now() && ready.sessionStartedAt > Date.now() - 60_000);
    assert.ok(existsSync(join(dir, 'profiles', 'w1', 'Local State')), 'runs on its own profile copy');

    const po = withFiles()[0];
    w.send({ type: 'process', task: { taskId: 't1', poNumber: po.poNumber, downloadDir: join(dir, 'out'), timeoutMs: 60_000 } });
    const { taskId, result } = await w.next('result');
    assert.equal(taskId, 't1');
    assert.equal(result.status, 'COMPLETED', JSON.stringify(result.error));
    assert.deepEqual(result.files.map((f) => f.sha256).sort(), po.attachments.map((a) => a.sha256).sort());
    for (const f of result.files) assert.equal(createHash('sha256').update(readFileSync(f.path)).digest('hex'), f.sha256);

    w.send({ type: 'process', task: { taskId: 't2', poNumber: 'PO990001', downloadDir: join(dir, 'out'), timeoutMs: 60_000 } });
    const failed = await w.next('taskError');
    assert.equal(failed.taskId, 't2');
    assert.equal(failed.error.kind, 'PONotFoundError');

    w.send({ type: 'terminate', force: false });
    await w.next('terminated', 20_000);
    assert.equal(await w.exited, 0);
    assert.ok(!existsSync(join(dir, 'profiles', 'w1')), 'the profile copy is removed');
    await waitUntil(() => !ready.browserPids.some(isAlive), 10_000, 'the browser to be gone');
    assert.ok(!w.messages.some((m) => m.type === 'log' && /_coupa_session=|idp_session=/.test(m.message)), 'no session value logged');
  });

  it('keeps what the tab showed for PO_NOT_FOUND, PARTIAL and TIMEOUT, owner-only, and nothing for COMPLETED, NO_ATTACHMENTS or an invalid number', async () => {
    const records = standin.catalog.ids().map((id) => standin.catalog.po(id)!);
    const distinct = (values: unknown[]) => new Set(values).size === values.length;
    // A size limit between a PO's files makes it PARTIAL; the largest such limit leaves other POs whole.
    const partial = records.filter((r) => r.markup === 'links' && r.attachments.length >= 2 && distinct(r.attachments.map((a) => a.bytes)) &&
      distinct(r.attachments.map((a) => a.name))).sort((a, b) => Math.min(...b.attachments.map((x) => x.bytes)) - Math.min(...a.attachments.map((x) => x.bytes)))[0];
    const limit = Math.min(...partial.attachments.map((a) => a.bytes));
    const whole = records.find((r) => r.attachments.length > 0 && r.attachments.every((a) => a.bytes <= limit))!;
    const none = records.find((r) => standin.catalog.served(r.id)!.attachments.length === 0)!;
    assert.ok(partial && whole && none, 'the catalog has such POs');
    const w = start({ maxDownloadBytes: limit });
    await w.next('ready');
    const out = join(dir, 'out');
    const evidenceDir = join(out, 'po-pool-evidence');
    const run = (taskId: string, poNumber: string, timeoutMs = 60_000) =>
      w.send({ type: 'process', task: { taskId, poNumber, downloadDir: out, timeoutMs } });
    const expectEvidence = (evidence: Evidence | undefined, stem: string, shows: RegExp) => {
      assert.deepEqual(evidence, { screenshot: join(evidenceDir, `${stem}.png`), html: join(evidenceDir, `${stem}.html`) });
      assert.equal(readFileSync(evidence!.screenshot!).subarray(0, 8).toString('latin1'), '\x89PNG\r\n\x1a\n');
      assert.match(readFileSync(evidence!.html!, 'utf8'), shows);
      for (const file of [evidence!.screenshot!, evidence!.html!]) assert.equal(statSync(file).mode & 0o777, 0o600, file);
    };

    run('done', whole.poNumber);
    assert.equal((await w.next('result')).result.status, 'COMPLETED');
    run('empty', none.poNumber);
    assert.equal((await w.next('result')).result.status, 'NO_ATTACHMENTS');
    run('invalid', 'PO12');
    assert.equal((await w.next('taskError')).error.data?.evidence, undefined, 'an invalid number never loaded a page');
    assert.ok(!existsSync(evidenceDir), 'nothing kept for POs that ended well');

    run('missing', 'PO990001');
    const missing = await w.next('taskError');
    assert.equal(missing.error.kind, 'PONotFoundError');
    assert.match(missing.error.message, /PO990001: not found in Coupa/);
    expectEvidence(missing.error.data?.evidence as Evidence, 'PO990001-PONotFoundError', new RegExp(NOT_FOUND_TEXT.replace(/[.!?']/g, '.')));
    assert.equal(statSync(evidenceDir).mode & 0o777, 0o700);

    run('partial', partial.poNumber);
    const { result } = await w.next('result');
    assert.equal(result.status, 'PARTIAL');
    assert.equal(result.error?.kind, 'DownloadError');
    expectEvidence(result.evidence, `${partial.poNumber}-PARTIAL`, /Purchase Order #/);

    standin.knobs.downloadLatencyMs = 5_000;
    run('slow', whole.poNumber, 4_000);
    const slow = await w.next('taskError');
    assert.equal(slow.error.kind, 'TimeoutError');
    expectEvidence(slow.error.data?.evidence as Evidence, `${whole.poNumber}-TimeoutError`, /Purchase Order #/);
    assert.deepEqual(readdirSync(evidenceDir).sort(), [
      'PO990001-PONotFoundError.html', 'PO990001-PONotFoundError.png', `${partial.poNumber}-PARTIAL.html`, `${partial.poNumber}-PARTIAL.png`,
      `${whole.poNumber}-TimeoutError.html`, `${whole.poNumber}-TimeoutError.png`,
    ].sort());

    w.send({ type: 'terminate', force: false });
    await w.next('terminated', 20_000);
  });

  it('a profile signed in by makeBaseProfile works in the headless shell: signed in at the first authenticate, POs download', async function () {
    const shell = findHeadlessShell('auto');
    if (!shell) this.skip();
    const w = start();
    const ready = await w.next('ready');
    const cmdline = readFileSync(`/proc/${Math.min(...ready.browserPids)}/cmdline`, 'utf8');
    assert.ok(cmdline.startsWith(shell.executablePath), `the browser is the shell: ${cmdline.slice(0, 120)}`);
    const logs = w.messages.filter((m) => m.type === 'log').map((m) => m.message);
    assert.ok(!logs.some((m) => /trying the full browser/.test(m)), 'no fall-back to the full browser');
    const po = withFiles()[2];
    w.send({ type: 'process', task: { taskId: 't1', poNumber: po.poNumber, downloadDir: join(dir, 'out'), timeoutMs: 60_000 } });
    const { result } = await w.next('result');
    assert.equal(result.status, 'COMPLETED', JSON.stringify(result.error));
    assert.deepEqual(result.files.map((f) => f.sha256).sort(), po.attachments.map((a) => a.sha256).sort());
    w.send({ type: 'terminate', force: false });
    await w.next('terminated');
    assert.equal(await w.exited, 0);
  });

  it('kill -9 of its browser: sessionLost, exit, and no chromium process left', async () => {
    const w = start();
    const ready = await w.next('ready');
    standin.knobs.downloadLatencyMs = 2_000;
    const downloadsBefore = standin.requests.filter((r) => r.kind === 'download').length;
    w.send({ type: 'process', task: { taskId: 't1', poNumber: withFiles()[1].poNumber, downloadDir: join(dir, 'out'), timeoutMs: 60_000 } });
    // Mid-task for certain: a file of the PO is being fetched (each takes 2 s here).
    await waitUntil(() => standin.requests.filter((r) => r.kind === 'download').length > downloadsBefore, 20_000, 'a download to start');
    process.kill(Math.min(...ready.browserPids), 'SIGKILL');
    const lost = await w.next('sessionLost', 20_000);
    assert.equal(lost.error.kind, 'SessionCorruptionError');
    assert.notEqual(await w.exited, 0);
    assert.ok(!w.messages.some((m) => m.type === 'taskError' || m.type === 'result'), 'the task is reported once, by sessionLost');
    await waitUntil(() => !ready.browserPids.some(isAlive), 10_000, 'every browser process to be gone');
    assert.deepEqual(processesMentioning(dir), []);
    assert.ok(!existsSync(join(dir, 'profiles', 'w1')));
  });

  it('the supervisor going away (IPC closed) makes the worker close its browser and exit', async () => {
    const w = start();
    const ready = await w.next('ready');
    w.proc.disconnect();
    await w.exited;
    await waitUntil(() => !ready.browserPids.some(isAlive), 10_000, 'the browser to be gone');
    assert.ok(!existsSync(join(dir, 'profiles', 'w1')));
  });

  it('a session that needs a person: startFailed with AuthenticationError saying what to do', async () => {
    standin.knobs.sso = false;
    standin.expireAllSessions();
    const w = start();
    const failed = await w.next('startFailed');
    assert.equal(failed.error.kind, 'AuthenticationError');
    assert.match(failed.error.message, /Sign in to Coupa/);
    assert.notEqual(await w.exited, 0);
    assert.ok(!existsSync(join(dir, 'profiles', 'w1')));
  });

  it('a corrupt base profile: startFailed with ProfileCorruptionError', async () => {
    const corrupt = join(dir, 'corrupt');
    mkdirSync(join(corrupt, 'Default'), { recursive: true });
    writeFileSync(join(corrupt, 'Local State'), '{}');
    writeFileSync(join(corrupt, 'Default', 'Preferences'), 'nope');
    const w = start({ baseProfilePath: corrupt });
    const failed = await w.next('startFailed');
    assert.equal(failed.error.kind, 'ProfileCorruptionError');
    assert.match(failed.error.message, /Preferences/);
    assert.notEqual(await w.exited, 0);
  });
});
