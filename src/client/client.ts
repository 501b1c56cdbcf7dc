/**
 * How a client (the extension, the CLI, a script) reaches the user's supervisor: connect to its
 * socket, prove it is the same user with the token, and, when none is running, start one detached
 * so that it outlives the client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import {
  ConnectionError, createMessageConnection, ErrorCodes, ResponseError, SocketMessageReader, SocketMessageWriter,
  type CancellationToken, type MessageConnection, type NotificationType, type RequestType,
} from 'vscode-jsonrpc/node';
import { errorFromWire, isErrorKind, PoolError, type WireError } from '../protocol/errors';
import { Challenge, challengeProof, Hello, PROTOCOL_VERSION, type HelloResult } from '../protocol/rpc';
import { lockHolder } from '../shared/lock';
import { assertOwnedByMe, ensureOwnerOnlyDir, socketDir, statePaths, type StatePaths } from '../shared/paths';

export interface ConnectOptions {
  /** Who is connecting, for the supervisor's log. */
  clientName: string;
  stateDir?: string;
  /** Start a supervisor when none answers. */
  spawn?: boolean;
  /** The runtime to start the supervisor with (the editor's own under VS Code). Default: this process's. */
  execPath?: string;
  /** dist/supervisor.js; by default next to the calling bundle. */
  supervisorScript?: string;
  /** Extra environment for a supervisor started here. */
  env?: Record<string, string>;
  /** How long to wait for a started supervisor to answer. */
  timeoutMs?: number;
}

/** What a caller needs of a connection; `PoolClient` is the real one, tests pass fakes. */
export interface SupervisorClient {
  readonly hello: HelloResult;
  request<P, R>(type: RequestType<P, R, void>, params: P, token?: CancellationToken): Promise<R>;
  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): { dispose(): void };
  onClose(handler: () => void): { dispose(): void };
  dispose(): void;
}

export class PoolClient implements SupervisorClient {
  private closed = false;
  constructor(readonly connection: MessageConnection, readonly hello: HelloResult, readonly paths: StatePaths, private readonly socket: Socket) {
    connection.onClose(() => (this.closed = true));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * A typed request; a pool error comes back as its own class (`AuthenticationError`, ...). When the
   * token fires, the supervisor is told: a long request (starting the pool or the demo, signing
   * in, shutting down) is then answered at once with an error, and the work is stopped where it can be.
   */
  async request<P, R>(type: RequestType<P, R, void>, params: P, token?: CancellationToken): Promise<R> {
    try {
      return await this.connection.sendRequest(type, params, token);
    } catch (err) {
      throw toPoolError(err);
    }
  }

  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): { dispose(): void } {
    return this.connection.onNotification(type, handler);
  }

  onClose(handler: () => void): { dispose(): void } {
    return this.connection.onClose(handler);
  }

  dispose(): void {
    this.closed = true;
    this.connection.dispose();
    this.socket.destroy();
  }
}

/**
 * Connects to the running supervisor. When none answers and `spawn` is set, waits for one that is
 * starting (it holds the lock but does not listen yet), or starts one: several clients may do so
 * at once, and all of them reach the one supervisor that wins the lock.
 */
