/**
 * The supervisor's answers and notifications timed from a process of its own. The bench process
 * also runs the stand-in, which serves every worker: timed from there, its busy event loop would be
 * charged to the supervisor.
 *   node bench/out/probe.js <stateDir> <windowMs>   → one JSON object on stdout
 */
import { GetStatus, ListTasks, TasksChanged } from '../src/protocol/rpc';
import { connectToSupervisor } from '../src/client/client';
import { summary, timeCalls, type ProbeResult } from './lib';

async function main(): Promise<void> {
  const [stateDir, window] = process.argv.slice(2);
  const windowMs = Number(window);
  const client = await connectToSupervisor({ clientName: 'bench-probe', stateDir, spawn: false });
  const taskLatency: number[] = [];
  const fromWorker: number[] = [];
  let taskNotifications = 0;
  let taskEntries = 0;
  client.onNotification(TasksChanged, (tasks) => {
    const now = Date.now();
    taskNotifications++;
    taskEntries += tasks.length;
    for (const t of tasks) {
      const at = t.status === 'RUNNING' ? t.startedAt : t.finishedAt;
      if (at && t.status !== 'QUEUED') taskLatency.push(now - at);
      const w = t.result?.timings?.finishedAt;
      if (w && t.status !== 'RUNNING' && t.status !== 'QUEUED') fromWorker.push(now - w);
    }
  });
  const t0 = Date.now();
  const getStatus = await timeCalls(200, () => client.request(GetStatus, undefined));
  const listTasks100 = await timeCalls(200, () => client.request(ListTasks, { offset: 0, limit: 100 }));
  const left = windowMs - (Date.now() - t0);
  if (left > 0) await new Promise((r) => setTimeout(r, left));
  client.dispose();
  const result: ProbeResult = {
    getStatus, listTasks100, windowSeconds: (Date.now() - t0) / 1000,
    notificationLatencyMs: summary(taskLatency), workerResultToClientMs: summary(fromWorker), taskNotifications, taskEntries,
  };
  process.stdout.write(JSON.stringify(result));
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
