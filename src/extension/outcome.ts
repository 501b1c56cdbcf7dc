/** How each task status is presented wherever it shows: trees, editor lines, the status bar. */
import { normalizePo } from '../protocol/po';
import type { TaskInfo, TaskStatus } from '../protocol/types';
import { clip, formatBytes, plural } from './format';
import type { IconSpec } from './row';

export interface StatusLook {
  title: string;
  icon: IconSpec;
  /** The gutter icon in media/icons and the colour family of the after-line text. */
  decoration: 'done' | 'partial' | 'failed' | 'running' | 'queued' | 'cancelled';
}

export const statusLooks: Record<TaskStatus, StatusLook> = {
  QUEUED: { title: 'Queued', icon: { id: 'clock', color: 'descriptionForeground' }, decoration: 'queued' },
  RUNNING: { title: 'Running', icon: { id: 'sync~spin', color: 'charts.blue' }, decoration: 'running' },
  COMPLETED: { title: 'Completed', icon: { id: 'pass-filled', color: 'testing.iconPassed' }, decoration: 'done' },
  NO_ATTACHMENTS: { title: 'No attachments', icon: { id: 'pass', color: 'testing.iconPassed' }, decoration: 'done' },
  PARTIAL: { title: 'Partial', icon: { id: 'warning', color: 'list.warningForeground' }, decoration: 'partial' },
  PO_NOT_FOUND: { title: 'PO not found', icon: { id: 'question', color: 'errorForeground' }, decoration: 'failed' },
  FAILED: { title: 'Failed', icon: { id: 'error', color: 'errorForeground' }, decoration: 'failed' },
  TIMEOUT: { title: 'Timed out', icon: { id: 'watch', color: 'errorForeground' }, decoration: 'failed' },
  CANCELLED: { title: 'Cancelled', icon: { id: 'circle-slash', color: 'disabledForeground' }, decoration: 'cancelled' },
};

/** A status inside a sentence: "failed", "timed out", but "PO not found" keeps its acronym. */
export function statusWords(status: TaskStatus): string {
  return statusLooks[status].title.replace(/^[A-Z](?=[a-z])/, (c) => c.toLowerCase());
}

/** The order results are grouped in: what worked first, then what needs a look. */
export const resultOrder: readonly TaskStatus[] = [
  'COMPLETED', 'NO_ATTACHMENTS', 'PARTIAL', 'FAILED', 'TIMEOUT', 'PO_NOT_FOUND', 'CANCELLED',
];

/** One short phrase for a task, as an editor line's after-text shows it. */
export function outcomeText(task: TaskInfo): string {
  const r = task.result;
  const reason = errorLine(task);
  const error = reason ? `: ${clip(reason, 50)}` : '';
  switch (task.status) {
    case 'QUEUED':
      return task.priority ? `… queued (priority ${task.priority})` : '… queued';
    case 'RUNNING':
      return task.workerId ? `… running on ${task.workerId}` : '… running';
    case 'COMPLETED':
      return `✓ done, ${plural(r?.files.length ?? 0, 'file')}`;
    case 'NO_ATTACHMENTS':
      return '✓ done, no attachments';
    case 'PARTIAL':
      return `⚠ partial, ${r?.files.length ?? 0} of ${plural(r?.attachments.length ?? 0, 'file')}${error}`;
    case 'CANCELLED':
      return '⊘ cancelled';
    default:
      return `✗ ${statusWords(task.status)}${error}`;
  }
}

/** Files, size and supplier of a finished PO: "3 files · 1.2 MB · ACME Corp". */
export function filesSummary(task: TaskInfo): string {
  const r = task.result;
  if (!r) return '';
  const bytes = r.files.reduce((sum, f) => sum + f.bytes, 0);
  const parts = r.files.length ? [plural(r.files.length, 'file'), formatBytes(bytes)] : ['no files'];
  if (r.supplier) parts.push(r.supplier);
  return parts.join(' · ');
}

/**
 * Why a PO did not end well, in words: every place that shows it already names the PO and its
 * status, so neither the error's class nor a leading PO number ("PO100005: not found…") is repeated.
 */
export function errorLine(task: TaskInfo): string | undefined {
  const message = task.result?.error?.message;
  return message === undefined ? undefined : withoutLeadingPo(message, task.poNumber);
}

function withoutLeadingPo(message: string, poNumber: string): string {
  const m = /^\s*([^\s:]+(?:\s\d+)?)\s*:\s*/.exec(message);
  const po = normalizePo(poNumber);
  if (!m || !po.ok) return message;
  const lead = normalizePo(m[1]);
  return lead.ok && lead.id === po.id ? message.slice(m[0].length) : message;
}
