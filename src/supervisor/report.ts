/**
 * `po-pool-report.csv` in the download folder: one row per PO (its latest task), rewritten shortly
 * after tasks change and replaced atomically, so a spreadsheet opened mid-run never sees half a file.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { TaskInfo } from '../protocol/types';

export const REPORT_NAME = 'po-pool-report.csv';

const columns = [
  'po_number', 'status', 'supplier', 'files', 'bytes', 'attachments', 'folder', 'attempts', 'worker',
  'submitted_at', 'finished_at', 'duration_ms', 'error_kind', 'error_message',
];

export function reportRows(tasks: TaskInfo[]): string[][] {
  return tasks.map((t) => {
    const r = t.result;
    const iso = (ms?: number) => (ms ? new Date(ms).toISOString() : '');
    return [
      t.poNumber,
      t.status,
      r?.supplier ?? '',
      String(r?.files.length ?? ''),
      String(r ? r.files.reduce((sum, f) => sum + f.bytes, 0) : ''),
      r?.attachments.join(' | ') ?? '',
      r?.folder ?? '',
      String(r?.attempts ?? t.retryCount + (t.status === 'QUEUED' ? 0 : 1)),
      t.workerId ?? r?.workerId ?? '',
      iso(t.submittedAt),
      iso(t.finishedAt),
      r ? String(r.timings.finishedAt - r.timings.startedAt) : '',
      r?.error?.kind ?? '',
      r?.error?.message ?? '',
    ];
  });
}

export class ReportWriter {
  private timer?: NodeJS.Timeout;
  /** One CSV line per task, made again only when that task changes: a rewrite joins, it does not re-format. */
  private readonly lines = new Map<string, string>();
  private readonly header = stringify([], { header: true, columns, bom: true });

  constructor(private readonly tasks: () => TaskInfo[], private readonly onError: (message: string) => void, private readonly delayMs = 500) {}

  changed(taskId: string): void {
    this.lines.delete(taskId);
  }

  /** Rewrites the report soon; many changes in a burst make one write. */
  schedule(downloadDir: string): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.write(downloadDir);
    }, this.delayMs);
  }

  write(downloadDir: string): void {
    const path = join(downloadDir, REPORT_NAME);
    try {
      const parts = [this.header];
      for (const task of this.tasks()) {
        let line = this.lines.get(task.taskId);
        if (line === undefined) {
          line = stringify(reportRows([task]));
          this.lines.set(task.taskId, line);
        }
        parts.push(line);
      }
      writeFileSync(`${path}.tmp`, parts.join(''));
      renameSync(`${path}.tmp`, path);
    } catch (err) {
      this.onError(`could not write ${path}: ${(err as Error).message}`);
    }
  }

  flush(downloadDir: string): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.write(downloadDir);
  }
}
