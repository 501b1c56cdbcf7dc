/** The supervisor's log: a file for after-the-fact reading, and a stream of entries for clients. */
import { appendFileSync } from 'node:fs';
import type { LogEntry, LogLevel } from '../protocol/rpc';

export interface Logger {
  log(level: LogLevel, message: string, workerId?: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function createLogger(file: string | undefined, sink?: (entry: LogEntry) => void): Logger {
  const log = (level: LogLevel, message: string, workerId?: string) => {
    const entry: LogEntry = { time: Date.now(), level, message, ...(workerId ? { workerId } : {}) };
    if (file) {
      const line = `${new Date(entry.time).toISOString()} ${level.toUpperCase().padEnd(5)} ${workerId ? `[${workerId}] ` : ''}${message}\n`;
      try {
        appendFileSync(file, line, { mode: 0o600 });
      } catch {
        // A full disk must not take the supervisor down with it; clients still get the entry.
      }
    }
    sink?.(entry);
  };
  return {
    log,
    debug: (m) => log('debug', m),
    info: (m) => log('info', m),
    warn: (m) => log('warn', m),
    error: (m) => log('error', m),
  };
}
