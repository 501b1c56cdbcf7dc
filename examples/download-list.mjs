// Downloads POs through the user's pool (the supervisor the po-pool CLI and the editor share,
// started if none runs), waits for them, and prints how each ended. Exit code 0 when every PO ended
// COMPLETED or NO_ATTACHMENTS, as po-pool's.
//
//   PO_POOL_COUPA_URL=https://acme.coupahost.com PO_POOL_PROFILE=~/coupa-profile \
//     node download-list.mjs PO15262984 PO15262985 --out ./march
import { parseArgs } from 'node:util';
import { connect } from 'coupa-po-pool';

const { values, positionals: pos } = parseArgs({ allowPositionals: true, options: { out: { type: 'string', default: 'downloads' } } });

const pool = await connect();
try {
  // A pool already running with this configuration is kept; an idle one of another is restarted.
  await pool.start({ coupaUrl: process.env.PO_POOL_COUPA_URL, baseProfilePath: process.env.PO_POOL_PROFILE, workerCount: 2 });
  const submitted = await pool.submit(pos, { downloadDir: values.out });
  for (const bad of submitted.invalid) console.error(`${bad.poNumber}: ${bad.reason}`);
  for (const known of submitted.duplicates) console.error(`${known.poNumber}: already ${known.status} in ${values.out}`);

  const tasks = await pool.waitForDone(submitted, { timeoutMs: 30 * 60_000 });
  for (const task of tasks) {
    const files = task.result?.files ?? [];
    const error = task.result?.error;
    console.log([task.poNumber, task.status, `${files.length} file(s)`, task.result?.folder ?? '', error ? `${error.kind}: ${error.message}` : ''].join('\t'));
  }
  process.exitCode = tasks.every((t) => t.status === 'COMPLETED' || t.status === 'NO_ATTACHMENTS') ? 0 : 1;
} finally {
  // The pool keeps running for other clients, and stops by itself once idle.
  pool.close();
}
