/**
 * What to submit: arguments that name files are PO lists (read by the supervisor, which has the one
 * parser for text, CSV and Excel), `-` is a list on standard input (text, one PO per line), and
 * every other argument is a PO number.
 */
import { existsSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { normalizePo, parsePoText, type ParseResult } from '../protocol/po';
import { ReadPoFile, SubmitTasks, type SubmitTasksResult } from '../protocol/rpc';
import type { PoolClient } from '../client/client';
import { print, type Context } from './context';
import { allInvalid, invalidFromList, type InvalidEntry, type SubmitReport } from './format';
import { batches } from './options';
import { UsageError } from './outcome';

export interface Inputs {
  /** Unique POs (by their digits) in first-seen order. */
  pos: string[];
  invalid: InvalidEntry[];
  repeated: { poNumber: string; where: string[] }[];
}

const LIST_EXTENSIONS = new Set(['.txt', '.csv', '.tsv', '.xlsx', '.xlsm']);

export interface InputSources {
  /** The supervisor's `ReadPoFile`. */
  readFile(path: string): Promise<ParseResult>;
  /** All of standard input, for the argument `-`. */
  readStdin(): Promise<string>;
  /** The user's own PO pattern (setting `poPattern`) for lists. */
  pattern?: string;
  cwd?: string;
}

/** Reads `args` in order. */
export async function collectInputs(args: string[], sources: InputSources): Promise<Inputs> {
  const cwd = sources.cwd ?? process.cwd();
  const seen = new Map<string, { poNumber: string; where: string[] }>();
  const invalid: InvalidEntry[] = [];
  const add = (id: string, poNumber: string, where: string[]) => {
    const prior = seen.get(id);
    if (prior) prior.where.push(...where);
    else seen.set(id, { poNumber, where });
  };
  const addList = (name: string, parsed: ParseResult) => {
    const repeats = new Map(parsed.duplicates.map((d) => [d.poNumber, d.lines]));
    for (const po of parsed.pos) add(po.id, po.poNumber, (repeats.get(po.poNumber) ?? [po.line]).map((line) => `${name}:${line}`));
    invalid.push(...invalidFromList(name, parsed));
  };
  if (args.filter((a) => a === '-').length > 1) throw new UsageError('- (standard input) can be given only once');
  for (const arg of args) {
    if (arg === '-') {
      addList('stdin', parsePoText(await sources.readStdin(), { pattern: sources.pattern }));
      continue;
    }
    const path = resolve(cwd, arg);
    if (existsSync(path)) {
      if (!statSync(path).isFile()) throw new UsageError(`${arg} is a folder, not a PO list`);
      addList(arg, await sources.readFile(path));
      continue;
    }
    // A mistyped file name would otherwise be reported as a badly written PO number.
    if (LIST_EXTENSIONS.has(extname(arg).toLowerCase()) || /[\\/]/.test(arg)) throw new UsageError(`${arg}: no such file`);
    const r = normalizePo(arg);
    if (r.ok) add(r.id, r.poNumber, ['argument']);
    else invalid.push({ where: 'argument', text: arg, reason: r.reason });
  }
  const all = [...seen.values()];
  return {
    pos: all.map((e) => e.poNumber),
    invalid,
    repeated: all.filter((e) => e.where.length > 1),
  };
}

/** Lists read by the supervisor, standard input by this process. */
export function inputSources(ctx: Context, client: PoolClient, pattern?: string): InputSources {
  return {
    readFile: (path) => client.request(ReadPoFile, { path, ...(pattern ? { pattern } : {}) }),
    readStdin: async () => {
      const stdin = ctx.io.stdin;
      if (!stdin) throw new UsageError('- reads PO numbers from standard input, and there is none');
      if (stdin.isTTY) print(ctx.io.stderr, 'reading PO numbers from standard input, one per line; end with Ctrl-D');
      const chunks: Buffer[] = [];
      for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
      return Buffer.concat(chunks).toString('utf8');
    },
    pattern,
  };
}

/**
 * Submits in batches of 1000, each acknowledged once journalled; the answers merged. Into
 * `downloadDir` (absolute) when given, else the pool's folder.
 */
export async function submitAll(client: PoolClient, pos: string[], options: { priority?: number; redo?: boolean; downloadDir?: string }): Promise<SubmitTasksResult> {
  const merged: SubmitTasksResult = { handles: [], duplicates: [], invalid: [] };
  for (const batch of batches(pos)) {
    const r = await client.request(SubmitTasks, {
      tasks: batch.map((poNumber) => ({ poNumber, ...(options.priority !== undefined ? { priority: options.priority } : {}) })),
      ...(options.redo ? { redo: true } : {}),
      ...(options.downloadDir ? { downloadDir: options.downloadDir } : {}),
    });
    merged.handles.push(...r.handles);
    merged.duplicates.push(...r.duplicates);
    merged.invalid.push(...r.invalid);
  }
  return merged;
}

export function submitReport(inputs: Inputs, result: SubmitTasksResult): SubmitReport {
  return { result, invalid: inputs.invalid, repeated: inputs.repeated };
}

/** What `submit --json` prints. */
export function submitJson(report: SubmitReport) {
  return {
    submitted: report.result.handles,
    duplicates: report.result.duplicates,
    invalid: allInvalid(report),
    repeated: report.repeated,
  };
}
