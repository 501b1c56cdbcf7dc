/**
 * An open PO list in VS Code's own places: its failed lines as diagnostics (Problems panel, F8)
 * with a "Retry PO" quick fix, a badge on the file in the Explorer and on its tab, and a CodeLens
 * on its first line to run it. Fed by the decorations, which already know each open list's PO
 * lines and their latest tasks.
 */
import * as vscode from 'vscode';
import { DIAGNOSTIC_SOURCE, failedBadge, listLens, type LineProblem } from './failureModel';

/** Notes and logs mention POs; only a plain list is offered to run as a whole. */
const LIST_LANGUAGES = new Set(['plaintext', 'csv', 'tsv']);

export interface ProblemViews {
  set(doc: vscode.TextDocument, poCount: number, problems: LineProblem[]): void;
  delete(uri: vscode.Uri): void;
}

export function createProblemViews(context: vscode.ExtensionContext, languages: readonly string[]): ProblemViews {
  const diagnostics = vscode.languages.createDiagnosticCollection('poPool');
  // The quick fix finds its task by line: a diagnostic's own fields all show in the Problems panel.
  const byUri = new Map<string, LineProblem[]>();
  const badges = new Map<string, vscode.FileDecoration>();
  const badgeChanges = new vscode.EventEmitter<vscode.Uri>();
  const poCounts = new Map<string, number>();
  const lensChanges = new vscode.EventEmitter<void>();

  const setBadge = (uri: vscode.Uri, problems: readonly LineProblem[]) => {
    const key = uri.toString();
    const b = failedBadge(problems);
    const before = badges.get(key);
    if (!b && !before) return;
    if (b && before?.badge === b.badge) return;
    if (b) badges.set(key, new vscode.FileDecoration(b.badge, b.tooltip, new vscode.ThemeColor('list.errorForeground')));
    else badges.delete(key);
    badgeChanges.fire(uri);
  };

  context.subscriptions.push(
    diagnostics,
    badgeChanges,
    lensChanges,
    vscode.languages.registerCodeLensProvider(languages.map((language) => ({ language })), {
      onDidChangeCodeLenses: lensChanges.event,
      provideCodeLenses: (doc) => {
        if (!LIST_LANGUAGES.has(doc.languageId)) return [];
        const file = doc.uri.scheme === 'file' ? doc.uri : undefined;
        const lens = listLens(poCounts.get(doc.uri.toString()) ?? 0, byUri.get(doc.uri.toString()) ?? [], file);
        const top = new vscode.Range(0, 0, 0, 0);
        return lens.map((l) => new vscode.CodeLens(top, { title: l.title, command: l.command, arguments: l.args, tooltip: l.tooltip }));
      },
    }),
    vscode.window.registerFileDecorationProvider({
      onDidChangeFileDecorations: badgeChanges.event,
      provideFileDecoration: (uri) => badges.get(uri.toString()),
    }),
    vscode.languages.registerCodeActionsProvider(languages.map((language) => ({ language })), {
      provideCodeActions: (doc, _range, ctx) => ctx.diagnostics.filter((d) => d.source === DIAGNOSTIC_SOURCE).flatMap((d) => {
        const problem = byUri.get(doc.uri.toString())?.find((p) => p.line === d.range.start.line);
        if (!problem) return [];
        const action = new vscode.CodeAction(vscode.l10n.t('Retry PO'), vscode.CodeActionKind.QuickFix);
        action.diagnostics = [d];
        action.isPreferred = true;
        action.command = { command: 'poPool.retryFailed', title: vscode.l10n.t('Retry PO'), arguments: [{ taskIds: [problem.taskId] }] };
        return [action];
      }),
    }, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }),
  );

  return {
    set: (doc, poCount, problems) => {
      const key = doc.uri.toString();
      const before = JSON.stringify([poCounts.get(key), byUri.get(key)?.map((p) => p.taskId)]);
      poCounts.set(key, poCount);
      byUri.set(key, problems);
      if (JSON.stringify([poCount, problems.map((p) => p.taskId)]) !== before) lensChanges.fire();
      diagnostics.set(doc.uri, problems.filter((p) => p.line < doc.lineCount).map((p) => {
        const d = new vscode.Diagnostic(doc.lineAt(p.line).range, p.message, p.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
        d.source = DIAGNOSTIC_SOURCE;
        return d;
      }));
      setBadge(doc.uri, problems);
    },
    delete: (uri) => {
      byUri.delete(uri.toString());
      poCounts.delete(uri.toString());
      diagnostics.delete(uri);
      setBadge(uri, []);
    },
  };
}
