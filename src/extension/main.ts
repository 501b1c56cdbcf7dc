/**
 * The extension is a thin client of the user's supervisor (src/supervisor): it never runs a
 * browser. Each feature is one `initX(context, pool)` over the shared connection. There is no
 * `deactivate`: disposing the subscriptions closes the socket, and the pool goes on working for
 * the next window (or exits by itself when idle).
 */
import type * as vscode from 'vscode';
import { createApi, type PoPoolApi } from './api';
import { initPoolConnection } from './poolController';
import { initCliOnPath, initTasks } from './cliAccess';
import { initContextKeys } from './contextKeys';
import { initDecorations } from './decorations';
import { initLog } from './log';
import { initPoolCommands } from './poolCommands';
import { initProcessCommands } from './processCommands';
import { initQueueView } from './queueView';
import { initResultCommands } from './resultCommands';
import { initResultsView } from './resultsView';
import { initStatusBar } from './statusBar';
import { initStatusPanel } from './statusPanel';
import { initWorkersView } from './workersView';

export type { PoPoolApi } from './api';

export function activate(context: vscode.ExtensionContext): PoPoolApi {
  const pool = initPoolConnection(context);
  for (const init of [initLog, initContextKeys, initStatusBar, initWorkersView, initQueueView, initResultsView, initResultCommands, initDecorations, initStatusPanel, initPoolCommands, initCliOnPath, initTasks]) init(context, pool);
  return createApi(pool, initProcessCommands(context, pool));
}
