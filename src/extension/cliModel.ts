/** What the terminal's `po-pool` and a `po-pool` task run: the shim, the arguments, the settings passed on. */
import type { PoolSettings } from './settings';

/** A task in tasks.json: `{ "type": "po-pool", "file": "lists/weekly.txt", "priority": 5 }`. */
export interface PoPoolTaskDefinition {
  type: string;
  /** A PO list, relative to the workspace folder or absolute. */
  file: string;
  priority?: number;
  redo?: boolean;
}

/**
 * The editor's runtime is Electron on a desktop: ELECTRON_RUN_AS_NODE makes it Node, and is
 * ignored by a plain Node (a remote server's).
 */
export function shimScript(runtime: string, cliJs: string, windows: boolean): string {
  if (windows) return `@echo off\r\nset ELECTRON_RUN_AS_NODE=1\r\n"${runtime}" "${cliJs}" %*\r\n`;
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/sh\nELECTRON_RUN_AS_NODE=1 exec ${quote(runtime)} ${quote(cliJs)} "$@"\n`;
}

export function taskArgs(definition: PoPoolTaskDefinition): string[] {
  const args = ['run', definition.file];
  if (typeof definition.priority === 'number') args.push('--priority', String(Math.trunc(definition.priority)));
  if (definition.redo === true) args.push('--redo');
  return args;
}

/** The window's settings, so a task's POs go where the window's would, on the same tenant. */
export function cliEnv(settings: PoolSettings, downloadDir: string): Record<string, string> {
  const env: Record<string, string> = { ELECTRON_RUN_AS_NODE: '1', PO_POOL_OUT: downloadDir };
  if (settings.coupaUrl) env.PO_POOL_COUPA_URL = settings.coupaUrl;
  if (settings.baseProfilePath) env.PO_POOL_PROFILE = settings.baseProfilePath;
  return env;
}
