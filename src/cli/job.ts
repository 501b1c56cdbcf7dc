/** `run` and `demo`: submit a list, follow it live to the end, and collect how each PO ended. */
import { isFinal, type TaskInfo } from '../protocol/types';
import type { PoolClient } from '../client/client';
import { onInterrupt, print, type Context } from './context';
import { Follower, listAllTasks, TaskTracker, type FollowEnd } from './follow';
import { formatSubmitReport, type SubmitReport } from './format';
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
  /** Where the submission report goes: stdout, or stderr when stdout is for JSON. */
  reportTo: NodeJS.WritableStream;
  reconnect: () => Promise<PoolClient | undefined>;
}

export interface JobResult {
  /** The list's tasks as they ended (or stand, when the job timed out or was interrupted). */
  tasks: TaskInfo[];
  /** Tasks done in this folder before the job: the supervisor did not run them again. */
  alreadyDone: Set<string>;
  report: SubmitReport;
  end: FollowEnd;
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
  const alreadyDone = new Set<string>();
  for (const h of result.handles) tracker.track(h.taskId, h.poNumber, 'QUEUED');
  for (const d of result.duplicates) {
    tracker.track(d.taskId, d.poNumber, d.status);
    if (isFinal(d.status)) alreadyDone.add(d.taskId);
  }
  const report = submitReport(inputs, result);
  print(options.reportTo, formatSubmitReport(report));

  follower.view = liveView(ctx.io.stderr);
  const off = onInterrupt(() => follower.stop());
  let end: FollowEnd;
  try {
    end = await follower.until(options.timeout === undefined ? undefined : options.timeout * 1000);
  } finally {
    off();
    follower.view.stop();
  }
  const ids = tracker.taskIds;
  const tasks = (await listAllTasks(follower.client, tracker.poNumbers)).filter((t) => ids.has(t.taskId));
  return { tasks, alreadyDone, report, end, wallSeconds: (Date.now() - started) / 1000, client: follower.client };
}
