/** The commands that run the pool itself: start, stop, restart, workers, cancelling, signing in, the downloads folder. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { CancelTask, ListTasks, RestartWorker, SignIn } from '../protocol/rpc';
import type { TaskInfo } from '../protocol/types';
import { isPoolUp, type PoolController } from './poolController';
import { formatDuration, plural } from './format';
import type { QueueNode } from './queueModel';
import { revealFolder } from './resultsView';
import { SECTION } from './settings';
import { activeWorkers } from './statusBarModel';
import { Cancelled, guarded, showSummary, untilCancelled, withNotificationProgress } from './ui';

/** How long a person gets to finish signing in (SSO, MFA) in the browser window. */
const SIGN_IN_SECONDS = 300;

export function initPoolCommands(context: vscode.ExtensionContext, pool: PoolController): void {
  const startPool = async () => {
    const before = await pool.connection.refreshStatus();
    if (isPoolUp(before)) {
      await showSummary('info', `The pool is already running with ${plural(activeWorkers(before), 'worker')}.`);
      return;
    }
    const status = await pool.start();
    await showSummary('info', `The pool is ${status.state.toLowerCase()} with ${plural(activeWorkers(status), 'worker')}.`);
  };

  const stopPool = async () => {
    // Cancel on the graceful stop's notification is how a person asks for the forced stop sooner:
    // the supervisor finishes a cancelled graceful stop forced.
    const clean = await pool.stop(false).catch((err) => {
      if (err instanceof Cancelled) return undefined;
      throw err;
    });
    if (clean === undefined) {
      await showSummary('info', 'Stopping the pool now; the interrupted POs go back to the queue.');
      return;
    }
    if (clean) {
      await showSummary('info', 'The pool has stopped. Queued POs wait for the next start.');
      return;
    }
    const choice = await showSummary('warning', 'Some POs are still running (the graceful stop goes on).', 'Force Stop');
    if (choice) {
      await pool.stop(true);
      await showSummary('info', 'The pool has stopped; the interrupted POs go back to the queue.');
    }
  };

  const restartPool = async () => {
    if (isPoolUp(await pool.connection.refreshStatus())) await pool.stop(false);
    await pool.start();
  };

  const restartWorker = async (arg?: unknown) => {
    const workerId = typeof arg === 'string' ? arg : await pickWorker(pool);
    if (!workerId) return;
    await pool.connection.request(RestartWorker, { workerId });
    await showSummary('info', `Restarting ${workerId}; its PO, if it had one, goes back to the queue.`);
  };

  const cancelTask = async (arg?: unknown) => {
    const ids = taskIdsOf(arg) ?? (await pickTasks(pool));
    if (!ids?.length) return;
    let cancelled = 0;
    const late: string[] = [];
    for (const taskId of ids) {
      const r = await pool.connection.request(CancelTask, { taskId });
      if (r.cancelled) cancelled++;
      else late.push(`${taskId} (${r.status.toLowerCase()})`);
    }
    await showSummary(late.length ? 'warning' : 'info', `Cancelled ${plural(cancelled, 'PO')}.${late.length ? ` Already finished: ${late.join(', ')}.` : ''}`);
  };

  const signIn = async () => {
    const config = vscode.workspace.getConfiguration(SECTION);
    const settings = pool.settings();
    let coupaUrl = settings.coupaUrl;
    if (!coupaUrl) {
      const entered = await vscode.window.showInputBox({
        title: 'Sign in to Coupa',
        prompt: 'Your Coupa address (saved as the poPool.coupaUrl setting)',
        placeHolder: 'https://acme.coupahost.com',
        ignoreFocusOut: true,
        validateInput: (v) => (/^https?:\/\/[^/\s]+/i.test(v.trim()) ? undefined : 'An address like https://acme.coupahost.com'),
      });
      if (!entered) return;
      coupaUrl = entered.trim().replace(/\/+$/, '');
      await config.update('coupaUrl', coupaUrl, vscode.ConfigurationTarget.Global);
    }
    let profilePath = settings.baseProfilePath;
    if (!profilePath) {
      // Kept with the extension's own storage: it holds a live Coupa session, so not in the workspace.
      profilePath = join(context.globalStorageUri.fsPath, 'coupa-profile');
      mkdirSync(profilePath, { recursive: true });
      await config.update('baseProfilePath', profilePath, vscode.ConfigurationTarget.Global);
    }
    const result = await withNotificationProgress(
      `PO Pool: sign in to ${coupaUrl} in the browser window that opened (waiting up to ${formatDuration(SIGN_IN_SECONDS)})`,
      (_, token) => untilCancelled(pool.connection.request(SignIn, { coupaUrl, profilePath, browser: settings.browser, timeout: SIGN_IN_SECONDS }, token), token),
    );
    if (!result.signedIn) {
      await showSummary('warning', `Not signed in: ${result.message}`, 'Try Again').then((c) => c && vscode.commands.executeCommand('poPool.signIn'));
      return;
    }
    const up = isPoolUp(pool.connection.status);
    const choice = await showSummary('info', `Signed in to ${coupaUrl}. ${up ? 'Restart the pool so its workers use the new session.' : 'The pool can start now.'}`, up ? 'Restart Pool' : 'Start Pool');
    if (choice) await vscode.commands.executeCommand(up ? 'poPool.restartPool' : 'poPool.startPool');
  };

  const openDownloads = async () => {
    const dir = pool.downloadDir();
    mkdirSync(dir, { recursive: true });
    await revealFolder(vscode.Uri.file(dir));
  };

  const register = (id: string, run: (...args: never[]) => Promise<unknown>) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, guarded(pool.log, run as (...args: unknown[]) => Promise<unknown>)));
  register('poPool.startPool', startPool);
  register('poPool.stopPool', stopPool);
  register('poPool.restartPool', restartPool);
  register('poPool.restartWorker', restartWorker);
  register('poPool.cancelTask', cancelTask);
  register('poPool.signIn', signIn);
  register('poPool.openDownloads', openDownloads);
}

