// Bundles the benchmark (bench/*.ts) into bench/out/, the way esbuild.mjs bundles the product.
// playwright-core, playwright and crawlee stay external: they read their own files at run time.
import * as esbuild from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { external, nodeBundle } from '../scripts/esbuildOptions.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const started = Date.now();
await esbuild.build({
  entryPoints: ['main', 'perPoBrowser', 'crawlee', 'activate', 'cpuprofPreload', 'probe'].map((n) => join(here, `${n}.ts`)),
  outdir: join(here, 'out'),
  ...nodeBundle,
  sourcemap: true,
  external: [...external, 'esbuild', 'playwright', 'playwright/*', 'crawlee', '@crawlee/*'],
});
console.log(`bench: built bench/out/ in ${Date.now() - started} ms`);
