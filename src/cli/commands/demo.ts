/**
 * `po-pool demo`: the whole job on the embedded Coupa stand-in, from an empty machine to files on
 * disk and a report, then everything stopped again.
 */
import { join, resolve } from 'node:path';
import { GetStatus, Shutdown, StartDemo } from '../../protocol/rpc';
import { REPORT_NAME } from '../../shared/paths';
import { connectOrStart, print, type Context } from '../context';
import { plural } from '../../shared/format';
import { formatSummary } from '../format';
import { collectInputs, inputSources } from '../inputs';
import { runJob } from '../job';
import { demoExitCode, EXIT_INTERRUPTED, UsageError } from '../outcome';

export interface DemoOptions {
  workers?: number;
  out: string;
}

/** The sample list ships beside `dist/` in the repository and in the .vsix. */
export const SAMPLE_LIST = join(__dirname, '..', 'samples', 'po-list.txt');

export async function demo(ctx: Context, options: DemoOptions): Promise<number> {
  let client = await connectOrStart(ctx);
  try {
    const before = await client.request(GetStatus, undefined);
    if (before.state !== 'TERMINATED' && before.state !== 'ERROR') {
      // The demo ends by stopping the pool; it must not stop one that does real work.
      throw new UsageError(`a pool is already running${before.config ? ` on ${before.config.coupaUrl}` : ''}; stop it with "po-pool shutdown" before the demo`);
    }
    const downloadDir = resolve(options.out);
    print(ctx.io.stderr, 'starting the Coupa stand-in, signing a demo profile in and starting the pool…');
    const started = await client.request(StartDemo, { downloadDir, ...(options.workers !== undefined ? { workerCount: options.workers } : {}) });
    print(ctx.io.stdout, `Coupa stand-in at ${started.coupaUrl}; ${plural(started.status.workers.length, 'worker')} signed in`);

    const inputs = await collectInputs([SAMPLE_LIST], inputSources(ctx, client));
    // Every demo shows the work being done, even when an earlier demo already fetched these POs.
    const job = await runJob(ctx, client, inputs, { redo: true, downloadDir, reportTo: ctx.io.stdout, reconnect: () => connectOrStart(ctx) });
    client = job.client;
    print(ctx.io.stdout, formatSummary({
      tasks: job.tasks, alreadyDone: job.alreadyDone, wallSeconds: job.wallSeconds, workerCount: started.status.workers.length, downloadDir, reportPath: join(downloadDir, REPORT_NAME),
    }));
    const interrupted = job.end === 'stopped';
    const { clean } = await client.request(Shutdown, { force: interrupted, exit: true });
    print(ctx.io.stderr, `pool shut down${clean ? '' : ' (running POs were stopped)'}`);
    return interrupted ? EXIT_INTERRUPTED : demoExitCode(job.tasks.map((t) => t.status));
  } finally {
    client.dispose();
  }
}
