/** The "PO Pool" log: the supervisor's log lines and the connection's ups and downs, at the user's log level. */
import * as vscode from 'vscode';
import type { LogEntry } from '../protocol/rpc';
import type { PoolController } from './poolController';

export function initLog(context: vscode.ExtensionContext, pool: PoolController): void {
  const log = pool.log;
  const write = (e: LogEntry) => {
    const text = e.workerId ? `[${e.workerId}] ${e.message}` : e.message;
    // The channel drops what is below the level the person chose ("Developer: Set Log Level").
    if (e.level === 'trace') log.trace(text);
    else if (e.level === 'debug') log.debug(text);
    else if (e.level === 'warn') log.warn(text);
    else if (e.level === 'error') log.error(text);
    else log.info(text);
  };
  context.subscriptions.push(
    pool.connection.onLog(write),
    pool.connection.onDidChangeConnection((state) => {
      if (state.kind === 'connected') log.info(`connected to supervisor ${state.supervisorPid} (its log file: ${state.logFile})`);
      else if (state.kind === 'retrying') log.warn(`no supervisor: ${state.error}; trying again in ${Math.round((state.retryAt - Date.now()) / 1000)} s`);
    }),
    vscode.commands.registerCommand('poPool.showLog', () => log.show(true)),
  );
}
