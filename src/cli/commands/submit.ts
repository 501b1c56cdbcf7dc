/** `po-pool submit`: POs from files and arguments into the queue. */
import { GetStatus } from '../../protocol/rpc';
import { connectOrStart, print, type Context } from '../context';
import type { Settings } from '../config';
import { formatSubmitReport, jsonText } from '../format';
import { collectInputs, inputSources, submitAll, submitJson, submitReport } from '../inputs';
import { EXIT_OK, UsageError } from '../outcome';

export interface SubmitOptions {
  /** Only `downloadFolder` (where the POs go; unset: the pool's folder) and `poPattern` are used. */
  settings: Settings;
  priority?: number;
  redo?: boolean;
  json?: boolean;
}

export async function submit(ctx: Context, args: string[], options: SubmitOptions): Promise<number> {
  const client = await connectOrStart(ctx);
  try {
    const inputs = await collectInputs(args, inputSources(ctx, client, options.settings.poPattern));
    const result = await submitAll(client, inputs.pos, { ...options, downloadDir: options.settings.downloadFolder });
    const report = submitReport(inputs, result);
    print(ctx.io.stdout, options.json ? jsonText(submitJson(report)) : formatSubmitReport(report));
    if (inputs.pos.length === 0) throw new UsageError('no PO numbers to submit');
    const status = await client.request(GetStatus, undefined);
    if (result.handles.length && (status.state === 'TERMINATED' || status.state === 'ERROR')) {
      print(ctx.io.stderr, 'note: no pool is running, so the POs wait in the queue; start one with "po-pool start --coupa URL --profile DIR"');
    }
    return EXIT_OK;
  } finally {
    client.dispose();
  }
}
