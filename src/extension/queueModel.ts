/**
 * The Queue view as data. A queue can hold tens of thousands of POs: each group shows a page from
 * `ListTasks` (in queue order: priority first) and one "… N more" row for the rest.
 */
import type { ListTasksResult } from '../protocol/rpc';
import type { PoolStatus, TaskInfo } from '../protocol/types';
import { formatCount, formatDuration, plural } from './format';
import { statusLooks } from './outcome';
import type { Row } from './row';

/** Enough to see what comes next; more would only slow the tree down. */
export const QUEUE_PAGE = 300;

export type QueueGroup = 'RUNNING' | 'QUEUED';

export type QueueNode =
  | { kind: 'group'; group: QueueGroup; count: number }
  | { kind: 'task'; task: TaskInfo }
  | { kind: 'more'; group: QueueGroup; remaining: number };

export function queueGroups(status: PoolStatus | undefined): QueueNode[] {
  if (!status) return [];
  const groups: QueueNode[] = [];
  if (status.running > 0) groups.push({ kind: 'group', group: 'RUNNING', count: status.running });
  if (status.queueDepth > 0) groups.push({ kind: 'group', group: 'QUEUED', count: status.queueDepth });
  return groups;
}

export function groupChildren(group: QueueGroup, page: ListTasksResult): QueueNode[] {
  const nodes: QueueNode[] = page.tasks.map((task) => ({ kind: 'task', task }));
  const remaining = page.total - page.tasks.length;
  if (remaining > 0) nodes.push({ kind: 'more', group, remaining });
  return nodes;
}

export function queueRow(node: QueueNode, now: number): Row {
  switch (node.kind) {
    case 'group':
      return {
        id: `group:${node.group}`,
        label: node.group === 'RUNNING' ? 'Running' : 'Queued',
        description: formatCount(node.count),
        tooltip: node.group === 'RUNNING'
          ? `${plural(node.count, 'PO')} on a worker now`
          : `${plural(node.count, 'PO')} waiting, highest priority first`,
        icon: statusLooks[node.group].icon,
        contextValue: `queueGroup.${node.group.toLowerCase()}`,
        collapsible: 'expanded',
      };
    case 'more':
      return {
        id: `more:${node.group}`,
        label: `… ${formatCount(node.remaining)} more`,
        description: '',
        tooltip: `Only the first ${QUEUE_PAGE} are listed; the status panel counts them all.`,
        icon: { id: 'ellipsis' },
        contextValue: 'queueMore',
      };
    case 'task':
      return taskRow(node.task, now);
  }
}

function taskRow(task: TaskInfo, now: number): Row {
  const running = task.status === 'RUNNING';
  const parts: string[] = [];
  if (running) {
    if (task.workerId) parts.push(`on ${task.workerId}`);
    if (task.startedAt) parts.push(formatDuration((now - task.startedAt) / 1000));
  } else {
    parts.push(`priority ${task.priority}`);
    parts.push(`waiting ${formatDuration((now - task.submittedAt) / 1000)}`);
  }
  if (task.retryCount > 0) parts.push(`retry ${task.retryCount}`);
  return {
    id: `task:${task.taskId}`,
    label: task.poNumber,
    description: parts.join(' · '),
    tooltip: [
      `${task.poNumber}: ${running ? 'running' : 'queued'}`,
      `Task ${task.taskId}, priority ${task.priority}`,
      `Submitted ${new Date(task.submittedAt).toLocaleString()}`,
      task.retryCount ? `Retried ${plural(task.retryCount, 'time')}` : undefined,
    ].filter(Boolean).join('\n'),
    icon: statusLooks[task.status].icon,
    contextValue: `task.${task.status.toLowerCase()}`,
  };
}
