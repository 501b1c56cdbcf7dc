/** Where a submission's files go: checked when it is submitted, so a bad folder fails the submit, not every PO. */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { ConfigurationError } from '../protocol/errors';

/**
 * Creates the folder (owner-only: the documents are confidential) or checks an existing one can be
 * written to; returns it.
 */
export function prepareDownloadDir(dir: string | undefined): string {
  if (!dir) throw new ConfigurationError('downloadDir', 'say where the files go (an absolute folder)');
  if (!isAbsolute(dir)) throw new ConfigurationError('downloadDir', `must be an absolute folder, not "${dir}"`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!statSync(dir).isDirectory()) throw new Error('not a folder');
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new ConfigurationError('downloadDir', `cannot write to ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return dir;
}
