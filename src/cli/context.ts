/** What every command gets: where the supervisor's state is, and where to print. */
import { connectToSupervisor, type PoolClient } from '../client/client';
import { printableLines } from './printable';

export interface Io {
  /** Results: what a script reads. */
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  /** Progress, notes and errors. */
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** PO numbers for the input `-`. */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
}

export interface Context {
  stateDir?: string;
  io: Io;
}

/** Every line printed is made printable: much of what the CLI shows came from Coupa or the supervisor. */
export function print(stream: NodeJS.WritableStream, text: string): void {
  stream.write(`${printableLines(text)}\n`);
}

/** The running supervisor, or a newly started one: for commands that give the pool work. */
export function connectOrStart(ctx: Context): Promise<PoolClient> {
  return connectToSupervisor({ clientName: 'cli', stateDir: ctx.stateDir, spawn: true });
}

/** The running supervisor, or undefined: looking at a pool must not start one. */
export async function connectIfRunning(ctx: Context): Promise<PoolClient | undefined> {
  try {
    return await connectToSupervisor({ clientName: 'cli', stateDir: ctx.stateDir, spawn: false });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') return undefined;
    throw err;
  }
}

/** Ctrl-C or a polite kill: the handler runs once, instead of the default of dying mid-output. */
export function onInterrupt(handler: () => void): () => void {
  const once = () => {
    off();
    handler();
  };
  const off = () => {
    process.off('SIGINT', once);
    process.off('SIGTERM', once);
  };
  process.on('SIGINT', once);
  process.on('SIGTERM', once);
  return off;
}
