/** The commands that run the pool itself: start, stop, restart, workers, cancelling, signing in, the downloads folder. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { CancelTask, ListTasks, RestartWorker, SignIn } from '../protocol/rpc';
import type { TaskInfo } from '../protocol/types';
import { isPoolUp, type PoolController } from './poolController';
import { formatDuration, plural } from './format';
import { revealFolder } from './resultsView';
import { selectedNodes, selectedTasks } from './selectionModel';
import { SECTION } from './settings';
import { activeWorkers } from './statusBarModel';
import { Cancelled, guarded, showSummary, untilCancelled, withNotificationProgress } from './ui';

/** How long a person gets to finish signing in (SSO, MFA) in the browser window. */
const SIGN_IN_SECONDS = 300;

export function initPoolCommands(context: vscode.ExtensionContext, pool: PoolController): void {
  const startPool = async () => {
    const before = await pool.connection.refreshStatus();
    if (isPoolUp(before)) {
      await showSummary('info', vscode.l10n.t('The pool is already running with {0}.', plural(activeWorkers(before), 'worker')));
      return;
    }
    const status = await pool.start();
    await showSummary('info', vscode.l10n.t('The pool is {0} with {1}.', status.state.toLowerCase(), plural(activeWorkers(status), 'worker')));
  };

  const stopPool = async () => {
    // Cancel on the graceful stop's notification is how a person asks for the forced stop sooner:
    // the supervisor finishes a cancelled graceful stop forced.
    const clean = await pool.stop(false).catch((err) => {
      if (err instanceof Cancelled) return undefined;
      throw err;
    });
    if (clean === undefined) {
      await showSummary('info', vscode.l10n.t('Stopping the pool now; the interrupted POs go back to the queue.'));
      return;
    }
    if (clean) {
      await showSummary('info', vscode.l10n.t('The pool has stopped. Queued POs wait for the next start.'));
      return;
    }
    const force = vscode.l10n.t('Force Stop');
    const choice = await showSummary('warning', vscode.l10n.t('Some POs are still running (the graceful stop goes on).'), force);
    if (choice === force) {
      await pool.stop(true);
      await showSummary('info', vscode.l10n.t('The pool has stopped; the interrupted POs go back to the queue.'));
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
    await showSummary('info', vscode.l10n.t('Restarting {0}; its PO, if it had one, goes back to the queue.', workerId));
  };

  const cancelTask = async (...raw: unknown[]) => {
    const ids = taskIdsOf(raw) ?? (await pickTasks(pool));
    if (!ids?.length) return;
    let cancelled = 0;
    const late: string[] = [];
    for (const taskId of ids) {
      const r = await pool.connection.request(CancelTask, { taskId });
      if (r.cancelled) cancelled++;
      else late.push(`${taskId} (${r.status.toLowerCase()})`);
    }
    await showSummary(late.length ? 'warning' : 'info', [vscode.l10n.t('Cancelled {0}.', plural(cancelled, 'PO')), ...(late.length ? [vscode.l10n.t('Already finished: {0}.', late.join(', '))] : [])].join(' '));
  };

  const signIn = async () => {
    const config = vscode.workspace.getConfiguration(SECTION);
    const settings = pool.settings();
    let coupaUrl = settings.coupaUrl;
    if (!coupaUrl) {
      const entered = await vscode.window.showInputBox({
        title: vscode.l10n.t('Sign in to Coupa'),
        prompt: vscode.l10n.t('Your Coupa address (saved as the poPool.coupaUrl setting)'),
        placeHolder: 'https://acme.coupahost.com',
        ignoreFocusOut: true,
        validateInput: (v) => (/^https?:\/\/[^/\s]+/i.test(v.trim()) ? undefined : vscode.l10n.t('An address like https://acme.coupahost.com')),
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
    if (vscode.env.remoteName && !(await signInRemotely(coupaUrl, profilePath))) return;
    const result = await withNotificationProgress(
      vscode.l10n.t('PO Pool: sign in to {0} in the browser window that opened (waiting up to {1})', coupaUrl, formatDuration(SIGN_IN_SECONDS)),
      (_, token) => untilCancelled(pool.connection.request(SignIn, { coupaUrl, profilePath, browser: settings.browser, timeout: SIGN_IN_SECONDS }, token), token),
    );
    if (!result.signedIn) {
      const again = vscode.l10n.t('Try Again');
      if ((await showSummary('warning', vscode.l10n.t('Not signed in: {0}', result.message), again)) === again) await vscode.commands.executeCommand('poPool.signIn');
      return;
    }
    // Completes the walkthrough's sign-in step.
    void vscode.commands.executeCommand('setContext', 'poPool.signedIn', true);
    const up = isPoolUp(pool.connection.status);
    const next = up ? vscode.l10n.t('Restart Pool') : vscode.l10n.t('Start Pool');
    const message = up
      ? vscode.l10n.t('Signed in to {0}. Restart the pool so its workers use the new session.', coupaUrl)
      : vscode.l10n.t('Signed in to {0}. The pool can start now.', coupaUrl);
    const choice = await showSummary('info', message, next);
    if (choice === next) await vscode.commands.executeCommand(up ? 'poPool.restartPool' : 'poPool.startPool');
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

/**
 * In a remote window (SSH, WSL, a container, Codespaces) the sign-in browser opens on the remote
 * machine, which often has no display. Says so and offers the ways that work; true to go on here.
 */
async function signInRemotely(coupaUrl: string, profilePath: string): Promise<boolean> {
  const here = vscode.l10n.t('Sign In Here');
  const copy = vscode.l10n.t('Copy Login Command');
  const endpoints = vscode.l10n.t('Use Remote Endpoints');
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t('PO Pool: signing in opens a browser window on the {0} machine, which needs a display there.', vscode.env.remoteName ?? ''),
    {
      modal: true,
      detail: vscode.l10n.t('Without one, run "po-pool login" on a machine with a display and copy the profile folder it fills to {0} here, or let the workers use browsers that run elsewhere (remote endpoints).', profilePath),
    },
    here, copy, endpoints,
  );
  if (choice === copy) {
    await vscode.env.clipboard.writeText(`po-pool login --coupa ${coupaUrl} --profile "${profilePath}"`);
    await showSummary('info', vscode.l10n.t('The login command is on the clipboard.'));
  } else if (choice === endpoints) {
    await vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.remoteEndpoints`);
  }
  return choice === here;
}

/** The selected Queue rows, a task id, `{ taskId }` or `{ taskIds }`. */
function taskIdsOf(raw: unknown[]): string[] | undefined {
  const nodes = selectedNodes(raw);
  if (nodes.length) return selectedTasks(nodes).map((t) => t.taskId);
  const arg = raw[0];
  if (typeof arg === 'string') return [arg];
  if (!arg || typeof arg !== 'object') return undefined;
  const given = arg as { taskId?: unknown; taskIds?: unknown };
  if (typeof given.taskId === 'string') return [given.taskId];
  if (Array.isArray(given.taskIds)) return given.taskIds.map(String);
  return undefined;
}

async function pickWorker(pool: PoolController): Promise<string | undefined> {
  const status = await pool.connection.refreshStatus();
  const workers = isPoolUp(status) ? status.workers.filter((w) => w.state !== 'TERMINATED') : [];
  if (!workers.length) {
    await showSummary('info', vscode.l10n.t('No worker is running.'));
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    workers.map((w) => ({ label: w.workerId, description: w.state.toLowerCase(), detail: w.currentPo ? `working on ${w.currentPo}` : undefined })),
    { title: vscode.l10n.t('Restart which worker?') },
  );
  return pick?.label;
}

async function pickTasks(pool: PoolController): Promise<string[] | undefined> {
  const picked = await withNotificationProgress(vscode.l10n.t('PO Pool: listing the queue'), (_, token) =>
    untilCancelled(pool.connection.request(ListTasks, { status: ['RUNNING', 'QUEUED'], limit: 1000 }, token), token));
  if (!picked.tasks.length) {
    await showSummary('info', vscode.l10n.t('Nothing is queued or running.'));
    return undefined;
  }
  const items = picked.tasks.map((t: TaskInfo) => ({
    label: t.poNumber,
    description: t.status === 'RUNNING' ? `running${t.workerId ? ` on ${t.workerId}` : ''}` : `queued, priority ${t.priority}`,
    taskId: t.taskId,
  }));
  const chosen = await vscode.window.showQuickPick(items, {
    title: picked.total > items.length ? vscode.l10n.t('Cancel which POs? (the first {0} of {1})', items.length, picked.total) : vscode.l10n.t('Cancel which POs?'),
    canPickMany: true,
    matchOnDescription: true,
  });
  return chosen?.map((c) => c.taskId);
}
