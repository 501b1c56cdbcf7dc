/**
 * The `po-pool` command line: every command, its options and its help, with the command bodies
 * passed in so that parsing can be tested on its own.
 */
import { Command, CommanderError, Option } from 'commander';
import { resolve } from 'node:path';
import { taskStatuses } from '../protocol/types';
import { coupaStandin, type StandinCliOptions } from './commands/standin';
import { demo, type DemoOptions } from './commands/demo';
import { login, type LoginOptions } from './commands/login';
import { results, type ResultsOptions } from './commands/results';
import { run, type RunOptions } from './commands/run';
import { shutdown, type ShutdownOptions } from './commands/shutdown';
import { start } from './commands/start';
import { status, type StatusOptions } from './commands/status';
import { submit, type SubmitOptions } from './commands/submit';
import { wait, type WaitOptions } from './commands/wait';
import { print, type Context, type Io } from './context';
import { collect, collectStatuses, parseNumber, parseWholeNumber, type PoolOptions } from './options';
import { errorLine, EXIT_OK, EXIT_USAGE } from './outcome';

export interface Commands {
  start(ctx: Context, options: PoolOptions): Promise<number>;
  submit(ctx: Context, inputs: string[], options: SubmitOptions): Promise<number>;
  status(ctx: Context, options: StatusOptions): Promise<number>;
  wait(ctx: Context, options: WaitOptions): Promise<number>;
  results(ctx: Context, options: ResultsOptions): Promise<number>;
  shutdown(ctx: Context, options: ShutdownOptions): Promise<number>;
  run(ctx: Context, inputs: string[], options: RunOptions): Promise<number>;
  login(ctx: Context, options: LoginOptions): Promise<number>;
  coupaStandin(ctx: Context, options: StandinCliOptions): Promise<number>;
  demo(ctx: Context, options: DemoOptions): Promise<number>;
}

export const commands: Commands = { start, submit, status, wait, results, shutdown, run, login, coupaStandin, demo };

const EXAMPLES = `
Exit codes: 0 every PO ended COMPLETED or NO_ATTACHMENTS, 1 some did not, 2 usage or configuration
error (one line on stderr: "po-pool: <Kind>: <message>"), 130 interrupted.

Examples:
  po-pool demo --workers 2
  po-pool login --coupa https://acme.coupahost.com --profile ~/coupa-profile
  po-pool run pos.xlsx --coupa https://acme.coupahost.com --profile ~/coupa-profile --workers 4
  po-pool submit PO15262984 more-pos.csv && po-pool wait --timeout 3600
  po-pool results --status FAILED TIMEOUT --json`;

function addPoolOptions(cmd: Command): Command {
  return cmd
    .option('--coupa <url>', 'your Coupa address, e.g. https://acme.coupahost.com')
    .option('--profile <dir>', 'the browser profile signed into Coupa ("po-pool login" makes one)')
    .option('--workers <n>', 'browsers in the pool, 1-8 (default: 4)', parseWholeNumber)
    .option('--out <dir>', 'where <PO>/ folders and po-pool-report.csv go', './downloads')
    .option('--headed', 'show the browsers')
    .option('--browser <browser>', 'auto, chrome, msedge, chromium or a browser executable (default: auto)')
    .option('--remote <ws-url>', 'a Playwright browser-server endpoint instead of a local browser (repeat for more)', collect)
    .option('--task-timeout <seconds>', 'time one PO may take (default: 300)', parseNumber)
    .option('--memory-threshold <fraction>', 'system memory use, 0.5-0.9, above which the largest worker is restarted (default: 0.75)', parseNumber)
    .option('--idle-minutes <minutes>', 'the supervisor exits after this long idle with no client (default: 10)', parseNumber);
}

