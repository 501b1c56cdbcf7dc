import { strict as assert } from 'node:assert';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedHeadlessShells, findHeadlessShell } from '../../src/shared/browsers.mjs';

function executableAt(path: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
}

describe('findHeadlessShell: which headless shell stands in for the configured browser', () => {
  let dir: string;
  const saved = process.env.PO_POOL_BROWSER;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'po-shells-'));
    delete process.env.PO_POOL_BROWSER;
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    if (saved === undefined) delete process.env.PO_POOL_BROWSER;
    else process.env.PO_POOL_BROWSER = saved;
  });

  it('is used for auto and chromium: the first executable place wins', () => {
    const missing = join(dir, 'missing');
    const notExecutable = join(dir, 'plain');
    writeFileSync(notExecutable, '');
    const shell = executableAt(join(dir, 'bin', 'chromium-headless-shell'));
    for (const preference of ['auto', 'chromium', '']) {
      assert.deepEqual(findHeadlessShell(preference, [missing, notExecutable, shell]), { name: 'chromium-headless-shell', executablePath: shell });
    }
  });

  it('is never used for chrome, msedge or a path: what the user named is launched as named', () => {
    const shell = executableAt(join(dir, 'shell'));
    for (const preference of ['chrome', 'msedge', '/usr/bin/chromium', shell]) {
      assert.equal(findHeadlessShell(preference, [shell]), undefined, preference);
    }
  });

  it('is not used for auto when PO_POOL_BROWSER names a browser', () => {
    const shell = executableAt(join(dir, 'shell'));
    process.env.PO_POOL_BROWSER = '/usr/bin/chromium';
    assert.equal(findHeadlessShell('auto', [shell]), undefined);
    assert.ok(findHeadlessShell('chromium', [shell]), 'chromium asks for Chromium, which the shell is');
  });

  it('is undefined when no place has one', () => {
    assert.equal(findHeadlessShell('auto', [join(dir, 'a'), join(dir, 'b')]), undefined);
  });

  it("finds Playwright's cached shells, newest build first, in both of Playwright's layouts", function () {
    if (process.platform !== 'linux') this.skip();
    const old = executableAt(join(dir, 'chromium_headless_shell-1140', 'chrome-linux', 'headless_shell'));
    const newer = executableAt(join(dir, 'chromium_headless_shell-1200', 'chrome-headless-shell-linux64', 'chrome-headless-shell'));
    executableAt(join(dir, 'chromium-1200', 'chrome-linux64', 'chrome'));
    mkdirSync(join(dir, 'chromium_headless_shell-1300'));
    const places = cachedHeadlessShells(dir);
    assert.ok(places.indexOf(newer) < places.indexOf(old), places.join('\n'));
    assert.ok(places.every((p) => p.includes('chromium_headless_shell-')), 'only headless-shell builds');
    assert.equal(findHeadlessShell('auto', places)?.executablePath, newer, 'an empty newer build is skipped');
    assert.deepEqual(cachedHeadlessShells(join(dir, 'nowhere')), []);
  });
});
