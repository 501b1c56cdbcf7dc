/**
 * Context keys for `when` clauses (views' welcome content, menus) and the prompt to restart the
 * pool after a setting it reads only at start changed.
 */
import * as vscode from 'vscode';
import { parsePoText } from '../protocol/po';
import { isPoolUp, type PoolController } from './poolController';
import { changedRestartSettings, isFirstRun, SECTION, settingTitle } from './settings';
import { showPoolError } from './ui';

/** Parsing a huge selection on every cursor move would make typing lag: the menu offers it, the command tells. */
const MAX_SELECTION_CHARS = 200_000;
const SELECTION_MS = 150;

export function initContextKeys(context: vscode.ExtensionContext, pool: PoolController): void {
  const set = (key: string, value: unknown) => void vscode.commands.executeCommand('setContext', key, value);
  let last: Record<string, unknown> = {};
  const update = () => {
    const status = pool.connection.status;
    const next: Record<string, unknown> = {
      'poPool.firstRun': isFirstRun(pool.settings()),
      'poPool.connected': pool.connection.state.kind === 'connected',
      'poPool.running': pool.connection.state.kind === 'connected' && isPoolUp(status),
      'poPool.poolState': status?.state ?? 'UNKNOWN',
      'poPool.hasFailed': (['PARTIAL', 'PO_NOT_FOUND', 'FAILED', 'TIMEOUT', 'CANCELLED'] as const).some((s) => (status?.counts[s] ?? 0) > 0),
    };
    for (const [key, value] of Object.entries(next)) if (last[key] !== value) set(key, value);
    last = next;
  };
  update();

  // Outside PO-list languages the editor menu offers "Process POs in Selection" only when the
  // selection (or the cursor's line, which the command then takes) holds a PO number.
  let selectionTimer: ReturnType<typeof setTimeout> | undefined;
  let hadPos: boolean | undefined;
  const updateSelection = () => {
    selectionTimer = undefined;
    const editor = vscode.window.activeTextEditor;
    const text = editor?.selections.map((sel) => editor.document.getText(sel.isEmpty ? editor.document.lineAt(sel.active.line).range : sel)).join('\n') ?? '';
    let hasPos = false;
    try {
      hasPos = text.length > MAX_SELECTION_CHARS || parsePoText(text, { pattern: pool.settings().poPattern || undefined }).pos.length > 0;
    } catch {
      // A bad poPattern is reported when a command uses it.
    }
    if (hasPos !== hadPos) set('poPool.selectionHasPos', hasPos);
    hadPos = hasPos;
  };
  const scheduleSelection = () => {
    clearTimeout(selectionTimer);
    selectionTimer = setTimeout(updateSelection, SELECTION_MS);
  };
  scheduleSelection();

  context.subscriptions.push(
    { dispose: () => clearTimeout(selectionTimer) },
    vscode.window.onDidChangeTextEditorSelection(scheduleSelection),
    vscode.window.onDidChangeActiveTextEditor(scheduleSelection),
    pool.connection.onDidChangeConnection(update),
    pool.connection.onDidChangeStatus(update),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      update();
      const changed = changedRestartSettings((key) => e.affectsConfiguration(key));
      if (!changed.length || !isPoolUp(pool.connection.status)) return;
      const names = changed.map(settingTitle).join(', ');
      const restart = vscode.l10n.t('Restart Pool');
      const choice = await vscode.window.showInformationMessage(
        changed.length > 1
          ? vscode.l10n.t('PO Pool: the running pool still uses the old {0}. Restart it to apply them (running POs finish first).', names)
          : vscode.l10n.t('PO Pool: the running pool still uses the old {0}. Restart it to apply it (running POs finish first).', names),
        restart,
      );
      if (choice === restart) await vscode.commands.executeCommand('poPool.restartPool').then(undefined, (err) => showPoolError(err, pool.log));
    }),
  );
}
