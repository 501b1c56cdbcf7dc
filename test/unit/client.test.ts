import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancellationTokenSource, createMessageConnection, SocketMessageReader, SocketMessageWriter } from 'vscode-jsonrpc/node';
import { connectToSupervisor, type PoolClient } from '../../src/client/client';
import { UnauthorizedClientError } from '../../src/protocol/errors';
import { Challenge, challengeProof, GetStatus, PROTOCOL_VERSION, SignIn, StartPool } from '../../src/protocol/rpc';
import type { PoolStatus } from '../../src/protocol/types';
import { statePaths, type StatePaths } from '../../src/shared/paths';
import { identityOf } from '../../src/shared/processTree';
import { createLogger } from '../../src/supervisor/log';
import { RpcServer } from '../../src/supervisor/rpcServer';
import type { SupervisorService } from '../../src/supervisor/service';

const TOKEN = 'a'.repeat(64);

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
}

/** The client against the real RPC server in this process, with a service that never finishes starting. */
describe('client and supervisor over the socket', () => {
  let dir: string;
  let paths: StatePaths;
  let rpc: RpcServer;
  let client: PoolClient | undefined;
  let logged: string[];
  let signInSignal: AbortSignal | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'po-client-'));
    paths = statePaths(dir);
    writeFileSync(paths.token, TOKEN, { mode: 0o600 });
    logged = [];
    signInSignal = undefined;
    const service = {
      paths,
      setBroadcast: () => undefined,
      getStatus: () => ({ supervisorPid: process.pid } as PoolStatus),
      startPool: () => new Promise(() => undefined),
    } as unknown as SupervisorService;
    rpc = new RpcServer(service, TOKEN, createLogger(undefined, (e) => logged.push(e.message)), {
      exit: () => undefined,
      signIn: (p) => {
        signInSignal = p.signal;
        return new Promise(() => undefined);
      },
    });
    await listen(rpc.server, paths.socket);
  });

  afterEach(() => {
    client?.dispose();
    client = undefined;
    rpc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const connect = async () => (client = await connectToSupervisor({ clientName: 'unit', stateDir: dir }));

  it('a cancelled sign-in is answered at once, and the sign-in is told to stop', async () => {
    const c = await connect();
    const source = new CancellationTokenSource();
    const answer = c.request(SignIn, { coupaUrl: 'https://acme.coupahost.com', profilePath: join(dir, 'profile') }, source.token);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(signInSignal?.aborted, false, 'the sign-in runs with a signal');
    const cancelledAt = Date.now();
    source.cancel();
    await assert.rejects(answer, /cancelled by the client/);
    assert.ok(Date.now() - cancelledAt < 1000, `answered ${Date.now() - cancelledAt} ms after the cancel`);
    assert.equal(signInSignal?.aborted, true);
  });

  it('a cancelled pool start is answered at once; a request not cancelled is answered as usual', async () => {
    const c = await connect();
    const source = new CancellationTokenSource();
    const answer = c.request(StartPool, { workerCount: 2 }, source.token);
    setTimeout(() => source.cancel(), 50);
    await assert.rejects(answer, /cancelled by the client/);
    assert.equal((await c.request(GetStatus, undefined, new CancellationTokenSource().token)).supervisorPid, process.pid);
  });

  it('a client sent one byte at a time gets through the message-size guard', async () => {
    const socket = await rawSocket();
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'hello', params: { token: TOKEN, client: 'slow', protocolVersion: PROTOCOL_VERSION } });
    const answer = readAll(socket);
    for (const byte of Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)) {
      socket.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => /supervisorPid/.test(answer()), 'the hello answer');
    socket.destroy();
  });

  it('headers vscode-jsonrpc would misread as a length are refused at once, however spelled', async () => {
    const headers = [
      'Content-Length: +1073741824',
      'Content-Length: 0x40000000',
      'Content-Length: 1e9',
      'content-length:\t99999999999999999999',
      'Content-Length: 20\r\n\u00c3ontent-Length: +1073741824', // read as ASCII, Ã is C: the second one counts
      'Content-Type: application/json',
      'Content-Length 20',
      `X-Padding: ${'x'.repeat(2000)}`,
    ];
    for (const header of headers) {
      const socket = await rawSocket();
      const answer = readAll(socket);
      const closed = new Promise<void>((r) => socket.once('close', () => r()));
      socket.write(Buffer.from(`${header}\r\n\r\n${'x'.repeat(64 * 1024)}`, 'latin1'));
      const sentAt = Date.now();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
      const what = JSON.stringify(header.slice(0, 60));
      assert.ok(socket.destroyed, `${what} closed the connection`);
      assert.ok(Date.now() - sentAt < 1000, `${what} closed it at once`);
      assert.match(answer(), /"error":\{"code":-32600,"message":"a /, `${what} was answered with what is wrong`);
    }
    const refusals = logged.filter((m) => /^refused connection #\d+: (a Content-Length that is not a plain number|a message larger than 16 MB|a message header)/.test(m));
    assert.equal(refusals.length, headers.length, logged.join('\n'));
  });

  async function rawSocket(): Promise<Socket> {
    const socket = netConnect(paths.socket);
    socket.on('error', () => undefined);
    await new Promise((r) => socket.once('connect', r));
    return socket;
  }
});

describe('client: a supervisor being started', () => {
  let dir: string;
  let rpc: RpcServer | undefined;
  // A script that does not exist: a client that started a supervisor would fail at once.
  const options = () => ({ clientName: 'waiting', stateDir: dir, spawn: true, supervisorScript: join(dir, 'no-such-supervisor.js') });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'po-starting-'));
    const paths = statePaths(dir);
    writeFileSync(paths.token, TOKEN, { mode: 0o600 });
    // This test's process holds the lock, as a supervisor that has not started listening yet.
    mkdirSync(paths.lock, { mode: 0o700 });
    writeFileSync(join(paths.lock, '1'), JSON.stringify(identityOf(process.pid)));
  });
  afterEach(() => {
    rpc?.close();
    rpc = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('a live lock holder that does not answer yet is waited for, and no other supervisor is started', async () => {
    setTimeout(() => {
      const paths = statePaths(dir);
      rpc = new RpcServer({ paths, setBroadcast: () => undefined } as unknown as SupervisorService, TOKEN, createLogger(undefined), {
        exit: () => undefined,
        signIn: () => new Promise(() => undefined),
      });
      rpc.server.listen(paths.socket);
    }, 700);
    const c = await connectToSupervisor({ ...options(), timeoutMs: 8_000 });
    c.dispose();
    assert.equal(c.hello.supervisorPid, process.pid);
  });

  it('one that never answers is named when the client gives up', async () => {
    await assert.rejects(connectToSupervisor({ ...options(), timeoutMs: 1_000 }),
      new RegExp(`did not answer within 1 s; .*names process ${process.pid}, which is still running`));
  });
});

