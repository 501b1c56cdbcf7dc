/** The supervisor's log: a file for after-the-fact reading, and a stream of entries for clients. */
import { openSync, writeSync } from 'node:fs';
import type { LogEntry, LogLevel } from '../protocol/rpc';

export interface Logger {
  log(level: LogLevel, message: string, workerId?: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function createLogger(file: string | undefined, sink?: (entry: LogEntry) => void): Logger {
  // Opened once: workers log several lines per PO, and an open and close for each was measurable.
  let fd: number | undefined;
  const log = (level: LogLevel, message: string, workerId?: string) => {
    const entry: LogEntry = { time: Date.now(), level, message, ...(workerId ? { workerId } : {}) };
    if (file) {
      const line = `${new Date(entry.time).toISOString()} ${level.toUpperCase().padEnd(5)} ${workerId ? `[${workerId}] ` : ''}${message}\n`;
      try {
        fd ??= openSync(file, 'a', 0o600);
        writeSync(fd, line);
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
