/** `po-pool shutdown`: the pool and the supervisor stopped, with no process left behind. */
import { Shutdown } from '../../protocol/rpc';
import { connectIfRunning, print, type Context } from '../context';
import { EXIT_OK, EXIT_PO_FAILED } from '../outcome';

export interface ShutdownOptions {
  /** Seconds for running POs to finish. */
  timeout?: number;
  force?: boolean;
}

/** The supervisor exits shortly after answering; waiting for that lets a script start a new one at once. */
const EXIT_WAIT_MS = 15_000;

export async function shutdown(ctx: Context, options: ShutdownOptions): Promise<number> {
  const client = await connectIfRunning(ctx);
  if (!client) {
    print(ctx.io.stdout, 'no supervisor running; nothing to stop');
    return EXIT_OK;
  }
  try {
    const closed = new Promise<boolean>((resolve) => {
      client.onClose(() => resolve(true));
      setTimeout(() => resolve(false), EXIT_WAIT_MS).unref();
    });
    const { clean } = await client.request(Shutdown, { ...(options.timeout !== undefined ? { timeout: options.timeout } : {}), force: Boolean(options.force), exit: true });
    print(ctx.io.stdout, clean ? 'pool shut down cleanly' : 'pool shut down, not cleanly: running POs were stopped before they finished');
    const exited = await closed;
    print(ctx.io.stdout, exited ? `supervisor ${client.hello.supervisorPid} stopped` : `supervisor ${client.hello.supervisorPid} has not exited yet`);
    return clean ? EXIT_OK : EXIT_PO_FAILED;
  } finally {
    client.dispose();
  }
}