/** A Queue row, a task id, `{ taskId }` or `{ taskIds }`. */
function taskIdsOf(arg: unknown): string[] | undefined {
  if (typeof arg === 'string') return [arg];
  if (!arg || typeof arg !== 'object') return undefined;
  const node = arg as Partial<QueueNode & { kind: 'task' }> & { taskId?: unknown; taskIds?: unknown };
  if (node.kind === 'task' && node.task) return [node.task.taskId];
  if (typeof node.taskId === 'string') return [node.taskId];
  if (Array.isArray(node.taskIds)) return node.taskIds.map(String);
  return undefined;
}

async function pickWorker(pool: PoolController): Promise<string | undefined> {
  const status = await pool.connection.refreshStatus();
  const workers = isPoolUp(status) ? status.workers.filter((w) => w.state !== 'TERMINATED') : [];
  if (!workers.length) {
    await showSummary('info', 'No worker is running.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    workers.map((w) => ({ label: w.workerId, description: w.state.toLowerCase(), detail: w.currentPo ? `working on ${w.currentPo}` : undefined })),
    { title: 'Restart which worker?' },
  );
  return pick?.label;
}

async function pickTasks(pool: PoolController): Promise<string[] | undefined> {
  const picked = await withNotificationProgress('PO Pool: listing the queue', (_, token) =>
    untilCancelled(pool.connection.request(ListTasks, { status: ['RUNNING', 'QUEUED'], limit: 1000 }, token), token));
  if (!picked.tasks.length) {
    await showSummary('info', 'Nothing is queued or running.');
    return undefined;
  }
  const items = picked.tasks.map((t: TaskInfo) => ({
    label: t.poNumber,
    description: t.status === 'RUNNING' ? `running${t.workerId ? ` on ${t.workerId}` : ''}` : `queued, priority ${t.priority}`,
    taskId: t.taskId,
  }));
  const chosen = await vscode.window.showQuickPick(items, {
    title: `Cancel which POs?${picked.total > items.length ? ` (the first ${items.length} of ${picked.total})` : ''}`,
    canPickMany: true,
    matchOnDescription: true,
  });
  return chosen?.map((c) => c.taskId);
}
