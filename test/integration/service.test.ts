import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createStandin, type Standin } from '../../src/coupa/standin';
import { ConfigurationError, PoolShutdownError } from '../../src/protocol/errors';
import { tenantOf } from '../../src/protocol/tenant';
import { isFinal, type TaskHandle } from '../../src/protocol/types';
import { REPORT_NAME, statePaths } from '../../src/shared/paths';
import { SupervisorService } from '../../src/supervisor/service';
import { TaskStore } from '../../src/supervisor/taskStore';
import { makeBaseProfile, memoryLogger, processesMentioning, sleep, tempDir, waitUntil, WORKER_SCRIPT } from '../support';

/**
 * The supervisor's service as a person meets it: one list run twice into two folders, a PO whose
 * files were deleted, a second Coupa tenant with the same PO numbers, and a pool that is busy when
 * someone asks for another tenant.
 */
describe('service: a run is about its own tenant and its own folder', function () {
  this.timeout(300_000);
  let a: Standin;
  let b: Standin;
  let root: string;
  let service: SupervisorService | undefined;
  let store: TaskStore;
  const profiles = { a: '', b: '' };
  /** What "Try the Demo" prepares (a stand-in and a profile signed into it); none here unless a test says. */
  let prepareDemo: (dir: string) => Promise<{ coupaUrl: string; baseProfilePath: string }> = () => Promise.reject(new Error('no demo here'));

  before(async () => {
    // Two tenants that number their POs alike (same seed): the same list means different POs on each.
    [a, b] = await Promise.all([createStandin({ seed: 21, maxAttachments: 2 }), createStandin({ seed: 21, maxAttachments: 2 })]);
    root = tempDir('service');
    profiles.a = join(root, 'profile-a');
    profiles.b = join(root, 'profile-b');
    await makeBaseProfile(profiles.a, a.url);
    await makeBaseProfile(profiles.b, b.url);
    const paths = statePaths(join(root, 'state'));
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    store = TaskStore.open(paths.journal).store;
    service = new SupervisorService(paths, store, memoryLogger(), {
      workerScript: WORKER_SCRIPT,
      demo: (dir) => prepareDemo(dir),
    });
  });

  after(async () => {
    await service?.shutdownPool(5);
    store?.close();
    await Promise.all([a?.close(), b?.close()]);
    assert.deepEqual(processesMentioning(root), [], 'no worker or browser left running');
    rmSync(root, { recursive: true, force: true });
  });

  const list = () => a.catalog.ids().slice(0, 8).map((id) => `PO${id}`);
  const folder = (name: string) => join(root, name);
  const done = (handles: TaskHandle[]) => handles.every((h) => isFinal(store.get(h.taskId)!.status));
  const reportPos = (dir: string) => readFileSync(join(dir, REPORT_NAME), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]).sort();

  async function run(dir: string, options: { redo?: boolean } = {}) {
    const result = service!.submit({ tasks: list().map((poNumber) => ({ poNumber })), downloadDir: dir, ...options });
    await waitUntil(() => done(result.handles), 120_000, `the list into ${dir}`);
    await waitUntil(() => existsSync(join(dir, REPORT_NAME)) && reportPos(dir).length === list().length, 10_000, `${dir}'s report`);
    return result;
  }

  it('runs the same list into a second folder, and skips it in the first, each report listing its own folder', async () => {
    await service!.startPool({ coupaUrl: a.url, baseProfilePath: profiles.a, downloadDir: folder('A'), workerCount: 2 });
    const first = await run(folder('A'));
    assert.equal(first.handles.length, 8);
    const second = await run(folder('B'));
    assert.equal(second.handles.length, 8, 'another folder is new work');
    for (const dir of [folder('A'), folder('B')]) {
      assert.deepEqual(reportPos(dir), [...list()].sort());
      assert.ok(!readFileSync(join(dir, REPORT_NAME), 'utf8').includes(dir === folder('A') ? folder('B') : folder('A')), 'no other folder\'s paths');
    }
    const withFiles = second.handles.map((h) => store.get(h.taskId)!).filter((t) => t.result!.files.length);
    assert.ok(withFiles.length > 0);
    for (const t of withFiles) for (const f of t.result!.files) assert.ok(f.path.startsWith(folder('B')) && existsSync(f.path), f.path);

    const again = service!.submit({ tasks: list().map((poNumber) => ({ poNumber })), downloadDir: folder('A') });
    assert.deepEqual([again.handles.length, again.duplicates.length], [0, 8], 'already in this folder');
    const gone = withFiles[0].poNumber;
    rmSync(join(folder('A'), gone), { recursive: true, force: true });
    const refetch = service!.submit({ tasks: [{ poNumber: gone }], downloadDir: folder('A') });
    assert.equal(refetch.handles.length, 1, 'a PO whose files were deleted is fetched again');
    await waitUntil(() => done(refetch.handles), 60_000, 'the refetch');
    assert.ok(readdirSync(join(folder('A'), gone)).length > 0);
  });

  it('switches an idle pool to another tenant, runs the same numbers there as new work, and refuses to switch a busy one', async () => {
    const status = await service!.startPool({ coupaUrl: b.url, baseProfilePath: profiles.b, downloadDir: folder('tenant-b'), workerCount: 2 });
    assert.equal(status.config?.coupaUrl, b.url, 'the idle pool was restarted for tenant B');
    const onB = await run(folder('tenant-b'));
    assert.equal(onB.handles.length, 8);
    assert.ok(onB.handles.every((h) => store.get(h.taskId)!.tenant === tenantOf(b.url)));
    const served = b.requests.filter((r) => r.path.startsWith('/order_headers/')).length;
    assert.ok(served >= 8, 'tenant B served the POs');

    const intoA = service!.submit({ tasks: [{ poNumber: list()[0] }], downloadDir: folder('A') });
    assert.match(intoA.invalid[0]?.reason ?? '', /already in this folder from http:\/\/127\.0\.0\.1:\d+: its files would be replaced/);

    b.knobs.downloadLatencyMs = 3000;
    const busy = service!.submit({ tasks: list().map((poNumber) => ({ poNumber })), downloadDir: folder('tenant-b-2') });
    assert.equal(busy.handles.length, 8);
    await assert.rejects(service!.startPool({ coupaUrl: a.url, baseProfilePath: profiles.a }), (err: unknown) =>
      err instanceof ConfigurationError && /a pool is running with coupaUrl .* and has \d+ PO\(s\) to finish/.test((err as Error).message));
    b.knobs.downloadLatencyMs = 0;
  });

  it('stops a start that its client cancels, leaving no worker behind', async () => {
    await service!.shutdownPool(0);
    a.knobs.hang = true; // the workers' sign-in check never gets an answer: the start would take its full 45 s
    try {
      const cancel = new AbortController();
      const started = Date.now();
      const start = service!.startPool({ coupaUrl: a.url, baseProfilePath: profiles.a, downloadDir: folder('A'), workerCount: 2 }, false, cancel.signal);
      await waitUntil(() => processesMentioning(join(root, 'state')).length > 0, 30_000, 'workers to be starting');
      cancel.abort();
      await assert.rejects(start, PoolShutdownError);
      assert.ok(Date.now() - started < 30_000, 'not after the start-up timeout');
      await waitUntil(() => processesMentioning(join(root, 'state')).length === 0 && service!.getStatus().state === 'TERMINATED', 15_000, 'the starting workers to be gone');
    } finally {
      a.knobs.hang = false;
    }
  });

  it('starts nothing when the client cancels while the demo is still being prepared', async () => {
    await service!.shutdownPool(0);
    let prepared!: () => void;
    prepareDemo = () => new Promise((resolve) => (prepared = () => resolve({ coupaUrl: a.url, baseProfilePath: profiles.a })));
    try {
      const cancel = new AbortController();
      const start = service!.startDemo({ downloadDir: folder('demo'), workerCount: 2 }, cancel.signal);
      await waitUntil(() => prepared !== undefined, 5_000, 'the demo to be in preparation');
      cancel.abort();
      prepared();
      await assert.rejects(start, PoolShutdownError);
      // Long enough for workers to have been forked, had the start gone on.
      await sleep(1_500);
      assert.deepEqual(processesMentioning(join(root, 'state')), [], 'no worker was started');
      assert.equal(service!.getStatus().state, 'TERMINATED');
    } finally {
      prepareDemo = () => Promise.reject(new Error('no demo here'));
    }
  });
});
