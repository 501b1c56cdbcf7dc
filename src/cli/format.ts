/**
 * Everything the CLI prints for people, as pure functions of what the supervisor answered, so the
 * wording is tested without a pool.
 */
import { taskStatuses, type PoolStatus, type TaskInfo, type TaskStatus, type WorkerHealth } from '../protocol/types';
import type { ParseResult } from '../protocol/po';
import type { SubmitTasksResult } from '../protocol/rpc';
import { formatBytes, formatRate } from '../protocol/format';

export { formatBytes, formatRate };


/** "45 s", "3 min 05 s", "1 h 05 min". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}


export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Task statuses in the order a run moves through them, zeros left out: "COMPLETED 40 · FAILED 2". */
export function formatCounts(counts: Partial<Record<TaskStatus, number>>): string {
  const parts = taskStatuses.filter((s) => counts[s]).map((s) => `${s} ${counts[s]}`);
  return parts.length ? parts.join(' · ') : 'none';
}

export function countStatuses(tasks: { status: TaskStatus }[]): Partial<Record<TaskStatus, number>> {
  const counts: Partial<Record<TaskStatus, number>> = {};
  for (const t of tasks) counts[t.status] = (counts[t.status] ?? 0) + 1;
  return counts;
}

/** Columns padded to their widest cell; the last column is never padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function clip(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

function workerRow(w: WorkerHealth): string[] {
  return [
    w.workerId,
    w.state,
    w.currentPo ?? '-',
    formatBytes(w.memoryBytes),
    String(w.tasksDone),
    String(w.restarts),
    w.pid ? String(w.pid) : '-',
    w.browserPids.length ? w.browserPids.join(',') : '-',
    w.lastError ? clip(`${w.lastError.kind}: ${w.lastError.message}`, 60) : '',
  ];
}

/** `po-pool status`: the pool at a glance. */
export function formatStatus(status: PoolStatus, now = Date.now()): string {
  const lines: string[] = [];
  const up = status.startedAt ? ` · up ${formatDuration((now - status.startedAt) / 1000)}` : '';
  lines.push(`pool ${status.state} · supervisor pid ${status.supervisorPid}${up}`);
  if (status.config) lines.push(`coupa ${status.config.coupaUrl} · downloads ${status.config.downloadDir}`);
  if (status.workers.length) {
    lines.push('', table(['WORKER', 'STATE', 'PO', 'MEMORY', 'DONE', 'RESTARTS', 'PID', 'BROWSER PIDS', 'LAST ERROR'], status.workers.map(workerRow)), '');
  } else {
    lines.push('no workers');
  }
  lines.push(`queue: ${status.queueDepth} queued · ${status.running} running · ${status.total} total`);
  lines.push(`tasks: ${formatCounts(status.counts)}`);
  const eta = status.etaSeconds === undefined ? 'unknown' : formatDuration(status.etaSeconds);
  lines.push(`rate: ${formatRate(status.processingRate)} · ETA ${status.queueDepth + status.running ? eta : '-'}`);
  if (status.memory.systemTotalBytes) {
    lines.push(`memory: pool ${formatBytes(status.memory.poolBytes)} · system ${status.memory.systemUsedPercent}% used (restart threshold ${Math.round(status.memory.threshold * 100)}%)`);
  }
  const errors = Object.entries(status.errors.byKind).filter(([, e]) => e);
  if (errors.length) {
    lines.push(`errors: ${errors.map(([kind, e]) => `${kind} ×${e!.count} (last ${formatDuration((now - e!.lastAt) / 1000)} ago)`).join(' · ')}`);
  }
  return lines.join('\n');
}

export interface Progress {
  done: number;
  total: number;
  /** Finished in a state other than success. */
  failed: number;
}

/** One line of progress, for logs and terminals without bars. */
export function formatProgressLine(progress: Progress, status: PoolStatus | undefined, now = new Date()): string {
  const time = now.toTimeString().slice(0, 8);
  const parts = [`${progress.done}/${progress.total} done`];
  if (progress.failed) parts.push(`${progress.failed} not successful`);
  if (status) {
    parts.push(`${status.running} running`, `${status.queueDepth} queued`, formatRate(status.processingRate));
    if (status.etaSeconds !== undefined && progress.done < progress.total) parts.push(`ETA ${formatDuration(status.etaSeconds)}`);
    const workers = Object.entries(status.workerCounts).map(([state, n]) => `${n} ${state.toLowerCase()}`);
    parts.push(`pool ${status.state}${workers.length ? ` (workers: ${workers.join(', ')})` : ''}`);
  }
  return `[${time}] ${parts.join(' · ')}`;
}

/** A worker's line beside its bar: what it is doing and what it costs. */
export function formatWorkerInfo(w: WorkerHealth): string {
  const doing = w.currentPo ? `${w.state} ${w.currentPo}` : w.state;
  return `${w.tasksDone} done · ${doing} · ${formatBytes(w.memoryBytes)}`;
}

