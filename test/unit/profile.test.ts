import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProfileCorruptionError } from '../../src/protocol/errors';
import { copyProfile, removeProfileCopy, validateBaseProfile } from '../../src/shared/profile';

/** A profile with what a real one holds: state files, cookies, caches and the browser's lock files. */
function fakeProfile(dir: string): void {
  mkdirSync(join(dir, 'Default', 'Cache', 'Cache_Data'), { recursive: true });
  mkdirSync(join(dir, 'Default', 'Code Cache', 'js'), { recursive: true });
  mkdirSync(join(dir, 'Default', 'Service Worker', 'CacheStorage'), { recursive: true });
  mkdirSync(join(dir, 'Default', 'Local Storage', 'leveldb'), { recursive: true });
  mkdirSync(join(dir, 'GPUCache'), { recursive: true });
  writeFileSync(join(dir, 'Local State'), JSON.stringify({ profile: { last_used: 'Default' } }));
  writeFileSync(join(dir, 'Default', 'Preferences'), JSON.stringify({ profile: { name: 'Person 1' } }));
  writeFileSync(join(dir, 'Default', 'Cookies'), 'sqlite cookies');
  writeFileSync(join(dir, 'Default', 'Local Storage', 'leveldb', '000003.log'), 'ls');
  writeFileSync(join(dir, 'Default', 'Cache', 'Cache_Data', 'data_0'), 'x'.repeat(1000));
  writeFileSync(join(dir, 'Default', 'Code Cache', 'js', 'index'), 'x');
  writeFileSync(join(dir, 'Default', 'Service Worker', 'CacheStorage', 'a'), 'x');
  writeFileSync(join(dir, 'GPUCache', 'data_1'), 'x');
  writeFileSync(join(dir, 'Default', 'History.lock'), '');
  writeFileSync(join(dir, 'SingletonCookie.tmp'), '');
  // A lock from a browser that is gone (pid 1 on another host): stale, so the profile is usable.
  symlinkSync('another-host-1', join(dir, 'SingletonLock'));
  symlinkSync('/tmp/nowhere/SingletonSocket', join(dir, 'SingletonSocket'));
}

describe('browser profiles', () => {
  let root: string;
  let child: ChildProcess | undefined;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'po-profile-'));
  });
  afterEach(() => {
    child?.kill('SIGKILL');
    child = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  it('copies a profile without caches and lock files, into an owner-only folder', async () => {
    const base = join(root, 'base');
    const copy = join(root, 'copies', 'w1');
    fakeProfile(base);
    await validateBaseProfile(base);
    const ms = await copyProfile(base, copy);
    assert.equal(typeof ms, 'number');
    assert.ok(existsSync(join(copy, 'Local State')));
    assert.ok(existsSync(join(copy, 'Default', 'Preferences')));
    assert.ok(existsSync(join(copy, 'Default', 'Cookies')));
    assert.ok(existsSync(join(copy, 'Default', 'Local Storage', 'leveldb', '000003.log')));
    for (const skipped of ['Default/Cache', 'Default/Code Cache', 'Default/Service Worker', 'GPUCache', 'Default/History.lock']) {
      assert.ok(!existsSync(join(copy, skipped)), `${skipped} is not copied`);
    }
    const top = readdirSync(copy);
    assert.ok(!top.some((n) => n.startsWith('Singleton')), `no Singleton* in ${top.join(', ')}`);
    if (process.platform !== 'win32') assert.equal(statSync(copy).mode & 0o777, 0o700);
    removeProfileCopy(copy);
    assert.ok(!existsSync(copy));
    removeProfileCopy(copy);
    removeProfileCopy('');
  });

  it('replaces an old copy instead of mixing into it', async () => {
    const base = join(root, 'base');
    const copy = join(root, 'copy');
    fakeProfile(base);
    mkdirSync(copy);
    writeFileSync(join(copy, 'stale'), '');
    await copyProfile(base, copy);
    assert.ok(!existsSync(join(copy, 'stale')));
    assert.ok(!lstatSync(join(copy, 'Default')).isSymbolicLink());
  });

  it('refuses missing and corrupt profiles, naming what is wrong', async () => {
    const refused = (pattern: RegExp) => (err: unknown) => err instanceof ProfileCorruptionError && pattern.test(err.message);
    await assert.rejects(validateBaseProfile(join(root, 'nope')), refused(/does not exist/));
    await assert.rejects(validateBaseProfile(''), refused(/sign in/i));

    const noState = join(root, 'no-state');
    mkdirSync(join(noState, 'Default'), { recursive: true });
    writeFileSync(join(noState, 'Default', 'Preferences'), '{}');
    await assert.rejects(validateBaseProfile(noState), refused(/no "Local State"/));

    const badState = join(root, 'bad-state');
    mkdirSync(join(badState, 'Default'), { recursive: true });
    writeFileSync(join(badState, 'Local State'), '{ not json');
    writeFileSync(join(badState, 'Default', 'Preferences'), '{}');
    await assert.rejects(validateBaseProfile(badState), refused(/"Local State".*not valid JSON/));

    const badPrefs = join(root, 'bad-prefs');
    mkdirSync(join(badPrefs, 'Default'), { recursive: true });
    writeFileSync(join(badPrefs, 'Local State'), '{}');
    writeFileSync(join(badPrefs, 'Default', 'Preferences'), '');
    await assert.rejects(validateBaseProfile(badPrefs), refused(/Preferences.*not valid JSON/));

    const noPrefs = join(root, 'no-prefs');
    mkdirSync(noPrefs);
    writeFileSync(join(noPrefs, 'Local State'), '{}');
    await assert.rejects(validateBaseProfile(noPrefs), refused(/Preferences/));
  });

  it('refuses a profile that an open browser holds', async function () {
    if (process.platform === 'win32') this.skip();
    const base = join(root, 'base');
    fakeProfile(base);
    rmSync(join(base, 'SingletonLock'));
    child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    symlinkSync(`${hostname()}-${child.pid}`, join(base, 'SingletonLock'));
    await assert.rejects(validateBaseProfile(base),
      (err: unknown) => err instanceof ProfileCorruptionError && /in use by an open browser.*close it first/.test(err.message));
  });
});
