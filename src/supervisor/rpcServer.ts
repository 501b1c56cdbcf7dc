/**
 * JSON-RPC on the user's socket. A connection must first say `hello` with the token from the
 * owner-only token file (it may first have the supervisor show that it knows the token, with
 * `challenge`); anything else before that is refused, logged and the connection closed.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import {
  createMessageConnection, ResponseError, SocketMessageReader, SocketMessageWriter, type CancellationToken,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import { ConfigurationError, errorCodes, PoolError, toWireError, UnauthorizedClientError } from '../protocol/errors';
import {
  CancelTask, Challenge, challengeProof, GetStatus, Hello, ListTasks, LogLine, PROTOCOL_VERSION, ReadPoFile, RestartWorker,
  RetryTasks, Shutdown, SignIn, StartDemo, StartPool, StatusChanged, SubmitTasks, TasksChanged, WorkerHealthChanged,
  type LogEntry, type ShutdownParams,
} from '../protocol/rpc';
import { readPoFileIsolated } from './listReader';
import type { Logger } from './log';
import type { SupervisorService } from './service';

export interface RpcHooks {
  /** Ends the supervisor after the current answer is sent. */
  exit(): void;
  /** `signal` aborts when the client cancels the request: the browser window should then close. */
  signIn(params: { coupaUrl: string; profilePath: string; browser?: string; timeout?: number; signal?: AbortSignal }): Promise<{ signedIn: boolean; message: string }>;
}

/** A client has this long to present its token. */
const HELLO_TIMEOUT_MS = 5_000;
/** No legitimate message comes near this (10 000 POs in one batch are about 1 MB). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** A message header is one line of about 25 bytes. */
const MAX_HEADER_BYTES = 1024;

export class RpcServer {
  readonly server: Server;
  private readonly clients = new Set<MessageConnection>();
  private connectionCount = 0;

  constructor(private readonly service: SupervisorService, private readonly token: string, private readonly log: Logger, private readonly hooks: RpcHooks) {
    this.server = createServer((socket) => this.accept(socket));
    service.setBroadcast({
      status: (s) => this.notify((c) => c.sendNotification(StatusChanged, s)),
      health: (h) => this.notify((c) => c.sendNotification(WorkerHealthChanged, h)),
      tasks: (t) => this.notify((c) => c.sendNotification(TasksChanged, t)),
    });
  }

  /** Authenticated clients attached now. */
  get attached(): number {
    return this.clients.size;
  }

  sendLog(entry: LogEntry): void {
    this.notify((c) => c.sendNotification(LogLine, entry));
  }

  close(): void {
    for (const c of this.clients) c.dispose();
    this.server.close();
  }

  private notify(send: (c: MessageConnection) => Promise<void>): void {
    for (const c of this.clients) send(c).catch(() => undefined);
  }

  private accept(socket: Socket): void {
    const id = ++this.connectionCount;
    const connection = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
    let client: string | undefined;
    let refused = false;
    const refuse = (why: string) => {
      // Once per connection: a client that keeps talking after the refusal does not flood the log.
      if (refused) return;
      refused = true;
      clearTimeout(helloTimer);
      this.log.warn(`refused connection #${id}: ${why}`);
      setTimeout(() => {
        connection.dispose();
        socket.destroy();
      }, 50);
    };
    const helloTimer = setTimeout(() => client === undefined && refuse('no hello within 5 s'), HELLO_TIMEOUT_MS);
    socket.on('error', () => undefined);
    guardFraming(socket, (why) => {
      // Not one more byte is read: whatever vscode-jsonrpc would keep is what must not pile up.
      socket.pause();
      if (!refused) {
        const body = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32600, message: why } });
        socket.end(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      }
      refuse(why);
    });
    connection.onError(([err]) => this.log.debug(`connection #${id}: ${err.message}`));
    connection.onClose(() => {
      clearTimeout(helloTimer);
      this.clients.delete(connection);
      if (client) this.log.info(`${client} (#${id}) detached`);
    });

    const guard = <P, R>(handler: (params: P, signal: AbortSignal) => R | Promise<R>) => async (params: P, token: CancellationToken): Promise<R> => {
      if (client === undefined) {
        refuse('request before hello');
        throw rpcError(new UnauthorizedClientError('say hello with the token first'));
      }
      try {
        return await handler(params, abortSignal(token));
      } catch (err) {
        throw rpcError(err);
      }
    };

    connection.onRequest(Challenge, (params) => {
      if (typeof params?.nonce !== 'string' || !/^[0-9a-f]{32,128}$/i.test(params.nonce)) {
        refuse('a challenge without a nonce of 32 to 128 hex digits');
        throw rpcError(new UnauthorizedClientError('the nonce must be 32 to 128 hex digits'));
      }
      return { proof: challengeProof(this.token, params.nonce) };
    });
    connection.onRequest(Hello, (params) => {
      if (!params || typeof params.token !== 'string' || !sameToken(params.token, this.token)) {
        // A connection that already proved itself keeps its standing; a new one is closed.
        if (client === undefined) refuse(`wrong or missing token from ${String(params?.client ?? 'an unnamed client').slice(0, 40)}`);
        else this.log.warn(`${client} (#${id}) said hello again with a wrong token; its connection stays as it was`);
        throw rpcError(new UnauthorizedClientError('wrong token'));
      }
      clearTimeout(helloTimer);
      client = String(params.client ?? 'client').slice(0, 40);
      this.clients.add(connection);
      this.log.info(`${client} (#${id}) attached`);
      return { supervisorPid: process.pid, protocolVersion: PROTOCOL_VERSION, stateDir: this.service.paths.dir, logFile: this.service.paths.log };
    });
    connection.onRequest(StartPool, guard((p, signal) => untilCancelled(this.service.startPool(object(p, 'config'), false, signal), signal)));
    connection.onRequest(StartDemo, guard((p, signal) => untilCancelled(this.service.startDemo(object(p, 'params'), signal), signal)));
    connection.onRequest(SubmitTasks, guard((p) => this.service.submit(object(p, 'params'))));
    connection.onRequest(GetStatus, guard(() => this.service.getStatus()));
    connection.onRequest(ListTasks, guard((p) => this.service.store.list(p ?? {})));
    connection.onRequest(CancelTask, guard((p) => this.service.cancelTask(text(object(p, 'params').taskId, 'taskId'))));
    connection.onRequest(RetryTasks, guard((p) => this.service.retryTasks(p?.taskIds)));
    connection.onRequest(RestartWorker, guard((p) => this.service.restartWorker(text(object(p, 'params').workerId, 'workerId'))));
    connection.onRequest(ReadPoFile, guard((p) => readPoFileIsolated(text(object(p, 'params').path, 'path'), p.pattern)));
    connection.onRequest(SignIn, guard((p, signal) => untilCancelled(this.hooks.signIn({ ...object(p, 'params'), signal }), signal)));
    connection.onRequest(Shutdown, guard((p, signal) => untilCancelled(this.shutdown(p, signal), signal)));
    connection.listen();
  }

  private async shutdown(p: ShutdownParams | undefined, signal: AbortSignal): Promise<{ clean: boolean }> {
    const clean = await this.service.shutdownPool(p?.timeout, p?.force, signal);
    if (p?.exit !== false) this.hooks.exit();
    return { clean };
  }
}

