/**
 * `--cpu-prof` is not allowed in NODE_OPTIONS on Node 20, so the supervisor is profiled through
 * NODE_OPTIONS="--require bench/out/cpuprofPreload.js" instead: the inspector's Profiler runs from the
 * start (1 ms sampling) and the profile is written to $BENCH_CPU_PROF_DIR on SIGUSR2 (so a process
 * about to be killed can be profiled) and at exit.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir && !process.argv.some((a) => a.endsWith('worker.js'))) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  let n = 0;
  const dump = (why: string) => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `${process.pid}-${++n}-${why}.cpuprofile`), JSON.stringify(result.profile));
    });
    if (why !== 'exit') session.post('Profiler.start');
  };
  process.on('SIGUSR2', () => dump('usr2'));
  process.on('exit', () => dump('exit'));
}
