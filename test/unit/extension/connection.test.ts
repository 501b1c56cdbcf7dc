import { strict as assert } from 'node:assert';
import type { NotificationType, RequestType } from 'vscode-jsonrpc';
import { GetStatus, StatusChanged, TasksChanged, WorkerHealthChanged, type HelloResult } from '../../../src/protocol/rpc';
import type { PoolStatus, TaskInfo } from '../../../src/protocol/types';
import { Backoff } from '../../../src/extension/backoff';
import type { SupervisorClient } from '../../../src/client/client';
import { SupervisorConnection, type ConnectionState } from '../../../src/extension/connection';

const status = (state: PoolStatus['state'], queueDepth = 0) => ({ state, queueDepth, workers: [], counts: {} }) as unknown as PoolStatus;

class FakeClient implements SupervisorClient {
  readonly hello: HelloResult;
  private handlers = new Map<string, (p: unknown) => void>();
  private closers: (() => void)[] = [];
  disposed = false;
  tokens: unknown[] = [];
  constructor(pid: number, private readonly current: () => PoolStatus) {
    this.hello = { supervisorPid: pid, protocolVersion: 1, stateDir: '/s', logFile: '/s/supervisor.log' };
  }
  async request<P, R>(type: RequestType<P, R, void>, _params: P, token?: unknown): Promise<R> {
    this.tokens.push(token);
    if (type.method === GetStatus.method) return this.current() as R;
    throw new Error(`unexpected ${type.method}`);
  }
  onNotification<P>(type: NotificationType<P>, handler: (p: P) => void) {
    this.handlers.set(type.method, handler as (p: unknown) => void);
    return { dispose: () => this.handlers.delete(type.method) };
  }
  onClose(handler: () => void) {
    this.closers.push(handler);
    return { dispose: () => undefined };
  }
  notify<P>(type: NotificationType<P>, params: P): void {
    this.handlers.get(type.method)?.(params);
  }
  close(): void {
    for (const c of this.closers) c();
  }
  dispose(): void {
    this.disposed = true;
  }
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('extension: pool session', () => {
  const sessions: SupervisorConnection[] = [];
  afterEach(() => sessions.splice(0).forEach((s) => s.dispose()));

  it('hands a request\'s cancellation token to the client, so Cancel reaches the supervisor', async () => {
    const client = new FakeClient(12, () => status('READY'));
    const session = new SupervisorConnection(async () => client);
    sessions.push(session);
    const token = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose: () => undefined }) };
    await session.request(GetStatus, undefined, token);
    assert.equal(client.tokens.at(-1), token);
  });

  it('connects in the background, rebuilds from GetStatus and republishes notifications', async () => {
    let supervisor = status('READY');
    const client = new FakeClient(11, () => supervisor);
    const session = new SupervisorConnection(async () => client);
    sessions.push(session);
    const resets: PoolStatus[] = [];
    const tasks: TaskInfo[][] = [];
    session.onDidReset((s) => resets.push(s));
    session.onDidChangeTasks((t) => tasks.push(t));
    session.start();
    await session.client();
    assert.equal(session.state.kind, 'connected');
    assert.equal(resets[0].state, 'READY');
    supervisor = status('PROCESSING', 5);
    client.notify(StatusChanged, supervisor);
    assert.equal(session.status?.queueDepth, 5);
    client.notify(TasksChanged, [{ taskId: 't1' } as TaskInfo]);
    assert.deepEqual(tasks, [[{ taskId: 't1' }]]);
    const workers: unknown[] = [];
    session.onDidChangeWorkers((w) => workers.push(w));
    client.notify(WorkerHealthChanged, []);
    assert.equal(workers.length, 1);
  });

  it('reconnects when the socket drops, and resets the views from the new supervisor', async () => {
    let pid = 20;
    const clients: FakeClient[] = [];
    const session = new SupervisorConnection(async () => {
      const c = new FakeClient(++pid, () => status('READY', pid));
      clients.push(c);
      return c;
    }, new Backoff({ initialMs: 5, jitter: 0 }));
    sessions.push(session);
    const states: ConnectionState['kind'][] = [];
    const resets: number[] = [];
    session.onDidChangeConnection((s) => states.push(s.kind));
    session.onDidReset((s) => resets.push(s.queueDepth));
    await session.client();
    clients[0].close();
    await tick(10);
    assert.equal(session.state.kind, 'connected');
    assert.deepEqual(resets, [21, 22], 'rebuilt from the second supervisor');
    assert.deepEqual(states, ['connecting', 'connected', 'connecting', 'connected']);
    assert.ok(clients[0].disposed);
  });

  it('backs off while no supervisor answers, and a command tries at once and hears why it failed', async () => {
    let attempts = 0;
    let up = false;
    const session = new SupervisorConnection(async () => {
      attempts++;
      if (!up) throw new Error('connect ENOENT supervisor.sock');
      return new FakeClient(30, () => status('READY'));
    }, new Backoff({ initialMs: 40, jitter: 0 }));
    sessions.push(session);
    session.start();
    await tick(5);
    assert.equal(session.state.kind, 'retrying');
    assert.match((session.state as { error: string }).error, /ENOENT/);
    await assert.rejects(session.client(), /ENOENT/);
    const before = attempts;
    up = true;
    await tick(100);
    assert.ok(attempts > before, 'retried after the backoff');
    assert.equal(session.state.kind, 'connected');
  });

  it('stops reconnecting once disposed, leaving the supervisor alone', async () => {
    const client = new FakeClient(40, () => status('READY'));
    let connects = 0;
    const session = new SupervisorConnection(async () => {
      connects++;
      return client;
    }, new Backoff({ initialMs: 1, jitter: 0 }));
    await session.client();
    session.dispose();
    client.close();
    await tick(10);
    assert.equal(connects, 1);
    await assert.rejects(session.client(), /shutting down/);
  });
});
