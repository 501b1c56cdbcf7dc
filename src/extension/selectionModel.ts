/**
 * What a command acts on when run from a tree with several rows selected: VS Code passes the row
 * clicked and then every selected row; the clicked one alone when it is not among the selected.
 */
import type { TaskInfo } from '../protocol/types';
import type { QueueNode } from './queueModel';
import type { ResultNode } from './resultsModel';

export type TreeNode = ResultNode | QueueNode;

export function selectedNodes(raw: readonly unknown[]): TreeNode[] {
  const clicked = raw[0];
  const many = raw[1];
  if (!isNode(clicked)) return [];
  if (Array.isArray(many) && many.every(isNode) && many.includes(clicked)) return many;
  return [clicked];
}

/** The tasks of the selected rows; groups and "… more" rows are asked for separately. */
export function selectedTasks(nodes: readonly TreeNode[]): TaskInfo[] {
  const seen = new Set<string>();
  const out: TaskInfo[] = [];
  for (const n of nodes) {
    if ((n.kind === 'result' || n.kind === 'task') && !seen.has(n.task.taskId)) {
      seen.add(n.task.taskId);
      out.push(n.task);
    }
  }
  return out;
}

/** One PO a line, as a list file holds them, each once. */
export function poNumbersText(tasks: readonly Pick<TaskInfo, 'poNumber'>[]): string {
  return [...new Set(tasks.map((t) => t.poNumber))].join('\n');
}

function isNode(x: unknown): x is TreeNode {
  return !!x && typeof x === 'object' && typeof (x as { kind?: unknown }).kind === 'string';
}
