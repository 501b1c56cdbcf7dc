import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as http from 'node:http';
import { createServer as createNetServer, connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { createMessageConnection, SocketMessageReader, SocketMessageWriter, type RequestType } from 'vscode-jsonrpc/node';
import { createStandin, type Standin } from '../../src/coupa/standin';
import {
  Challenge, challengeProof, GetStatus, Hello, ListTasks, PROTOCOL_VERSION, Shutdown, StartPool, SubmitTasks,
} from '../../src/protocol/rpc';
import { isFinal } from '../../src/protocol/types';
import { connectToSupervisor, type PoolClient } from '../../src/client/client';
import { socketDir, statePaths } from '../../src/shared/paths';
import { isAlive } from '../../src/shared/processTree';
import { cmdline, environMentions, kill9, makeBaseProfile, parentOf, processesMentioning, SUPERVISOR_SCRIPT, tempDir, waitUntil } from '../support';


const NOBODY = 65534;

/** Who may drive the pool, and what of a Coupa session may be seen. */
describe('reliability: who may drive the pool', function () {
  this.timeout(180_000);
  let standin: Standin;
  let proxy: http.Server;
  let proxyUrl: string;
  /** Every cookie value Coupa handed out (read off the wire by a recording proxy). */
  const cookieValues = new Set<string>();
  let root: string;
  let profile: string;
  let stateDir: string;
  let client: PoolClient | undefined;

  before(async () => {
    standin = await createStandin({ seed: 53, maxAttachments: 2 });
    // A recording proxy in front of Coupa: sees every Set-Cookie, so the test knows each session's value.
    proxy = http.createServer((req, res) => {
      const up = http.request(`${standin.url}${req.url}`, { method: req.method, headers: req.headers }, (r) => {
        for (const c of ([] as string[]).concat(r.headers['set-cookie'] ?? [])) {
          const value = /^[^=]+=([^;]*)/.exec(c)?.[1];
          if (value && value.length >= 8) cookieValues.add(value);
        }
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    root = tempDir('ra');
    profile = join(root, 'base-profile');
    await makeBaseProfile(profile, proxyUrl);
  });

  after(async () => {
    proxy?.closeAllConnections();
    await new Promise((r) => proxy?.close(r));
    await standin?.close();
    rmSync(root, { recursive: true, force: true });
  });

  beforeEach(() => {
    stateDir = tempDir('ras');
  });

  afterEach(async () => {
    if (client && !client.isClosed) await client.request(Shutdown, { force: true }).catch(() => undefined);
    client?.dispose();
    client = undefined;
    await waitUntil(() => processesMentioning(stateDir).length === 0, 20_000, 'our processes to exit').catch(() => {
      for (const p of processesMentioning(stateDir)) kill9(p.pid, (pid) => cmdline(pid).includes(stateDir));
      throw new Error('processes were left running');
    });
    rmSync(stateDir, { recursive: true, force: true });
  });

  const connect = async () => {
    client = await connectToSupervisor({ clientName: 'reliability', stateDir, spawn: true, supervisorScript: SUPERVISOR_SCRIPT });
    return client;
  };

  /** One request on a connection of its own, as any program on the machine could send it. */
  function rawRequest<P, R>(type: RequestType<P, R, void>, params: unknown): Promise<R> {
    const socket = netConnect(statePaths(stateDir).socket);
    socket.on('error', () => undefined);
    const connection = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
    connection.listen();
    const answer = connection.sendRequest(type, params as never);
    return answer.finally(() => {
      connection.dispose();
      socket.destroy();
    });
  }
  const rawHello = (params: unknown) => rawRequest(Hello, params);

  it('folder 0700, socket 0600, token 0600; no token, an empty, a short and a wrong token are refused and logged', async () => {
    const c = await connect();
    const paths = statePaths(stateDir);
    assert.equal(statSync(paths.dir).mode & 0o777, 0o700);
    assert.equal(statSync(socketDir(paths)).mode & 0o777, 0o700);
    assert.equal(statSync(paths.socket).mode & 0o777, 0o600);
    assert.equal(statSync(paths.token).mode & 0o777, 0o600);
    assert.equal(statSync(paths.log).mode & 0o777, 0o600);
    const token = readFileSync(paths.token, 'utf8').trim();
    const wrong = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0');
    for (const params of [{ client: 'no-token', protocolVersion: PROTOCOL_VERSION }, { token: '', client: 'empty' }, { token: 'abc', client: 'short' },
      { token: wrong, client: 'one-char-off', protocolVersion: PROTOCOL_VERSION }, null]) {
      await assert.rejects(rawHello(params), /wrong token/, JSON.stringify(params));
    }
    await new Promise((r) => setTimeout(r, 5_500)); // past the 5 s hello deadline, which must not log them again
    const log = readFileSync(paths.log, 'utf8');
    for (const who of ['no-token', 'empty', 'short', 'one-char-off', 'an unnamed client']) {
      assert.match(log, new RegExp(`refused connection #\\d+: wrong or missing token from ${who}`));
    }
    assert.ok(!log.includes(token), 'the token itself is never logged');
    const refusals = [...log.matchAll(/refused connection #(\d+)/g)].map((m) => m[1]);
    assert.equal(new Set(refusals).size, refusals.length, `each refused connection is logged once: ${refusals.join(', ')}`);
    // An attached client that says hello again with a wrong token is told so, and keeps its connection.
    await assert.rejects(c.request(Hello, { token: wrong, client: 'again', protocolVersion: PROTOCOL_VERSION }), /wrong token/);
    assert.equal((await c.request(GetStatus, undefined)).supervisorPid, c.hello.supervisorPid);
  });

  it('the supervisor shows it knows the token before a client sends it; a challenge without a proper nonce is refused and logged', async () => {
    await connect();
    const paths = statePaths(stateDir);
    const token = readFileSync(paths.token, 'utf8').trim();
    const nonce = randomBytes(32).toString('hex');
    assert.deepEqual(await rawRequest(Challenge, { nonce }), { proof: challengeProof(token, nonce) });
    for (const params of [{ nonce: 'abc' }, { nonce: 'x'.repeat(64) }, { nonce: 42 }, null]) {
      await assert.rejects(rawRequest(Challenge, params), /nonce/, JSON.stringify(params));
    }
    const log = readFileSync(paths.log, 'utf8');
    assert.equal((log.match(/refused connection #\d+: a challenge without a nonce of 32 to 128 hex digits/g) ?? []).length, 4);
    assert.ok(!log.includes(token));
  });

  it('a socket folder planted by another user is refused by the client, naming the owner, before it connects', async () => {
    // 1. The state folder itself (short path: the socket lives in it), with a listening impostor inside.
    const planted = join(stateDir, 'planted');
    mkdirSync(planted, { mode: 0o777 });
    let contacted = 0;
    const impostor = createNetServer((s) => {
      contacted++;
      s.destroy();
    });
    await new Promise<void>((r) => impostor.listen(statePaths(planted).socket, () => r()));
    chownSync(planted, NOBODY, NOBODY);
    chownSync(statePaths(planted).socket, NOBODY, NOBODY);
    try {
      await assert.rejects(
        connectToSupervisor({ clientName: 'victim', stateDir: planted, spawn: true, supervisorScript: SUPERVISOR_SCRIPT }),
        (err: Error) => /belongs to another user \(uid 65534\)|nobody/.test(err.message) && err.message.includes(planted),
      );
      // 2. A long state folder: its socket lives in a short folder under the temp dir, planted there.
      const long = join(stateDir, 'x'.repeat(90));
      const paths = statePaths(long);
      assert.notEqual(socketDir(paths), long);
      mkdirSync(socketDir(paths), { recursive: true, mode: 0o777 });
      chownSync(socketDir(paths), NOBODY, NOBODY);
      try {
        await assert.rejects(
          connectToSupervisor({ clientName: 'victim', stateDir: long, spawn: true, supervisorScript: SUPERVISOR_SCRIPT }),
          (err: Error) => /belongs to another user \(uid 65534\)|nobody/.test(err.message) && err.message.includes(socketDir(paths)),
        );
      } finally {
        rmSync(socketDir(paths), { recursive: true, force: true });
      }
      assert.equal(contacted, 0, 'the impostor never saw a connection (so never a token)');
      assert.ok(!existsSync(join(planted, 'token')), 'no supervisor was started in the planted folder');
      assert.deepEqual(processesMentioning(planted), []);
    } finally {
      impostor.close();
    }
  });

  it('profile copies are owner-only, gone after shutdown, and after kill -9 of everything they go at the next start; no session value in the log', async () => {
    standin.knobs.sessionLifetimeSec = 2; // sessions are renewed during the run: more values that must not leak
    standin.knobs.downloadLatencyMs = 300;
    try {
      let c = await connect();
      const paths = statePaths(stateDir);
      await c.request(StartPool, { coupaUrl: proxyUrl, baseProfilePath: profile, downloadDir: join(stateDir, 'out'), workerCount: 2 });
      const pos = standin.catalog.ids().slice(0, 12).map((id) => `PO${id}`);
      await c.request(SubmitTasks, { tasks: pos.map((poNumber) => ({ poNumber })) });
      await waitUntil(async () => (await c.request(GetStatus, undefined)).running === 2, 60_000, 'two busy workers');
      const copies = readdirSync(paths.profiles).filter((n) => !n.endsWith('.tmp'));
      assert.equal(copies.length, 2);
      for (const name of readdirSync(paths.profiles)) {
        assert.equal(statSync(join(paths.profiles, name)).mode & 0o777, 0o700, `${name} is owner-only`);
        assert.equal(statSync(join(paths.profiles, name)).uid, process.getuid!());
      }

      // kill -9 the supervisor, its workers and their browsers at once: nobody is left to clean up.
      const s = await c.request(GetStatus, undefined);
      const supervisor = c.hello.supervisorPid;
      const workers = s.workers.map((w) => w.pid!).filter((p) => parentOf(p) === supervisor);
      const browsers = processesMentioning(stateDir).map((p) => p.pid).filter((p) => cmdline(p).includes(paths.profiles));
      assert.equal(workers.length, 2);
      kill9(supervisor, (p) => environMentions(p, stateDir));
      // Ours: a worker forked by this supervisor, or a browser on this test's profile copies.
      const ours = (x: number) => workers.includes(x) || cmdline(x).includes(paths.profiles);
      for (const p of [...workers, ...browsers]) kill9(p, ours);
      await waitUntil(() => !isAlive(supervisor) && workers.every((p) => !isAlive(p)), 10_000, 'all dead');
      await waitUntil(() => processesMentioning(paths.profiles).length === 0, 20_000, 'browsers gone');
      const leftover = readdirSync(paths.profiles);
      assert.ok(leftover.length >= 1, 'the crash left profile copies behind');

      c = await connect();
      await waitUntil(async () => (await c.request(GetStatus, undefined)).state !== 'INITIALIZING' && (await c.request(GetStatus, undefined)).workers.length === 2, 60_000, 'the resumed pool');
      const now = readdirSync(paths.profiles);
      assert.deepEqual(now.filter((n) => leftover.includes(n)), [], 'the crashed run’s copies were removed at the next start');
      await waitUntil(async () => (await c.request(ListTasks, { limit: 100 })).tasks.every((t) => isFinal(t.status)), 120_000, 'the run to finish');
      const clean = await c.request(Shutdown, { timeout: 30, exit: false });
      assert.equal(clean.clean, true);
      assert.deepEqual(readdirSync(paths.profiles), [], 'no profile copy after shutdown');

      // Nothing of a Coupa session in the log (or the journal, or the report).
      assert.ok(cookieValues.size >= 3, `sessions were handed out (${cookieValues.size})`);
      for (const file of [paths.log, paths.journal, join(stateDir, 'out', 'po-pool-report.csv')]) {
        const text = readFileSync(file, 'utf8');
        for (const v of cookieValues) assert.ok(!text.includes(v), `${file} holds a cookie value`);
        assert.ok(!/_coupa_session=|idp_session=/.test(text), `${file} names a session cookie with its value`);
      }
    } finally {
      standin.knobs.sessionLifetimeSec = 0;
      standin.knobs.downloadLatencyMs = 0;
    }
  });
});
