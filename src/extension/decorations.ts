/**
 * Each PO line in a visible editor shows its outcome: a gutter icon and a short text after the
 * line, kept current from the supervisor's task notifications; failed lines are problems too.
 */
import * as vscode from 'vscode';
import { parsePoText } from '../protocol/po';
import { ListTasks } from '../protocol/rpc';
import type { TaskInfo } from '../protocol/types';
import type { PoolController } from './poolController';
import { lineDecorations, MAX_DECORATED_LINES, mergeLatest, poLines, type LineDecoration, type PoLines } from './decorationsModel';
import { HOVER_COMMANDS, lineProblems } from './failureModel';
import type { StatusLook } from './outcome';
import { createProblemViews } from './problems';

/** PO lists live in text, CSV and notes; source code is full of long numbers that are not POs. */
const LANGUAGES = new Set(['plaintext', 'csv', 'tsv', 'markdown', 'log']);
const RESCAN_MS = 300;
const RENDER_MS = 100;
/** ListTasks takes at most this many PO numbers at once. */
const LOOKUP_CHUNK = 500;

type Kind = StatusLook['decoration'];
const colors: Record<Kind, string> = {
  done: 'testing.iconPassed',
  partial: 'list.warningForeground',
  failed: 'errorForeground',
  running: 'charts.blue',
  queued: 'descriptionForeground',
  cancelled: 'disabledForeground',
};

interface DocState {
  doc: vscode.TextDocument;
  version: number;
  lines: Map<string, PoLines>;
  latest: Map<string, TaskInfo>;
}

export function initDecorations(context: vscode.ExtensionContext, pool: PoolController): void {
  const types = Object.fromEntries(
    (Object.keys(colors) as Kind[]).map((kind) => [kind, vscode.window.createTextEditorDecorationType({
      gutterIconPath: context.asAbsolutePath(`media/icons/${kind}.svg`),
      gutterIconSize: '70%',
      after: { margin: '0 0 0 2em', color: new vscode.ThemeColor(colors[kind]) },
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    })]),
  ) as Record<Kind, vscode.TextEditorDecorationType>;
  const docs = new Map<string, DocState>();
  const problems = createProblemViews(context, [...LANGUAGES]);
  const scanTimers = new Map<string, ReturnType<typeof setTimeout>>();
  let renderTimer: ReturnType<typeof setTimeout> | undefined;

  const eligible = (doc: vscode.TextDocument) => LANGUAGES.has(doc.languageId) && doc.lineCount <= MAX_DECORATED_LINES;

  const render = () => {
    renderTimer = undefined;
    for (const editor of vscode.window.visibleTextEditors) {
      const state = docs.get(editor.document.uri.toString());
      const byKind = new Map<Kind, vscode.DecorationOptions[]>();
      for (const d of state ? lineDecorations(state.lines, state.latest) : []) {
        if (d.line >= editor.document.lineCount) continue;
        const list = byKind.get(d.kind) ?? [];
        list.push(options(editor.document, d));
        byKind.set(d.kind, list);
      }
      for (const kind of Object.keys(types) as Kind[]) editor.setDecorations(types[kind], byKind.get(kind) ?? []);
    }
    for (const state of docs.values()) problems.set(state.doc, state.lines.size, lineProblems(state.lines, state.latest));
  };
  const scheduleRender = () => (renderTimer ??= setTimeout(render, RENDER_MS));

  const scan = async (doc: vscode.TextDocument, refetch: boolean) => {
    const key = doc.uri.toString();
    const prior = docs.get(key);
    if (prior && prior.version === doc.version && !refetch) return;
    let lines: Map<string, PoLines>;
    try {
      lines = poLines(parsePoText(doc.getText(), { pattern: pool.settings().poPattern || undefined }));
    } catch {
      return; // A bad poPattern is reported when a command uses it, not on every keystroke.
    }
    const latest = refetch || !prior ? new Map<string, TaskInfo>() : prior.latest;
    for (const id of latest.keys()) if (!lines.has(id)) latest.delete(id);
    const state: DocState = { doc, version: doc.version, lines, latest };
    docs.set(key, state);
    const missing = [...lines].filter(([id]) => !latest.has(id)).map(([, where]) => where.poNumber);
    if (missing.length && pool.connection.state.kind === 'connected') {
      try {
        for (let i = 0; i < missing.length; i += LOOKUP_CHUNK) {
          const poNumbers = missing.slice(i, i + LOOKUP_CHUNK);
          for (let offset = 0; ; offset += 1000) {
            const page = await pool.connection.request(ListTasks, { poNumbers, offset, limit: 1000 });
            mergeLatest(state.latest, page.tasks, state.lines);
            if (offset + page.tasks.length >= page.total || page.tasks.length === 0) break;
          }
        }
      } catch (err) {
        pool.log.debug(`could not look up the POs in ${doc.uri.fsPath}: ${(err as Error).message}`);
      }
    }
    scheduleRender();
  };

  const scheduleScan = (doc: vscode.TextDocument, refetch = false) => {
    if (!eligible(doc)) return;
    const key = doc.uri.toString();
    clearTimeout(scanTimers.get(key));
    scanTimers.set(key, setTimeout(() => {
      scanTimers.delete(key);
      void scan(doc, refetch);
    }, RESCAN_MS));
  };
  const scanVisible = (refetch: boolean) => {
    for (const editor of vscode.window.visibleTextEditors) scheduleScan(editor.document, refetch);
  };

  context.subscriptions.push(
    ...Object.values(types),
    { dispose: () => [...scanTimers.values(), renderTimer].forEach((t) => clearTimeout(t)) },
    vscode.window.onDidChangeVisibleTextEditors(() => {
      scanVisible(false);
      scheduleRender();
    }),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (vscode.window.visibleTextEditors.some((ed) => ed.document === e.document)) scheduleScan(e.document);
    }),
    vscode.workspace.onDidCloseTextDocument((doc) => {
      docs.delete(doc.uri.toString());
      problems.delete(doc.uri);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('poPool.poPattern')) scanVisible(true);
    }),
    pool.connection.onDidReset(() => scanVisible(true)),
    pool.connection.onDidChangeTasks((tasks) => {
      let changed = false;
      for (const state of docs.values()) changed = mergeLatest(state.latest, tasks, state.lines) || changed;
      if (changed) scheduleRender();
    }),
  );
}

function options(doc: vscode.TextDocument, d: LineDecoration): vscode.DecorationOptions {
  // The whole line, so the hover answers anywhere on the PO and the after-text lands at its end.
  const hover = new vscode.MarkdownString(d.hover);
  hover.isTrusted = { enabledCommands: [...HOVER_COMMANDS] };
  return { range: doc.lineAt(d.line).range, hoverMessage: hover, renderOptions: { after: { contentText: d.text } } };
}