/**
 * vscode-jsonrpc buffers a whole message before parsing it, and reads Content-Length with parseInt,
 * which also takes "+1073741824", "0x40000000" or "2e9": one header could make it wait for, and
 * keep, any number of bytes. So the framing is followed here as the bytes arrive, and a header it
 * would read as anything but a plain number within the cap ends the connection first.
 */
function guardFraming(socket: Socket, onRefuse: (why: string) => void): void {
  let header = '';
  let bodyLeft = 0;
  const onData = (chunk: Buffer) => {
    let at = 0;
    while (at < chunk.length) {
      if (bodyLeft > 0) {
        const skipped = Math.min(bodyLeft, chunk.length - at);
        bodyLeft -= skipped;
        at += skipped;
        continue;
      }
      const seen = header.length;
      header += chunk.toString('latin1', at, Math.min(chunk.length, at + MAX_HEADER_BYTES - seen));
      const end = header.indexOf('\r\n\r\n');
      if (end < 0 && header.length < MAX_HEADER_BYTES) return;
      const length = end < 0 ? `a message header longer than ${MAX_HEADER_BYTES} bytes` : contentLength(header.slice(0, end));
      if (typeof length === 'string') {
        socket.off('data', onData);
        onRefuse(length);
        return;
      }
      at += end + 4 - seen;
      header = '';
      bodyLeft = length;
    }
  };
  socket.on('data', onData);
}

/** The body's length from a message header, or what is wrong with it. */
function contentLength(header: string): number | string {
  let length: number | undefined;
  // Read as vscode-jsonrpc reads it: as ASCII (the top bit of each byte dropped), names in any case
  // but untrimmed, values trimmed, the last Content-Length counting.
  for (const line of Buffer.from(header, 'latin1').toString('ascii').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) return `a message header line without ":" (${JSON.stringify(line.slice(0, 40))})`;
    if (line.slice(0, colon).toLowerCase() !== 'content-length') continue;
    const value = line.slice(colon + 1).trim();
    if (!/^\d+$/.test(value)) return `a Content-Length that is not a plain number (${JSON.stringify(value.slice(0, 40))})`;
    length = Number(value);
    if (length > MAX_MESSAGE_BYTES) return `a message larger than ${MAX_MESSAGE_BYTES / 1024 / 1024} MB`;
  }
  return length ?? 'a message header without Content-Length';
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function rpcError(err: unknown): ResponseError<unknown> {
  if (err instanceof ResponseError) return err;
  const wire = toWireError(err);
  return new ResponseError(errorCodes[wire.kind], wire.message, wire);
}

function object<T>(value: T, name: string): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigurationError(name, 'must be an object');
  return value;
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigurationError(name, 'must be a non-empty string');
  return value;
}

function abortSignal(token: CancellationToken): AbortSignal {
  const controller = new AbortController();
  if (token.isCancellationRequested) controller.abort();
  else token.onCancellationRequested(() => controller.abort());
  return controller.signal;
}

/**
 * The work's answer, or an error as soon as the client cancels: it is no longer waiting, and the
 * work itself stops where it is handed the signal.
 */
function untilCancelled<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancelled = () => reject(new PoolError('cancelled by the client'));
    if (signal.aborted) cancelled();
    signal.addEventListener('abort', cancelled, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', cancelled));
  });
}