export async function connectToSupervisor(options: ConnectOptions): Promise<PoolClient> {
  const paths = statePaths(options.stateDir);
  const timeoutMs = options.timeoutMs ?? 20_000;
  const until = Date.now() + timeoutMs;
  let started: ChildProcess | undefined;
  for (;;) {
    try {
      return await connectOnce(paths, options.clientName);
    } catch (err) {
      if (!options.spawn || !isNotRunning(err)) throw err;
      if (Date.now() > until) {
        const holder = lockHolder(paths.lock);
        throw new PoolError(`the supervisor did not answer within ${(timeoutMs / 1000).toFixed(0)} s; see its log at ${paths.log} (${(err as Error).message})` +
          (holder ? `; ${paths.lock} names process ${holder.pid}, which is still running` : ''));
      }
    }
    // Nobody answers. A live lock holder is a supervisor starting (or ending): wait for it.
    // Otherwise start one, unless ours is still on its way to the lock. Ours may also have left
    // quietly (exit code 0), beaten by a holder that has died since: then another one starts.
    if (!lockHolder(paths.lock) && !(started && isRunning(started))) {
      if (started?.exitCode) throw new PoolError(`the supervisor ended at start with exit code ${started.exitCode}; see its log at ${paths.log}`);
      started = startSupervisor(paths, options);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a supervisor detached from this process, logging to its state folder. */
export function startSupervisor(paths: StatePaths, options: ConnectOptions): ChildProcess {
  ensureOwnerOnlyDir(paths.dir);
  const out = openSync(paths.log, 'a', 0o600);
  try {
    const child = spawn(options.execPath ?? process.execPath, [options.supervisorScript ?? join(__dirname, 'supervisor.js')], {
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, ...options.env, ELECTRON_RUN_AS_NODE: '1', PO_POOL_STATE_DIR: paths.dir },
      windowsHide: true,
    });
    child.unref();
    return child;
  } finally {
    closeSync(out);
  }
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

async function connectOnce(paths: StatePaths, clientName: string): Promise<PoolClient> {
  if (process.platform !== 'win32') {
    // A socket or folder planted by another user must not receive our token.
    assertOwnedByMe(socketDir(paths));
    assertOwnedByMe(paths.socket);
  }
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = netConnect(paths.socket);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  const connection = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
  connection.listen();
  // A supervisor killed a moment ago can still take a connection, then drop it without an answer:
  // that is none running, and the caller tries again rather than wait for the answer for ever.
  const dropped = new Promise<never>((_, reject) => connection.onClose(() => reject(droppedAt(paths))));
  dropped.catch(() => undefined);
  try {
    const token = readToken(paths);
    await Promise.race([checkKnowsToken(connection, token, paths), dropped]);
    const hello = await Promise.race([connection.sendRequest(Hello, { token, client: clientName, protocolVersion: PROTOCOL_VERSION }), dropped]);
    if (hello.protocolVersion !== PROTOCOL_VERSION) {
      throw new PoolError(`the running supervisor speaks protocol ${hello.protocolVersion}, this client ${PROTOCOL_VERSION}; stop it with "po-pool shutdown" and try again`);
    }
    return new PoolClient(connection, hello, paths, socket);
  } catch (err) {
    connection.dispose();
    socket.destroy();
    throw isBroken(err) ? droppedAt(paths) : toPoolError(err);
  }
}

function droppedAt(paths: StatePaths): Error {
  return Object.assign(new Error(`${paths.socket} closed the connection before answering`), { code: 'ECONNRESET' });
}

/** The connection broke before an answer came back: writing failed, or it was closed. */
function isBroken(err: unknown): boolean {
  return err instanceof ConnectionError ||
    (err instanceof ResponseError && (err.code === ErrorCodes.MessageWriteError || err.code === ErrorCodes.PendingResponseRejected));
}

/**
 * Whatever answers at the socket must first show it knows the token: on Windows a named pipe
 * carries no owner, so this is what stops the token going to another user's program there.
 */
async function checkKnowsToken(connection: MessageConnection, token: string, paths: StatePaths): Promise<void> {
  const nonce = randomBytes(32).toString('hex');
  let proof: unknown;
  let failure = 'a wrong proof';
  try {
    proof = (await connection.sendRequest(Challenge, { nonce })).proof;
  } catch (err) {
    if (isBroken(err)) throw err;
    failure = (toPoolError(err) as Error).message;
  }
  const expected = Buffer.from(challengeProof(token, nonce));
  const given = Buffer.from(typeof proof === 'string' ? proof : '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new PoolError(`what answers at ${paths.socket} did not show that it knows the token (${failure}), so the token was not sent; ` +
      'if an older version of the supervisor is running, end it and try again');
  }
}

function readToken(paths: StatePaths): string {
  if (process.platform !== 'win32') {
    assertOwnedByMe(paths.token);
    if ((statSync(paths.token).mode & 0o077) !== 0) throw new PoolError(`${paths.token} is readable by others; refusing to use it`);
  }
  return readFileSync(paths.token, 'utf8').trim();
}

function isNotRunning(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE';
}

export function toPoolError(err: unknown): unknown {
  if (err instanceof ResponseError) {
    const data = err.data as WireError | undefined;
    if (data && isErrorKind(data.kind)) return errorFromWire({ kind: data.kind, message: err.message, data: data.data });
    return new PoolError(err.message);
  }
  return err;
}
