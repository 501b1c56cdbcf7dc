/**
 * The Results view as data: finished POs grouped by outcome with counts, the most recent first,
 * each opening its folder; failures show their error.
 */
import { basename } from 'node:path';
import type { ListTasksResult } from '../protocol/rpc';
import { successStatuses, type DownloadedFile, type OutcomeStatus, type PoolStatus, type TaskInfo, type TaskStatus } from '../protocol/types';
import { clip, formatBytes, formatCount, plural } from './format';
import { evidenceOf } from './failureModel';
import { errorLine, filesSummary, resultOrder, statusLooks } from './outcome';
import type { Row } from './row';

export const RESULTS_PAGE = 200;

export type ResultNode =
  | { kind: 'status'; status: TaskStatus; count: number }
  | { kind: 'result'; task: TaskInfo }
  | { kind: 'file'; taskId: string; file: DownloadedFile }
  /** `status` is absent in the ungrouped list. */
  | { kind: 'more'; status?: TaskStatus; remaining: number };

export function resultGroups(status: PoolStatus | undefined): ResultNode[] {
  if (!status) return [];
  return resultOrder
    .filter((s) => (status.counts[s] ?? 0) > 0)
    .map((s) => ({ kind: 'status', status: s, count: status.counts[s] ?? 0 }));
}

/** The page to ask for: the newest tasks of a status are at the end of queue order. */
export function newestPage(total: number): { offset: number; limit: number } {
  return { offset: Math.max(0, total - RESULTS_PAGE), limit: RESULTS_PAGE };
}

export function resultChildren(status: TaskStatus | undefined, page: ListTasksResult): ResultNode[] {
  const newestFirst = [...page.tasks].sort((a, b) => (b.finishedAt ?? 0) - (a.finishedAt ?? 0));
  const nodes: ResultNode[] = newestFirst.map((task) => ({ kind: 'result', task }));
  const remaining = page.total - page.tasks.length;
  if (remaining > 0) nodes.push({ kind: 'more', status, remaining });
  return nodes;
}

export function fileChildren(task: TaskInfo): ResultNode[] {
  return (task.result?.files ?? []).map((file) => ({ kind: 'file', taskId: task.taskId, file }));
}

export function isRetryable(status: TaskStatus): boolean {
  return status !== 'QUEUED' && status !== 'RUNNING' && !successStatuses.includes(status as OutcomeStatus);
}

export function resultRow(node: ResultNode): Row {
  switch (node.kind) {
    case 'status': {
      const look = statusLooks[node.status];
      return {
        id: `status:${node.status}`,
        label: look.title,
        description: formatCount(node.count),
        tooltip: `${plural(node.count, 'PO')}: ${look.title.toLowerCase()}`,
        icon: look.icon,
        contextValue: `resultGroup${isRetryable(node.status) ? '.retryable' : ''}`,
        collapsible: 'collapsed',
      };
    }
    case 'more':
      return {
        id: `more:${node.status ?? 'all'}`,
        label: `… ${formatCount(node.remaining)} more`,
        description: '',
        tooltip: `Only the newest ${RESULTS_PAGE} are listed; click to open po-pool-report.csv, which has every PO.`,
        icon: { id: 'ellipsis' },
        contextValue: 'resultMore',
      };
    case 'file':
      return {
        id: `file:${node.taskId}:${node.file.name}`,
        label: node.file.name,
        description: formatBytes(node.file.bytes),
        tooltip: [
          node.file.path,
          node.file.originalName !== node.file.name ? `Named in Coupa: ${node.file.originalName}` : undefined,
          `SHA-256 ${node.file.sha256}`,
        ].filter(Boolean).join('\n'),
        icon: { id: 'file' },
        contextValue: 'resultFile',
      };
    case 'result':
      return resultTaskRow(node.task);
  }
}

function resultTaskRow(task: TaskInfo): Row {
  const r = task.result;
  const error = errorLine(task);
  const files = r?.files.length ?? 0;
  const summary = filesSummary(task);
  const description = error && task.status !== 'PARTIAL' ? clip(error, 80) : [summary, error && clip(error, 60)].filter(Boolean).join(' · ');
  const flags = [isRetryable(task.status) ? 'retryable' : '', r?.folder ? 'folder' : '', evidenceOf(task) ? 'evidence' : ''].filter(Boolean);
  return {
    id: `result:${task.taskId}`,
    label: task.poNumber,
    description,
    tooltip: [
      `${task.poNumber}: ${statusLooks[task.status].title}`,
      r?.supplier ? `Supplier: ${r.supplier}` : undefined,
      files ? `Files: ${r!.files.map((f) => f.name).join(', ')}` : undefined,
      r?.folder ? `Folder: ${r.folder}` : undefined,
      r?.source === 'requisition' ? 'Attachments found on the requisition' : undefined,
      error ? `Error: ${error}` : undefined,
      r ? `Attempts: ${r.attempts}${r.workerId ? ` · last on ${r.workerId}` : ''}` : undefined,
      task.finishedAt ? `Finished ${new Date(task.finishedAt).toLocaleString()}` : undefined,
    ].filter(Boolean).join('\n'),
    icon: statusLooks[task.status].icon,
    contextValue: ['result', ...flags].join('.'),
    collapsible: files > 0 ? 'collapsed' : undefined,
  };
}

/** A folder row reveals the folder; a single-file PO opens nothing by itself. */
export function resultTarget(task: TaskInfo): string | undefined {
  return task.result?.folder ?? (task.result?.files[0] ? dirOf(task.result.files[0].path) : undefined);
}

function dirOf(path: string): string {
  return path.slice(0, path.length - basename(path).length).replace(/[\\/]$/, '');
}
