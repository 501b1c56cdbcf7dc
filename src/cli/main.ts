#!/usr/bin/env node
/** `po-pool`: the pool's command line, for people at a terminal and for scripts. */
import { runCli } from './program';

runCli(process.argv, { stdout: process.stdout, stderr: process.stderr }).then((code) => {
  process.exitCode = code;
});
