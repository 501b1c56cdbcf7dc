/**
 * The Results view: finished POs by outcome. A click only selects (a person going down the list
 * with the mouse must not open a window per row); opening is the rows' inline actions.
 */
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { ListTasks } from '../protocol/rpc';
import { isFinal, taskStatuses, type TaskInfo, type TaskStatus } from '../protocol/types';
import type { PoolController } from './poolController';
import { finishedCount } from './statusBarModel';
import { fileChildren, newestPage, resultChildren, resultGroups, resultRow, resultTarget, type ResultNode } from './resultsModel';
import { formatCount } from './format';
import { LazyRefresher, treeItem } from './treeItems';
import { guarded } from './ui';

const REFRESH_MS = 1000;

/** Remembered per workspace: whether Results are grouped by outcome or one list, newest first. */
const GROUPED_KEY = 'poPool.resultsGrouped';

export function initResultsView(context: vscode.ExtensionContext, pool: PoolController): void {
  const changes = new vscode.EventEmitter<ResultNode | undefined>();
  let grouped = context.workspaceState.get<boolean>(GROUPED_KEY, true);
  const list = async (statuses: TaskStatus[], count: number, status?: TaskStatus) => {
    try {
      return resultChildren(status, await pool.connection.request(ListTasks, { status: statuses, ...newestPage(count) }));
    } catch (err) {
      pool.log.warn(`could not list results: ${(err as Error).message}`);
      return [];
    }
  };
  const view = vscode.window.createTreeView<ResultNode>('poPool.results', {
    canSelectMany: true,
    treeDataProvider: {
      onDidChangeTreeData: changes.event,
      getTreeItem: (node) => treeItem(resultRow(node), commandFor(node)),
      getChildren: async (node) => {
        if (!node && grouped) return resultGroups(pool.connection.status);
        if (!node) return pool.connection.status ? list(taskStatuses.filter(isFinal), finishedCount(pool.connection.status)) : [];
        if (node.kind === 'result') return fileChildren(node.task);
        return node.kind === 'status' ? list([node.status], node.count, node.status) : [];
      },
    },
  });
  const setGrouped = async (value: boolean) => {
    grouped = value;
    await context.workspaceState.update(GROUPED_KEY, value);
    void vscode.commands.executeCommand('setContext', GROUPED_KEY, value);
    changes.fire(undefined);
  };
  void vscode.commands.executeCommand('setContext', GROUPED_KEY, grouped);
  const refresher = new LazyRefresher(view, () => changes.fire(undefined), REFRESH_MS);
  context.subscriptions.push(
    view,
    changes,
    refresher,
    pool.connection.onDidChangeTasks((tasks) => {
      if (tasks.some((t) => isFinal(t.status))) refresher.request();
    }),
    pool.connection.onDidReset(() => refresher.request()),
    pool.connection.onDidChangeStatus((status) => {
      const done = finishedCount(status);
      view.description = done ? `${formatCount(done)} finished` : undefined;
    }),
    vscode.commands.registerCommand('poPool.groupResults', () => setGrouped(true)),
    vscode.commands.registerCommand('poPool.ungroupResults', () => setGrouped(false)),
    vscode.commands.registerCommand('poPool.revealResult', guarded(pool.log, (node?: ResultNode | TaskInfo) => revealResult(node))),
  );
}

/** Only the "… N more" row acts on a click: what it stands for is the report. */
function commandFor(node: ResultNode): vscode.Command | undefined {
  return node.kind === 'more' ? { command: 'poPool.openReport', title: vscode.l10n.t('Open Report') } : undefined;
}

async function revealResult(node: ResultNode | TaskInfo | undefined): Promise<void> {
  const task = node && 'kind' in node ? (node.kind === 'result' ? node.task : undefined) : node;
  const target = task && resultTarget(task);
  if (!target) return;
  if (!existsSync(target)) {
    void vscode.window.showWarningMessage(vscode.l10n.t('PO Pool: {0} is no longer there.', target));
    return;
  }
  await revealFolder(vscode.Uri.file(target));
}

/**
 * In the Explorer when the folder is in the workspace, in the system's file manager on a desktop,
 * else (code-server, remote) in a new window, which is all a browser can offer.
 */
export async function revealFolder(uri: vscode.Uri): Promise<void> {
  if (vscode.workspace.getWorkspaceFolder(uri)) {
    await vscode.commands.executeCommand('revealInExplorer', uri);
  } else if (vscode.env.uiKind === vscode.UIKind.Desktop && !vscode.env.remoteName) {
    await vscode.commands.executeCommand('revealFileInOS', uri);
  } else {
    await vscode.commands.executeCommand('vscode.openFolder', uri, { forceNewWindow: true });
  }
}
