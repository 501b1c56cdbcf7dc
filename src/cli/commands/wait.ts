/** `po-pool wait`: until nothing is queued or running; the exit code says whether every PO succeeded. */
import { resolve } from 'node:path';
import { GetStatus } from '../../protocol/rpc';
import { plural } from '../../shared/format';
import { connectIfRunning, onInterrupt, print, type Context } from '../context';
import { Follower, listAllTasks } from '../follow';
import { countStatuses, formatCounts, jsonText } from '../format';
import { outcomeJson } from '../json';
import { DeadlineError, exitCodeFor, EXIT_INTERRUPTED, EXIT_TIMEOUT, latestTasks, UsageError } from '../outcome';

export interface WaitOptions {
  /** Seconds. */
  timeout?: number;
  json?: boolean;
  /** Judge only the POs of this download folder. */
  out?: string;
}

export async function wait(ctx: Context, options: WaitOptions): Promise<number> {
  const first = await connectIfRunning(ctx);
  if (!first) throw new UsageError('no supervisor running');
  const follower = new Follower(first, { reconnect: () => connectIfRunning(ctx) });
  const off = onInterrupt(() => follower.stop());
  try {
    const end = await follower.until(options.timeout === undefined ? undefined : options.timeout * 1000);
    if (end === 'stopped') return EXIT_INTERRUPTED;
    // One verdict per PO and folder: a PO that failed once and succeeded when retried counts as succeeded.
    const folder = options.out === undefined ? undefined : resolve(options.out);
    const tasks = latestTasks(await listAllTasks(follower.client)).filter((t) => !folder || t.downloadDir === folder);
    const code = end === 'timeout' ? EXIT_TIMEOUT : exitCodeFor(tasks.map((t) => t.status));
    print(ctx.io.stdout, options.json ? jsonText(outcomeJson(tasks, code, end === 'timeout')) : `${plural(tasks.length, 'PO')}: ${formatCounts(countStatuses(tasks))}`);
    if (end === 'timeout') {
      const s = await follower.client.request(GetStatus, undefined);
      throw new DeadlineError(`still ${s.queueDepth} queued and ${s.running} running after ${options.timeout} s; the pool keeps working`);
    }
    return code;
  } finally {
    off();
    follower.client.dispose();
  }
}
