/**
 * PO numbers as users hold them: `PO15262984`, `po 15262984`, `PM-15262984`, `15262984`.
 * Coupa addresses a PO by its digits (`/order_headers/15262984`), so two spellings of the same
 * digits are the same PO. Existing tools require at least 6 digits; we do too.
 */
import safeRegex from 'safe-regex2';

export const MIN_PO_DIGITS = 6;
export const MAX_PO_DIGITS = 12;

export interface ParsedPo {
  /** Canonical: `PO<digits>` (or `PM<digits>` when written so). Used for folders and reports. */
  poNumber: string;
  /** The digits Coupa uses in URLs. */
  id: string;
}

export type NormalizeResult = ({ ok: true } & ParsedPo) | { ok: false; reason: string };

/** One PO number written on its own, e.g. a CLI argument or a CSV cell. */
export function normalizePo(raw: string): NormalizeResult {
  const text = raw.replace(/^\uFEFF/, '').trim();
  if (text === '') return { ok: false, reason: 'empty' };
  const m = /^(P[OM])?[\s#:_-]*(\d+)$/i.exec(text);
  if (!m) return { ok: false, reason: `invalid PO format: "${clip(text)}"` };
  return checkDigits(m[2], m[1]);
}

function checkDigits(digits: string, prefix: string | undefined): NormalizeResult {
  if (digits.length < MIN_PO_DIGITS) {
    return { ok: false, reason: `invalid PO format: needs at least ${MIN_PO_DIGITS} digits, got ${digits.length}` };
  }
  if (digits.length > MAX_PO_DIGITS) {
    return { ok: false, reason: `invalid PO format: more than ${MAX_PO_DIGITS} digits` };
  }
  const id = digits.replace(/^0+(?=\d)/, '');
  const pre = prefix?.toUpperCase() === 'PM' ? 'PM' : 'PO';
  return { ok: true, poNumber: `${pre}${id}`, id };
}

export interface FoundPo extends ParsedPo {
  /** 1-based line number in the input. */
  line: number;
  /** The text as written. */
  raw: string;
}

export interface InvalidLine {
  line: number;
  text: string;
  reason: string;
}

export interface ParseResult {
  /** Unique POs in first-seen order. */
  pos: FoundPo[];
  invalid: InvalidLine[];
  /** POs seen more than once, with every line they were on. */
  duplicates: { poNumber: string; lines: number[] }[];
}

export interface ParseOptions {
  /**
   * A user's own pattern (setting `poPool.poPattern`); its first capture group, or the whole match,
   * is normalised like any PO.
   */
  pattern?: string;
  /** The line number of the text's first line (a selection that starts mid-document). */
  firstLine?: number;
}

// A PO token inside free text: an optional PO/PM prefix glued or spaced, then a run of digits that is
// not part of a longer word or number (so dates, amounts and phone numbers are not taken).
const TOKEN = /(?<![\p{L}\p{N}])(?:(P[OM])[\s#:_-]{0,3})?(\d{3,})(?![\p{L}\p{N}]|[.,]\d)/giu;

/**
 * Free text, one PO per line as users paste it; other text on a line is ignored. A line with no PO
 * is reported as invalid unless it is blank or looks like a header or comment.
 */
export function parsePoText(text: string, options: ParseOptions = {}): ParseResult {
  const first = options.firstLine ?? 1;
  const custom = options.pattern ? compileUserPattern(options.pattern) : undefined;
  const acc = new Accumulator();
  const lines = text.split(/\r\n|\r|\n/);
  let seenContent = false;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = first + i;
    const line = lines[i].replace(/^\uFEFF/, '');
    const trimmed = line.trim();
    if (trimmed === '' || /^(#|\/\/)/.test(trimmed)) continue;
    const firstContent = !seenContent;
    seenContent = true;
    if (/[\u0000-\u0008\u000E-\u001F\uFFFD]/.test(line)) {
      acc.invalid(lineNo, line, 'not text (control or undecodable characters)');
      continue;
    }
    let found = false;
    let firstBad: string | undefined;
    for (const [token, prefix, digits] of tokens(line, custom)) {
      const r = prefix === undefined && digits === undefined ? normalizePo(token) : checkDigits(digits!, prefix);
      if (r.ok) {
        acc.add(r, lineNo, token);
        found = true;
      } else if (!firstBad && (prefix || custom)) {
        firstBad = r.reason;
      }
    }
    // A column title on the first line ("PO Number") is not a mistake worth reporting.
    if (!found) acc.invalid(lineNo, line, firstBad ?? (firstContent && isHeader(trimmed) ? undefined : 'no PO number on this line'));
  }
  return acc.result();
}

/** One value per row (a CSV or spreadsheet column): each cell must be a PO number on its own. */
export function parsePoCells(cells: { line: number; value: string }[]): ParseResult {
  const acc = new Accumulator();
  for (const { line, value } of cells) {
    if (value.trim() === '') continue;
    const r = normalizePo(value);
    if (r.ok) acc.add(r, line, value);
    else acc.invalid(line, value, r.reason);
  }
  return acc.result();
}

function* tokens(line: string, custom: RegExp | undefined): Generator<[string, string | undefined, string | undefined]> {
  if (custom) {
    for (const m of line.matchAll(custom)) yield [m[1] ?? m[0], undefined, undefined];
    return;
  }
  for (const m of line.matchAll(TOKEN)) yield [m[0], m[1], m[2]];
}

/** Longer patterns are not PO formats but something pasted by mistake. */
const MAX_PATTERN_LENGTH = 200;

/**
 * Why a user's PO pattern cannot be used, or undefined when it can. A pattern with nested
 * repetition (`(\d+)+`) can take exponential time on one unlucky line and would stall the editor
 * and the supervisor, which both run it: such patterns are refused before they run.
 */
export function checkPoPattern(pattern: string): string | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) return `the PO pattern is ${pattern.length} characters long; at most ${MAX_PATTERN_LENGTH}`;
  try {
    new RegExp(pattern, 'gu');
  } catch (err) {
    return `the PO pattern is not a valid regular expression: ${(err as Error).message}`;
  }
  if (!safeRegex(pattern)) return 'the PO pattern repeats a repetition (like (\\d+)+), which can take very long on some lines; simplify it';
  return undefined;
}

function compileUserPattern(pattern: string): RegExp {
  const problem = checkPoPattern(pattern);
  if (problem) throw new Error(problem);
  return new RegExp(pattern, 'gu');
}

const HEADER_WORDS = /^(po[\s_-]*(number|no|num|#)?|purchase[\s_-]*order.*|order.*|supplier.*|list.*)$/i;
function isHeader(line: string): boolean {
  return HEADER_WORDS.test(line.replace(/[;,\t].*$/, '').trim());
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

class Accumulator {
  private readonly seen = new Map<string, { po: FoundPo; lines: number[] }>();
  private readonly bad: InvalidLine[] = [];

  add(po: ParsedPo, line: number, raw: string): void {
    const prior = this.seen.get(po.id);
    if (prior) prior.lines.push(line);
    else this.seen.set(po.id, { po: { ...po, line, raw }, lines: [line] });
  }

  invalid(line: number, text: string, reason: string | undefined): void {
    if (reason) this.bad.push({ line, text: clip(text), reason });
  }

  result(): ParseResult {
    const all = [...this.seen.values()];
    return {
      pos: all.map((e) => e.po),
      invalid: this.bad,
      duplicates: all.filter((e) => e.lines.length > 1).map((e) => ({ poNumber: e.po.poNumber, lines: e.lines })),
    };
  }
}
