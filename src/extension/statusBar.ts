/** The status bar item: progress while the pool works; a click opens the status panel. */
import * as vscode from 'vscode';
import type { PoolController } from './poolController';
import { statusBarView } from './statusBarModel';

export function initStatusBar(context: vscode.ExtensionContext, pool: PoolController): void {
  const item = vscode.window.createStatusBarItem('poPool.status', vscode.StatusBarAlignment.Left, 10);
  item.name = 'PO Pool';
  item.command = 'poPool.showStatusPanel';
  const update = () => {
    const view = statusBarView(pool.connection.state, pool.connection.status, Date.now());
    item.text = view.text;
    item.tooltip = view.tooltip;
    item.backgroundColor = view.alert ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  };
  update();
  item.show();
  context.subscriptions.push(item, pool.connection.onDidChangeConnection(update), pool.connection.onDidChangeStatus(update));
}
