/**
 * Shared by the reliability suite: the two modes (short for `npm test`, long with SOAK=1), the
 * figures every fault scenario reports, the outcome audit (lost, duplicated, wrong bytes), and safe
 * kill -9 helpers that only ever touch processes this test started.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { AttachmentRecord, Standin } from '../../src/coupa/standin';
import { cmdline } from '../support';
import { isFinal, type TaskInfo, type WorkerHealth } from '../../src/protocol/types';

/** SOAK=1: every fault scenario with ≥ 200 POs and 4 workers, and a ≥ 10 min soak. */
export const LONG = process.env.SOAK === '1';
export const pick = <T>(short: T, long: T): T => (LONG ? long : short);


export interface Figures {
  scenario: string;
  workers: number;
  submitted: number;
  /** Final success states: COMPLETED, NO_ATTACHMENTS (and PO_NOT_FOUND for POs that do not exist). */
  completed: number;
  /** Every other final state (FAILED, TIMEOUT, PARTIAL, …). */
  failed: number;
  /** Submitted but not in exactly one final state at the end. Must be 0. */
  lost: number;
  /** Extra files in PO folders, plus downloads of a PO after it was final. Must be 0. */
  duplicated: number;
  faults: number;
  /** Fault → the pool has as many live workers again. */
  recoveryMs: number[];
  /** Fault → the next task completes. */
  nextCompletionMs?: number[];
  durationMs: number;
  notes?: string;
}

