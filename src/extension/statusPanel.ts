/**
 * The status panel (webview): pool state, throughput and ETA, queue depth and per-worker memory
 * over time, errors by kind. It listens to the pool only while it exists and posts only while
 * visible; a hidden panel is rebuilt from a snapshot when shown (no retainContextWhenHidden), and a
 * window reload brings it back through the serializer with the history it kept in its state.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { PoolController } from './poolController';
import {
  isFromPanel, panelHtml, panelSample, panelSummary, PanelHistory, type PanelSummary, type ToPanel,
} from './panelModel';

const VIEW_TYPE = 'poPool.status';

export function initStatusPanel(context: vscode.ExtensionContext, pool: PoolController): void {
  let current: StatusPanel | undefined;
  const open = (panel: vscode.WebviewPanel, state: unknown) => {
    current = new StatusPanel(context, pool, panel, PanelHistory.fromState(state));
    panel.onDidDispose(() => (current = undefined));
  };
  context.subscriptions.push(
    vscode.commands.registerCommand('poPool.showStatusPanel', () => {
      if (current) return current.reveal();
      open(vscode.window.createWebviewPanel(VIEW_TYPE, 'PO Pool Status', vscode.ViewColumn.Active, webviewOptions(context)), undefined);
    }),
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
      async deserializeWebviewPanel(panel, state) {
        panel.webview.options = webviewOptions(context);
        open(panel, state);
      },
    }),
  );
}

function webviewOptions(context: vscode.ExtensionContext): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'media')] };
}

class StatusPanel {
  private summary?: PanelSummary;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(context: vscode.ExtensionContext, pool: PoolController, private readonly panel: vscode.WebviewPanel, private readonly history: PanelHistory) {
    const webview = panel.webview;
    const media = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(context.extensionUri, 'media', file)).toString();
    panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'pool.svg');
    webview.html = panelHtml({ cspSource: webview.cspSource, nonce: randomBytes(16).toString('base64'), scriptUri: media('panel.js'), styleUri: media('panel.css'), locale: vscode.env.language });
    if (pool.connection.status) this.record(pool.connection.status);
    this.subscriptions.push(
      pool.connection.onDidChangeStatus((status) => {
        const sample = this.record(status);
        if (panel.visible && this.summary) this.post({ type: 'update', summary: this.summary, sample });
      }),
      webview.onDidReceiveMessage((message: unknown) => {
        if (!isFromPanel(message)) return;
        if (message.type === 'ready') this.post({ type: 'snapshot', summary: this.summary, samples: this.history.all() });
        else void vscode.commands.executeCommand(message.command);
      }),
      panel.onDidDispose(() => this.subscriptions.forEach((s) => s.dispose())),
    );
  }

  reveal(): void {
    this.panel.reveal();
  }

  private record(status: Parameters<typeof panelSummary>[0]) {
    this.summary = panelSummary(status);
    const sample = panelSample(this.summary, Date.now());
    this.history.add(sample);
    return sample;
  }

  private post(message: ToPanel): void {
    void this.panel.webview.postMessage(message);
  }
}
