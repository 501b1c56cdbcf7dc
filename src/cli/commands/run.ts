/** `po-pool run`: start, submit, follow live, summarise; the exit code says whether every PO succeeded. */
import { join } from 'node:path';
import { REPORT_NAME } from '../../shared/paths';
import { downloadDirOf, startParams, type Settings } from '../config';
import { connectOrStart, print, type Context } from '../context';
import { allInvalid, formatSummary, jsonText } from '../format';
import { collectInputs, inputSources } from '../inputs';
import { requirePos, runJob } from '../job';
import { outcomeJson, type RunJson } from '../json';
import { DeadlineError, exitCodeFor, EXIT_INTERRUPTED, EXIT_TIMEOUT } from '../outcome';
import { startPool } from './start';

export interface RunOptions {
  settings: Settings;
  priority?: number;
  redo?: boolean;
  /** Seconds. */
  timeout?: number;
  json?: boolean;
}

export async function run(ctx: Context, args: string[], options: RunOptions): Promise<number> {
  let client = await connectOrStart(ctx);
  try {
    const inputs = await collectInputs(args, inputSources(ctx, client, options.settings.poPattern));
    requirePos(ctx, inputs);
    const status = await startPool(ctx, client, startParams(options.settings));
    // The list goes where this run was asked to put it, whatever folder a running pool was started with.
    const downloadDir = downloadDirOf(options.settings);
    const reportPath = join(downloadDir, REPORT_NAME);
    const job = await runJob(ctx, client, inputs, {
      ...options, downloadDir, reportTo: options.json ? ctx.io.stderr : ctx.io.stdout, reconnect: () => connectOrStart(ctx),
    });
    client = job.client;
    const code = job.end === 'stopped' ? EXIT_INTERRUPTED : job.end === 'timeout' ? EXIT_TIMEOUT : exitCodeFor(job.tasks.map((t) => t.status));
    if (options.json) {
      const json: RunJson = { ...outcomeJson(job.tasks, code, job.end === 'timeout', job.alreadyDone), downloadDir, report: reportPath, invalid: allInvalid(job.report) };
      print(ctx.io.stdout, jsonText(json));
    } else {
      print(ctx.io.stdout, formatSummary({
        tasks: job.tasks, alreadyDone: job.alreadyDone, wallSeconds: job.wallSeconds, workerCount: status.config?.workerCount, downloadDir, reportPath,
      }));
    }
    if (job.end === 'timeout') throw new DeadlineError(`not finished after ${options.timeout} s; the pool keeps working ("po-pool status", "po-pool wait")`);
    if (job.end === 'stopped') print(ctx.io.stderr, 'interrupted; the pool keeps working on the list ("po-pool status", "po-pool wait")');
    return code;
  } finally {
    client.dispose();
  }
}
