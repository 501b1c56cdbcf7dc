/** `po-pool results`: how each PO ended, as a table or JSON. */
import type { TaskStatus } from '../../protocol/types';
import { connectIfRunning, print, type Context } from '../context';
import { listAllTasks } from '../follow';
import { formatResultsTable } from '../format';
import { EXIT_OK, latestPerPo, UsageError } from '../outcome';

export interface ResultsOptions {
  json?: boolean;
  status?: TaskStatus[];
}

export async function results(ctx: Context, options: ResultsOptions): Promise<number> {
  const client = await connectIfRunning(ctx);
  if (!client) throw new UsageError('no supervisor running');
  try {
    // Filtered after picking each PO's latest task, so an old failure of a PO done since is not listed.
    const wanted = options.status?.length ? new Set(options.status) : undefined;
    const tasks = latestPerPo(await listAllTasks(client)).filter((t) => !wanted || wanted.has(t.status));
    print(ctx.io.stdout, options.json ? JSON.stringify(tasks, null, 2) : formatResultsTable(tasks));
    return EXIT_OK;
  } finally {
    client.dispose();
  }
}
