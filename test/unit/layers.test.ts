import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The layering of README's "How the code is laid out": every folder of `src` may import only the
 * folders below it, and only `src/extension` may import `vscode`.
 */
const allowed: Record<string, string[]> = {
  protocol: [],
  shared: ['protocol'],
  coupa: ['protocol', 'shared'],
  worker: ['protocol', 'shared', 'coupa'],
  supervisor: ['protocol', 'shared', 'coupa'],
  client: ['protocol', 'shared'],
  extension: ['protocol', 'shared', 'client'],
  cli: ['protocol', 'shared', 'client', 'coupa'],
  api: ['protocol', 'shared', 'client', 'supervisor'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|mjs)$/.test(name) ? [path] : [];
  });
}

function layerOf(path: string): string {
  const rel = relative('src', path).split(/[\\/]/);
  return rel.length === 1 ? rel[0].replace(/\.[^.]+$/, '') : rel[0];
}

describe('layers', () => {
  const files = sourceFiles('src');

  it('puts every source file in a known layer', () => {
    for (const file of files) assert.ok(layerOf(file) in allowed, `${file} is in no layer`);
  });

  it('imports only from the layers below', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const own = layerOf(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
        const target = layerOf(relative(process.cwd(), resolve(dirname(file), m[1])));
        if (target !== own && !allowed[own].includes(target)) wrong.push(`${file} imports ${m[1]} (${own} -> ${target})`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('lets only src/extension import vscode', () => {
    const importers = files.filter((f) => /from 'vscode'|import\('vscode'\)|require\('vscode'\)/.test(readFileSync(f, 'utf8')));
    assert.ok(importers.length > 0);
    for (const f of importers) assert.equal(layerOf(f), 'extension', f);
  });
});
