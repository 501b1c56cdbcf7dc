/**
 * Everything the CLI prints for people, as pure functions of what the supervisor answered, so the
 * wording is tested without a pool. Numbers, sizes and durations read in the user's locale
 * (`locale` undefined: the runtime's); tests pin one.
 */
import { isFinal, taskStatuses, type PoolStatus, type TaskInfo, type TaskStatus, type WorkerHealth } from '../protocol/types';
import type { ParseResult } from '../protocol/po';
import type { SubmitTasksResult } from '../protocol/rpc';
import { clip as clipText, formatBytes, formatCount, formatDuration, formatMegabytes, formatRate, plural } from '../shared/format';
import { isSuccess } from './outcome';
import { printable, printableLines } from './printable';

/** One line of at most `max` characters, printable. */
export function clip(text: string, max: number): string {
  return clipText(printable(text), max);
}

/**
 * JSON for scripts, unchanged as data: JSON escapes C0 controls itself, and the few characters it
 * leaves raw that a terminal obeys (DEL, C1, bidi overrides) are written as \u escapes too.
 */
export function jsonText(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent).replace(/[\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Task statuses in the order a run moves through them, zeros left out: "COMPLETED 40 · FAILED 2". */
export function formatCounts(counts: Partial<Record<TaskStatus, number>>, locale?: string): string {
  const parts = taskStatuses.filter((s) => counts[s]).map((s) => `${s} ${formatCount(counts[s]!, locale)}`);
  return parts.length ? parts.join(' · ') : 'none';
}

export function countStatuses(tasks: { status: TaskStatus }[]): Partial<Record<TaskStatus, number>> {
  const counts: Partial<Record<TaskStatus, number>> = {};
  for (const t of tasks) counts[t.status] = (counts[t.status] ?? 0) + 1;
  return counts;
}

/** Columns padded to their widest cell; the last column is never padded. Every cell is made printable. */
export function table(header: string[], rows: string[][]): string {
  const safe = rows.map((r) => r.map(printable));
  const widths = header.map((h, i) => Math.max(h.length, ...safe.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), ...safe.map(line)].join('\n');
}

function workerRow(w: WorkerHealth, locale?: string): string[] {
  return [
    w.workerId,
    w.state,
    w.currentPo ?? '-',
    formatMegabytes(w.memoryBytes, locale),
    formatCount(w.tasksDone, locale),
    formatCount(w.restarts, locale),
    w.pid ? String(w.pid) : '-',
    w.browserPids.length ? w.browserPids.join(',') : '-',
    w.lastError ? clip(`${w.lastError.kind}: ${w.lastError.message}`, 60) : '',
  ];
}

/** `po-pool status`: the pool at a glance. */
export function formatStatus(status: PoolStatus, now = Date.now(), locale?: string): string {
  const n = (x: number) => formatCount(x, locale);
  const lines: string[] = [];
  const up = status.startedAt ? ` · up ${formatDuration((now - status.startedAt) / 1000, locale)}` : '';
  lines.push(`pool ${status.state} · supervisor pid ${status.supervisorPid}${up}`);
  if (status.config) lines.push(`coupa ${printable(status.config.coupaUrl)} · downloads ${printable(status.config.downloadDir)}`);
  if (status.workers.length) {
    lines.push('', table(['WORKER', 'STATE', 'PO', 'MEMORY', 'DONE', 'RESTARTS', 'PID', 'BROWSER PIDS', 'LAST ERROR'], status.workers.map((w) => workerRow(w, locale))), '');
  } else {
    lines.push('no workers');
  }
  lines.push(`queue: ${n(status.queueDepth)} queued · ${n(status.running)} running · ${n(status.total)} total`);
  lines.push(`tasks: ${formatCounts(status.counts, locale)}`);
  const eta = status.etaSeconds === undefined ? 'unknown' : formatDuration(status.etaSeconds, locale);
  lines.push(`rate: ${formatRate(status.processingRate, locale)} · ETA ${status.queueDepth + status.running ? eta : '-'}`);
  if (status.memory.systemTotalBytes) {
    lines.push(`memory: pool ${formatMegabytes(status.memory.poolBytes, locale)} · system ${status.memory.systemUsedPercent}% used (restart threshold ${Math.round(status.memory.threshold * 100)}%)`);
  }
  const errors = Object.entries(status.errors.byKind).filter(([, e]) => e);
  if (errors.length) {
    lines.push(`errors: ${errors.map(([kind, e]) => `${kind} ×${n(e!.count)} (last ${formatDuration((now - e!.lastAt) / 1000, locale)} ago)`).join(' · ')}`);
  }
  return printableLines(lines.join('\n'));
}

export interface Progress {
  done: number;
  total: number;
  /** Finished in a state other than success. */
  failed: number;
}

/** One line of progress, for logs and terminals without bars. */
export function formatProgressLine(progress: Progress, status: PoolStatus | undefined, now = new Date(), locale?: string): string {
  const n = (x: number) => formatCount(x, locale);
  const time = now.toTimeString().slice(0, 8);
  const parts = [`${n(progress.done)}/${n(progress.total)} done`];
  if (progress.failed) parts.push(`${n(progress.failed)} not successful`);
  if (status) {
    parts.push(`${n(status.running)} running`, `${n(status.queueDepth)} queued`, formatRate(status.processingRate, locale));
    if (status.etaSeconds !== undefined && progress.done < progress.total) parts.push(`ETA ${formatDuration(status.etaSeconds, locale)}`);
    const workers = Object.entries(status.workerCounts).map(([state, count]) => `${n(count)} ${state.toLowerCase()}`);
    parts.push(`pool ${status.state}${workers.length ? ` (workers: ${workers.join(', ')})` : ''}`);
  }
  return clip(`[${time}] ${parts.join(' · ')}`, 300);
}

/** A worker's line beside its bar: what it is doing and what it costs. */
export function formatWorkerInfo(w: WorkerHealth, locale?: string): string {
  const doing = w.currentPo ? `${w.state} ${w.currentPo}` : w.state;
  return clip(`${formatCount(w.tasksDone, locale)} done · ${doing} · ${formatMegabytes(w.memoryBytes, locale)}`, 80);
}

export interface SubmitReport {
  result: SubmitTasksResult;
  /** Entries that are not PO numbers, with where they came from. */
  invalid: InvalidEntry[];
  /** POs written more than once in the input. */
  repeated: { poNumber: string; where: string[] }[];
}

export interface InvalidEntry {
  /** `file:line`, `stdin:line` or `argument`. */
  where: string;
  text: string;
  reason: string;
}

/** `po-pool submit`: what was queued, what was already known, and every line that was not a PO. */
export function formatSubmitReport(report: SubmitReport, locale?: string): string {
  const { result } = report;
  const lines = [`submitted ${plural(result.handles.length, 'PO', undefined, locale)}`];
  if (result.duplicates.length) {
    lines.push(`${formatCount(result.duplicates.length, locale)} already queued, running or done in this folder (--redo runs done ones again):`);
    for (const d of result.duplicates) lines.push(`  ${d.poNumber}  ${d.status === 'QUEUED' || d.status === 'RUNNING' ? d.status : `${d.status}, already in this folder`}`);
  }
  const invalid = allInvalid(report);
  if (invalid.length) {
    lines.push(`${formatCount(invalid.length, locale)} invalid:`);
    for (const i of invalid) lines.push(`  ${i.where}: ${clip(i.text, 40)} — ${clip(i.reason, 100)}`);
  }
  if (report.repeated.length) {
    lines.push(`${formatCount(report.repeated.length, locale)} repeated in the input (submitted once):`);
    for (const r of report.repeated) lines.push(`  ${r.poNumber}  ${r.where.join(', ')}`);
  }
  return printableLines(lines.join('\n'));
}

/** What the CLI found invalid, then what the supervisor refused. */
export function allInvalid(report: SubmitReport): InvalidEntry[] {
  return [...report.invalid, ...report.result.invalid.map((i) => ({ where: 'supervisor', text: i.poNumber, reason: i.reason }))];
}

/** Where a list's problems are: `list.txt:12`. */
export function invalidFromList(name: string, parsed: ParseResult): InvalidEntry[] {
  return parsed.invalid.map((i) => ({ where: `${name}:${i.line}`, text: i.text, reason: i.reason }));
}

export function filesOf(task: TaskInfo): { files: number; bytes: number } {
  const files = task.result?.files ?? [];
  return { files: files.length, bytes: files.reduce((sum, f) => sum + f.bytes, 0) };
}

function errorText(task: TaskInfo): string {
  const e = task.result?.error;
  return e ? `${e.kind}: ${e.message}` : '';
}

/** `po-pool results`: one row per PO; with a FOLDER column when the POs went to more than one folder. */
export function formatResultsTable(tasks: TaskInfo[], locale?: string): string {
  if (tasks.length === 0) return 'no tasks';
  const folders = new Set(tasks.map((t) => t.downloadDir)).size > 1;
  const row = (t: TaskInfo) => [
    t.poNumber, t.status, t.result ? formatCount(filesOf(t).files, locale) : '-', clip(t.result?.supplier ?? '', 30),
    ...(folders ? [t.downloadDir] : []), clip(errorText(t), 80),
  ];
  return table(['PO', 'STATUS', 'FILES', 'SUPPLIER', ...(folders ? ['FOLDER'] : []), 'ERROR'], tasks.map(row));
}

export interface RunSummary {
  /** Every PO of the list, as it ended or stands. */
  tasks: TaskInfo[];
  /** Tasks that were already done in this folder before the run: nothing was downloaded for them now. */
  alreadyDone: Set<string>;
  wallSeconds: number;
  workerCount?: number;
  downloadDir?: string;
  reportPath?: string;
}

/** After `run` and `demo`: how it went, what it produced, where it is, and what needs a look. */
export function formatSummary(summary: RunSummary, locale?: string): string {
  const { tasks, wallSeconds } = summary;
  const counts = countStatuses(tasks);
  const totals = tasks.map(filesOf).reduce((a, b) => ({ files: a.files + b.files, bytes: a.bytes + b.bytes }), { files: 0, bytes: 0 });
  // The rate is of the work done now: POs already in the folder took no time.
  const worked = tasks.filter((t) => isFinal(t.status) && !summary.alreadyDone.has(t.taskId)).length;
  const rate = wallSeconds > 0 ? (worked / wallSeconds) * 60 : 0;
  const on = summary.workerCount ? ` on ${plural(summary.workerCount, 'worker', undefined, locale)}` : '';
  const lines = [`${plural(tasks.length, 'PO', undefined, locale)} in ${formatDuration(wallSeconds, locale)} (${formatRate(rate, locale)})${on}`];
  const width = Math.max(...taskStatuses.map((s) => s.length));
  for (const s of taskStatuses) if (counts[s]) lines.push(`  ${s.padEnd(width)}  ${formatCount(counts[s]!, locale).padStart(5)}`);
  const already = tasks.filter((t) => summary.alreadyDone.has(t.taskId)).length;
  if (already) lines.push(`already in this folder: ${plural(already, 'PO', undefined, locale)}, not downloaded again (--redo to download them anew)`);
  lines.push(`files: ${formatCount(totals.files, locale)} (${formatBytes(totals.bytes, locale)})${summary.downloadDir ? ` in ${summary.downloadDir}/<PO>/` : ''}`);
  if (summary.reportPath) lines.push(`report: ${summary.reportPath}`);
  const unsuccessful = tasks.filter((t) => isFinal(t.status) && !isSuccess(t.status));
  if (unsuccessful.length) {
    const shown = unsuccessful.slice(0, 20);
    lines.push(`not successful (${formatCount(unsuccessful.length, locale)}):`);
    lines.push(...table(['PO', 'STATUS', 'ERROR'], shown.map((t) => [t.poNumber, t.status, clip(errorText(t), 80)])).split('\n').map((l) => `  ${l}`));
    if (unsuccessful.length > shown.length) lines.push(`  … and ${formatCount(unsuccessful.length - shown.length, locale)} more (po-pool results --status ...)`);
  }
  return printableLines(lines.join('\n'));
}
