import { strict as assert } from 'node:assert';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { createMessageConnection, SocketMessageReader, SocketMessageWriter } from 'vscode-jsonrpc/node';
import type { Standin } from '../../src/coupa/standin';
import { GetStatus, Hello, ListTasks, PROTOCOL_VERSION, Shutdown, StartPool, SubmitTasks } from '../../src/protocol/rpc';
import { isFinal } from '../../src/protocol/types';
import { connectToSupervisor, type PoolClient } from '../../src/client/client';
import { statePaths } from '../../src/shared/paths';
import { isAlive } from '../../src/shared/processTree';
import { killAll, processesMentioning, SUPERVISOR_SCRIPT, tempDir, waitUntil, standinWithProfile } from '../support';

describe('supervisor: a detached process on an owner-only socket', function () {
  this.timeout(240_000);
  let standin: Standin;
  let profile: string;
  let stateDir: string;
  const clients: PoolClient[] = [];

  const env = standinWithProfile({ seed: 11, maxAttachments: 2 }, 'sup');
  before(() => ({ standin, profile } = env));

  beforeEach(() => {
    stateDir = tempDir('sup-state');
    standin.resetKnobs();
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) {
      if (!c.isClosed) await c.request(Shutdown, { force: true }).catch(() => undefined);
      c.dispose();
    }
    await waitUntil(() => processesMentioning(stateDir).length === 0, 20_000, 'the supervisor and its workers to exit').catch(() => {
      killAll(processesMentioning(stateDir).map((p) => p.pid));
      throw new Error('processes were left running');
    });
    rmSync(stateDir, { recursive: true, force: true });
  });

  async function connect(env: Record<string, string> = {}): Promise<PoolClient> {
    const c = await connectToSupervisor({ clientName: 'test', stateDir, spawn: true, supervisorScript: SUPERVISOR_SCRIPT, env });
    clients.push(c);
    return c;
  }

  function rawConnection() {
    const socket = netConnect(statePaths(stateDir).socket);
    const connection = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
    connection.listen();
    return { socket, connection };
  }

  it('starts detached, is shared by a second client, and keeps its folder, socket and token owner-only', async () => {
    const a = await connect();
    const b = await connect();
    assert.equal(a.hello.supervisorPid, b.hello.supervisorPid);
    const paths = statePaths(stateDir);
    assert.equal(statSync(paths.dir).mode & 0o777, 0o700);
    assert.equal(statSync(paths.socket).mode & 0o777, 0o600);
    assert.equal(statSync(paths.token).mode & 0o777, 0o600);
    const status = await a.request(GetStatus, undefined);
    assert.equal(status.supervisorPid, a.hello.supervisorPid);
  });

  it('refuses a wrong token and a request before hello, logs both, and stays up', async () => {
    const good = await connect();
    const wrong = rawConnection();
    await assert.rejects(wrong.connection.sendRequest(Hello, { token: 'not-the-token', client: 'intruder', protocolVersion: PROTOCOL_VERSION }), /wrong token/);
    const rude = rawConnection();
    await assert.rejects(rude.connection.sendRequest(GetStatus, undefined), /hello/);
    wrong.socket.destroy();
    rude.socket.destroy();
    const log = readFileSync(statePaths(stateDir).log, 'utf8');
    assert.match(log, /refused connection #\d+: wrong or missing token from intruder/);
    assert.match(log, /refused connection #\d+: request before hello/);
    assert.equal((await good.request(GetStatus, undefined)).supervisorPid, good.hello.supervisorPid);
  });

  it('answers malformed and unknown requests with errors and stays up', async () => {
    const good = await connect();
    const socket = netConnect(statePaths(stateDir).socket);
    await new Promise((r) => socket.once('connect', r));
    socket.write('Content-Length: 9\r\n\r\n{garbage}');
    socket.write('Content-Length: 2\r\n\r\n[]');
    await new Promise((r) => setTimeout(r, 300));
    socket.destroy();
    const huge = netConnect(statePaths(stateDir).socket);
    huge.on('error', () => undefined); // the supervisor hangs up while we are still sending
    await new Promise((r) => huge.once('connect', r));
    const answer = new Promise<string>((resolve) => {
      let text = '';
      huge.on('data', (d) => (text += d.toString()));
      huge.on('close', () => resolve(text));
    });
    huge.write(`Content-Length: ${100 * 1024 * 1024}\r\n\r\n${'x'.repeat(64 * 1024)}`);
    assert.match(await answer, /message larger than/, 'a 100 MB message is answered with an error and the connection closed');
    assert.match(readFileSync(statePaths(stateDir).log, 'utf8'), /refused connection #\d+: a message larger than 16 MB/);
    await assert.rejects(good.connection.sendRequest('pool/noSuchMethod', {}), /Unhandled method|not found/i);
    await assert.rejects(good.request(SubmitTasks, { tasks: 'PO100001' as never }), /tasks: must be a list/);
    assert.equal((await good.request(GetStatus, undefined)).supervisorPid, good.hello.supervisorPid);
  });

  it('kill -9 mid-run: the next client starts a new supervisor that resumes from the journal; nothing lost, nothing redone', async () => {
    const first = await connect();
    const downloadDir = join(stateDir, 'out');
    await first.request(StartPool, { coupaUrl: standin.url, baseProfilePath: profile, downloadDir, workerCount: 2 });
    standin.knobs.downloadLatencyMs = 150;
    const pos = standin.catalog.ids().slice(0, 30).map((id) => ({ poNumber: `PO${id}` }));
    const submitted = await first.request(SubmitTasks, { tasks: pos });
    assert.equal(submitted.handles.length, 30);
    await waitUntil(async () => ((await first.request(GetStatus, undefined)).counts.COMPLETED ?? 0) >= 5, 120_000, 'five POs done');
    const before = await first.request(ListTasks, { limit: 1000 });
    const doneBefore = new Set(before.tasks.filter((t) => isFinal(t.status)).map((t) => t.poNumber));
    const killedAt = Date.now();
    process.kill(first.hello.supervisorPid, 'SIGKILL');
    await waitUntil(() => !isAlive(first.hello.supervisorPid), 5_000, 'the supervisor to die');
    await waitUntil(() => processesMentioning(join(stateDir, 'profiles')).length === 0, 20_000, 'orphaned workers and browsers to exit by themselves');

    const second = await connect();
    assert.notEqual(second.hello.supervisorPid, first.hello.supervisorPid);
    await waitUntil(async () => {
      const s = await second.request(GetStatus, undefined);
      return s.total === 30 && s.queueDepth === 0 && s.running === 0 && s.state !== 'INITIALIZING';
    }, 180_000, 'the resumed run to finish');
    const after = await second.request(ListTasks, { limit: 1000 });
    assert.equal(after.total, 30, 'nothing submitted was lost');
    assert.deepEqual(new Set(after.tasks.map((t) => t.poNumber)).size, 30, 'one task per PO');
    assert.ok(after.tasks.every((t) => t.status === 'COMPLETED' || t.status === 'NO_ATTACHMENTS'), JSON.stringify(after.tasks.map((t) => t.status)));
    const pagesAfterKill = standin.requests.filter((r) => r.startedAt > killedAt && r.path.startsWith('/order_headers/'));
    for (const po of doneBefore) {
      assert.ok(!pagesAfterKill.some((r) => r.path === `/order_headers/${po.slice(2)}`), `${po} was completed before the kill and not redone`);
    }
    const report = readFileSync(join(downloadDir, 'po-pool-report.csv'), 'utf8').trim().split('\n');
    assert.equal(report.length, 31, 'the report has a row per PO');
  });

  it('exits by itself once idle with no client attached', async () => {
    const c = await connect({ PO_POOL_IDLE_MINUTES: '0.02' });
    const pid = c.hello.supervisorPid;
    c.dispose();
    await waitUntil(() => !isAlive(pid), 20_000, 'the idle supervisor to exit');
  });
});
