/** `PoolConfig` defaults and validation: every refusal names the field and what is allowed. */
import { accessSync, constants, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { isAbsolute } from 'node:path';
import { ConfigurationError, InsufficientResourcesError } from '../protocol/errors';
import type { PoolConfig } from '../protocol/types';

export const defaultConfig: Omit<PoolConfig, 'baseProfilePath' | 'coupaUrl' | 'downloadDir'> = {
  workerCount: 4,
  headlessMode: true,
  memoryThreshold: 0.75,
  maxRestartAttempts: 3,
  taskTimeout: 300,
  shutdownTimeout: 60,
  browser: 'auto',
  remoteEndpoints: [],
  // Measured (bench/RESULTS.md, issue 12): with the headless shell, 4 workers in one shared browser and a
  // browser each take the same time, CPU and PSS within this machine's noise; a browser each keeps a
  // browser crash to one worker.
  workersPerBrowser: 1,
  maxRetries: 3,
  maxDownloadBytes: 200 * 1024 * 1024,
  // Measured (bench/RESULTS.md, "Lean path per PO"): filtering costs a PO 2–10 % where a page has
  // nothing uncached to skip; it pays only on tenants whose pages pull third-party scripts.
  blockPageResources: false,
};

/** The contract's floor: 4 GB (decimal, as RAM is sold; a "4 GB" laptop reports about 3.7–3.9 GiB). */
export const MIN_SYSTEM_MEMORY = 4 * 1000 ** 3;

export function resolveConfig(input: Partial<PoolConfig>, systemMemory = totalmem()): PoolConfig {
  const config = { ...defaultConfig, ...stripUndefined(input) } as PoolConfig;
  intInRange('workerCount', config.workerCount, 1, 8);
  numberInRange('memoryThreshold', config.memoryThreshold, 0.5, 0.9);
  intInRange('workersPerBrowser', config.workersPerBrowser, 1, 8);
  intInRange('maxRestartAttempts', config.maxRestartAttempts, 0, 10);
  intInRange('maxRetries', config.maxRetries, 0, 10);
  numberInRange('taskTimeout', config.taskTimeout, 1, 3600, 'seconds');
  numberInRange('shutdownTimeout', config.shutdownTimeout, 1, 3600, 'seconds');
  numberInRange('maxDownloadBytes', config.maxDownloadBytes, 1, Number.MAX_SAFE_INTEGER);
  if (typeof config.headlessMode !== 'boolean') throw new ConfigurationError('headlessMode', 'must be true or false');
  if (typeof config.blockPageResources !== 'boolean') throw new ConfigurationError('blockPageResources', 'must be true or false');
  if (typeof config.browser !== 'string' || config.browser === '') {
    throw new ConfigurationError('browser', 'must be auto, chrome, msedge, chromium or the path of a browser executable');
  }

  if (typeof config.coupaUrl !== 'string' || !/^https?:\/\/[^/\s]+/i.test(config.coupaUrl)) {
    throw new ConfigurationError('coupaUrl', `must be your Coupa address, e.g. https://acme.coupahost.com (got ${JSON.stringify(config.coupaUrl ?? '')})`);
  }
  config.coupaUrl = config.coupaUrl.replace(/\/+$/, '');

  if (typeof config.downloadDir !== 'string' || !isAbsolute(config.downloadDir)) {
    throw new ConfigurationError('downloadDir', `must be an absolute folder path (got ${JSON.stringify(config.downloadDir ?? '')})`);
  }

  if (!Array.isArray(config.remoteEndpoints) || config.remoteEndpoints.some((e) => typeof e !== 'string' || !/^wss?:\/\//.test(e))) {
    throw new ConfigurationError('remoteEndpoints', 'must be a list of ws:// or wss:// browser-server endpoints');
  }

  if (config.remoteEndpoints.length === 0) {
    const profile = config.baseProfilePath;
    if (typeof profile !== 'string' || profile === '') {
      throw new ConfigurationError('baseProfilePath', 'is required: the browser profile you signed into Coupa with (run "Sign in to Coupa")');
    }
    try {
      accessSync(profile, constants.R_OK);
      if (!statSync(profile).isDirectory()) throw new Error('not a folder');
    } catch {
      throw new ConfigurationError('baseProfilePath', `${profile} does not exist or is not a readable folder`);
    }
  }

  if (systemMemory < MIN_SYSTEM_MEMORY) {
    throw new InsufficientResourcesError(
      `this machine has ${(systemMemory / 1000 ** 3).toFixed(1)} GB of RAM; the pool needs at least 4 GB`,
    );
  }
  return config;
}

function intInRange(field: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(field, `must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
}

function numberInRange(field: string, value: unknown, min: number, max: number, unit = ''): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
    throw new ConfigurationError(field, `must be a number ${range}${unit ? ` ${unit}` : ''} (got ${JSON.stringify(value)})`);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
