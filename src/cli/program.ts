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
import { start, type StartOptions } from './commands/start';
import { status, type StatusOptions } from './commands/status';
import { submit, type SubmitOptions } from './commands/submit';
import { wait, type WaitOptions } from './commands/wait';
import {
  defaultConfigPath, ENV, envSettings, flagSettings, layer, readConfigFile, type PoolFlags, type Settings,
} from './config';
import { print, type Context, type Io } from './context';
import { collect, collectStatuses, parseNumber, parseWholeNumber } from './options';
import { errorLine, exitCodeOfError, EXIT_OK, EXIT_USAGE } from './outcome';
import { VERSION } from './version';

export interface Commands {
  start(ctx: Context, options: StartOptions): Promise<number>;
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

function helpText(env: NodeJS.ProcessEnv): string {
  return `
Exit codes:
  0    every PO ended COMPLETED or NO_ATTACHMENTS (or was already done in its folder)
  1    some PO did not (PARTIAL, PO_NOT_FOUND, FAILED, TIMEOUT, CANCELLED)
  2    usage or configuration error; one line on stderr: "po-pool: <Kind>: <message>"
  124  --timeout passed before the POs finished; the pool keeps working on them
  130  interrupted (Ctrl-C)

Settings, highest first: flags; ${ENV.coupaUrl}, ${ENV.baseProfilePath}, ${ENV.downloadFolder};
the config file (--config FILE, default ${defaultConfigPath(env)}), a JSON object
whose keys are the editor's poPool.* settings without "poPool.": coupaUrl, baseProfilePath,
downloadFolder, workerCount, workersPerBrowser, headless, browser, remoteEndpoints, taskTimeout, memoryThreshold, ...

Examples:
  po-pool demo --workers 2
  po-pool login --coupa https://acme.coupahost.com --profile ~/coupa-profile
  po-pool run pos.xlsx --coupa https://acme.coupahost.com --profile ~/coupa-profile --workers 4
  grep -o 'PO[0-9]*' mail.txt | po-pool run - --out ~/pos/march --json
  po-pool submit PO15262984 more-pos.csv && po-pool wait --timeout 3600
  po-pool results --status FAILED TIMEOUT --out ~/pos/march --json`;
}

/** The pool's flags, apart from a command's own options. */
const POOL_FLAGS = ['coupa', 'profile', 'workers', 'workersPerBrowser', 'out', 'headed', 'browser', 'remote', 'taskTimeout', 'memoryThreshold', 'idleMinutes'] as const;

function splitFlags<O extends PoolFlags>(options: O): { flags: PoolFlags; own: Omit<O, keyof PoolFlags> } {
  const flags: Record<string, unknown> = {};
  const own: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) ((POOL_FLAGS as readonly string[]).includes(key) ? flags : own)[key] = value;
  return { flags: flags as PoolFlags, own: own as Omit<O, keyof PoolFlags> };
}

function addPoolOptions(cmd: Command): Command {
  return cmd
    .option('--coupa <url>', `your Coupa address, e.g. https://acme.coupahost.com (default: $${ENV.coupaUrl})`)
    .option('--profile <dir>', `the browser profile signed into Coupa ("po-pool login" makes one; default: $${ENV.baseProfilePath})`)
    .option('--workers <n>', 'workers in the pool, 1-8 (default: 4)', parseWholeNumber)
    .option('--workers-per-browser <n>', 'workers sharing one browser, each in its own context; 1 = a browser each (default: 1)', parseWholeNumber)
    .option('--out <dir>', `where <PO>/ folders and po-pool-report.csv go (default: $${ENV.downloadFolder}, else ./downloads)`)
    .option('--headed', 'show the browsers')
    .option('--browser <browser>', 'auto, chrome, msedge, chromium or a browser executable (default: auto)')
    .option('--remote <ws-url>', 'a Playwright browser-server endpoint instead of a local browser (repeat for more)', collect)
    .option('--task-timeout <seconds>', 'time one PO may take (default: 300)', parseNumber)
    .option('--memory-threshold <fraction>', 'system memory use, 0.5-0.9, above which the largest worker is restarted (default: 0.75)', parseNumber)
    .option('--idle-minutes <minutes>', 'the supervisor exits after this long idle with no client (default: 10)', parseNumber);
}

