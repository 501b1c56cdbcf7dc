/** `po-pool start`: the pool, with this configuration, ready for work. */
import { StartPool, type StartPoolParams } from '../../protocol/rpc';
import type { PoolStatus } from '../../protocol/types';
import type { PoolClient } from '../../client/client';
import { connectOrStart, print, type Context } from '../context';
import { plural } from '../../shared/format';
import { startParams, type Settings } from '../config';
import { formatStatus } from '../format';
import { EXIT_OK } from '../outcome';

export interface StartOptions {
  settings: Settings;
}

export async function start(ctx: Context, options: StartOptions): Promise<number> {
  const client = await connectOrStart(ctx);
  try {
    const status = await startPool(ctx, client, startParams(options.settings));
    print(ctx.io.stdout, formatStatus(status));
    return EXIT_OK;
  } finally {
    client.dispose();
  }
}

/**
 * Starts the pool. The supervisor keeps a running pool of the same configuration, restarts an idle
 * one for another, and refuses (ConfigurationError, exit 2) to replace one that still has work.
 */
export async function startPool(ctx: Context, client: PoolClient, params: StartPoolParams): Promise<PoolStatus> {
  print(ctx.io.stderr, `starting the pool${params.workerCount ? ` with ${plural(params.workerCount, 'worker')}` : ''}…`);
  return client.request(StartPool, params);
}
