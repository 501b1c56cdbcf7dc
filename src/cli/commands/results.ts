/** `po-pool results`: how each PO ended, as a table or JSON. */
import { resolve } from 'node:path';
import type { TaskStatus } from '../../protocol/types';
import { connectIfRunning, print, type Context } from '../context';
import { listAllTasks } from '../follow';
import { formatResultsTable, jsonText } from '../format';
import { EXIT_OK, latestTasks, UsageError } from '../outcome';

export interface ResultsOptions {
  json?: boolean;
  status?: TaskStatus[];
  /** Only the POs of this download folder. */
  out?: string;
}

export async function results(ctx: Context, options: ResultsOptions): Promise<number> {
  const client = await connectIfRunning(ctx);
  if (!client) throw new UsageError('no supervisor running');
  try {
    // Filtered after picking each PO's latest task, so an old failure of a PO done since is not listed.
    const wanted = options.status?.length ? new Set(options.status) : undefined;
    const folder = options.out === undefined ? undefined : resolve(options.out);
    const tasks = latestTasks(await listAllTasks(client))
      .filter((t) => (!wanted || wanted.has(t.status)) && (!folder || t.downloadDir === folder));
    print(ctx.io.stdout, options.json ? jsonText(tasks) : formatResultsTable(tasks));
    return EXIT_OK;
  } finally {
    client.dispose();
  }
}
