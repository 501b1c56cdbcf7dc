#!/usr/bin/env node
/** `po-pool`: the pool's command line, for people at a terminal and for scripts. */
import { runCli } from './program';

// `po-pool results | head`: a reader that goes away is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

runCli(process.argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }).then((code) => {
  process.exitCode = code;
  // Every command has finished its work when it resolves (the long-running ones wait for Ctrl-C).
  // Exiting here, once the output is written, means a handle some library left open cannot keep a
  // script waiting: the benchmark once saw `po-pool start` linger for minutes after answering.
  let pending = 2;
  const flushed = () => --pending === 0 && process.exit(code);
  process.stdout.write('', flushed);
  process.stderr.write('', flushed);
});
