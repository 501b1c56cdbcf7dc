/** Turns a data row (see row.ts) into a VS Code tree item. */
import * as vscode from 'vscode';
import type { Row } from './row';

export function treeItem(row: Row, command?: vscode.Command): vscode.TreeItem {
  const collapsible = row.collapsible === 'expanded'
    ? vscode.TreeItemCollapsibleState.Expanded
    : row.collapsible === 'collapsed' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None;
  const item = new vscode.TreeItem(row.label, collapsible);
  item.id = row.id;
  item.description = row.description;
  item.tooltip = row.tooltip;
  item.iconPath = new vscode.ThemeIcon(row.icon.id, row.icon.color ? new vscode.ThemeColor(row.icon.color) : undefined);
  item.contextValue = row.contextValue;
  if (command) item.command = command;
  return item;
}

/**
 * Refreshes a view at most once per `delayMs`, and only while it is visible: a hidden view costs
 * nothing and catches up when it is shown again.
 */
export class LazyRefresher implements vscode.Disposable {
  private timer?: ReturnType<typeof setTimeout>;
  private stale = false;
  private readonly visibility: vscode.Disposable;

  constructor(private readonly view: vscode.TreeView<unknown>, private readonly refresh: () => void, private readonly delayMs: number) {
    this.visibility = view.onDidChangeVisibility((e) => {
      if (e.visible && this.stale) this.request();
    });
  }

  request(): void {
    if (!this.view.visible) {
      this.stale = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.stale = false;
      this.refresh();
    }, this.delayMs);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.visibility.dispose();
  }
}
