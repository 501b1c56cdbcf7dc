/**
 * The CLI from inside VS Code: `po-pool` on the integrated terminal's PATH, and a `po-pool` task
 * type so a list run every week lives in tasks.json (`{ "type": "po-pool", "file": "pos.txt" }`).
 * Both run the extension's own dist/cli.js with the editor's runtime, so they reach the same
 * supervisor as the window without anything installed.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import * as vscode from 'vscode';
import type { PoolController } from './poolController';
import { cliEnv, shimScript, taskArgs, type PoPoolTaskDefinition } from './cliModel';

const TASK_TYPE = 'po-pool';

export function initCliOnPath(context: vscode.ExtensionContext, pool: PoolController): void {
  const bin = join(context.globalStorageUri.fsPath, 'bin');
  try {
    mkdirSync(bin, { recursive: true });
    const windows = process.platform === 'win32';
    const shim = join(bin, windows ? 'po-pool.cmd' : 'po-pool');
    writeFileSync(shim, shimScript(process.execPath, context.asAbsolutePath('dist/cli.js'), windows), { mode: 0o700 });
    if (!windows) chmodSync(shim, 0o700);
  } catch (err) {
    pool.log.warn(`po-pool is not on the terminal's PATH: ${(err as Error).message}`);
    return;
  }
  const env = context.environmentVariableCollection;
  env.description = vscode.l10n.t('Puts the po-pool command line on the PATH.');
  env.prepend('PATH', `${bin}${delimiter}`);
}

export function initTasks(context: vscode.ExtensionContext, pool: PoolController): void {
  const toTask = (definition: PoPoolTaskDefinition, scope: vscode.WorkspaceFolder | vscode.TaskScope = vscode.TaskScope.Workspace) => {
    const settings = pool.settings();
    const execution = new vscode.ProcessExecution(process.execPath, [context.asAbsolutePath('dist/cli.js'), ...taskArgs(definition)], {
      env: cliEnv(settings, pool.downloadDir()),
      ...(typeof scope === 'object' ? { cwd: scope.uri.fsPath } : {}),
    });
    const task = new vscode.Task(definition, scope, vscode.l10n.t('run {0}', definition.file), TASK_TYPE, execution);
    task.detail = vscode.l10n.t('po-pool run {0}', definition.file);
    return task;
  };

  context.subscriptions.push(vscode.tasks.registerTaskProvider(TASK_TYPE, {
    // Offered: the PO lists open in editors; any other list is a line in tasks.json.
    provideTasks: () => vscode.workspace.textDocuments
      .filter((d) => d.uri.scheme === 'file' && /\.(txt|csv|xlsx)$/i.test(d.fileName) && vscode.workspace.getWorkspaceFolder(d.uri))
      .map((d) => toTask({ type: TASK_TYPE, file: vscode.workspace.asRelativePath(d.uri, false) }, vscode.workspace.getWorkspaceFolder(d.uri))),
    resolveTask: (task) => {
      const definition = task.definition as PoPoolTaskDefinition;
      if (typeof definition.file !== 'string' || !definition.file) return undefined;
      return toTask(definition, task.scope as vscode.WorkspaceFolder | vscode.TaskScope | undefined);
    },
  }));
}
