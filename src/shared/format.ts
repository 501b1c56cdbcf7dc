/**
 * How numbers, sizes, durations and counts of things read in every client (the CLI, the editor's
 * views and panel), through `Intl` in the user's locale, so they agree with each other and with the
 * rest of the person's system. `locale` undefined means the runtime's default locale.
 */

const KB = 1024;
const MB = 1024 * KB;
const GB = 1024 * MB;

const cache = new Map<string, Intl.NumberFormat>();

function numberFormat(locale: string | undefined, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale ?? ''}|${JSON.stringify(options)}`;
  let format = cache.get(key);
  if (!format) cache.set(key, (format = new Intl.NumberFormat(locale, options)));
  return format;
}

/** 1234 -> "1,234" (en), "1.234" (de). */
export function formatCount(n: number, locale?: string): string {
  return numberFormat(locale, { maximumFractionDigits: 0 }).format(Math.round(n));
}

/** Bytes in the largest unit that keeps the number small: "512 B", "48 KB", "3.4 MB", "1.25 GB". */
export function formatBytes(bytes: number, locale?: string): string {
  const [unit, size, digits] = bytes < KB ? ['byte', 1, 0] : bytes < MB ? ['kilobyte', KB, 0] : bytes < GB ? ['megabyte', MB, 1] : ['gigabyte', GB, 2];
  return numberFormat(locale, { style: 'unit', unit: unit as string, unitDisplay: 'short', maximumFractionDigits: digits as number }).format(bytes / (size as number));
}

/** Memory of browsers: only interesting to the megabyte. */
export function formatMegabytes(bytes: number, locale?: string): string {
  return numberFormat(locale, { style: 'unit', unit: 'megabyte', unitDisplay: 'short', maximumFractionDigits: 0 }).format(bytes / MB);
}

/** "12 POs/min", "2.5 POs/min". */
export function formatRate(perMinute: number, locale?: string): string {
  return `${numberFormat(locale, { maximumFractionDigits: perMinute >= 10 ? 0 : 1 }).format(perMinute)} POs/min`;
}

const UNITS: [Intl.NumberFormatOptions['unit'], number][] = [['day', 86_400], ['hour', 3600], ['minute', 60], ['second', 1]];

/**
 * The largest unit of a duration and the next one when not zero: "45 sec", "3 min 7 sec",
 * "1 hr 5 min", "2 days 3 hr". Precise when short, coarse when long.
 */
export function formatDuration(seconds: number, locale?: string): string {
  const total = Math.max(0, Math.round(Number.isFinite(seconds) ? seconds : 0));
  const fits = UNITS.findIndex(([, size]) => total >= size);
  const at = fits === -1 ? UNITS.length - 1 : fits;
  const unitText = (n: number, unit: Intl.NumberFormatOptions['unit']) => numberFormat(locale, { style: 'unit', unit, unitDisplay: 'short' }).format(n);
  const [unit, size] = UNITS[at];
  const parts = [unitText(Math.floor(total / size), unit)];
  const next = UNITS[at + 1];
  if (next && Math.floor((total % size) / next[1]) > 0) parts.push(unitText(Math.floor((total % size) / next[1]), next[0]));
  return new Intl.ListFormat(locale, { style: 'narrow', type: 'unit' }).format(parts);
}

/** "5 minutes ago", "yesterday". */
export function formatAgo(at: number, now: number, locale?: string): string {
  const seconds = Math.round((at - now) / 1000);
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === 'second') return format.format(Math.round(seconds / size), unit as Intl.RelativeTimeFormatUnit);
  }
  return format.format(seconds, 'second');
}

const englishPlurals = new Intl.PluralRules('en');

/** "1 PO", "3 POs", "1,200 files": the count in the locale's digits; the noun is English, so English rules pick its form. */
export function plural(n: number, one: string, many = `${one}s`, locale?: string): string {
  return `${formatCount(n, locale)} ${englishPlurals.select(n) === 'one' ? one : many}`;
}

/** Long messages are cut where they would push an editor line, a tree label or a table cell off screen. */
export function clip(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}
