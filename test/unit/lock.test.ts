import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockHolder, takeLock } from '../../src/shared/lock';
import { identityOf, isAlive, isRunning } from '../../src/shared/processTree';

describe('lock: one supervisor per state folder', () => {
  let root: string;
  let lockDir: string;
  let sleeper: ChildProcess | undefined;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'po-lock-'));
    lockDir = join(root, 'supervisor-lock');
  });
  afterEach(() => {
    sleeper?.kill('SIGKILL');
    sleeper = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  /** Another process, alive until the test ends it. */
  async function otherProcess(): Promise<number> {
    sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    await new Promise((r) => sleeper!.once('spawn', r));
    return sleeper.pid!;
  }

  function entry(name: string, text: string): void {
    mkdirSync(lockDir, { recursive: true });
    writeFileSync(join(lockDir, name), text);
  }

  it('an empty folder is taken; the holder is this process, by pid and start time', () => {
    const holder = takeLock(lockDir);
    assert.equal(holder.pid, process.pid);
    assert.match(holder.startTime ?? '', /^\d+$/);
    assert.deepEqual(lockHolder(lockDir), holder);
    assert.deepEqual(takeLock(lockDir), holder, 'taking it again changes nothing');
    assert.deepEqual(readdirSync(lockDir), ['1']);
  });

  it('a live holder keeps it; once it is gone the next starter takes the entry after it', async () => {
    const other = await otherProcess();
    entry('1', JSON.stringify(identityOf(other)));
    assert.equal(takeLock(lockDir).pid, other);
    assert.equal(lockHolder(lockDir)?.pid, other);
    sleeper!.kill('SIGKILL');
    await new Promise((r) => sleeper!.once('exit', r));
    assert.equal(lockHolder(lockDir), undefined);
    assert.equal(takeLock(lockDir).pid, process.pid);
    assert.deepEqual(readdirSync(lockDir), ['2'], 'the dead holder’s entry is gone, its number is not reused');
  });

  it('an entry naming a pid now used by another process, or an empty, torn or garbage entry, holds nothing', async () => {
    const other = await otherProcess();
    const entries = [
      JSON.stringify({ pid: other, startTime: '1' }), // the pid was given to another process since
      JSON.stringify({ pid: process.pid, startTime: '1' }),
      JSON.stringify({ pid: other }), // no start time: cannot be told from a later process with its pid
      String(other), // the old lock file's format
      '',
      '{"pid":',
      '\u0000\u0000\u0000\u0000',
      'null',
      JSON.stringify({ pid: 0 }),
      JSON.stringify({ pid: -1 }),
      JSON.stringify({ pid: String(other) }),
      JSON.stringify({ pid: other, startTime: 5 }),
    ];
    for (const text of entries) {
      rmSync(lockDir, { recursive: true, force: true });
      entry('7', text);
      assert.equal(lockHolder(lockDir), undefined, JSON.stringify(text));
      assert.equal(takeLock(lockDir).pid, process.pid, JSON.stringify(text));
      assert.deepEqual(readdirSync(lockDir), ['8'], JSON.stringify(text));
    }
    assert.ok(isAlive(other), 'the other process was never touched');
  });

  it('names that are not entries are left alone; the highest entry decides', async () => {
    const other = await otherProcess();
    entry('3', JSON.stringify(identityOf(process.pid)));
    entry('12', JSON.stringify(identityOf(other)));
    entry('999999999999999999', JSON.stringify(identityOf(process.pid))); // too long to be an entry
    writeFileSync(join(lockDir, 'notes.txt'), 'x');
    assert.equal(takeLock(lockDir).pid, other);
    assert.deepEqual(readdirSync(lockDir).sort(), ['12', '3', '999999999999999999', 'notes.txt']);
  });

  it('isAlive and isRunning: this process is, a finished one and pids 0 and -1 are not', async () => {
    assert.ok(isAlive(process.pid));
    assert.ok(isRunning(identityOf(process.pid)));
    assert.ok(!isRunning({ pid: process.pid, startTime: '1' }));
    assert.ok(!isAlive(0) && !isAlive(-1) && !isAlive(1.5));
    const other = await otherProcess();
    sleeper!.kill('SIGKILL');
    await new Promise((r) => sleeper!.once('exit', r));
    assert.ok(!isAlive(other));
  });
});
