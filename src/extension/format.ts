/** How numbers, sizes and times read everywhere in the extension, so the views agree with each other. */

import { formatBytes, formatRate } from '../protocol/format';

export { formatBytes, formatRate };

const MB = 1024 * 1024;

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Browser memory is only interesting to the megabyte. */
export function formatMegabytes(bytes: number): string {
  return `${formatCount(bytes / MB)} MB`;
}


/** "45 s", "3 min", "1 h 05 min", "2 d 3 h": precise when short, coarse when long. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}


export function formatEta(seconds: number | undefined): string {
  return seconds === undefined || !Number.isFinite(seconds) ? 'unknown' : formatDuration(seconds);
}

export function formatAgo(at: number, now: number): string {
  return `${formatDuration((now - at) / 1000)} ago`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** Long messages are cut where they would push an editor line or a tree label off screen. */
export function clip(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

/** "3, 7, 9 and 12 more": line lists in messages stay one line long. */
export function listSome(items: (string | number)[], max = 5, separator = ', '): string {
  const shown = items.slice(0, max).join(separator);
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}
