import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { memoryShare } from '../../src/shared/processTree';

const MB = 1024 * 1024;

/** A Node process holding `mb` of its own, written (so resident) memory, until killed. */
async function holder(mb: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', `globalThis.b = Buffer.alloc(${mb * MB}, 1); console.log('ready'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(child.stdout!, 'data');
  return child;
}

function rssOf(pid: number): number {
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

describe('memoryShare: the memory figures a person sees per worker', () => {
  const children: ChildProcess[] = [];
  before(function () {
    if (process.platform !== 'linux') this.skip();
  });
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });

  it("counts a process's own memory in full, and leaves out a pid that is gone", async () => {
    const child = await holder(120);
    children.push(child);
    const gone = spawn(process.execPath, ['-e', '']);
    await once(gone, 'exit');
    const share = await memoryShare([child.pid!, gone.pid!]);
    assert.ok(share.get(child.pid!)! > 120 * MB, `${share.get(child.pid!)} bytes for a process holding 120 MB`);
    assert.ok(share.get(child.pid!)! <= rssOf(child.pid!));
    assert.equal(share.has(gone.pid!), false);
  });

  it('splits memory that processes share, so their figures add up to less than their resident sizes', async () => {
    // Two Node processes share the Node binary's pages: RSS counts them in each, the share once in all.
    children.push(await holder(1), await holder(1));
    const pids = children.map((c) => c.pid!);
    const share = await memoryShare(pids);
    const shared = pids.reduce((sum, p) => sum + share.get(p)!, 0);
    const resident = pids.reduce((sum, p) => sum + rssOf(p), 0);
    assert.ok(shared < resident * 0.9, `shares ${Math.round(shared / MB)} MB vs resident ${Math.round(resident / MB)} MB`);
  });
});
