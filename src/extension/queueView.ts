/** The Queue view: running and waiting POs, highest priority first, a page at a time. */
import * as vscode from 'vscode';
import { ListTasks } from '../protocol/rpc';
import type { PoolController } from './poolController';
import { formatCount } from './format';
import { groupChildren, QUEUE_PAGE, queueGroups, queueRow, type QueueNode } from './queueModel';
import { LazyRefresher, treeItem } from './treeItems';

/** Task changes arrive several times a second while the pool works; the list need not move that fast. */
const REFRESH_MS = 1000;

export function initQueueView(context: vscode.ExtensionContext, pool: PoolController): void {
  const changes = new vscode.EventEmitter<QueueNode | undefined>();
  const view = vscode.window.createTreeView<QueueNode>('poPool.queue', {
    canSelectMany: true,
    treeDataProvider: {
      onDidChangeTreeData: changes.event,
      getTreeItem: (node) => treeItem(queueRow(node, Date.now())),
      getChildren: async (node) => {
        if (!node) return queueGroups(pool.connection.status);
        if (node.kind !== 'group') return [];
        try {
          const page = await pool.connection.request(ListTasks, { status: [node.group], limit: QUEUE_PAGE });
          return groupChildren(node.group, page);
        } catch (err) {
          pool.log.warn(`could not list the queue: ${(err as Error).message}`);
          return [];
        }
      },
    },
  });
  const refresher = new LazyRefresher(view, () => changes.fire(undefined), REFRESH_MS);
  let shown = '';
  context.subscriptions.push(
    view,
    changes,
    refresher,
    pool.connection.onDidChangeTasks(() => refresher.request()),
    pool.connection.onDidReset(() => refresher.request()),
    pool.connection.onDidChangeStatus((status) => {
      const counts = `${status.queueDepth}/${status.running}`;
      view.description = status.queueDepth + status.running ? `${formatCount(status.queueDepth)} queued · ${formatCount(status.running)} running` : undefined;
      if (counts !== shown) refresher.request();
      shown = counts;
    }),
  );
}
