/**
 * Where a user's supervisor keeps its state: the socket, its token, the lock, the journal, the log
 * and the workers' profile copies. One folder per user, owner-only, so no other user can reach
 * the pool or read the copied Coupa sessions.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, linkSync, lstatSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/** The CSV report in every download folder, beside the `<PO>/` folders. */
export const REPORT_NAME = 'po-pool-report.csv';

export interface StatePaths {
  dir: string;
  socket: string;
  token: string;
  /** A folder: see src/shared/lock.ts. */
  lock: string;
  journal: string;
  log: string;
  profiles: string;
  /** The last configuration the pool was started with, so a later `submit` can start it again. */
  config: string;
}

export function defaultStateDir(): string {
  if (process.env.PO_POOL_STATE_DIR) return process.env.PO_POOL_STATE_DIR;
  if (process.platform === 'win32') return join(process.env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'po-pool');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'po-pool');
  return join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'po-pool');
}

// Unix socket paths are limited to about 104 bytes (not characters: "ü" is two); a long state folder
// gets its socket in a short owner-only folder under the temp dir instead, named after the state folder.
const MAX_SOCKET_PATH_BYTES = 100;

export function statePaths(dir = defaultStateDir()): StatePaths {
  let socket: string;
  if (process.platform === 'win32') socket = `\\\\.\\pipe\\po-pool-${pipeSecret(dir)}`;
  else if (Buffer.byteLength(join(dir, 'supervisor.sock')) <= MAX_SOCKET_PATH_BYTES) socket = join(dir, 'supervisor.sock');
  else socket = join(tmpdir(), `po-pool-${process.getuid?.() ?? 'u'}-${createHash('sha256').update(dir).digest('hex').slice(0, 12)}`, 'supervisor.sock');
  return {
    dir,
    socket,
    token: join(dir, 'token'),
    lock: join(dir, 'supervisor-lock'),
    journal: join(dir, 'journal.jsonl'),
    log: join(dir, 'supervisor.log'),
    profiles: join(dir, 'profiles'),
    config: join(dir, 'last-config.json'),
  };
}

/**
 * Creates the folder 0700, or checks an existing one: it must be a real folder owned by this user,
 * or somebody else could have planted it to receive our token.
 */
export function ensureOwnerOnlyDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  assertOwnedByMe(dir);
  if (process.platform !== 'win32') chmodSync(dir, 0o700);
}

export function assertOwnedByMe(path: string): void {
  if (process.platform === 'win32' || typeof process.getuid !== 'function') return;
  const st = lstatSync(path);
  if (st.isSymbolicLink()) throw new Error(`${path} is a symbolic link; refusing to use it`);
  if (st.uid !== process.getuid()) {
    throw new Error(`${path} belongs to another user (uid ${st.uid}); refusing to use it`);
  }
}

export function socketDir(paths: StatePaths): string {
  return paths.socket.slice(0, paths.socket.lastIndexOf(process.platform === 'win32' ? '\\' : '/'));
}

/**
 * A named pipe is not in any folder, so nothing keeps another user from reaching it, or from
 * creating it first when its name can be guessed. Its name therefore has a random part, made once
 * and kept in the owner-only state folder.
 */
function pipeSecret(dir: string): string {
  const file = join(dir, 'pipe-secret');
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  ensureOwnerOnlyDir(dir);
  createFile(file, randomBytes(16).toString('hex'));
  return readFileSync(file, 'utf8');
}

/**
 * Creates `path` with all of `text` at once, or returns false when it already exists. Readers never
 * see it empty or half written, and of several processes creating it at once exactly one succeeds.
 */
export function createFile(path: string, text: string): boolean {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, text, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(temp);
  }
}
