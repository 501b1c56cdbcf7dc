/**
 * The contract's Worker: runs POs one at a time, each in its own tab of the shared browser session,
 * and gets the session back by itself when it can.
 */
import { processPo as runAdapter } from '../coupa/adapter';
import { saveEvidence } from '../coupa/evidence';
import {
  AuthenticationError, errorFromWire, PoolError, SessionCorruptionError, TimeoutError, toWireError, type WireError,
} from '../protocol/errors';
import type { POResult } from '../protocol/types';
import type { WorkerHealthSnapshot, WorkerTask } from '../protocol/workerMessages';
import type { BrowserSession, TabHandle } from './browserSession';

export interface WorkerOptions {
  baseUrl: string;
  maxDownloadBytes: number;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

export const SIGN_IN_ADVICE = 'run "PO Pool: Sign in to Coupa" (or `po-pool login`), then retry';

/** Beyond the deadline the adapter keeps itself: a wedged browser call must still not hold the task. */
const HARD_STOP_GRACE_MS = 5_000;

export class Worker {
  private tasksDone = 0;
  private current?: { task: WorkerTask; done: Promise<unknown> };
  private lastError?: WireError & { at: number };
  private terminated = false;

  constructor(private readonly session: BrowserSession, private readonly options: WorkerOptions) {}

  async processPo(task: WorkerTask): Promise<POResult> {
    if (this.terminated) throw new SessionCorruptionError('the worker is shutting down');
    if (this.current) throw new SessionCorruptionError(`the worker is busy with ${this.current.task.poNumber}`);
    const work = this.run(task);
    this.current = { task, done: work.catch(() => undefined) };
    try {
      return await work;
    } catch (err) {
      this.lastError = { ...toWireError(err), at: Date.now() };
      throw err;
    } finally {
      this.tasksDone++;
      this.current = undefined;
    }
  }

  /** One tab for the whole task, so what it shows at the end can be kept as evidence before it closes. */
  private async run(task: WorkerTask): Promise<POResult> {
    const deadline = Date.now() + task.timeoutMs;
    const tab = await this.session.createTab(task.taskId);
    let timer: NodeJS.Timeout | undefined;
    try {
      const hardStop = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimeoutError(`${task.poNumber}: did not finish within ${Math.round(task.timeoutMs / 1000)} s`)),
          Math.max(0, deadline - Date.now()) + HARD_STOP_GRACE_MS);
      });
      const result = await Promise.race([this.attempts(tab, task, deadline), hardStop]);
      if (result.status !== 'PARTIAL') return result;
      return { ...result, evidence: await saveEvidence(tab.page, task.downloadDir, task.poNumber, 'PARTIAL') };
    } catch (err) {
      // A tab that died with its browser is the session's loss, not the PO's.
      if (this.session.isLost && !(err instanceof PoolError && err.kind === 'TimeoutError')) {
        throw new SessionCorruptionError(`${task.poNumber}: the browser went away during the task`);
      }
      throw await withEvidence(err, tab, task);
    } finally {
      clearTimeout(timer);
      // Closing the tab also makes every browser call still waiting in the adapter (after a hard stop) fail, so it cleans up.
      await this.session.closeTab(tab);
    }
  }

  /**
   * The adapter renews an ended session itself; when it still ends with AuthenticationError (the
   * session ended again at once, say), the session is recovered once more and the PO run again.
   */
  private async attempts(tab: TabHandle, task: WorkerTask, deadline: number): Promise<POResult> {
    const attempt = () => runAdapter(tab.page, task.poNumber, {
      baseUrl: this.options.baseUrl,
      downloadDir: task.downloadDir,
      maxDownloadBytes: this.options.maxDownloadBytes,
      deadline,
      renewSession: () => this.session.recoverSession(),
      log: this.options.log,
    });
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof AuthenticationError)) throw err;
      this.options.log?.('info', `${task.poNumber}: ${err.message}; recovering the session`);
      if (!(await this.session.recoverSession())) {
        throw new AuthenticationError(`the Coupa session has ended and could not be renewed without a person: ${SIGN_IN_ADVICE}`,
          { poNumber: task.poNumber });
      }
    }
    try {
      return await attempt();
    } catch (err) {
      if (err instanceof AuthenticationError) {
        throw new AuthenticationError(`the Coupa session ended again right after it was renewed: ${SIGN_IN_ADVICE}`, { poNumber: task.poNumber });
      }
      throw err;
    }
  }

  /** Memory is added by the process that owns the browser (main.ts), which can see its processes. */
  getHealthStatus(): Omit<WorkerHealthSnapshot, 'memoryBytes'> {
    const startedAt = this.session.startedAt;
    return {
      ...(startedAt ? { sessionStartedAt: startedAt } : {}),
      sessionUptimeMs: startedAt ? Date.now() - startedAt : 0,
      tasksDone: this.tasksDone,
      ...(this.current ? { currentTaskId: this.current.task.taskId, currentPo: this.current.task.poNumber } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** Lets the current PO finish unless `force`, then closes the browser session. */
  async terminate(force = false): Promise<void> {
    this.terminated = true;
    if (!force && this.current) await this.current.done;
    await this.session.close(force ? 5_000 : 10_000);
  }
}

/** The same error, with the paths of what the tab showed in `data.evidence` when any could be saved. */
async function withEvidence(err: unknown, tab: TabHandle, task: WorkerTask): Promise<unknown> {
  const wire = toWireError(err);
  const evidence = await saveEvidence(tab.page, task.downloadDir, task.poNumber, wire.kind);
  if (!evidence.screenshot && !evidence.html) return err;
  return errorFromWire({ ...wire, data: { ...wire.data, evidence } });
}
