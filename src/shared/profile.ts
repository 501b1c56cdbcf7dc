/**
 * The base profile (a Chrome/Edge/Chromium user-data-dir a person signed into Coupa with) and the
 * per-worker copies made from it. Two browsers can never share one user-data-dir, hence the copies.
 */
import { constants, existsSync, readlinkSync, rmSync } from 'node:fs';
import { access, chmod, copyFile, lstat, mkdir, readdir, readFile, readlink, symlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ProfileCorruptionError } from '../protocol/errors';
import { isAlive } from './processTree';

/** Caches are rebuilt by the browser; copying them only costs time and disk. */
const SKIPPED_DIRS = new Set(['Cache', 'Code Cache', 'GPUCache', 'Service Worker', 'ShaderCache', 'GrShaderCache', 'DawnCache']);

/** Lock files of the browser that made the profile: a copy carrying them is refused or hangs. */
function isLockFile(name: string): boolean {
  return name.startsWith('Singleton') || name.endsWith('.lock') || name === 'lockfile';
}

async function readJson(dir: string, relative: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(join(dir, relative), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ProfileCorruptionError(code === 'ENOENT'
      ? `the browser profile ${dir} has no "${relative}": it is not a browser profile, or it is damaged; sign in to Coupa again to make a new one`
      : `cannot read "${relative}" in the browser profile ${dir} (${code ?? (err as Error).message})`, { path: dir, file: relative });
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) throw new Error('not an object');
  } catch {
    throw new ProfileCorruptionError(`"${relative}" in the browser profile ${dir} is not valid JSON: the profile is damaged; sign in to Coupa again to make a new one`,
      { path: dir, file: relative });
  }
}

/**
 * The browser that has the profile open, if any: on Linux and macOS `SingletonLock` is a symlink to
 * `<hostname>-<pid>`. A lock left by a browser that crashed points at nobody and is harmless.
 */
function lockHolder(dir: string): number | undefined {
  let target: string;
  try {
    target = readlinkSync(join(dir, 'SingletonLock'));
  } catch {
    return undefined;
  }
  const m = /^(.*)-(\d+)$/.exec(target);
  if (!m || m[1] !== hostname()) return undefined;
  const pid = Number(m[2]);
  return isAlive(pid) ? pid : undefined;
}

/** Refuses (ProfileCorruptionError, saying what is wrong) a profile workers could not start from. */
export async function validateBaseProfile(dir: string): Promise<void> {
  if (!dir) throw new ProfileCorruptionError('no base browser profile is set: sign in to Coupa first');
  try {
    await access(dir, constants.R_OK | constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ProfileCorruptionError(code === 'ENOENT'
      ? `the browser profile ${dir} does not exist: sign in to Coupa first`
      : `the browser profile ${dir} cannot be read (${code})`, { path: dir });
  }
  if (!(await lstat(dir)).isDirectory()) throw new ProfileCorruptionError(`the browser profile ${dir} is not a folder`, { path: dir });
  const holder = lockHolder(dir);
  if (holder !== undefined) {
    throw new ProfileCorruptionError(`the browser profile ${dir} is in use by an open browser (pid ${holder}), close it first`, { path: dir, pid: holder });
  }
  await readJson(dir, 'Local State');
  await readJson(dir, join('Default', 'Preferences'));
}

async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    if (isLockFile(entry.name)) continue;
    const src = join(from, entry.name);
    const dest = join(to, entry.name);
    try {
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) await copyTree(src, dest);
      } else if (entry.isFile()) {
        await copyFile(src, dest);
      } else if (entry.isSymbolicLink()) {
        await symlink(await readlink(src), dest);
      }
      // Sockets, pipes and devices are not profile data.
    } catch (err) {
      // A file the browser deleted while we listed the folder is simply not needed.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/** Copies `base` to `dest` (replacing it), without caches and lock files; resolves to the milliseconds taken. */
export async function copyProfile(base: string, dest: string): Promise<number> {
  const started = Date.now();
  // An old copy that cannot be cleared would mix with the new one.
  if (!removeProfileCopy(dest)) throw new ProfileCorruptionError(`cannot clear the old profile copy ${dest}; is a browser still using it?`, { path: dest });
  // Cookies live in the copy: only this user may read it.
  await mkdir(dest, { recursive: true, mode: 0o700 });
  await chmod(dest, 0o700);
  try {
    await copyTree(base, dest);
  } catch (err) {
    removeProfileCopy(dest);
    throw new ProfileCorruptionError(`cannot copy the browser profile ${base}: ${(err as Error).message}`, { path: base });
  }
  return Date.now() - started;
}

/**
 * Synchronous, so it can run on the way out of a process; never throws, since it runs in exit
 * handlers: a browser killed a moment ago may still be writing into the copy (ENOTEMPTY), and the
 * copy is then left for the next start's clean-up. False when something is left.
 */
export function removeProfileCopy(dest: string): boolean {
  if (!dest || !existsSync(dest)) return true;
  try {
    rmSync(dest, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    return true;
  } catch {
    return false;
  }
}
