/** `po-pool submit`: POs from files and arguments into the queue. */
import { GetStatus } from '../../protocol/rpc';
import { connectOrStart, print, type Context } from '../context';
import { formatSubmitReport } from '../format';
import { collectInputs, readPoFileWith, submitAll, submitJson, submitReport } from '../inputs';
import { EXIT_OK, UsageError } from '../outcome';

export interface SubmitOptions {
  priority?: number;
  redo?: boolean;
  json?: boolean;
}

export async function submit(ctx: Context, args: string[], options: SubmitOptions): Promise<number> {
  const client = await connectOrStart(ctx);
  try {
    const inputs = await collectInputs(args, readPoFileWith(client));
    const result = await submitAll(client, inputs.pos, options);
    const report = submitReport(inputs, result);
    print(ctx.io.stdout, options.json ? JSON.stringify(submitJson(report), null, 2) : formatSubmitReport(report));
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
