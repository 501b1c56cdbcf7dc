/**
 * Where the pool's settings come from, highest first: command-line flags, the environment
 * (`PO_POOL_COUPA_URL`, `PO_POOL_PROFILE`, `PO_POOL_OUT`), a JSON config file, the defaults. The
 * file's keys are the editor's `poPool.*` setting names without the prefix, so one file can serve
 * both; it lives in the per-user config folder, or wherever `--config` points.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigurationError } from '../protocol/errors';
import type { StartPoolParams } from '../protocol/rpc';
import { UsageError } from './outcome';

/** The settings the CLI uses, named as the editor names them. */
export interface Settings {
  coupaUrl?: string;
  baseProfilePath?: string;
  downloadFolder?: string;
  workerCount?: number;
  workersPerBrowser?: number;
  blockPageResources?: boolean;
  headless?: boolean;
  browser?: string;
  remoteEndpoints?: string[];
  memoryThreshold?: number;
  maxRestartAttempts?: number;
  taskTimeout?: number;
  shutdownTimeout?: number;
  maxRetries?: number;
  /** Megabytes, as in the editor. */
  maxDownloadBytes?: number;
  idleShutdownMinutes?: number;
  poPattern?: string;
}

type Kind = 'string' | 'number' | 'boolean' | 'string[]';

const KINDS: Record<keyof Settings, Kind> = {
  coupaUrl: 'string',
  baseProfilePath: 'string',
  downloadFolder: 'string',
  workerCount: 'number',
  workersPerBrowser: 'number',
  blockPageResources: 'boolean',
  headless: 'boolean',
  browser: 'string',
  remoteEndpoints: 'string[]',
  memoryThreshold: 'number',
  maxRestartAttempts: 'number',
  taskTimeout: 'number',
  shutdownTimeout: 'number',
  maxRetries: 'number',
  maxDownloadBytes: 'number',
  idleShutdownMinutes: 'number',
  poPattern: 'string',
};

/** Editor settings a shared file may hold that mean nothing on the command line. */
const EDITOR_ONLY = new Set(['askPriority']);

export const ENV = { coupaUrl: 'PO_POOL_COUPA_URL', baseProfilePath: 'PO_POOL_PROFILE', downloadFolder: 'PO_POOL_OUT' } as const;

/** `%APPDATA%\po-pool\config.json` on Windows, else `$XDG_CONFIG_HOME/po-pool/config.json` (`~/.config/...`). */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'po-pool', 'config.json');
  return join(env.XDG_CONFIG_HOME || join(env.HOME ?? homedir(), '.config'), 'po-pool', 'config.json');
}

export interface ConfigFile {
  path: string;
  settings: Settings;
  /** Keys the CLI does not know, for a note: a typo would otherwise be silently ignored. */
  unknown: string[];
}

/**
 * Reads a config file. The default one may be missing; one named with `--config` must exist. Paths
 * in it may start with `~` and are relative to the file's folder; `${workspaceFolder}` is the
 * current folder, the CLI's nearest thing to the editor's workspace.
 */
export function readConfigFile(path: string, required: boolean, cwd = process.cwd()): ConfigFile {
  if (!existsSync(path)) {
    if (required) throw new UsageError(`${path}: no such config file`);
    return { path, settings: {}, unknown: [] };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`${path} must hold a JSON object of settings, e.g. { "coupaUrl": "https://acme.coupahost.com" }`);
  const settings: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (!(key in KINDS)) {
      if (!EDITOR_ONLY.has(key)) unknown.push(key);
      continue;
    }
    const kind = KINDS[key as keyof Settings];
    if (!isKind(value, kind)) throw new ConfigurationError(key, `in ${path} must be ${kind === 'string[]' ? 'a list of strings' : `a ${kind}`} (got ${JSON.stringify(value)})`);
    // An empty text is the editor's "not set".
    if (value !== '') settings[key] = value;
  }
  const base = dirname(resolve(cwd, path));
  const place = (p: string) => resolve(base, p.replace(/^~(?=$|[\\/])/, homedir()).replace(/\$\{workspaceFolder\}/g, cwd));
  const s = settings as Settings;
  if (s.baseProfilePath) s.baseProfilePath = place(s.baseProfilePath);
  if (s.downloadFolder) s.downloadFolder = place(s.downloadFolder);
  if (s.browser && isPath(s.browser)) s.browser = place(s.browser);
  return { path, settings: s, unknown };
}

