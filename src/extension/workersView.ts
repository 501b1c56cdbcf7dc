/** The Workers view: one row per worker, redrawn row by row as health notifications arrive. */
import * as vscode from 'vscode';
import type { PoolController } from './poolController';
import { plural } from './format';
import { activeWorkers } from './statusBarModel';
import { liveWorkers, workerRow, WorkerTable, type TableChange } from './workersModel';
import { treeItem } from './treeItems';

/** Health notifications for several workers within this window are drawn together. */
const COALESCE_MS = 100;

export function initWorkersView(context: vscode.ExtensionContext, pool: PoolController): void {
  const table = new WorkerTable();
  const changes = new vscode.EventEmitter<string | string[] | undefined>();
  const view = vscode.window.createTreeView('poPool.workers', {
    treeDataProvider: {
      onDidChangeTreeData: changes.event,
      getChildren: (id?: string) => (id ? [] : table.ids),
      getTreeItem: (id: string) => {
        const health = table.get(id);
        return health ? treeItem(workerRow(health, Date.now())) : new vscode.TreeItem(id);
      },
    },
  });

  let pendingIds = new Set<string>();
  let pendingAll = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const apply = (change: TableChange) => {
    if (change.structural) pendingAll = true;
    for (const id of change.changed) pendingIds.add(id);
    if (timer || (!pendingAll && pendingIds.size === 0)) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (pendingAll) changes.fire(undefined);
      else changes.fire([...pendingIds]);
      pendingAll = false;
      pendingIds = new Set();
    }, COALESCE_MS);
  };
  const describe = () => {
    const status = pool.connection.status;
    view.description = status && status.state !== 'TERMINATED' ? `${status.state.toLowerCase().replace(/_/g, ' ')} · ${plural(activeWorkers(status), 'worker')}` : undefined;
  };

  context.subscriptions.push(
    view,
    changes,
    { dispose: () => clearTimeout(timer) },
    pool.connection.onDidChangeStatus((status) => {
      apply(table.replaceAll(liveWorkers(status)));
      describe();
    }),
    pool.connection.onDidChangeWorkers((workers) => {
      // Late health reports from a stopped pool's workers would bring back rows it no longer has.
      if (liveWorkers(pool.connection.status).length) apply(table.upsert(workers));
    }),
  );
}
