/** What `run --json` and `wait --json` print: the verdict, then one record per PO, for scripts. */
import type { DownloadedFile, TaskInfo, TaskStatus } from '../protocol/types';
import { countStatuses, type InvalidEntry } from './format';
import { isSuccess } from './outcome';

export interface PoOutcome {
  poNumber: string;
  status: TaskStatus;
  /** Ended COMPLETED or NO_ATTACHMENTS. */
  ok: boolean;
  /** `run` only: done in this folder by an earlier run, so nothing was downloaded for it now. */
  alreadyDone?: boolean;
  tenant: string;
  downloadDir: string;
  /** `<downloadDir>/<PO>`, when any file was kept. */
  folder?: string;
  supplier?: string;
  files: DownloadedFile[];
  error?: { kind: string; message: string };
  attempts?: number;
  taskId: string;
}

export interface OutcomeJson {
  /** The process's exit code, also given here for scripts that only keep the output. */
  exitCode: number;
  /** `--timeout` passed first: some POs are still QUEUED or RUNNING, and the pool keeps working on them. */
  timedOut: boolean;
  counts: Partial<Record<TaskStatus, number>>;
  pos: PoOutcome[];
}

export interface RunJson extends OutcomeJson {
  downloadDir: string;
  report: string;
  /** Input that was not a PO number, with where it came from. */
  invalid: InvalidEntry[];
}

export function poOutcome(task: TaskInfo, alreadyDone?: boolean): PoOutcome {
  const r = task.result;
  return {
    poNumber: task.poNumber,
    status: task.status,
    ok: isSuccess(task.status),
    ...(alreadyDone !== undefined ? { alreadyDone } : {}),
    tenant: task.tenant,
    downloadDir: task.downloadDir,
    ...(r?.folder ? { folder: r.folder } : {}),
    ...(r?.supplier !== undefined ? { supplier: r.supplier } : {}),
    files: r?.files ?? [],
    ...(r?.error ? { error: { kind: r.error.kind, message: r.error.message } } : {}),
    ...(r ? { attempts: r.attempts } : {}),
    taskId: task.taskId,
  };
}

export function outcomeJson(tasks: TaskInfo[], exitCode: number, timedOut: boolean, alreadyDone?: Set<string>): OutcomeJson {
  return {
    exitCode,
    timedOut,
    counts: countStatuses(tasks),
    pos: tasks.map((t) => poOutcome(t, alreadyDone && alreadyDone.has(t.taskId))),
  };
}