describe('client: whatever answers at the socket must show it knows the token first', () => {
  let dir: string;
  let impostor: Server;
  let received: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'po-impostor-'));
    writeFileSync(statePaths(dir).token, TOKEN, { mode: 0o600 });
    received = '';
  });
  afterEach(() => {
    impostor.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A program at the supervisor's socket that answers the challenge its own way and records every byte. */
  async function impostorAnswering(challenge: (nonce: string) => unknown): Promise<void> {
    impostor = createServer((socket) => {
      socket.on('data', (d) => (received += d.toString('latin1')));
      const connection = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
      connection.onRequest(Challenge, (p) => challenge(p.nonce));
      connection.onClose(() => connection.dispose());
      connection.listen();
    });
    await listen(impostor, statePaths(dir).socket);
  }

  it('a connection dropped before any answer (a supervisor killed a moment ago) counts as none running, at once', async () => {
    for (const when of ['on accepting', 'on reading the challenge']) {
      impostor = createServer((socket) => {
        if (when === 'on accepting') socket.destroy();
        else socket.once('data', () => socket.destroy());
      });
      await listen(impostor, statePaths(dir).socket);
      await assert.rejects(connectToSupervisor({ clientName: 'client', stateDir: dir }), (err: NodeJS.ErrnoException) => err.code === 'ECONNRESET', when);
      await new Promise((r) => impostor.close(r));
    }
  });

  const answers: [string, (nonce: string) => unknown][] = [
    ['a made-up proof', () => ({ proof: '0'.repeat(64) })],
    ['a proof with another token', (nonce) => ({ proof: challengeProof('b'.repeat(64), nonce) })],
    ['a proof that is not a string', () => ({ proof: { toString: () => 'x' } })],
    ['the refusal an older supervisor gives', () => Promise.reject(new UnauthorizedClientError('say hello with the token first'))],
  ];
  for (const [what, challenge] of answers) {
    it(`${what}: the client refuses it, and the token is never sent`, async () => {
      await impostorAnswering(challenge);
      await assert.rejects(connectToSupervisor({ clientName: 'victim', stateDir: dir, spawn: true }), /did not show that it knows the token/);
      assert.match(received, /"method":"challenge"/);
      assert.ok(!received.includes(TOKEN), 'the token never reached it');
      assert.ok(!/"method":"hello"/.test(received));
    });
  }
});

function readAll(socket: Socket): () => string {
  let text = '';
  socket.on('data', (d) => (text += d.toString()));
  return () => text;
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const until = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
