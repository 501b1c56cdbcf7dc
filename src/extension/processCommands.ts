/**
 * The commands that put POs into the pool: from the editor's selections, from files, the demo's
 * sample list, and retries. Each accepts its inputs as arguments too (see `ProcessArgs`), so
 * keybindings, tasks and other extensions can drive it.
 */
import * as vscode from 'vscode';
import { ConfigurationError } from '../protocol/errors';
import { parsePoText, type ParseResult } from '../protocol/po';
import { ListTasks, ReadPoFile, RetryTasks, type SubmitTasksResult } from '../protocol/rpc';
import type { TaskInfo, TaskStatus } from '../protocol/types';
import type { PoolController } from './poolController';
import { plural } from './format';
import { mergeParseResults, parseSummary, processArgs, submitSummary, validatePriority, type ProcessArgs } from './poInput';
import { isRetryable } from './resultsModel';
import { selectedNodes, selectedTasks } from './selectionModel';
import { guarded, showSummary, withNotificationProgress } from './ui';

const PO_FILE_EXTENSIONS = ['txt', 'csv', 'xlsx'];

export interface Submitter {
  submit(poNumbers: string[], options?: { priority?: number; redo?: boolean }): Promise<SubmitTasksResult>;
}

export function initProcessCommands(context: vscode.ExtensionContext, pool: PoolController): Submitter {
  const submitAndReport = async (parsed: ParseResult, source: string, args: ProcessArgs): Promise<void> => {
    const found = parseSummary(parsed, source);
    if (parsed.pos.length === 0) {
      await showSummary('error', found.message);
      return;
    }
    const priority = args.priority ?? (pool.settings().askPriority ? await askPriority(parsed.pos.length) : 0);
    if (priority === undefined) return;
    const poNumbers = parsed.pos.map((p) => p.poNumber);
    const result = await withNotificationProgress(`PO Pool: submitting ${plural(poNumbers.length, 'PO')}`, (progress, token) =>
      pool.submit(poNumbers, { priority, redo: args.redo }, progress, token));
    const sent = submitSummary(result);
    const rerunnable = result.duplicates.filter((d) => d.status !== 'QUEUED' && d.status !== 'RUNNING').map((d) => d.poNumber);
    const severity = found.severity === 'warning' || sent.severity === 'warning' ? 'warning' : 'info';
    const buttons = ['Show Status Panel', ...(rerunnable.length ? ['Run Finished Ones Again'] : [])];
    const choice = await showSummary(severity, `${found.message} ${sent.message}`, ...buttons);
    if (choice === 'Show Status Panel') await vscode.commands.executeCommand('poPool.showStatusPanel');
    else if (choice) await submitAndReport(parsePoText(rerunnable.join('\n')), 'the finished POs', { priority, redo: true });
  };

  const pattern = () => pool.settings().poPattern || undefined;
  const parseText = (text: string, firstLine: number): ParseResult => {
    try {
      return parsePoText(text, { pattern: pattern(), firstLine });
    } catch (err) {
      throw new ConfigurationError('poPattern', (err as Error).message);
    }
  };

  const processSelection = async (...raw: unknown[]) => {
    const args = processArgs(raw);
    if (args.poNumbers) return submitAndReport(parseText(args.poNumbers.join('\n'), 1), 'the list given', args);
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      await showSummary('error', vscode.l10n.t('Open a file with PO numbers and select them (or put the cursor on one line) first.'));
      return;
    }
    const results = editor.selections.map((sel) => {
      // Nothing selected means the cursor's line, as in "run this line".
      const range = sel.isEmpty ? editor.document.lineAt(sel.active.line).range : sel;
      return parseText(editor.document.getText(range), range.start.line + 1);
    });
    const source = editor.selections.every((s) => s.isEmpty) ? `line ${editor.selection.active.line + 1}` : 'the selection';
    return submitAndReport(mergeParseResults(results), source, args);
  };

  const processFile = async (...raw: unknown[]) => {
    const args = processArgs(raw);
    const files = await pickFiles(raw, args);
    for (const file of files) {
      // The supervisor reads the file from disk: an edited list is run as it shows.
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === file.toString());
      if (open?.isDirty) await open.save();
      const parsed = await withNotificationProgress(`PO Pool: reading ${vscode.workspace.asRelativePath(file)}`, () =>
        pool.connection.request(ReadPoFile, { path: file.fsPath, pattern: pattern() }));
      await submitAndReport(parsed, vscode.workspace.asRelativePath(file), args);
    }
  };

  const tryDemo = async () => {
    const status = await pool.connection.refreshStatus();
    const running = status.config?.coupaUrl;
    // The sample POs must never go to a real tenant that happens to be running.
    if (running && !isLoopback(running) && status.state !== 'TERMINATED' && status.state !== 'ERROR') {
      const choice = await vscode.window.showWarningMessage(
        `PO Pool: the pool is running on ${running}. Stop it (running POs finish first) and start the demo?`, { modal: true }, 'Stop and Start Demo');
      if (!choice) return;
      await pool.stop();
    }
    const demo = await pool.startDemo();
    const parsed = await pool.connection.request(ReadPoFile, { path: context.asAbsolutePath('samples/po-list.txt') });
    await vscode.commands.executeCommand('workbench.view.extension.poPool');
    void vscode.commands.executeCommand('poPool.showStatusPanel');
    await submitAndReport(parsed, `the sample list (Coupa stand-in at ${demo.coupaUrl})`, {});
  };

  const retry = async (...raw: unknown[]) => {
    const taskIds = await retryTargets(raw, pool);
    const handles = await withNotificationProgress(vscode.l10n.t('PO Pool: retrying'), async (_, token) => {
      await pool.ensureRunning(token);
      return (await pool.connection.request(RetryTasks, taskIds ? { taskIds } : {})).handles;
    });
    await showSummary(handles.length ? 'info' : 'warning', handles.length ? vscode.l10n.t('Queued {0} again.', plural(handles.length, 'PO')) : vscode.l10n.t('Nothing to retry: no PO ended in a failure.'));
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('poPool.processSelection', guarded(pool.log, processSelection)),
    vscode.commands.registerCommand('poPool.processFile', guarded(pool.log, processFile)),
    vscode.commands.registerCommand('poPool.tryDemo', guarded(pool.log, tryDemo)),
    vscode.commands.registerCommand('poPool.retryFailed', guarded(pool.log, retry)),
  );
  return { submit: (poNumbers, options) => pool.submit(poNumbers, options) };
}