export interface SubmitReport {
  result: SubmitTasksResult;
  /** Entries that are not PO numbers, with where they came from. */
  invalid: InvalidEntry[];
  /** POs written more than once in the input. */
  repeated: { poNumber: string; where: string[] }[];
}

export interface InvalidEntry {
  /** `file:line` or `argument`. */
  where: string;
  text: string;
  reason: string;
}

/** `po-pool submit`: what was queued, what was already known, and every line that was not a PO. */
export function formatSubmitReport(report: SubmitReport): string {
  const { result } = report;
  const lines = [`submitted ${plural(result.handles.length, 'PO')}`];
  if (result.duplicates.length) {
    lines.push(`${result.duplicates.length} already queued, running or done in this folder (--redo runs done ones again):`);
    for (const d of result.duplicates) lines.push(`  ${d.poNumber}  ${d.status === 'QUEUED' || d.status === 'RUNNING' ? d.status : `${d.status}, already in this folder`}`);
  }
  const invalid = [...report.invalid, ...result.invalid.map((i) => ({ where: 'supervisor', text: i.poNumber, reason: i.reason }))];
  if (invalid.length) {
    lines.push(`${invalid.length} invalid:`);
    for (const i of invalid) lines.push(`  ${i.where}: ${clip(i.text, 40)} — ${i.reason}`);
  }
  if (report.repeated.length) {
    lines.push(`${report.repeated.length} repeated in the input (submitted once):`);
    for (const r of report.repeated) lines.push(`  ${r.poNumber}  ${r.where.join(', ')}`);
  }
  return lines.join('\n');
}

/** Where a file's problems are: `list.txt:12`. */
export function invalidFromFile(file: string, parsed: ParseResult): InvalidEntry[] {
  return parsed.invalid.map((i) => ({ where: `${file}:${i.line}`, text: i.text, reason: i.reason }));
}

function filesOf(task: TaskInfo): { files: number; bytes: number } {
  const files = task.result?.files ?? [];
  return { files: files.length, bytes: files.reduce((sum, f) => sum + f.bytes, 0) };
}

function errorText(task: TaskInfo): string {
  const e = task.result?.error;
  return e ? `${e.kind}: ${e.message}` : '';
}

/** `po-pool results`: one row per PO. */
export function formatResultsTable(tasks: TaskInfo[]): string {
  if (tasks.length === 0) return 'no tasks';
  return table(
    ['PO', 'STATUS', 'FILES', 'SUPPLIER', 'ERROR'],
    tasks.map((t) => [t.poNumber, t.status, t.result ? String(filesOf(t).files) : '-', clip(t.result?.supplier ?? '', 30), clip(errorText(t), 80)]),
  );
}

export interface RunSummary {
  tasks: TaskInfo[];
  wallSeconds: number;
  workerCount?: number;
  downloadDir?: string;
  reportPath?: string;
}

/** After `run` and `demo`: how it went, what it produced, where it is, and what needs a look. */
export function formatSummary(summary: RunSummary): string {
  const { tasks, wallSeconds } = summary;
  const counts = countStatuses(tasks);
  const totals = tasks.map(filesOf).reduce((a, b) => ({ files: a.files + b.files, bytes: a.bytes + b.bytes }), { files: 0, bytes: 0 });
  const finished = tasks.filter((t) => t.status !== 'QUEUED' && t.status !== 'RUNNING').length;
  const rate = wallSeconds > 0 ? (finished / wallSeconds) * 60 : 0;
  const on = summary.workerCount ? ` on ${plural(summary.workerCount, 'worker')}` : '';
  const lines = [`${plural(tasks.length, 'PO')} in ${formatDuration(wallSeconds)} (${formatRate(rate)})${on}`];
  const width = Math.max(...taskStatuses.map((s) => s.length));
  for (const s of taskStatuses) if (counts[s]) lines.push(`  ${s.padEnd(width)}  ${String(counts[s]).padStart(5)}`);
  lines.push(`files: ${totals.files} (${formatBytes(totals.bytes)})${summary.downloadDir ? ` in ${summary.downloadDir}/<PO>/` : ''}`);
  if (summary.reportPath) lines.push(`report: ${summary.reportPath}`);
  const unsuccessful = tasks.filter((t) => t.status !== 'COMPLETED' && t.status !== 'NO_ATTACHMENTS');
  if (unsuccessful.length) {
    const shown = unsuccessful.slice(0, 20);
    lines.push(`not successful (${unsuccessful.length}):`);
    lines.push(...table(['PO', 'STATUS', 'ERROR'], shown.map((t) => [t.poNumber, t.status, clip(errorText(t), 80)])).split('\n').map((l) => `  ${l}`));
    if (unsuccessful.length > shown.length) lines.push(`  … and ${unsuccessful.length - shown.length} more (po-pool results --status ...)`);
  }
  return lines.join('\n');
}
