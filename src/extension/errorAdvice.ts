/**
 * What a person should do about a pool error: the message in words (the error's class name is for
 * the log) with the next step as a button, so nobody has to read the log to find out what to click.
 */
import { PoolError, type ErrorKind } from '../protocol/errors';
import { SECTION, settingForField } from './settings';

export interface Action {
  title: string;
  command: string;
  args?: unknown[];
}

export interface Advice {
  kind: ErrorKind;
  message: string;
  actions: Action[];
}

const signIn: Action = { title: 'Sign in to Coupa', command: 'poPool.signIn' };
const showLog: Action = { title: 'Show Log', command: 'poPool.showLog' };
const startPool: Action = { title: 'Start Pool', command: 'poPool.startPool' };
const openSetting = (key: string): Action => ({
  title: 'Open Settings',
  command: 'workbench.action.openSettings',
  args: [`${SECTION}.${key}`],
});

export function adviseOn(err: unknown): Advice {
  const kind: ErrorKind = err instanceof PoolError ? err.kind : 'PoolError';
  const message = err instanceof Error ? err.message : String(err);
  return { kind, message, actions: actionsFor(kind, err) };
}

function actionsFor(kind: ErrorKind, err: unknown): Action[] {
  switch (kind) {
    case 'AuthenticationError':
      return [signIn, showLog];
    case 'ConfigurationError': {
      const field = (err as PoolError).data?.field;
      const key = settingForField(typeof field === 'string' ? field : undefined);
      return [key ? openSetting(key) : { title: 'Open Settings', command: 'workbench.action.openSettings', args: [SECTION] }];
    }
    case 'PoolShutdownError':
      return [startPool];
    case 'ProfileCorruptionError':
      return [signIn, openSetting('baseProfilePath')];
    case 'InsufficientResourcesError':
      return [openSetting('workerCount'), showLog];
    case 'TimeoutError':
      return [openSetting('taskTimeout'), showLog];
    case 'DownloadError':
      return [openSetting('maxDownloadBytes'), showLog];
    default:
      return [showLog];
  }
}
