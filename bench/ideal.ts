/**
 * The ideal a run is held to: from the stand-in's request log, the wall time N lanes would need if the
 * client cost nothing (only the server's own latencies), and where the client's time went per PO.
 */
import type { Standin } from '../src/coupa/standin';
import { round } from './lib';
import type { Ctx, Ideal } from './scenario';

export function idealOf(ctx: Ctx, log: Standin['requests'], lanes: number): Ideal {
  const perPo = new Map<string, number>();
  const seq = new Map<string, { kind: string; start: number; end: number }[]>();
  let other = 0;
  let logins = 0;
  for (const r of log) {
    if (r.kind === 'login') {
      logins++;
      continue;
    }
    const ms = (r.finishedAt || r.startedAt) - r.startedAt;
    const path = r.path.split('?')[0];
    let po: string | undefined;
    let kind = '';
    let m = /^\/order_headers\/(\d+)/.exec(path);
    if (m) [po, kind] = [ctx.owner.get(`po:${m[1]}`), 'po'];
    m = /^\/requisition_headers\/(\d+)/.exec(path);
    if (m) [po, kind] = [ctx.owner.get(`req:${m[1]}`), 'req'];
    m = /^\/attachments\/(\d+)/.exec(path);
    if (m) [po, kind] = [ctx.owner.get(`att:${m[1]}`), 'att'];
    if (po) {
      perPo.set(po, (perPo.get(po) ?? 0) + ms);
      seq.set(po, [...(seq.get(po) ?? []), { kind, start: r.startedAt, end: r.finishedAt || r.startedAt }]);
    } else other += ms;
  }
  const sum = [...perPo.values()].reduce((a, b) => a + b, 0);
  const max = Math.max(0, ...perPo.values());
  const gaps = new Map<string, number[]>();
  const spans: number[] = [];
  const servers: number[] = [];
  for (const reqs of seq.values()) {
    reqs.sort((a, b) => a.start - b.start);
    spans.push(Math.max(...reqs.map((q) => q.end)) - reqs[0].start);
    servers.push(reqs.reduce((t, q) => t + q.end - q.start, 0));
    for (let i = 1; i < reqs.length; i++) {
      const key = `${reqs[i - 1].kind}→${reqs[i].kind}`;
      gaps.set(key, [...(gaps.get(key) ?? []), Math.max(0, reqs[i].start - reqs[i - 1].end)]);
    }
  }
  const avg = (xs: number[]) => (xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length, 0) : 0);
  const wall = Math.max((sum + other) / lanes, max);
  return {
    lanes, sumPoServerMs: sum, otherServerMs: other, maxPoServerMs: max, idealWallMs: round(wall, 0),
    idealPosPerMin: round((ctx.list.length / wall) * 60_000), requests: log.length, loginRequests: logins,
    perPoMeanMs: round(sum / Math.max(1, perPo.size)),
    client: {
      meanSpanMs: avg(spans), meanServerMs: avg(servers), meanGapMs: avg(spans.map((sp, i) => sp - servers[i])),
      gaps: Object.fromEntries([...gaps.entries()].map(([k, v]) => [k, { n: v.length, meanMs: avg(v) }])),
    },
  };
}