/**
 * The `poPool.*` settings and what they become: `StartPool` parameters, the download folder, which
 * changes need a pool restart, and which setting a supervisor's `ConfigurationError` is about.
 */
import { isAbsolute, join } from 'node:path';
import { ConfigurationError } from '../protocol/errors';
import type { StartDemoParams, StartPoolParams } from '../protocol/rpc';

export const SECTION = 'poPool';

export interface PoolSettings {
  workerCount: number;
  workersPerBrowser: number;
  blockPageResources: boolean;
  headless: boolean;
  baseProfilePath: string;
  memoryThreshold: number;
  maxRestartAttempts: number;
  taskTimeout: number;
  shutdownTimeout: number;
  /** Empty: the embedded Coupa stand-in (the demo). */
  coupaUrl: string;
  /** Empty: `<first workspace folder>/downloads`, else `~/po-pool-downloads`. */
  downloadFolder: string;
  browser: string;
  remoteEndpoints: string[];
  maxRetries: number;
  /** Megabytes, as people think of attachment sizes; the supervisor wants bytes. */
  maxDownloadBytes: number;
  poPattern: string;
  idleShutdownMinutes: number;
  askPriority: boolean;
}

/** The same defaults as package.json's `contributes.configuration`, for values that are missing or of the wrong type. */
export const defaultSettings: PoolSettings = {
  workerCount: 4,
  workersPerBrowser: 1,
  blockPageResources: false,
  headless: true,
  baseProfilePath: '',
  memoryThreshold: 0.75,
  maxRestartAttempts: 3,
  taskTimeout: 300,
  shutdownTimeout: 60,
  coupaUrl: '',
  downloadFolder: '',
  browser: 'auto',
  remoteEndpoints: [],
  maxRetries: 3,
  maxDownloadBytes: 200,
  poPattern: '',
  idleShutdownMinutes: 10,
  askPriority: false,
};

export type SettingKey = keyof PoolSettings;

export function readSettings(get: (key: SettingKey) => unknown): PoolSettings {
  const out = { ...defaultSettings } as Record<SettingKey, unknown>;
  for (const key of Object.keys(defaultSettings) as SettingKey[]) {
    const value = get(key);
    const fallback = defaultSettings[key];
    if (Array.isArray(fallback) ? Array.isArray(value) : typeof value === typeof fallback) out[key] = value;
  }
  const settings = out as unknown as PoolSettings;
  settings.coupaUrl = settings.coupaUrl.trim();
  settings.baseProfilePath = settings.baseProfilePath.trim();
  settings.downloadFolder = settings.downloadFolder.trim();
  return settings;
}

export interface Places {
  /** The first workspace folder's path, when a folder is open. */
  workspaceFolder?: string;
  home: string;
}

export function downloadDir(settings: PoolSettings, places: Places): string {
  const raw = settings.downloadFolder;
  if (raw === '') return places.workspaceFolder ? join(places.workspaceFolder, 'downloads') : join(places.home, 'po-pool-downloads');
  const expanded = raw
    .replace(/^~(?=$|[\\/])/, places.home)
    .replace(/\$\{workspaceFolder\}/g, places.workspaceFolder ?? '${workspaceFolder}');
  if (expanded.includes('${workspaceFolder}')) {
    throw new ConfigurationError('downloadDir', `uses \${workspaceFolder} but no folder is open (got ${JSON.stringify(raw)})`);
  }
  if (!isAbsolute(expanded)) throw new ConfigurationError('downloadDir', `must be an absolute folder path (got ${JSON.stringify(raw)})`);
  return expanded;
}

/** An empty Coupa address means "run on the embedded stand-in": the demo, not a misconfiguration. */
export function usesDemo(settings: PoolSettings): boolean {
  return settings.coupaUrl === '' && settings.remoteEndpoints.length === 0;
}

export function startPoolParams(settings: PoolSettings, places: Places): StartPoolParams {
  return {
    workerCount: settings.workerCount,
    workersPerBrowser: settings.workersPerBrowser,
    blockPageResources: settings.blockPageResources,
    headlessMode: settings.headless,
    baseProfilePath: settings.baseProfilePath,
    memoryThreshold: settings.memoryThreshold,
    maxRestartAttempts: settings.maxRestartAttempts,
    taskTimeout: settings.taskTimeout,
    shutdownTimeout: settings.shutdownTimeout,
    coupaUrl: settings.coupaUrl,
    downloadDir: downloadDir(settings, places),
    browser: settings.browser,
    remoteEndpoints: settings.remoteEndpoints,
    maxRetries: settings.maxRetries,
    maxDownloadBytes: Math.round(settings.maxDownloadBytes * 1024 * 1024),
    idleShutdownMinutes: settings.idleShutdownMinutes,
  };
}

export function startDemoParams(settings: PoolSettings, places: Places): StartDemoParams {
  return { downloadDir: downloadDir(settings, places), workerCount: settings.workerCount, idleShutdownMinutes: settings.idleShutdownMinutes };
}

/** No Coupa address and no profile: nobody has set the extension up yet, so the views offer the first steps. */
export function isFirstRun(settings: PoolSettings): boolean {
  return settings.coupaUrl === '' && settings.baseProfilePath === '';
}

/** Settings the supervisor reads only when the pool starts. */
export const restartSettings: readonly SettingKey[] = [
  'workerCount', 'workersPerBrowser', 'blockPageResources', 'headless', 'baseProfilePath', 'memoryThreshold', 'maxRestartAttempts', 'taskTimeout',
  'shutdownTimeout', 'coupaUrl', 'downloadFolder', 'browser', 'remoteEndpoints', 'maxRetries',
  'maxDownloadBytes', 'idleShutdownMinutes',
];

export function changedRestartSettings(affects: (qualifiedKey: string) => boolean): SettingKey[] {
  return restartSettings.filter((key) => affects(`${SECTION}.${key}`));
}

/** "Worker Count", as the Settings editor titles `poPool.workerCount`. */
export function settingTitle(key: SettingKey): string {
  return key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());
}

const fieldToSetting: Partial<Record<string, SettingKey>> = {
  headlessMode: 'headless',
  downloadDir: 'downloadFolder',
};

/** The setting a `ConfigurationError` names by its `PoolConfig` field, if there is one. */
export function settingForField(field: string | undefined): SettingKey | undefined {
  if (!field) return undefined;
  const key = fieldToSetting[field] ?? field;
  return key in defaultSettings ? (key as SettingKey) : undefined;
}
