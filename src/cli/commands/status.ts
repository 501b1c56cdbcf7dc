/** `po-pool status`: the pool now, or live with `--watch`. */
import { GetStatus, StatusChanged, WorkerHealthChanged } from '../../protocol/rpc';
import type { PoolStatus } from '../../protocol/types';
import type { PoolClient } from '../../client/client';
import { connectIfRunning, onInterrupt, print, type Context } from '../context';
import { poolProgress } from '../follow';
import { formatStatus, jsonText } from '../format';
import { liveView } from '../live';
import { EXIT_OK, UsageError } from '../outcome';

export interface StatusOptions {
  json?: boolean;
  watch?: boolean;
}

/** A fallback for missed notifications; they normally come several times a second. */
const WATCH_POLL_MS = 2000;

export async function status(ctx: Context, options: StatusOptions): Promise<number> {
  const client = await connectIfRunning(ctx);
  if (!client) throw new UsageError('no supervisor running');
  try {
    const now = await client.request(GetStatus, undefined);
    if (!options.watch) {
      print(ctx.io.stdout, options.json ? jsonText(now) : formatStatus(now));
      return EXIT_OK;
    }
    return await watch(ctx, client, now, Boolean(options.json));
  } finally {
    client.dispose();
  }
}

/** Until Ctrl-C (exit 0) or the supervisor goes away (exit 2). `--json`: one status per line. */
async function watch(ctx: Context, client: PoolClient, first: PoolStatus, json: boolean): Promise<number> {
  const view = json ? undefined : liveView(ctx.io.stdout);
  let lastJson = '';
  const show = (s: PoolStatus) => {
    if (view) return view.update(s, poolProgress(s));
    const line = jsonText(s, 0);
    if (line !== lastJson) print(ctx.io.stdout, line);
    lastJson = line;
  };
  show(first);
  client.onNotification(StatusChanged, show);
  client.onNotification(WorkerHealthChanged, (workers) => view?.health(workers));
  const poll = setInterval(() => void client.request(GetStatus, undefined).then(show, () => undefined), WATCH_POLL_MS);
  let off = () => {};
  try {
    const how = await new Promise<'interrupted' | 'closed'>((resolve) => {
      off = onInterrupt(() => resolve('interrupted'));
      client.onClose(() => resolve('closed'));
    });
    if (how === 'closed') throw new UsageError('the supervisor stopped');
    return EXIT_OK;
  } finally {
    off();
    clearInterval(poll);
    view?.stop();
  }
}
