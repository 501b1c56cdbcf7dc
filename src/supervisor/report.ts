/**
 * `po-pool-report.csv` in a download folder: one row per PO of that folder (its latest task),
 * rewritten shortly after tasks change and replaced atomically, so a spreadsheet opened mid-run
 * never sees half a file. Cells come partly from Coupa (supplier and file names, error pages) and
 * are opened in Excel: anything a spreadsheet would run as a formula is neutralised.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { TaskInfo } from '../protocol/types';
import { REPORT_NAME } from '../shared/paths';

const columns = [
  'po_number', 'status', 'supplier', 'files', 'bytes', 'attachments', 'folder', 'attempts', 'worker',
  'submitted_at', 'finished_at', 'duration_ms', 'error_kind', 'error_message', 'tenant',
];

/**
 * A cell a spreadsheet would take for a formula (`=HYPERLINK(…)`, `+`, `-`, `@`, or a leading tab
 * or carriage return) gets a leading apostrophe, which Excel and LibreOffice show as text.
 */
export function safeCell(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

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
      t.tenant,
    ].map(safeCell);
  });
}

export class ReportWriter {
  private timer?: NodeJS.Timeout;
  /** One CSV line per task, made again only when that task changes: a rewrite joins, it does not re-format. */
  private readonly lines = new Map<string, string>();
  private readonly header = stringify([], { header: true, columns, bom: true });
  private writing?: Promise<void>;
  private writeAgain = false;

  constructor(
    readonly downloadDir: string,
    private readonly tasks: () => TaskInfo[],
    private readonly onError: (message: string) => void,
    private readonly delayMs = 500,
  ) {}

  /** A task of this folder changed: its line is made again, and the report rewritten soon. */
  changed(taskId: string): void {
    this.lines.delete(taskId);
    this.schedule();
  }

  /**
   * Rewrites the report soon; many changes in a burst make one write. The file is written off the
   * event loop (with 10 000 rows a synchronous write and rename held up status answers for 200 ms),
   * and a large report less often, since even joining its lines costs in proportion to them
   * (10 000 rows: every 2.5 s).
   */
  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, Math.max(this.delayMs, this.lines.size / 4));
  }

  /** Writes the report now; a write asked for while one is under way follows it. */
  async write(): Promise<void> {
    if (this.writing) {
      this.writeAgain = true;
      return this.writing;
    }
    const path = join(this.downloadDir, REPORT_NAME);
    // A fresh name, created exclusively: a link planted at a predictable temp name is never followed.
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    this.writing = (async () => {
      try {
        await writeFile(tmp, this.text(), { flag: 'wx', mode: 0o600 });
        await rename(tmp, path);
      } catch (err) {
        await rm(tmp, { force: true }).catch(() => undefined);
        this.onError(`could not write ${path}: ${(err as Error).message}`);
      }
    })();
    await this.writing;
    this.writing = undefined;
    if (this.writeAgain) {
      this.writeAgain = false;
      await this.write();
    }
  }

  /** Writes what is pending, after any write under way, so the last report is the latest state. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.write();
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