function createProgram(io: Io, impl: Commands, onExit: (code: number) => void): Command {
  const program = new Command('po-pool')
    .description('Download Coupa purchase orders\' documents with a pool of signed-in browser workers.')
    .option('--state-dir <dir>', 'the supervisor\'s state folder (default: $PO_POOL_STATE_DIR, else the per-user state folder)')
    .addHelpText('after', EXAMPLES)
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`po-pool: UsageError: ${s.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')}\n`),
    });

  const ctxOf = (cmd: Command): Context => {
    const dir = cmd.optsWithGlobals().stateDir as string | undefined;
    return { io, ...(dir ? { stateDir: resolve(dir) } : {}) };
  };
  const act = <O>(body: (ctx: Context, options: O) => Promise<number>) =>
    async (options: O, cmd: Command) => onExit(await body(ctxOf(cmd), options));
  const actWithArgs = <O>(body: (ctx: Context, args: string[], options: O) => Promise<number>) =>
    async (args: string[], options: O, cmd: Command) => onExit(await body(ctxOf(cmd), args, options));

  addPoolOptions(program.command('start').description('start the pool (the supervisor too, if none runs)'))
    .action(act(impl.start));

  program.command('submit')
    .description('queue POs: PO numbers, or .txt/.csv/.xlsx lists (one PO per line, or a PO column)')
    .argument('<inputs...>', 'PO numbers and PO list files')
    .option('--priority <n>', 'higher runs first (default: 0)', parseWholeNumber)
    .option('--redo', 'run POs again even when already done')
    .option('--json', 'print { submitted, duplicates, invalid, repeated } as JSON')
    .action(actWithArgs(impl.submit));

  program.command('status')
    .description('the pool: workers, queue, counts, rate, ETA')
    .option('--json', 'the PoolStatus as JSON (with --watch: one per line, on every change)')
    .option('--watch', 'follow live until Ctrl-C (progress bars on a terminal, a line every 5 s otherwise)')
    .action(act(impl.status));

  program.command('wait')
    .description('wait until nothing is queued or running; exit 0 when every PO succeeded, 1 when some did not')
    .option('--timeout <seconds>', 'give up (exit 2) after this long', parseNumber)
    .action(act(impl.wait));

  program.command('results')
    .description('how each PO ended (its latest task): PO, status, files, supplier, error')
    .option('--json', 'a JSON array of TaskInfo')
    .addOption(new Option('--status <status...>', `only these (${taskStatuses.join(', ')}; commas or spaces)`).argParser(collectStatuses))
    .action(act(impl.results));

  program.command('shutdown')
    .description('stop the pool and the supervisor; exit 1 when running POs had to be cut off')
    .option('--timeout <seconds>', 'time for running POs to finish (default: the pool\'s shutdownTimeout, 60)', parseNumber)
    .option('--force', 'do not wait for running POs')
    .action(act(impl.shutdown));

  addPoolOptions(program.command('run')
    .description('start the pool, submit, follow live, print a summary; exit code as "wait"')
    .argument('<inputs...>', 'PO list files and PO numbers'))
    .option('--priority <n>', 'higher runs first (default: 0)', parseWholeNumber)
    .option('--redo', 'run POs again even when already done')
    .option('--timeout <seconds>', 'give up (exit 2) after this long; the pool keeps working', parseNumber)
    .action(actWithArgs(impl.run));

  program.command('login')
    .description('sign into Coupa once in a visible browser, making the profile the pool copies')
    .requiredOption('--coupa <url>', 'your Coupa address')
    .requiredOption('--profile <dir>', 'the profile folder to create or refresh')
    .option('--browser <browser>', 'auto, chrome, msedge, chromium or a browser executable (default: auto)')
    .option('--timeout <seconds>', 'time to finish signing in (default: 300)', parseNumber)
    .action(act(impl.login));

  program.command('coupa-standin')
    .description('serve the embedded Coupa stand-in in this process until Ctrl-C')
    .option('--port <n>', 'port on 127.0.0.1 (default: a free one)', parseWholeNumber)
    .option('--seed <n>', 'every PO, name and byte derives from it (default: 1)', parseWholeNumber)
    .addOption(new Option('--markup <kind>', 'how attachments are rendered (default: mixed)').choices(['spans', 'links', 'mixed']))
    .option('--page-latency <ms>', 'delay of every page', parseNumber)
    .option('--download-latency <ms>', 'delay before every download', parseNumber)
    .option('--error-rate <fraction>', 'share of requests answered 500/503', parseNumber)
    .option('--session-lifetime <seconds>', 'Coupa sessions end this long after sign-in (default: never)', parseNumber)
    .addOption(new Option('--expired-session <how>', 'what an expired session gets (default: redirect)').choices(['redirect', 'error-page']))
    .option('--no-sso', 'no identity-provider session: an expired session needs the password again')
    .option('--rate-limit <n>', 'requests per second above which 429 is answered', parseNumber)
    .option('--slow-download <bytes-per-second>', 'throttle downloads', parseNumber)
    .option('--truncate-rate <fraction>', 'share of downloads cut half way', parseNumber)
    .option('--hostile-names', 'attachment names with path separators, reserved names, duplicates')
    .option('--po-count <n>', 'POs PO100000 onwards (default: 1000)', parseWholeNumber)
    .action(act(impl.coupaStandin));

  program.command('demo')
    .description('the whole job on the embedded stand-in: sample list, live progress, summary, then stop')
    .option('--workers <n>', 'browsers in the pool, 1-8 (default: 4)', parseWholeNumber)
    .option('--out <dir>', 'where <PO>/ folders and po-pool-report.csv go', './downloads')
    .action(act(impl.demo));

  return program;
}

/** Parses and runs one command line; resolves to the exit code. */
export async function runCli(argv: string[], io: Io, impl: Commands = commands): Promise<number> {
  let code = EXIT_OK;
  const program = createProgram(io, impl, (c) => (code = c));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    // Commander has printed its own message (or the help) already.
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    print(io.stderr, errorLine(err));
    return EXIT_USAGE;
  }
}
