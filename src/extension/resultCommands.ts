/**
 * What a person does with finished POs: open their files with the system's viewer, look at the page
 * a worker saw when one failed, open one in Coupa, copy their numbers, open the report; and the
 * notice at the end of a batch that leads there.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { REPORT_NAME } from '../shared/paths';
import { ListTasks } from '../protocol/rpc';
import type { TaskInfo, TaskStatus } from '../protocol/types';
import { BatchWatch, coupaPoUrl, failureTarget, type FailureTarget } from './failureModel';
import type { PoolController } from './poolController';
import type { ResultNode } from './resultsModel';
import { poNumbersText, selectedNodes, selectedTasks } from './selectionModel';
import { guarded, showSummary } from './ui';

export function initResultCommands(context: vscode.ExtensionContext, pool: PoolController): void {
  const openReport = async () => {
    const report = join(pool.downloadDir(), REPORT_NAME);
    if (!existsSync(report)) {
      await showSummary('info', vscode.l10n.t('No report yet: {0} is written when the first PO of this download folder ends.', report));
      return;
    }
    await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(report));
  };

  const showFailure = async (arg?: ResultNode | FailureTarget) => {
    const target = targetOf(arg);
    const evidence = target?.evidence;
    const path = [evidence?.screenshot, evidence?.html].find((p): p is string => !!p && existsSync(p));
    if (!target || !path) {
      await showSummary('info', vscode.l10n.t('The worker saved no picture of this PO\'s page.'));
      return;
    }
    // A screenshot opens in VS Code's image preview, the page's HTML as text: both harmless to open.
    await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(path));
  };

  const openInCoupa = async (arg?: ResultNode | FailureTarget) => {
    const target = targetOf(arg);
    const url = target && coupaPoUrl(target, pool.connection.status?.config?.coupaUrl);
    if (!url) {
      await showSummary('info', vscode.l10n.t('The Coupa address of this PO is not known (the demo stand-in is not running).'));
      return;
    }
    await vscode.env.openExternal(vscode.Uri.parse(url));
  };

  const openResultFile = async (arg?: ResultNode | { path?: string }) => {
    const path = arg && 'kind' in arg ? (arg.kind === 'file' ? arg.file.path : undefined) : arg?.path;
    if (!path) return;
    if (!existsSync(path)) {
      await showSummary('warning', vscode.l10n.t('{0} is no longer there.', path));
      return;
    }
    await openWithSystem(vscode.Uri.file(path));
  };

  const copyPoNumbers = async (...raw: unknown[]) => {
    const nodes = selectedNodes(raw);
    const tasks: Pick<TaskInfo, 'poNumber'>[] = selectedTasks(nodes);
    for (const n of nodes) {
      const status = n.kind === 'status' ? n.status : n.kind === 'group' ? n.group : undefined;
      if (status) tasks.push(...(await listAll(pool, status)));
    }
    const text = poNumbersText(tasks);
    if (!text) return;
    await vscode.env.clipboard.writeText(text);
    vscode.window.setStatusBarMessage(vscode.l10n.t('PO Pool: {0} PO numbers copied', text.split('\n').length), 3000);
  };

  const batches = new BatchWatch();
  const onStatus = async () => {
    const status = pool.connection.status;
    const end = status && batches.next(status);
    if (!end) return;
    const retry = vscode.l10n.t('Retry Failed');
    const report = vscode.l10n.t('Open Report');
    const choice = await showSummary(end.failed ? 'warning' : 'info', end.message, ...(end.failed ? [retry] : []), report);
    if (choice === retry) await vscode.commands.executeCommand('poPool.retryFailed');
    else if (choice === report) await vscode.commands.executeCommand('poPool.openReport');
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('poPool.openReport', guarded(pool.log, openReport)),
    vscode.commands.registerCommand('poPool.showFailure', guarded(pool.log, showFailure)),
    vscode.commands.registerCommand('poPool.openInCoupa', guarded(pool.log, openInCoupa)),
    vscode.commands.registerCommand('poPool.openResultFile', guarded(pool.log, openResultFile)),
    vscode.commands.registerCommand('poPool.copyPoNumbers', guarded(pool.log, copyPoNumbers)),
    pool.connection.onDidReset((status) => batches.reset(status)),
    pool.connection.onDidChangeStatus(() => void onStatus().catch((err) => pool.log.warn(`batch notice: ${(err as Error).message}`))),
  );
}

async function listAll(pool: PoolController, status: TaskStatus): Promise<TaskInfo[]> {
  const out: TaskInfo[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await pool.connection.request(ListTasks, { status: [status], offset, limit: 1000 });
    out.push(...page.tasks);
    if (page.tasks.length === 0 || out.length >= page.total) return out;
  }
}

function targetOf(arg: ResultNode | FailureTarget | TaskInfo | undefined): FailureTarget | undefined {
  if (!arg) return undefined;
  if ('kind' in arg) return arg.kind === 'result' ? failureTarget(arg.task) : undefined;
  if ('taskId' in arg) return failureTarget(arg);
  return arg;
}

/**
 * A PDF or a spreadsheet opens in the program the system has for it, not as bytes in an editor.
 * A remote or browser window has no such program on the machine holding the file: the editor
 * opens it there, which shows text and images.
 */
async function openWithSystem(uri: vscode.Uri): Promise<void> {
  if (vscode.env.uiKind === vscode.UIKind.Desktop && !vscode.env.remoteName) await vscode.env.openExternal(uri);
  else await vscode.commands.executeCommand('vscode.open', uri);
}
