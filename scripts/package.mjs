// Packs the already-built dist/ into coupa-po-pool.vsix at the repo root, with vsce's Node API.
// `npm run package` builds first (bootstrap, then `node esbuild.mjs --production`); the e2e set-up
// calls this too. What goes in is decided by .vscodeignore; the checks below catch a bundle that is
// missing, or a runtime dependency that fell out, before anyone installs a broken .vsix.
import { createVSIX, listFiles } from '@vscode/vsce';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const packagePath = join(root, 'coupa-po-pool.vsix');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function fail(message) {
  console.error(`[package] ${message}`);
  process.exit(1);
}

function size(bytes) {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${(bytes / 1024).toFixed(0)} KB`;
}

if (!existsSync(join(root, manifest.main))) {
  fail(`${manifest.main} is missing: build first (\`node esbuild.mjs --production\`; it needs src/extension/main.ts).`);
}

// Every runtime dependency must travel inside the .vsix: esbuild leaves them out of the bundles.
const files = await listFiles({ cwd: root });
const runtimeDeps = Object.keys(manifest.dependencies ?? {});
for (const dep of runtimeDeps) {
  if (!files.includes(`node_modules/${dep}/package.json`)) fail(`node_modules/${dep} would not be in the .vsix: check .vscodeignore.`);
}
const strays = files.filter((f) => /^(src|test|out|scripts|docs|\.cache|bench|\.ci)\//.test(f) || f.endsWith('.map'));
if (strays.length) fail(`.vscodeignore lets in files the extension does not run with, e.g. ${strays.slice(0, 5).join(', ')}`);

await createVSIX({
  cwd: root,
  packagePath,
  dependencies: true,
  // No public repository yet: without these vsce would stop to ask, or fail on README's relative
  // link to docs/, which is not shipped.
  allowMissingRepository: true,
  rewriteRelativeLinks: false,
});

console.log(`[package] ${relative(process.cwd(), packagePath) || packagePath}: ${size(statSync(packagePath).size)} (${files.length} files, with ${runtimeDeps.join(', ')})`);
