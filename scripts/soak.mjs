// Runs the reliability suite in LONG mode (SOAK=1: every fault scenario with ≥ 200 POs and 4 workers,
// and a ≥ 10 min soak of all kills), collects the figures each scenario reports, and writes them as a
// table to docs/RELIABILITY.md with the command, the date and the machine.
//   npm run soak                 (builds first, then runs; 20–40 min)
//   node scripts/soak.mjs --no-write   (prints the table only)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';

const write = !process.argv.includes('--no-write');
const dir = mkdtempSync(join(tmpdir(), 'po-soak-'));
const figuresFile = join(dir, 'figures.jsonl');
const grep = process.env.TEST_GREP;
const command = `${grep ? `TEST_GREP='${grep}' ` : ''}SOAK=1 node scripts/test.mjs reliability`;

execFileSync(process.execPath, ['esbuild.mjs'], { stdio: 'inherit' });
const started = new Date();
const loadAtStart = loadavg().map((l) => l.toFixed(1)).join(' ');
const code = await new Promise((resolve) => {
  const child = spawn(process.execPath, ['scripts/test.mjs', 'reliability'], {
    stdio: 'inherit',
    env: { ...process.env, SOAK: '1', RELIABILITY_FIGURES: figuresFile },
  });
  child.on('exit', (c) => resolve(c ?? 1));
});
const minutes = ((Date.now() - started.getTime()) / 60_000).toFixed(1);

const figures = existsSync(figuresFile)
  ? readFileSync(figuresFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
  : [];
rmSync(dir, { recursive: true, force: true });

const sec = (ms) => (ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`);
const median = (xs) => (xs?.length ? [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] : undefined);
const max = (xs) => (xs?.length ? Math.max(...xs) : undefined);

function chromiumVersion() {
  for (const bin of ['/usr/bin/chromium', 'chromium', 'google-chrome']) {
    try {
      return execFileSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      // next
    }
  }
  return 'unknown';
}

const rows = figures.map((f) =>
  `| ${f.scenario} | ${f.workers} | ${f.submitted} | ${f.completed} | ${f.failed} | ${f.lost} | ${f.duplicated} | ${f.faults} | ` +
  `${sec(median(f.recoveryMs))} | ${sec(max(f.recoveryMs))} | ${sec(median(f.nextCompletionMs))} | ${sec(f.durationMs)} | ${(f.notes ?? '').replace(/\|/g, '/')} |`);
const table = [
  '| Scenario | Workers | Submitted | Completed | Failed | Lost | Duplicated | Faults | Recovery (median) | Recovery (max) | Fault → next PO done (median) | Duration | Notes |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows,
].join('\n');

const machine = `${cpus().length} CPUs (nproc ${execFileSync('nproc', { encoding: 'utf8' }).trim()}), ${(totalmem() / 1024 ** 3).toFixed(1)} GB RAM, ` +
  `${chromiumVersion()}, Node ${process.versions.node}, ${execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim()}`;

console.log(`\n${table}\n\nexit code ${code}, ${minutes} min`);

if (write) {
  const doc = readFileSync('docs/RELIABILITY.md', 'utf8');
  const block = [
    '<!-- soak:begin -->',
    `Command: \`${command}\` (through \`npm run soak\` = \`node scripts/soak.mjs\`), run ${started.toISOString()} for ${minutes} min, exit code ${code}.`,
    '',
    `Machine: ${machine}. Load average at the start ${loadAtStart}, at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}.`,
    '',
    table,
    '<!-- soak:end -->',
  ].join('\n');
  // A run of a few scenarios (TEST_GREP) replaces only their rows and adds its own command line.
  if (grep && doc.includes('<!-- soak:begin -->')) {
    const old = /<!-- soak:begin -->([\s\S]*)<!-- soak:end -->/.exec(doc)[1];
    const kept = old.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Scenario') && !figures.some((f) => l.startsWith(`| ${f.scenario} |`)));
    const intro = old.split('\n').filter((l) => !l.startsWith('|')).join('\n').trim();
    const merged = [
      '<!-- soak:begin -->', intro, '',
      `Then \`${command}\`, run ${started.toISOString()} for ${minutes} min, exit code ${code}, replaced the rows of: ${figures.map((f) => f.scenario).join('; ')}.`,
      '', table.split('\n').slice(0, 2).join('\n'), ...kept, ...rows, '<!-- soak:end -->',
    ].join('\n');
    writeFileSync('docs/RELIABILITY.md', doc.replace(/<!-- soak:begin -->[\s\S]*<!-- soak:end -->/, merged));
    console.log('docs/RELIABILITY.md updated (rows merged)');
    process.exit(code);
  }
  const next = doc.includes('<!-- soak:begin -->')
    ? doc.replace(/<!-- soak:begin -->[\s\S]*<!-- soak:end -->/, block)
    : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync('docs/RELIABILITY.md', next);
  console.log('docs/RELIABILITY.md updated');
}
process.exit(code);
