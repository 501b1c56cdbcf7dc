/** What the extension costs: bundle sizes, activation time in a fresh process, and the .vsix. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { summary } from './lib';
import { cleanUp, runProcess } from './processes';
import { log, OUT, ROOT, type Ctx, type ExtensionResult } from './scenario';

export async function extension(ctx: Ctx, skipVsix: boolean): Promise<ExtensionResult> {
  const result: ExtensionResult = {};
  // The production bundle, built exactly as `node esbuild.mjs --production` builds it, but into a
  // folder of ours: dist/ is shared with everyone's test runs on this machine.
  const prodDir = join(ctx.tmp, 'prod');
  await esbuild.build({
    bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: false, minify: true, logLevel: 'warning',
    external: ['vscode', 'playwright-core', 'playwright-core/*'],
    entryPoints: { extension: join(ROOT, 'src/extension/main.ts'), supervisor: join(ROOT, 'src/supervisor/main.ts'), worker: join(ROOT, 'src/worker/main.ts'), cli: join(ROOT, 'src/cli/main.ts') },
    outdir: prodDir,
  });
  result.productionBundleBytes = Object.fromEntries(['extension', 'supervisor', 'worker', 'cli'].map((n) => [n, statSync(join(prodDir, `${n}.js`)).size]));
  result.devBundleBytes = { extension: statSync(join(ROOT, 'dist/extension.js')).size };
  const meta = await esbuild.build({
    bundle: true, platform: 'node', target: 'node20', format: 'cjs', minify: true, metafile: true, write: false, logLevel: 'silent',
    external: ['vscode', 'playwright-core', 'playwright-core/*'], entryPoints: [join(ROOT, 'src/extension/main.ts')], outfile: join(prodDir, 'x.js'),
  });
  const inputs = Object.values(meta.metafile!.outputs)[0].inputs;
  const byPackage = new Map<string, number>();
  for (const [file, info] of Object.entries(inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? file.split('/').slice(0, 2).join('/');
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + info.bytesInOutput);
  }
  result.extensionBundleByInput = Object.fromEntries([...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12));

  // Activation, each in a fresh process (cold module cache), dev and production bundles.
  for (const [label, bundle] of [['dev', join(ROOT, 'dist/extension.js')], ['production', join(prodDir, 'extension.js')]] as const) {
    const runs: { requireMs: number; activateMs: number; totalMs: number; error?: string }[] = [];
    for (let i = 0; i < 7; i++) {
      const stateDir = join(ctx.tmp, `activate-${label}-${i}`);
      const r = await runProcess(process.execPath, [join(OUT, 'activate.js'), bundle, ROOT], { env: { ...process.env, PO_POOL_STATE_DIR: stateDir }, timeoutMs: 30_000 });
      try {
        runs.push(JSON.parse(r.stdout.trim().split('\n').pop()!));
      } catch {
        log(`activation (${label}) printed no result: ${r.stderr.slice(-500)}`);
      }
      // activate() connects in the background and starts a supervisor: stop it.
      await new Promise((res) => setTimeout(res, 1500));
      await cleanUp(stateDir, true);
    }
    result[`activation_${label}` as const] = {
      activateMs: summary(runs.map((r) => r.activateMs)),
      requireMs: summary(runs.map((r) => r.requireMs)),
      totalMs: summary(runs.map((r) => r.totalMs)),
      errors: runs.flatMap((r) => (r.error ? [r.error] : [])).slice(0, 1),
    };
  }

  // The .vsix: `npm run package` in a copy of the working tree (it rebuilds dist/ and rewrites the
  // .vsix at the root, both shared with the other engineers on this machine).
  if (!skipVsix) {
    const copy = join(ctx.tmp, 'vsix-copy');
    mkdirSync(copy, { recursive: true });
    execFileSync('sh', ['-c', `tar -C "${ROOT}" --exclude=./.git --exclude=./out --exclude=./test-results --exclude=./bench/out --exclude=./coupa-po-pool.vsix --exclude=./downloads -cf - . | tar -C "${copy}" -xf -`]);
    const r = await runProcess('npm', ['run', 'package'], { cwd: copy, timeoutMs: 300_000 });
    const vsix = join(copy, 'coupa-po-pool.vsix');
    result.vsix = existsSync(vsix)
      ? { bytes: statSync(vsix).size, packageLine: r.stdout.split('\n').find((l) => l.includes('[package]')) ?? '' }
      : { error: `npm run package exited ${r.code}: ${r.stderr.slice(-400)}` };
    result.distExtensionFromPackageBytes = existsSync(join(copy, 'dist/extension.js')) ? statSync(join(copy, 'dist/extension.js')).size : undefined;
    rmSync(copy, { recursive: true, force: true });
  }
  return result;
}