import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';

/**
 * The .vsix carries only what .vscodeignore lets back in: a process bundle left out works in every
 * test run from the repository and fails only in the installed extension.
 */
describe('packaging', () => {
  it('lets every process bundle esbuild builds into the .vsix (the library stays out)', () => {
    const entries = /entryPoints: \{([^}]*)\}/.exec(readFileSync('esbuild.mjs', 'utf8'))![1];
    const bundles = [...entries.matchAll(/^\s*(\w+):/gm)].map((m) => m[1]).filter((name) => name !== 'api');
    assert.ok(bundles.length >= 5, `found the process bundles: ${bundles.join(', ')}`);
    const allowed = readFileSync('.vscodeignore', 'utf8').split('\n').map((l) => l.trim());
    for (const name of bundles) assert.ok(allowed.includes(`!dist/${name}.js`), `dist/${name}.js is in the .vsix`);
    assert.ok(!allowed.includes('!dist/api.js'), 'the library is for the npm package');
  });
});
