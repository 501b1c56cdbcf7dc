/** `po-pool start`: the pool, with this configuration, ready for work. */
import { StartPool, type StartPoolParams } from '../../protocol/rpc';
import type { PoolStatus } from '../../protocol/types';
import type { PoolClient } from '../../client/client';
import { connectOrStart, print, type Context } from '../context';
import { formatStatus, plural } from '../format';
import { startParams, type PoolOptions } from '../options';
import { EXIT_OK } from '../outcome';

export async function start(ctx: Context, options: PoolOptions): Promise<number> {
  const client = await connectOrStart(ctx);
  try {
    const status = await startPool(ctx, client, startParams(options));
    print(ctx.io.stdout, formatStatus(status));
    return EXIT_OK;
  } finally {
    client.dispose();
  }
}

/** Starts the pool (a no-op when one runs) and warns when the running one is not what was asked for. */
export async function startPool(ctx: Context, client: PoolClient, params: StartPoolParams): Promise<PoolStatus> {
  print(ctx.io.stderr, `starting the pool${params.workerCount ? ` with ${plural(params.workerCount, 'worker')}` : ''}…`);
  const status = await client.request(StartPool, params);
  for (const line of configMismatch(params, status)) print(ctx.io.stderr, `note: ${line}`);
  return status;
}

/**
 * A pool already running keeps its configuration; saying so beats silently downloading into
 * another folder than the one asked for.
 */
export function configMismatch(asked: StartPoolParams, status: PoolStatus): string[] {
  const running = status.config;
  if (!running) return [];
  const fields = ['coupaUrl', 'downloadDir', 'baseProfilePath', 'workerCount'] as const;
  const differ = fields.filter((f) => asked[f] !== undefined && String(asked[f]).replace(/\/+$/, '') !== String(running[f]).replace(/\/+$/, ''));
  return differ.map((f) => `a pool is already running with ${f} ${running[f]} (not ${asked[f]}); "po-pool shutdown" first to change it`);
}
