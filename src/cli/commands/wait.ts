/** `po-pool wait`: until nothing is queued or running; the exit code says whether every PO succeeded. */
import { TimeoutError } from '../../protocol/errors';
import { GetStatus } from '../../protocol/rpc';
import { connectIfRunning, onInterrupt, print, type Context } from '../context';
import { Follower, listAllTasks } from '../follow';
import { countStatuses, formatCounts, plural } from '../format';
import { exitCodeFor, EXIT_INTERRUPTED, latestPerPo, UsageError } from '../outcome';

export interface WaitOptions {
  /** Seconds. */
  timeout?: number;
}

export async function wait(ctx: Context, options: WaitOptions): Promise<number> {
  const first = await connectIfRunning(ctx);
  if (!first) throw new UsageError('no supervisor running');
  const follower = new Follower(first, { reconnect: () => connectIfRunning(ctx) });
  const off = onInterrupt(() => follower.stop());
  try {
    const end = await follower.until(options.timeout === undefined ? undefined : options.timeout * 1000);
    if (end === 'stopped') return EXIT_INTERRUPTED;
    if (end === 'timeout') {
      const s = await follower.client.request(GetStatus, undefined);
      throw new TimeoutError(`still ${s.queueDepth} queued and ${s.running} running after ${options.timeout} s`);
    }
    // One verdict per PO: a PO that failed once and succeeded when retried counts as succeeded.
    const tasks = latestPerPo(await listAllTasks(follower.client));
    print(ctx.io.stdout, `${plural(tasks.length, 'PO')}: ${formatCounts(countStatuses(tasks))}`);
    return exitCodeFor(tasks.map((t) => t.status));
  } finally {
    off();
    follower.client.dispose();
  }
}