/** The three settings the environment may give; relative paths are relative to the current folder. */
export function envSettings(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Settings {
  const out: Settings = {};
  if (env[ENV.coupaUrl]) out.coupaUrl = env[ENV.coupaUrl];
  if (env[ENV.baseProfilePath]) out.baseProfilePath = resolve(cwd, env[ENV.baseProfilePath]!);
  if (env[ENV.downloadFolder]) out.downloadFolder = resolve(cwd, env[ENV.downloadFolder]!);
  return out;
}

/** The pool options `start`, `run` and `login` take on the command line. */
export interface PoolFlags {
  coupa?: string;
  profile?: string;
  workers?: number;
  workersPerBrowser?: number;
  out?: string;
  headed?: boolean;
  browser?: string;
  remote?: string[];
  taskTimeout?: number;
  memoryThreshold?: number;
  idleMinutes?: number;
}

/** Flags as settings; the supervisor runs in another folder than the shell, so paths become absolute. */
export function flagSettings(flags: PoolFlags, cwd = process.cwd()): Settings {
  const out: Settings = {
    coupaUrl: flags.coupa,
    baseProfilePath: flags.profile === undefined ? undefined : resolve(cwd, flags.profile),
    downloadFolder: flags.out === undefined ? undefined : resolve(cwd, flags.out),
    workerCount: flags.workers,
    workersPerBrowser: flags.workersPerBrowser,
    headless: flags.headed ? false : undefined,
    // A browser is a name (`chrome`) or an executable's path, which must be absolute too.
    browser: flags.browser !== undefined && isPath(flags.browser) ? resolve(cwd, flags.browser) : flags.browser,
    remoteEndpoints: flags.remote?.length ? flags.remote : undefined,
    taskTimeout: flags.taskTimeout,
    memoryThreshold: flags.memoryThreshold,
    idleShutdownMinutes: flags.idleMinutes,
  };
  return withoutUndefined(out);
}

/** Later layers win; a setting a layer leaves out keeps the earlier one's value. */
export function layer(...layers: Settings[]): Settings {
  return Object.assign({}, ...layers.map(withoutUndefined)) as Settings;
}

/** Where POs go when nothing says: `downloads` in the current folder. */
export function downloadDirOf(settings: Settings, cwd = process.cwd()): string {
  return settings.downloadFolder ?? resolve(cwd, 'downloads');
}

/** The `StartPool` request for these settings; what none of them gives keeps the pool's default. */
export function startParams(settings: Settings, cwd = process.cwd()): StartPoolParams {
  return withoutUndefined({
    coupaUrl: settings.coupaUrl,
    baseProfilePath: settings.baseProfilePath,
    downloadDir: downloadDirOf(settings, cwd),
    workerCount: settings.workerCount,
    workersPerBrowser: settings.workersPerBrowser,
    blockPageResources: settings.blockPageResources,
    headlessMode: settings.headless ?? true,
    browser: settings.browser,
    remoteEndpoints: settings.remoteEndpoints,
    memoryThreshold: settings.memoryThreshold,
    maxRestartAttempts: settings.maxRestartAttempts,
    taskTimeout: settings.taskTimeout,
    shutdownTimeout: settings.shutdownTimeout,
    maxRetries: settings.maxRetries,
    maxDownloadBytes: settings.maxDownloadBytes === undefined ? undefined : Math.round(settings.maxDownloadBytes * 1024 * 1024),
    idleShutdownMinutes: settings.idleShutdownMinutes,
  });
}

function isKind(value: unknown, kind: Kind): boolean {
  if (kind === 'string[]') return Array.isArray(value) && value.every((v) => typeof v === 'string');
  return typeof value === kind && (kind !== 'number' || Number.isFinite(value));
}

function isPath(browser: string): boolean {
  return /[\\/]/.test(browser) || isAbsolute(browser);
}

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
