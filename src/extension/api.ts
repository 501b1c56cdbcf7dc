/**
 * The API `activate` returns, for other extensions and scripts:
 *
 * ```ts
 * const api = vscode.extensions.getExtension<PoPoolApi>('coupa-po-pool.coupa-po-pool')!.exports;
 * const { handles, duplicates } = await api.submit(['PO100001', 'PO100002'], { priority: 5 });
 * api.onDidChangeStatus((s) => console.log(`${s.queueDepth} queued`));
 * ```
 *
 * - `submit` starts the pool from the settings when it is not running, then queues the POs
 *   (journalled by the supervisor before it answers). POs already queued, running or done come
 *   back in `duplicates`; entries that are not PO numbers in `invalid`.
 * - `status` asks the supervisor for the current `PoolStatus`.
 * - `onDidChangeStatus` fires with every status the supervisor publishes (bursts merged: at most one per 25 ms).
 * - `results` lists every finished task (all outcomes, cancelled included), oldest first.
 */
import type * as vscode from 'vscode';
import { ListTasks, type SubmitTasksResult } from '../protocol/rpc';
import { isFinal, taskStatuses, type PoolStatus, type TaskInfo } from '../protocol/types';
import type { PoolController } from './poolController';
import type { Submitter } from './processCommands';

export interface PoPoolApi {
  submit(poNumbers: string[], options?: { priority?: number }): Promise<SubmitTasksResult>;
  status(): Promise<PoolStatus>;
  onDidChangeStatus: vscode.Event<PoolStatus>;
  results(): Promise<TaskInfo[]>;
}

export function createApi(pool: PoolController, submitter: Submitter): PoPoolApi {
  return {
    submit: (poNumbers, options) => submitter.submit(poNumbers, { priority: options?.priority }),
    status: () => pool.connection.refreshStatus(),
    onDidChangeStatus: pool.connection.onDidChangeStatus,
    results: async () => {
      const finished = taskStatuses.filter(isFinal);
      const out: TaskInfo[] = [];
      for (let offset = 0; ; offset += 1000) {
        const page = await pool.connection.request(ListTasks, { status: [...finished], offset, limit: 1000 });
        out.push(...page.tasks);
        if (page.tasks.length === 0 || out.length >= page.total) return out;
      }
    },
  };
}