export function median(xs: number[]): number | undefined {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

export function fmtMs(ms: number | undefined): string {
  return ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`;
}

/** Printed, and appended (JSON lines) to $RELIABILITY_FIGURES for scripts/soak.mjs. */
export function recordFigures(f: Figures): void {
  const rec = Math.max(0, ...f.recoveryMs);
  console.log(`      figures ${f.scenario}: ${f.workers} workers, submitted ${f.submitted}, completed ${f.completed}, failed ${f.failed}, ` +
    `lost ${f.lost}, duplicated ${f.duplicated}, faults ${f.faults}, recovery median ${fmtMs(median(f.recoveryMs))} max ${f.recoveryMs.length ? fmtMs(rec) : '–'}, ` +
    `in ${fmtMs(f.durationMs)}${f.notes ? ` (${f.notes})` : ''}`);
  const file = process.env.RELIABILITY_FIGURES;
  if (file) appendFileSync(file, JSON.stringify({ ...f, mode: LONG ? 'long' : 'short', at: new Date().toISOString() }) + '\n');
}

export function served(standin: Standin, po: string): AttachmentRecord[] {
  return standin.catalog.served(po)?.attachments ?? [];
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

export interface Audit {
  completed: number;
  failed: number;
  lost: number;
  duplicatedFiles: number;
  redoneDownloads: number;
  byStatus: Record<string, number>;
  /** What a run left in `<out>/.work`: half-written POs. */
  halfWritten: string[];
  problems: string[];
}

/**
 * What a user would check after a run: each submitted PO has exactly one final outcome; a success
 * has exactly the served files (sha256) in its own folder, no more; a partial one only served files;
 * nothing is left in `.work`; and no PO was downloaded again after it was final.
 */
export function audit(opts: {
  standin: Standin;
  out: string;
  submitted: string[];
  tasks: TaskInfo[];
  /** Requests since this time are looked at for downloads after a PO was final. */
  since?: number;
}): Audit {
  const { standin, out, submitted, tasks } = opts;
  const result: Audit = { completed: 0, failed: 0, lost: 0, duplicatedFiles: 0, redoneDownloads: 0, byStatus: {}, halfWritten: [], problems: [] };
  const byPo = new Map<string, TaskInfo[]>();
  for (const t of tasks) byPo.set(t.poNumber, [...(byPo.get(t.poNumber) ?? []), t]);
  const finishedAt = new Map<string, number>();
  for (const po of submitted) {
    const list = byPo.get(po) ?? [];
    const final = list.filter((t) => isFinal(t.status));
    if (list.length !== 1 || final.length !== 1) {
      result.lost++;
      result.problems.push(`${po}: ${list.length} task(s), ${final.length} final (${list.map((t) => t.status).join(',')})`);
      continue;
    }
    const task = final[0];
    result.byStatus[task.status] = (result.byStatus[task.status] ?? 0) + 1;
    const exists = standin.catalog.po(po) !== undefined;
    const expected = served(standin, po);
    const ok = task.status === 'COMPLETED' || task.status === 'NO_ATTACHMENTS' || (task.status === 'PO_NOT_FOUND' && !exists);
    if (ok) result.completed++;
    else result.failed++;
    if (task.status === 'PO_NOT_FOUND' && exists) result.problems.push(`${po} exists but was reported PO_NOT_FOUND`);
    if (task.finishedAt) finishedAt.set(po, task.finishedAt);
    // The folder on disk, whatever the result says.
    const folder = join(out, po);
    const onDisk = existsSync(folder) && statSync(folder).isDirectory() ? readdirSync(folder) : [];
    const wanted = new Map<string, number>();
    for (const a of expected) wanted.set(a.sha256, (wanted.get(a.sha256) ?? 0) + 1);
    for (const name of onDisk) {
      const h = sha(join(folder, name));
      const left = wanted.get(h) ?? 0;
      if (left > 0) wanted.set(h, left - 1);
      else {
        result.duplicatedFiles++;
        result.problems.push(`${po}/${name}: not a served attachment or a second copy`);
      }
    }
    if (task.status === 'COMPLETED') {
      const missing = [...wanted.values()].reduce((a, b) => a + b, 0);
      if (missing) result.problems.push(`${po}: COMPLETED but ${missing} of ${expected.length} served file(s) missing on disk`);
      if (task.result?.files.length !== expected.length) result.problems.push(`${po}: result lists ${task.result?.files.length} files, served ${expected.length}`);
    }
    for (const f of task.result?.files ?? []) {
      if (relative(folder, f.path).startsWith('..')) result.problems.push(`${f.path} is outside ${folder}`);
    }
    if (task.status !== 'COMPLETED' && task.status !== 'PARTIAL' && onDisk.length) {
      result.problems.push(`${po}: ${task.status} but ${onDisk.length} file(s) in its folder`);
    }
  }
  const work = join(out, '.work');
  result.halfWritten = existsSync(work) ? readdirSync(work) : [];
  if (result.halfWritten.length) result.problems.push(`.work holds ${result.halfWritten.join(', ')}`);
  // Downloads of a PO that was already final: work done twice.
  const since = opts.since ?? 0;
  for (const r of standin.requests) {
    if (r.startedAt < since) continue;
    const po = poOfRequest(r.path);
    if (!po) continue;
    const done = finishedAt.get(po);
    if (done !== undefined && r.startedAt > done && r.kind === 'download') {
      result.redoneDownloads++;
      result.problems.push(`${po}: ${r.path} downloaded again after the PO was final`);
    }
  }
  return result;
}

/** `/attachments/<po id><3-digit slot>...` and `/order_headers/<id>` lead back to their PO. */
export function poOfRequest(path: string): string | undefined {
  let m = /^\/attachments\/(\d+)/.exec(path);
  if (m) return `PO${m[1].slice(0, -3)}`;
  m = /^\/order_headers\/(\d+)/.exec(path);
  if (m) return `PO${m[1]}`;
  return undefined;
}

export function assertClean(a: Audit, what: string): void {
  assert.equal(a.lost, 0, `${what}: nothing lost\n${a.problems.join('\n')}`);
  assert.equal(a.duplicatedFiles + a.redoneDownloads, 0, `${what}: nothing downloaded twice\n${a.problems.join('\n')}`);
  assert.deepEqual(a.problems, [], `${what}: problems`);
}

// ---- processes ----

/** The main browser process of a worker: a pid whose command line names our temp folder and has no --type=. */
export function browserMain(w: WorkerHealth, marker: string): number | undefined {
  return w.browserPids.find((p) => {
    const cmd = cmdline(p);
    return cmd.includes(marker) && !cmd.includes('--type=');
  });
}

export const liveStates = new Set(['READY', 'IDLE', 'PROCESSING']);
export const liveCount = (workers: WorkerHealth[]) => workers.filter((w) => liveStates.has(w.state)).length;

export function randomOf<T>(xs: T[]): T | undefined {
  return xs.length ? xs[Math.floor(Math.random() * xs.length)] : undefined;
}