async function askPriority(count: number): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    title: vscode.l10n.t('Priority for {0}', plural(count, 'PO')),
    prompt: vscode.l10n.t('Higher runs first; 0 is normal.'),
    value: '0',
    validateInput: validatePriority,
  });
  return text === undefined ? undefined : Number(text.trim());
}

/** The files from the Explorer (one or a multi-selection), the arguments, the active editor, or a file dialog. */
async function pickFiles(raw: unknown[], args: ProcessArgs): Promise<vscode.Uri[]> {
  const many = raw.find((a): a is vscode.Uri[] => Array.isArray(a) && a.length > 0 && a.every((u) => u instanceof vscode.Uri));
  if (many) return many;
  const one = raw.find((a): a is vscode.Uri => a instanceof vscode.Uri);
  if (one) return [one];
  if (args.path) return [vscode.Uri.file(args.path)];
  const doc = vscode.window.activeTextEditor?.document;
  if (doc?.uri.scheme === 'file' && PO_FILE_EXTENSIONS.some((ext) => doc.fileName.toLowerCase().endsWith(`.${ext}`))) return [doc.uri];
  return (await vscode.window.showOpenDialog({
    canSelectMany: true,
    openLabel: vscode.l10n.t('Process POs'),
    title: vscode.l10n.t('PO lists to process'),
    filters: { 'PO lists': PO_FILE_EXTENSIONS },
  })) ?? [];
}

/**
 * Task ids from the selected Results rows and groups, `{ taskIds }`, or undefined for "every
 * failed PO".
 */
async function retryTargets(raw: unknown[], pool: PoolController): Promise<string[] | undefined> {
  const nodes = selectedNodes(raw);
  if (nodes.length) {
    const ids = selectedTasks(nodes).filter((t) => isRetryable(t.status)).map((t) => t.taskId);
    for (const n of nodes) if (n.kind === 'status' && isRetryable(n.status)) ids.push(...(await listIds(pool, n.status)));
    return [...new Set(ids)];
  }
  const arg = raw[0] as { taskIds?: unknown } | undefined;
  if (arg && typeof arg === 'object' && Array.isArray(arg.taskIds)) return arg.taskIds.map(String);
  return undefined;
}

async function listIds(pool: PoolController, status: TaskStatus): Promise<string[]> {
  const ids: string[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await pool.connection.request(ListTasks, { status: [status], offset, limit: 1000 });
    ids.push(...page.tasks.map((t: TaskInfo) => t.taskId));
    if (page.tasks.length === 0 || ids.length >= page.total) return ids;
  }
}

function isLoopback(url: string): boolean {
  return /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/i.test(url);
}
