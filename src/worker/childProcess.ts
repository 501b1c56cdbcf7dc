/**
 * What every process the supervisor forks with a browser below it (a worker, a browser host) does
 * alike: answer its parent over IPC without ever throwing, and find the browser processes it must
 * kill on its way out, so that none outlives it.
 */
import pidtree from 'pidtree';
import { isAlive } from '../shared/processTree';

/** Resolves once the message is handed over, or at once when the parent is gone. */
export function sendToParent(message: object): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || !process.send) return resolve();
    try {
      process.send(message, undefined, {}, () => resolve());
    } catch {
      resolve();
    }
  });
}

/** This process's descendants: the browser and its helpers (not `ps`, which pidtree itself runs). */
export async function descendantPids(): Promise<number[]> {
  try {
    return ((await pidtree(process.pid)) as number[]).filter(isAlive).sort((a, b) => a - b);
  } catch {
    return [];
  }
}
