/** Where the supervisor's CPU goes: the heaviest frames and the long tasks of a .cpuprofile. */
import { readFileSync } from 'node:fs';
import { round } from './lib';
import type { CpuProfileSummary } from './scenario';

export function topOfProfile(file: string, n = 15): CpuProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[]; timeDeltas: number[];
  };
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byFrame = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    total += us;
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
    byFrame.set(key, (byFrame.get(key) ?? 0) + us);
  }
  // Long tasks: runs of consecutive samples outside (idle) longer than 50 ms, with their heaviest frames.
  const frameOf = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const idle = new Set(profile.nodes.filter((node) => node.callFrame.functionName === '(idle)').map((node) => node.id));
  const longTasks: { ms: number; top: string[] }[] = [];
  let run: number[] = [];
  let runUs = 0;
  const flush = () => {
    if (runUs > 50_000) {
      const counts = new Map<string, number>();
      for (const id of run) {
        const f = frameOf.get(id)!;
        const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      longTasks.push({ ms: round(runUs / 1000), top: [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, c]) => `${k} (${Math.round((c / run.length) * 100)}%)`) });
    }
    run = [];
    runUs = 0;
  };
  profile.samples.forEach((id, i) => {
    if (idle.has(id)) flush();
    else {
      run.push(id);
      runUs += profile.timeDeltas[i] ?? 0;
    }
  });
  flush();
  return {
    file, totalMs: round(total / 1000),
    longTasks: longTasks.sort((a, b) => b.ms - a.ms).slice(0, 10),
    longTaskCount: longTasks.length,
    top: [...byFrame.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([frame, us]) => ({ frame, ms: round(us / 1000), pct: round((us / total) * 100, 1) })),
  };
}