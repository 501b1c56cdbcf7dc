/**
 * PO lists as the commands receive them: from editor selections, files, keybindings and other
 * extensions, and what the person is told about what was found and what the pool accepted.
 */
import type { ParseResult } from '../protocol/po';
import type { SubmitTasksResult } from '../protocol/rpc';
import { listSome, plural } from './format';
import { statusWords } from './outcome';

/** Keybindings, tasks and other extensions call the commands with these. */
export interface ProcessArgs {
  poNumbers?: string[];
  priority?: number;
  /** Run POs again even when they already succeeded. */
  redo?: boolean;
  /** A PO list file (.txt, .csv, .xlsx). */
  path?: string;
}

/**
 * Accepts `["PO1", "PO2"]`, `"PO1\nPO2"`, `{ poNumbers, priority, redo, path }` or a priority number
 * after the list. Anything else (the URI VS Code passes from a context menu) is not a PO list.
 */
export function processArgs(args: readonly unknown[]): ProcessArgs {
  const out: ProcessArgs = {};
  for (const arg of args) {
    if (Array.isArray(arg) && arg.every((a) => typeof a === 'string')) out.poNumbers = arg;
    else if (typeof arg === 'string') out.poNumbers = arg.split(/[\r\n,;]+/).map((s) => s.trim()).filter(Boolean);
    else if (typeof arg === 'number' && Number.isInteger(arg)) out.priority = arg;
    else if (arg && typeof arg === 'object' && !Array.isArray(arg) && isPlainArgs(arg)) {
      const o = arg as Record<string, unknown>;
      if (Array.isArray(o.poNumbers)) out.poNumbers = o.poNumbers.map(String);
      if (typeof o.priority === 'number' && Number.isInteger(o.priority)) out.priority = o.priority;
      if (typeof o.redo === 'boolean') out.redo = o.redo;
      if (typeof o.path === 'string') out.path = o.path;
    }
  }
  return out;
}

function isPlainArgs(o: object): boolean {
  const proto = Object.getPrototypeOf(o);
  return proto === Object.prototype || proto === null;
}

/** Several selections parsed one by one (each with its own first line) as one list. */
export function mergeParseResults(results: ParseResult[]): ParseResult {
  const seen = new Map<string, { po: ParseResult['pos'][number]; lines: number[] }>();
  const invalid: ParseResult['invalid'] = [];
  for (const r of results) {
    const linesOf = new Map(r.duplicates.map((d) => [d.poNumber, d.lines]));
    for (const po of r.pos) {
      const lines = linesOf.get(po.poNumber) ?? [po.line];
      const prior = seen.get(po.id);
      if (prior) prior.lines.push(...lines.filter((l) => !prior.lines.includes(l)));
      else seen.set(po.id, { po, lines: [...lines] });
    }
    invalid.push(...r.invalid);
  }
  const all = [...seen.values()];
  return {
    pos: all.map((e) => e.po),
    invalid: invalid.sort((a, b) => a.line - b.line),
    duplicates: all.filter((e) => e.lines.length > 1).map((e) => ({ poNumber: e.po.poNumber, lines: e.lines.sort((a, b) => a - b) })),
  };
}

export interface Summary {
  severity: 'info' | 'warning' | 'error';
  message: string;
}

/** "Found 12 POs in the selection; 1 line skipped (line 3: no PO number on this line); 1 PO listed more than once (PO100001 on lines 2, 9)." */
export function parseSummary(r: ParseResult, source: string): Summary {
  const parts = [`Found ${plural(r.pos.length, 'PO')} in ${source}`];
  if (r.invalid.length) {
    parts.push(`${plural(r.invalid.length, 'line')} skipped (${listSome(r.invalid.map((i) => `line ${i.line}: ${i.reason}`), 3, '; ')})`);
  }
  if (r.duplicates.length) {
    const dups = r.duplicates.map((d) => `${d.poNumber} on lines ${d.lines.join(', ')}`);
    parts.push(`${plural(r.duplicates.length, 'PO')} listed more than once (${listSome(dups, 3)})`);
  }
  const severity = r.pos.length === 0 ? 'error' : r.invalid.length ? 'warning' : 'info';
  return { severity, message: `${parts.join('; ')}.` };
}

/** What the pool did with a submission, naming POs it refused because they are already in hand. */
export function submitSummary(r: SubmitTasksResult): Summary {
  const parts = [`Queued ${plural(r.handles.length, 'PO')}`];
  if (r.duplicates.length) {
    const named = r.duplicates.map((d) => `${d.poNumber} (${statusWords(d.status)})`);
    parts.push(`${plural(r.duplicates.length, 'PO')} already queued, running or done: ${listSome(named, 4)}`);
  }
  if (r.invalid.length) parts.push(`${plural(r.invalid.length, 'entry', 'entries')} refused: ${listSome(r.invalid.map((i) => `${i.poNumber} (${i.reason})`), 3)}`);
  const severity = r.handles.length === 0 ? 'warning' : r.duplicates.length || r.invalid.length ? 'warning' : 'info';
  return { severity, message: `${parts.join('; ')}.` };
}

/** Combines the results of a submission sent in several chunks. */
export function mergeSubmitResults(results: SubmitTasksResult[]): SubmitTasksResult {
  return {
    handles: results.flatMap((r) => r.handles),
    duplicates: results.flatMap((r) => r.duplicates),
    invalid: results.flatMap((r) => r.invalid),
  };
}

/** Undefined when valid, else what is wrong: the input box shows it as the person types. */
export function validatePriority(text: string): string | undefined {
  return /^\s*-?\d{1,6}\s*$/.test(text) ? undefined : 'A whole number; higher runs first (0 is normal).';
}

/** Keeps single requests small, so a 10 000-PO list shows progress and can be cancelled between chunks. */
export const SUBMIT_CHUNK = 1000;

export function chunks<T>(items: T[], size = SUBMIT_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
