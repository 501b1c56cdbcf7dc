/** `po-pool run`: start, submit, follow live, summarise; the exit code says whether every PO succeeded. */
import { join } from 'node:path';
import { REPORT_NAME } from '../../shared/paths';
import { connectOrStart, print, type Context } from '../context';
import { formatSummary } from '../format';
import { collectInputs, readPoFileWith } from '../inputs';
import { requirePos, runJob } from '../job';
import { startParams, type PoolOptions } from '../options';
import { exitCodeFor, EXIT_INTERRUPTED } from '../outcome';
import { startPool } from './start';

export interface RunOptions extends PoolOptions {
  priority?: number;
  redo?: boolean;
  timeout?: number;
}

export async function run(ctx: Context, args: string[], options: RunOptions): Promise<number> {
  let client = await connectOrStart(ctx);
  try {
    const inputs = await collectInputs(args, readPoFileWith(client));
    requirePos(ctx, inputs);
    const params = startParams(options);
    const status = await startPool(ctx, client, params);
    // The list goes where this run was asked to put it, whatever folder a running pool was started with.
    const downloadDir = params.downloadDir!;
    const job = await runJob(ctx, client, inputs, { ...options, downloadDir, reconnect: () => connectOrStart(ctx) });
    client = job.client;
    print(ctx.io.stdout, formatSummary({
      tasks: job.tasks, wallSeconds: job.wallSeconds, workerCount: status.config?.workerCount, downloadDir, reportPath: join(downloadDir, REPORT_NAME),
    }));
    if (job.interrupted) {
      print(ctx.io.stderr, 'interrupted; the pool keeps working on the list ("po-pool status", "po-pool wait")');
      return EXIT_INTERRUPTED;
    }
    return exitCodeFor(job.tasks.map((t) => t.status));
  } finally {
    client.dispose();
  }
}
