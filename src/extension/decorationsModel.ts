/**
 * Outcomes on the editor's PO lines: which lines hold which PO (by its digits, so `po 100003` and
 * `PO100003` are one PO, as the supervisor counts them) and what each line says.
 */
import { normalizePo, type ParseResult } from '../protocol/po';
import type { TaskInfo } from '../protocol/types';
import { hoverLinks } from './failureModel';
import { formatBytes } from './format';
import { errorLine, outcomeText, statusLooks, type StatusLook } from './outcome';

export interface PoLines {
  poNumber: string;
  /** 0-based editor lines. */
  lines: number[];
}

export interface LineDecoration {
  line: number;
  kind: StatusLook['decoration'];
  text: string;
  hover: string;
}

/** Documents bigger than this are not scanned on every change. */
export const MAX_DECORATED_LINES = 50_000;

/** PO id (digits) -> where it is written; `parse` comes from `parsePoText` with its 1-based lines. */
export function poLines(parse: ParseResult): Map<string, PoLines> {
  const byId = new Map<string, PoLines>();
  const duplicateLines = new Map(parse.duplicates.map((d) => [d.poNumber, d.lines]));
  for (const po of parse.pos) {
    const lines = duplicateLines.get(po.poNumber) ?? [po.line];
    byId.set(po.id, { poNumber: po.poNumber, lines: lines.map((l) => l - 1) });
  }
  return byId;
}

export function poId(poNumber: string): string | undefined {
  const r = normalizePo(poNumber);
  return r.ok ? r.id : undefined;
}

/**
 * Keeps, per PO, the task that speaks for it now: the latest submitted. Returns whether anything
 * shown changed, so unchanged editors are not redrawn.
 */
export function mergeLatest(latest: Map<string, TaskInfo>, tasks: TaskInfo[], wanted?: ReadonlyMap<string, unknown>): boolean {
  let changed = false;
  for (const task of tasks) {
    const id = poId(task.poNumber);
    if (!id || (wanted && !wanted.has(id))) continue;
    const prior = latest.get(id);
    if (prior && prior.taskId !== task.taskId && prior.submittedAt > task.submittedAt) continue;
    if (prior && JSON.stringify(prior) === JSON.stringify(task)) continue;
    latest.set(id, task);
    changed = true;
  }
  return changed;
}

export function lineDecorations(lines: ReadonlyMap<string, PoLines>, latest: ReadonlyMap<string, TaskInfo>): LineDecoration[] {
  const out: LineDecoration[] = [];
  for (const [id, where] of lines) {
    const task = latest.get(id);
    if (!task) continue;
    const text = outcomeText(task);
    const hover = decorationHover(task);
    for (const line of where.lines) out.push({ line, kind: statusLooks[task.status].decoration, text, hover });
  }
  return out.sort((a, b) => a.line - b.line);
}

/** Markdown for the hover over a decorated line. */
export function decorationHover(task: TaskInfo): string {
  const r = task.result;
  const lines = [`**${task.poNumber}**: ${statusLooks[task.status].title}`];
  if (task.workerId && task.status === 'RUNNING') lines.push(`running on ${task.workerId}`);
  if (r?.supplier) lines.push(`Supplier: ${escapeMarkdown(r.supplier)}`);
  for (const f of r?.files ?? []) lines.push(`- ${escapeMarkdown(f.name)} (${formatBytes(f.bytes)})`);
  const error = errorLine(task);
  if (error) lines.push(`Error: ${escapeMarkdown(error)}`);
  if (r) lines.push(`Attempts: ${r.attempts}`);
  const links = hoverLinks(task);
  if (links) lines.push(links);
  return lines.join('\n\n');
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!<>|]/g, '\\$&');
}
