/**
 * The performance benchmark: every contestant in turn on one stand-in configuration and one PO list,
 * then the supervisor's scale and overhead figures, the extension's activation and bundle sizes.
 * Writes bench/results.json and bench/RESULTS.md. See bench/RESULTS.md for what each number means.
 *
 *   node bench/out/main.js [--pos 200] [--only pool4,crawlee4,perpo4,pool1,pool8,scale,ext] [--keep] [--profile-supervisor]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createStandin } from '../src/coupa/standin';
import { browserArgs, findBrowser, findHeadlessShell } from '../src/shared/browsers.mjs';
import { createSignedInProfile } from '../src/coupa/signIn';
import { light, ratios, runChildContestant, runPool } from './contestants';
import { topOfProfile } from './cpuProfile';
import { extension } from './extensionCost';
import { round } from './lib';
import { leftovers } from './processes';
import { writeMarkdown } from './report';
import { scale } from './scale';
import { CLI, log, ROOT, SCENARIO, SUPERVISOR, type CatalogStats, type Ctx, type Machine, type Results, type RunResult } from './scenario';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const value = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const PO_COUNT = Number(value('pos') ?? 200);
const ONLY = value('only')?.split(',');
const wanted = (name: string) => !ONLY || ONLY.includes(name);

function machine(executablePath: string): Machine {
  let chromium = '';
  try {
    chromium = execFileSync(executablePath, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch (err) {
    chromium = String((err as { stdout?: string }).stdout ?? '').trim();
  }
  const pkg = (p: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', p, 'package.json'), 'utf8')) as { version: string }).version;
  return {
    nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
    ramBytes: totalmem(),
    cpuModel: cpus()[0]?.model ?? '',
    chromium,
    chromiumPath: executablePath,
    node: process.version,
    playwrightCore: pkg('playwright-core'),
    playwright: pkg('playwright'),
    crawlee: pkg('@crawlee/playwright'),
    loadAverageAtStart: execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim(),
  };
}

async function main(): Promise<void> {
  if (flag('render-only')) {
    // Rewrites RESULTS.md from results.json (after editing bench/analysis.md or bench/report.ts).
    writeMarkdown(join(ROOT, 'bench', 'RESULTS.md'), JSON.parse(readFileSync(join(ROOT, 'bench', 'results.json'), 'utf8')) as Results);
    return;
  }
  const started = new Date();
  for (const f of [CLI, SUPERVISOR, join(ROOT, 'dist', 'worker.js')]) if (!existsSync(f)) throw new Error(`${f} is missing: run "node esbuild.mjs" first`);
  const found = findBrowser('chromium') ?? findBrowser('auto');
  if (!found) throw new Error('no Chromium-family browser found');
  // Every contestant gets the headless shell where there is one (what headless workers use), the
  // *full rows the full browser.
  const fullBrowser = found.executablePath;
  const executablePath = findHeadlessShell('chromium')?.executablePath ?? fullBrowser;
  // Short paths: Chromium's SingletonSocket lives under the worker's TMPDIR (<profile copy>.tmp, inside
  // the state folder) and a Unix socket path may not exceed 107 bytes.
  const tmp = join(tmpdir(), `pb${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  log(`working in ${tmp}; browser ${executablePath} ${browserArgs().join(' ')}`);

  const standin = await createStandin(SCENARIO.standin);
  const list = Array.from({ length: PO_COUNT }, (_, i) => `PO${SCENARIO.firstPo + i}`);
  const listFile = join(tmp, 'pos.txt');
  writeFileSync(listFile, `${list.join('\n')}\n`);
  const owner = new Map<string, string>();
  for (const po of list) {
    const rec = standin.catalog.po(po);
    owner.set(`po:${po.slice(2)}`, po);
    if (!rec) continue;
    if (rec.requisitionId) owner.set(`req:${rec.requisitionId}`, po);
    for (const a of [...rec.attachments, ...rec.requisitionAttachments]) owner.set(`att:${a.id}`, po);
  }
  const baseProfile = join(tmp, 'base-profile');
  // Signed in with the full browser, as a person signs in (a headless shell writes no "Local State").
  await createSignedInProfile({ profileDir: baseProfile, coupaUrl: standin.url, email: 'demo@example.com', password: 'demo', browser: fullBrowser });
  const profileDir = flag('profile-supervisor') ? join(tmp, 'profiles') : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const ctx: Ctx = { tmp, standin, list, listFile, baseProfile, executablePath, owner, profileDir };

  const catalogStats = ((): CatalogStats => {
    let existing = 0;
    let attachments = 0;
    let bytes = 0;
    let fromRequisition = 0;
    for (const po of list) {
      const rec = standin.catalog.po(po);
      if (!rec) continue;
      existing++;
      const served = rec.attachments.length ? rec.attachments : rec.requisitionAccessible ? rec.requisitionAttachments : [];
      if (!rec.attachments.length && served.length) fromRequisition++;
      attachments += served.length;
      bytes += served.reduce((s, a) => s + a.bytes, 0);
    }
    return { pos: list.length, existing, notFound: list.length - existing, attachments, meanAttachments: round(attachments / existing), bytes, fromRequisition };
  })();

  const results: Results = {
    date: started.toISOString(),
    command: 'npm run bench  (= node esbuild.mjs && node bench/build.mjs && node bench/out/main.js --profile-supervisor)',
    argv: process.argv.slice(2),
    machine: machine(executablePath),
    scenario: { ...SCENARIO, poList: `${list[0]}..${list[list.length - 1]}`, catalog: catalogStats, browserArgs: browserArgs() },
    runs: [],
    ratios: {},
    scale: undefined,
    extension: undefined,
    profiles: [],
    durationSeconds: 0,
  };
  const save = () => {
    results.durationSeconds = round((Date.now() - started.getTime()) / 1000);
    const base = value('results') ?? join(ROOT, 'bench', 'results');
    writeFileSync(`${base}.json`, `${JSON.stringify(results, (k, v) => (k === 'series' ? undefined : v), 2)}\n`);
    writeMarkdown(base === join(ROOT, 'bench', 'results') ? join(ROOT, 'bench', 'RESULTS.md') : `${base}.md`, results);
  };

  const plan: [string, () => Promise<RunResult>][] = [
    ['pool4', () => runPool(ctx, 4)],
    ['pool4x1', () => runPool(ctx, 4, { name: 'pool4x1', workersPerBrowser: 1 })],
    ['pool4full', () => runPool(ctx, 4, { name: 'pool4full', executablePath: fullBrowser })],
    ['pool4x1full', () => runPool(ctx, 4, { name: 'pool4x1full', workersPerBrowser: 1, executablePath: fullBrowser })],
    ['crawlee4', () => runChildContestant(ctx, 'crawlee', 4)],
    ['perpo4', () => runChildContestant(ctx, 'perPoBrowser', 4)],
    ['pool4light', () => light(ctx, () => runPool(ctx, 4, { name: 'pool4light' }))],
    ['pool4x1light', () => light(ctx, () => runPool(ctx, 4, { name: 'pool4x1light', workersPerBrowser: 1 }))],
    ['pool8', () => runPool(ctx, 8)],
    ['pool1', () => runPool(ctx, 1)],
  ];
  try {
    for (const [name, run] of plan) {
      if (!wanted(name)) continue;
      log(`${name}: running ${list.length} POs`);
      const r = await run();
      results.runs.push(r);
      log(`${name}: ${(r.wallMs / 1000).toFixed(1)} s${r.warmWallMs ? ` (warm ${(r.warmWallMs / 1000).toFixed(1)} s)` : ''}, ${r.posPerMin} POs/min, peak ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MB, cpu ${r.cpuSeconds} s, correct ${r.verification.correct}/${list.length}${r.verification.wrong.length ? ` wrong: ${JSON.stringify(r.verification.wrong.slice(0, 3))}` : ''}`);
      results.ratios = ratios(results.runs);
      save();
    }
    if (wanted('scale')) {
      log('scale and overheads');
      results.scale = await scale(ctx);
      save();
    }
    if (wanted('ext')) {
      log('extension: bundles, activation, .vsix');
      results.extension = await extension(ctx, flag('skip-vsix'));
      save();
    }
  } finally {
    if (profileDir && existsSync(profileDir)) {
      results.profiles = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => topOfProfile(join(profileDir, f)));
    }
    await standin.close();
    save();
    if (!flag('keep')) rmSync(tmp, { recursive: true, force: true });
    const left = await leftovers(tmp);
    if (left.length) log(`WARNING: processes left: ${JSON.stringify(left)}`);
  }
  log(`done in ${results.durationSeconds} s: ${value('results') ?? 'bench/results'}.json and its .md`);
}

main().then(() => process.exit(0), (err) => {
  log(`failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
