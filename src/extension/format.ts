/**
 * How numbers, sizes and times read everywhere in the window, through the same Intl helpers as the
 * CLI (src/shared/format.ts) in the window's display language, so the views, the CLI and the rest
 * of the person's system agree.
 */
import * as shared from '../shared/format';

export { clip } from '../shared/format';

let locale: string | undefined;

/** VS Code's display language (`vscode.env.language`), set once at activation; unset means the runtime's. */
export function setDisplayLocale(language: string | undefined): void {
  locale = language;
}

export function formatCount(n: number): string {
  return shared.formatCount(n, locale);
}

export function formatBytes(bytes: number): string {
  return shared.formatBytes(bytes, locale);
}

/** Browser memory is only interesting to the megabyte. */
export function formatMegabytes(bytes: number): string {
  return shared.formatMegabytes(bytes, locale);
}

export function formatRate(perMinute: number): string {
  return shared.formatRate(perMinute, locale);
}

/** "45 sec", "3 min 7 sec", "1 hr 5 min": precise when short, coarse when long. */
export function formatDuration(seconds: number): string {
  return shared.formatDuration(seconds, locale);
}

export function formatEta(seconds: number | undefined): string {
  return seconds === undefined || !Number.isFinite(seconds) ? 'unknown' : formatDuration(seconds);
}

/** "5 minutes ago", "yesterday". */
export function formatAgo(at: number, now: number): string {
  return shared.formatAgo(at, now, locale);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return shared.plural(n, one, many, locale);
}

/** "3, 7, 9 and 12 more": line lists in messages stay one line long. */
export function listSome(items: (string | number)[], max = 5, separator = ', '): string {
  const shown = items.slice(0, max).join(separator);
  return items.length > max ? `${shown} and ${formatCount(items.length - max)} more` : shown;
}
