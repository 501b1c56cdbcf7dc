/**
 * `po-pool-report.csv` in the download folder: one row per PO (its latest task), rewritten shortly
 * after tasks change and replaced atomically, so a spreadsheet opened mid-run never sees half a file.
 */
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { TaskInfo } from '../protocol/types';
import { REPORT_NAME } from '../shared/paths';


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
  private writing?: Promise<void>;
  private writeAgain?: string;

  constructor(private readonly tasks: () => TaskInfo[], private readonly onError: (message: string) => void, private readonly delayMs = 500) {}

  changed(taskId: string): void {
    this.lines.delete(taskId);
  }

  /**
   * Rewrites the report soon; many changes in a burst make one write. The file is written off the
   * event loop (with 10 000 rows a synchronous write and rename held up status answers for 200 ms),
   * and a large report less often, since even joining its lines costs in proportion to them
   * (10 000 rows: every 2.5 s).
   */
  schedule(downloadDir: string): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write(downloadDir);
    }, Math.max(this.delayMs, this.lines.size / 4));
  }

  /** Writes the report now; a write asked for while one is under way follows it. */
  async write(downloadDir: string): Promise<void> {
    if (this.writing) {
      this.writeAgain = downloadDir;
      return this.writing;
    }
    const path = join(downloadDir, REPORT_NAME);
    this.writing = (async () => {
      try {
        await writeFile(`${path}.tmp`, this.text());
        await rename(`${path}.tmp`, path);
      } catch (err) {
        this.onError(`could not write ${path}: ${(err as Error).message}`);
      }
    })();
    await this.writing;
    this.writing = undefined;
    const again = this.writeAgain;
    this.writeAgain = undefined;
    if (again) await this.write(again);
  }

  /** Writes what is pending, after any write under way, so the last report is the latest state. */
  async flush(downloadDir: string): Promise<void> {
    while (this.writing) await this.writing;
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.write(downloadDir);
  }

  private text(): string {
    const parts = [this.header];
    for (const task of this.tasks()) {
      let line = this.lines.get(task.taskId);
      if (line === undefined) {
        line = stringify(reportRows([task]));
        this.lines.set(task.taskId, line);
      }
      parts.push(line);
    }
    return parts.join('');
  }
}
