// Runs a pool inside this script's own process, with no supervisor: the contract's
// PersistentWorkerPool, its callbacks as events. Workers and their browsers are this script's
// children and stop with pool.shutdown().
//
//   PO_POOL_COUPA_URL=https://acme.coupahost.com PO_POOL_PROFILE=~/coupa-profile \
//     node in-process.mjs PO15262984 PO15262985 --out ./march
import { parseArgs } from 'node:util';
import { PersistentWorkerPool } from 'coupa-po-pool';

const { values, positionals: pos } = parseArgs({ allowPositionals: true, options: { out: { type: 'string', default: 'downloads' } } });

const pool = new PersistentWorkerPool({
  coupaUrl: process.env.PO_POOL_COUPA_URL,
  baseProfilePath: process.env.PO_POOL_PROFILE,
  downloadDir: values.out,
  workerCount: 2,
});
pool.on('taskCompleted', (handle, result) => console.log(`${handle.poNumber}\t${result.status}\t${result.files.length} file(s)`));
pool.on('workerCrashed', (workerId, error) => console.error(`${workerId} crashed (${error.kind}: ${error.message}); its PO goes to another worker`));
pool.on('memoryThresholdExceeded', (usage) => console.error(`memory at ${Math.round(usage * 100)}%: the largest worker restarts after its PO`));

await pool.start();
try {
  const submitted = pool.submitTasks(pos);
  for (const bad of submitted.invalid) console.error(`${bad.poNumber}: ${bad.reason}`);
  await pool.whenIdle();
} finally {
  await pool.shutdown();
}
const tasks = pool.listTasks();
process.exitCode = tasks.every((t) => t.status === 'COMPLETED' || t.status === 'NO_ATTACHMENTS') ? 0 : 1;
