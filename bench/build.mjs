// Bundles the benchmark (bench/*.ts) into bench/out/, the way esbuild.mjs bundles the product.
// playwright-core, playwright and crawlee stay external: they read their own files at run time.
import * as esbuild from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const started = Date.now();
await esbuild.build({
  entryPoints: ['main', 'perPoBrowser', 'crawlee', 'activate', 'cpuprofPreload', 'probe'].map((n) => join(here, `${n}.ts`)),
  outdir: join(here, 'out'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  external: ['esbuild', 'vscode', 'playwright-core', 'playwright-core/*', 'playwright', 'playwright/*', 'crawlee', '@crawlee/*'],
});
console.log(`bench: built bench/out/ in ${Date.now() - started} ms`);
