// One bundle per process (extension, supervisor, worker, CLI), one for the library (api), and one
// per test file. `--watch` rebuilds on change; `--production` minifies and drops source maps.
import * as esbuild from 'esbuild';
import { chmodSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { external, nodeBundle } from './scripts/esbuildOptions.mjs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const common = {
  ...nodeBundle,
  sourcemap: !production,
  minify: production,
  external,
  // `po-pool --version`.
  define: { PACKAGE_VERSION: JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version) },
};

const processes = {
  ...common,
  entryPoints: {
    extension: 'src/extension/main.ts',
    supervisor: 'src/supervisor/main.ts',
    worker: 'src/worker/main.ts',
    browserHost: 'src/worker/browserHost.ts',
    cli: 'src/cli/main.ts',
    listReader: 'src/supervisor/listReaderMain.ts',
    api: 'src/api/index.ts',
  },
  outdir: 'dist',
};

function testFiles(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(testFiles(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const tests = {
  ...common,
  entryPoints: testFiles('test'),
  outbase: 'test',
  outdir: 'out/test',
  sourcemap: true,
  minify: false,
};

const builds = [processes, tests];
if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
  console.log('esbuild: watching for changes');
} else {
  const started = Date.now();
  await Promise.all(builds.map((options) => esbuild.build(options)));
  chmodSync('dist/cli.js', 0o755); // so ./dist/cli.js runs without npm's bin link
  console.log(`esbuild: built dist/ and out/test/ in ${Date.now() - started} ms${production ? ' (production)' : ''}`);
}
