/** `run` and `demo`: submit a list, follow it live to the end, and collect how each PO ended. */
import { TimeoutError } from '../protocol/errors';
import type { TaskInfo } from '../protocol/types';
import type { PoolClient } from '../client/client';
import { onInterrupt, print, type Context } from './context';
import { Follower, listAllTasks, TaskTracker } from './follow';
import { formatSubmitReport } from './format';
import { submitAll, submitReport, type Inputs } from './inputs';
import { liveView } from './live';
import { UsageError } from './outcome';

export interface JobOptions {
  priority?: number;
  redo?: boolean;
  /** Absolute: where this job's POs go. */
  downloadDir: string;
  /** Seconds. */
  timeout?: number;
  reconnect: () => Promise<PoolClient | undefined>;
}

export interface JobResult {
  /** The list's tasks as they ended (or stand, when the job was interrupted). */
  tasks: TaskInfo[];
  interrupted: boolean;
  /** From the submission to the last PO's end. */
  wallSeconds: number;
  /** The connection in use at the end (a new one after a supervisor restart). */
  client: PoolClient;
}

/** Before any browser starts: a list with nothing to do is a mistake worth showing. */
export function requirePos(ctx: Context, inputs: Inputs): void {
  if (inputs.pos.length) return;
  if (inputs.invalid.length) print(ctx.io.stdout, formatSubmitReport(submitReport(inputs, { handles: [], duplicates: [], invalid: [] })));
  throw new UsageError('no PO numbers to submit');
}

export async function runJob(ctx: Context, client: PoolClient, inputs: Inputs, options: JobOptions): Promise<JobResult> {
  const tracker = new TaskTracker();
  // Subscribed before submitting, so no change to the new tasks goes unseen.
  const follower = new Follower(client, { tracker, reconnect: options.reconnect });
  const started = Date.now();
  const result = await submitAll(client, inputs.pos, options);
  for (const h of result.handles) tracker.track(h.taskId, h.poNumber, 'QUEUED');
  for (const d of result.duplicates) tracker.track(d.taskId, d.poNumber, d.status);
  print(ctx.io.stdout, formatSubmitReport(submitReport(inputs, result)));

  follower.view = liveView(ctx.io.stderr);
  const off = onInterrupt(() => follower.stop());
  let end;
  try {
    end = await follower.until(options.timeout === undefined ? undefined : options.timeout * 1000);
  } finally {
    off();
    follower.view.stop();
  }
  if (end === 'timeout') throw new TimeoutError(`not finished after ${options.timeout} s; the pool keeps working ("po-pool status")`);
  const ids = tracker.taskIds;
  const tasks = (await listAllTasks(follower.client, tracker.poNumbers)).filter((t) => ids.has(t.taskId));
  return { tasks, interrupted: end === 'stopped', wallSeconds: (Date.now() - started) / 1000, client: follower.client };
}
