/** Shared VS Code glue for the commands: progress with cancellation, and errors with their next step. */
import * as vscode from 'vscode';
import { adviseOn } from './errorAdvice';

/** The person stopped waiting; not an error worth a message. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

/**
 * Rejects with `Cancelled` as soon as the token fires, so the notification goes at once even while
 * the supervisor is still stopping the work the same token cancelled.
 */
export function untilCancelled<T>(work: Promise<T>, token: vscode.CancellationToken): Promise<T> {
  if (token.isCancellationRequested) return Promise.reject(new Cancelled());
  return new Promise<T>((resolve, reject) => {
    const sub = token.onCancellationRequested(() => reject(new Cancelled()));
    work.then(resolve, reject).finally(() => sub.dispose());
  });
}

export function withNotificationProgress<T>(
  title: string,
  task: (progress: vscode.Progress<{ message?: string; increment?: number }>, token: vscode.CancellationToken) => Promise<T>,
): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, task);
}

/** Shows a pool error with the buttons for the next step, and logs it with its kind. */
export async function showPoolError(err: unknown, log: vscode.LogOutputChannel): Promise<void> {
  if (err instanceof Cancelled) return;
  const advice = adviseOn(err);
  log.error(`${advice.kind}: ${advice.message}`);
  const choice = await vscode.window.showErrorMessage(`PO Pool: ${advice.message}`, ...advice.actions.map((a) => a.title));
  const action = advice.actions.find((a) => a.title === choice);
  if (action) await vscode.commands.executeCommand(action.command, ...(action.args ?? []));
}

/** Wraps a command so that any failure reaches the person as a pool error with advice. */
export function guarded<A extends unknown[]>(log: vscode.LogOutputChannel, run: (...args: A) => Promise<unknown>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await run(...args);
    } catch (err) {
      await showPoolError(err, log);
    }
  };
}

export function showSummary(severity: 'info' | 'warning' | 'error', message: string, ...buttons: string[]): Thenable<string | undefined> {
  const show = severity === 'error' ? vscode.window.showErrorMessage : severity === 'warning' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  return show(`PO Pool: ${message}`, ...buttons);
}
