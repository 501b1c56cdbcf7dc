/**
 * `po-pool coupa-standin`: the embedded Coupa stand-in in this process, to point a pool, a browser or
 * a test at, with its faults dialled in from the command line.
 */
import { createStandin, type StandinOptions } from '../../coupa/standin';
import { onInterrupt, print, type Context } from '../context';
import { EXIT_OK } from '../outcome';

export interface StandinCliOptions {
  port?: number;
  seed?: number;
  markup?: 'spans' | 'links' | 'mixed';
  pageLatency?: number;
  downloadLatency?: number;
  errorRate?: number;
  sessionLifetime?: number;
  expiredSession?: StandinOptions['expiredSession'];
  sso: boolean;
  rateLimit?: number;
  slowDownload?: number;
  truncateRate?: number;
  hostileNames?: boolean;
  poCount?: number;
}

const FIRST_PO_ID = 100_000;
const CREDENTIALS = { email: 'demo@example.com', password: 'demo' };

export function standinOptions(o: StandinCliOptions): StandinOptions {
  const given: StandinOptions = {
    port: o.port,
    seed: o.seed,
    markup: o.markup,
    pageLatencyMs: o.pageLatency,
    downloadLatencyMs: o.downloadLatency,
    errorRate: o.errorRate,
    sessionLifetimeSec: o.sessionLifetime,
    expiredSession: o.expiredSession,
    sso: o.sso,
    rateLimitPerSec: o.rateLimit,
    slowDownloadBytesPerSec: o.slowDownload,
    truncateRate: o.truncateRate,
    hostileNames: o.hostileNames,
    poCount: o.poCount,
  };
  return {
    ...(Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as StandinOptions),
    firstPoId: FIRST_PO_ID,
    credentials: CREDENTIALS,
  };
}

/** Serves until Ctrl-C or SIGTERM, then closes every connection and returns. */
export async function coupaStandin(ctx: Context, options: StandinCliOptions): Promise<number> {
  const opts = standinOptions(options);
  const standin = await createStandin(opts);
  const last = FIRST_PO_ID + (opts.poCount ?? 1000) - 1;
  print(ctx.io.stdout, `Coupa stand-in at ${standin.url}`);
  print(ctx.io.stdout, `sign in as ${CREDENTIALS.email} / ${CREDENTIALS.password}`);
  print(ctx.io.stdout, `POs PO${FIRST_PO_ID}..PO${last}, e.g. ${standin.url}/order_headers/${FIRST_PO_ID + 1}`);
  print(ctx.io.stderr, 'Ctrl-C to stop');
  await new Promise<void>((resolve) => onInterrupt(resolve));
  await standin.close();
  print(ctx.io.stderr, 'stand-in stopped');
  return EXIT_OK;
}