function createProgram(io: Io, impl: Commands, env: NodeJS.ProcessEnv, onExit: (code: number) => void): Command {
  const program = new Command('po-pool')
    .description('Download Coupa purchase orders\' documents with a pool of signed-in browser workers.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--state-dir <dir>', 'the supervisor\'s state folder (default: $PO_POOL_STATE_DIR, else the per-user state folder)')
    .option('--config <file>', `a JSON file of settings (default: ${defaultConfigPath(env)})`)
    .addHelpText('after', helpText(env))
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
  /** Flags over the environment over the config file. */
  const settingsOf = (cmd: Command, flags: PoolFlags): Settings => {
    const named = cmd.optsWithGlobals().config as string | undefined;
    const file = readConfigFile(named ? resolve(named) : defaultConfigPath(env), named !== undefined);
    if (file.unknown.length) print(io.stderr, `note: ${file.path}: ${file.unknown.map((k) => JSON.stringify(k)).join(', ')} ignored: not a setting po-pool knows`);
    return layer(file.settings, envSettings(env), flagSettings(flags));
  };
  const act = <O>(body: (ctx: Context, options: O) => Promise<number>) =>
    async (options: O, cmd: Command) => onExit(await body(ctxOf(cmd), options));
  /** For commands with pool flags: they get `settings` instead. */
  const actWithSettings = <O extends { settings: Settings }>(body: (ctx: Context, options: O) => Promise<number>) =>
    async (options: PoolFlags & Omit<O, 'settings'>, cmd: Command) => {
      const { flags, own } = splitFlags(options);
      onExit(await body(ctxOf(cmd), { ...own, settings: settingsOf(cmd, flags) } as unknown as O));
    };
  const actWithArgsAndSettings = <O extends { settings: Settings }>(body: (ctx: Context, args: string[], options: O) => Promise<number>) =>
    async (args: string[], options: PoolFlags & Omit<O, 'settings'>, cmd: Command) => {
      const { flags, own } = splitFlags(options);
      onExit(await body(ctxOf(cmd), args, { ...own, settings: settingsOf(cmd, flags) } as unknown as O));
    };

  addPoolOptions(program.command('start').description('start the pool (the supervisor too, if none runs)'))
    .action(actWithSettings(impl.start));

  program.command('submit')
    .description('queue POs: PO numbers, .txt/.csv/.xlsx lists (one PO per line, or a PO column), or - for standard input')
    .argument('<inputs...>', 'PO numbers, PO list files, - (standard input)')
    .option('--out <dir>', `where these POs go (default: $${ENV.downloadFolder}, else the pool's folder)`)
    .option('--priority <n>', 'higher runs first (default: 0)', parseWholeNumber)
    .option('--redo', 'run POs again even when already done')
    .option('--json', 'print { submitted, duplicates, invalid, repeated } as JSON')
    .action(actWithArgsAndSettings(impl.submit));

  program.command('status')
    .description('the pool: workers, queue, counts, rate, ETA')
    .option('--json', 'the PoolStatus as JSON (with --watch: one per line, on every change)')
    .option('--watch', 'follow live until Ctrl-C (progress bars on a terminal, a line every 5 s otherwise)')
    .action(act(impl.status));

  program.command('wait')
    .description('wait until nothing is queued or running; exit 0 when every PO succeeded, 1 when some did not')
    .option('--timeout <seconds>', 'stop waiting (exit 124) after this long; the pool keeps working', parseNumber)
    .option('--json', 'print { exitCode, timedOut, counts, pos: [one outcome per PO] } as JSON')
    .option('--out <dir>', 'judge only the POs of this download folder')
    .action(act(impl.wait));

  program.command('results')
    .description('how each PO ended (its latest task): PO, status, files, supplier, error')
    .option('--json', 'a JSON array of TaskInfo')
    .addOption(new Option('--status <status...>', `only these (${taskStatuses.join(', ')}; commas or spaces)`).argParser(collectStatuses))
    .option('--out <dir>', 'only the POs of this download folder')
    .action(act(impl.results));

  program.command('shutdown')
    .description('stop the pool and the supervisor; exit 1 when running POs had to be cut off')
    .option('--timeout <seconds>', 'time for running POs to finish (default: the pool\'s shutdownTimeout, 60)', parseNumber)
    .option('--force', 'do not wait for running POs')
    .action(act(impl.shutdown));

  addPoolOptions(program.command('run')
    .description('start the pool, submit, follow live, print a summary; exit code as "wait"')
    .argument('<inputs...>', 'PO list files, PO numbers, - (standard input)'))
    .option('--priority <n>', 'higher runs first (default: 0)', parseWholeNumber)
    .option('--redo', 'download POs again even when already done in this folder')
    .option('--timeout <seconds>', 'stop following (exit 124) after this long; the pool keeps working', parseNumber)
    .option('--json', 'print { exitCode, timedOut, counts, pos, downloadDir, report, invalid } as JSON instead of the summary')
    .action(actWithArgsAndSettings(impl.run));

  program.command('login')
    .description('sign into Coupa once in a visible browser, making the profile the pool copies')
    .option('--coupa <url>', `your Coupa address (default: $${ENV.coupaUrl})`)
    .option('--profile <dir>', `the profile folder to create or refresh (default: $${ENV.baseProfilePath})`)
    .option('--browser <browser>', 'auto, chrome, msedge, chromium or a browser executable (default: auto)')
    .option('--timeout <seconds>', 'time to finish signing in (default: 300)', parseNumber)
    .action(actWithSettings(impl.login));

  program.command('coupa-standin')
    .description('serve the embedded Coupa stand-in in this process until Ctrl-C')
    .option('--port <n>', 'port on 127.0.0.1 (default: a free one)', parseWholeNumber)
    .option('--seed <n>', 'every PO, name and byte derives from it (default: 1)', parseWholeNumber)
    .addOption(new Option('--markup <kind>', 'how attachments are rendered (default: mixed)').choices(['spans', 'links', 'mixed']))
    .option('--page-latency <ms>', 'delay of every page', parseNumber)
    .option('--download-latency <ms>', 'delay before every download', parseNumber)
    .option('--error-rate <fraction>', 'share of requests answered 500/503', parseNumber)
    .option('--session-lifetime <seconds>', 'Coupa sessions end this long after sign-in (default: never)', parseNumber)
    .addOption(new Option('--expired-session <how>', 'what an expired session gets (default: redirect)').choices(['redirect', 'error-page', 'idp-bounce']))
    .option('--no-sso', 'no identity-provider session: an expired session needs the password again')
    .option('--rate-limit <n>', 'requests per second above which 429 is answered', parseNumber)
    .option('--slow-download <bytes-per-second>', 'throttle downloads', parseNumber)
    .option('--truncate-rate <fraction>', 'share of downloads cut half way', parseNumber)
    .option('--hostile-names', 'attachment names with path separators, reserved names, duplicates')
    .option('--po-count <n>', 'POs PO100000 onwards (default: 1000)', parseWholeNumber)
    .action(act(impl.coupaStandin));

  program.command('demo')
    .description('the whole job on the embedded stand-in: sample list, live progress, summary, then stop')
    .option('--workers <n>', 'workers in the pool, 1-8 (default: 4)', parseWholeNumber)
    .option('--out <dir>', 'where <PO>/ folders and po-pool-report.csv go', './downloads')
    .action(act(impl.demo));

  return program;
}

/** Parses and runs one command line; resolves to the exit code. */
export async function runCli(argv: string[], io: Io, impl: Commands = commands, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let code = EXIT_OK;
  const program = createProgram(io, impl, env, (c) => (code = c));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    // Commander has printed its own message (or the help) already.
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    print(io.stderr, errorLine(err));
    return exitCodeOfError(err);
  }
}
