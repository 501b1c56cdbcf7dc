/**
 * Failed POs where VS Code shows problems: a diagnostic per failed line of a PO list, a badge on
 * the list file, the evidence the worker saved, the PO's page in Coupa, and the notice at the end
 * of a batch.
 */
import { normalizePo } from '../protocol/po';
import type { Evidence, PoolStatus, TaskInfo, TaskStatus } from '../protocol/types';
import type { PoLines } from './decorationsModel';
import { formatCount, plural } from './format';
import { errorLine, statusWords } from './outcome';

/** What the Problems panel and the "Retry PO" quick fix name as the diagnostics' source. */
export const DIAGNOSTIC_SOURCE = 'PO Pool';

export interface LineProblem {
  /** 0-based editor line. */
  line: number;
  severity: 'error' | 'warning';
  message: string;
  taskId: string;
}

const problemSeverity: Partial<Record<TaskStatus, LineProblem['severity']>> = {
  PARTIAL: 'warning',
  PO_NOT_FOUND: 'error',
  FAILED: 'error',
  TIMEOUT: 'error',
};

export function lineProblems(lines: ReadonlyMap<string, PoLines>, latest: ReadonlyMap<string, TaskInfo>): LineProblem[] {
  const out: LineProblem[] = [];
  for (const [id, where] of lines) {
    const task = latest.get(id);
    const severity = task && problemSeverity[task.status];
    if (!task || !severity) continue;
    const reason = errorLine(task);
    const message = `${task.poNumber}: ${statusWords(task.status)}${reason ? `: ${reason}` : ''}`;
    for (const line of where.lines) out.push({ line, severity, message, taskId: task.taskId });
  }
  return out.sort((a, b) => a.line - b.line);
}

/** The badge of a list file in the Explorer and on its tab: failed POs, at most two characters. */
export function failedBadge(problems: readonly LineProblem[]): { badge: string; tooltip: string } | undefined {
  const failed = new Set(problems.map((p) => p.taskId)).size;
  if (!failed) return undefined;
  return { badge: failed > 99 ? '99' : String(failed), tooltip: `PO Pool: ${plural(failed, 'PO')} did not end well` };
}

export interface Lens {
  title: string;
  tooltip: string;
  command: string;
  args: unknown[];
}

/**
 * "▶ Process 120 POs" and "Retry 5 failed" on a list's first line; nothing on a file without POs.
 * `file` is what "Process POs in File" takes for this list, absent when it is not a file on disk.
 */
export function listLens(poCount: number, problems: readonly LineProblem[], file?: unknown): Lens[] {
  if (!poCount) return [];
  const lenses: Lens[] = [];
  if (file) {
    lenses.push({
      title: `▶ Process ${plural(poCount, 'PO')}`,
      tooltip: 'Queue every PO of this list (POs already done come back as duplicates)',
      command: 'poPool.processFile',
      args: [file],
    });
  }
  const taskIds = [...new Set(problems.map((p) => p.taskId))];
  if (taskIds.length) lenses.push({ title: `Retry ${formatCount(taskIds.length)} failed`, tooltip: 'Run the POs of this list that did not end well again', command: 'poPool.retryFailed', args: [{ taskIds }] });
  return lenses;
}

/** The screenshot and HTML of the tab a PO failed in: on the result, or on the error that ended it. */
export function evidenceOf(task: TaskInfo): Evidence | undefined {
  const r = task.result;
  const found = r?.evidence ?? (r?.error?.data?.evidence as Evidence | undefined);
  if (!found || typeof found !== 'object') return undefined;
  const evidence: Evidence = {};
  if (typeof found.screenshot === 'string') evidence.screenshot = found.screenshot;
  if (typeof found.html === 'string') evidence.html = found.html;
  return evidence.screenshot || evidence.html ? evidence : undefined;
}

/** What "Show Failure" and "Open in Coupa" need of a task, small enough for a hover's command link. */
export interface FailureTarget {
  poNumber: string;
  tenant: string;
  evidence?: Evidence;
}

export function failureTarget(task: TaskInfo): FailureTarget {
  const evidence = evidenceOf(task);
  return { poNumber: task.poNumber, tenant: task.tenant, ...(evidence ? { evidence } : {}) };
}

/** Markdown links for a PO line's hover; the hover must trust exactly these commands. */
export const HOVER_COMMANDS = ['poPool.showFailure', 'poPool.openInCoupa'] as const;

export function hoverLinks(task: TaskInfo): string {
  const arg = encodeURIComponent(JSON.stringify([failureTarget(task)]));
  const links = [];
  if (evidenceOf(task)) links.push(`[Show Failure](command:poPool.showFailure?${arg} "The page the worker saw when the PO failed")`);
  if (task.result) links.push(`[Open in Coupa](command:poPool.openInCoupa?${arg} "The PO's page on the tenant")`);
  return links.join(' · ');
}

/**
 * The PO's page as a worker opens it: `<tenant>/order_headers/<id>`. A demo task's tenant is
 * `demo`, whose address is the running stand-in's.
 */
export function coupaPoUrl(task: Pick<TaskInfo, 'poNumber' | 'tenant'>, demoUrl?: string): string | undefined {
  const po = normalizePo(task.poNumber);
  const base = task.tenant === 'demo' ? demoUrl : task.tenant;
  if (!po.ok || !base || !/^https?:\/\//i.test(base)) return undefined;
  return `${base.replace(/\/+$/, '')}/order_headers/${po.id}`;
}

export interface BatchEnd {
  message: string;
  failed: number;
}

const notDone: readonly TaskStatus[] = ['PARTIAL', 'PO_NOT_FOUND', 'FAILED', 'TIMEOUT'];

/**
 * Watches statuses for a batch: it starts when work appears and ends when nothing is queued or
 * running any more; the end is told once, with what this batch did (counts since it started).
 */
export class BatchWatch {
  private startCounts?: PoolStatus['counts'];

  next(status: PoolStatus): BatchEnd | undefined {
    const busy = status.queueDepth + status.running > 0;
    if (busy) {
      this.startCounts ??= { ...status.counts };
      return undefined;
    }
    const start = this.startCounts;
    if (!start) return undefined;
    this.startCounts = undefined;
    const since = (s: TaskStatus) => Math.max(0, (status.counts[s] ?? 0) - (start[s] ?? 0));
    const done = since('COMPLETED') + since('NO_ATTACHMENTS');
    const failed = notDone.reduce((n, s) => n + since(s), 0);
    const cancelled = since('CANCELLED');
    if (done + failed + cancelled === 0) return undefined;
    const parts = done || !(failed + cancelled) ? [`${plural(done, 'PO')} done`] : [];
    if (failed) parts.push(`${plural(failed, 'PO')} did not end well`);
    if (cancelled) parts.push(`${plural(cancelled, 'PO')} cancelled`);
    return { message: `Batch finished: ${parts.join(', ')}.`, failed };
  }

  /** After a reconnect the counts may have moved while nobody watched: start from what is now. */
  reset(status: PoolStatus): void {
    this.startCounts = status.queueDepth + status.running > 0 ? { ...status.counts } : undefined;
  }
}
