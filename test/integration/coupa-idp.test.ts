import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createStandin, type Standin } from '../../src/coupa/standin';
import { PoolError } from '../../src/protocol/errors';
import type { POResult } from '../../src/protocol/types';
import { BrowserSession } from '../../src/worker/browserSession';
import { Worker } from '../../src/worker/worker';
import { copyProfile } from '../../src/shared/profile';
import { makeBaseProfile, processesMentioning, tempDir } from '../support';

/**
 * The common Okta / Entra ID case, in a real Chromium: Coupa's session ends every few seconds while
 * the identity provider's lives on, so every sign-in hop comes straight back signed in and every probe
 * looks alive afterwards. What a user sees must not change: existing POs complete with the right bytes,
 * missing ones are PO_NOT_FOUND.
 */
describe('coupa: an expired session behind a live identity-provider session', function () {
  this.timeout(300_000);
  const MISSING = ['100004', '100011', '100017', '100022', '100028'];
  let standin: Standin;
  let root: string;
  let session: BrowserSession;
  let worker: Worker;

  before(async () => {
    standin = await createStandin({
      seed: 11, poCount: 30, missingRate: 0, missingIds: MISSING, maxAttachments: 4, expiredSession: 'idp-bounce',
    });
    root = tempDir('idp');
    await makeBaseProfile(join(root, 'base'), standin.url);
    await copyProfile(join(root, 'base'), join(root, 'copy'));
    session = new BrowserSession({ baseUrl: standin.url, profileDir: join(root, 'copy'), headless: true, browser: 'auto', startupTimeout: 30_000 });
    await session.launch();
    assert.equal(await session.authenticate(), true, 'the profile signed in through the identity provider');
    worker = new Worker(session, { baseUrl: standin.url, maxDownloadBytes: 50 * 1024 * 1024 });
  });

  after(async () => {
    await session?.close();
    await standin?.close();
    assert.deepEqual(processesMentioning(root), [], 'no browser left running');
    rmSync(root, { recursive: true, force: true });
  });

  beforeEach(() => standin.resetKnobs());

  /** What the pool would record: the result's status, or the status a thrown error ends the PO with. */
  async function outcome(poNumber: string, downloadDir: string): Promise<{ status: string; result?: POResult; error?: PoolError }> {
    try {
      const result = await worker.processPo({ taskId: `t-${poNumber}`, poNumber, downloadDir, timeoutMs: 60_000 });
      return { status: result.status, result };
    } catch (err) {
      assert.ok(err instanceof PoolError, String(err));
      return { status: err.kind === 'PONotFoundError' ? 'PO_NOT_FOUND' : err.kind === 'TimeoutError' ? 'TIMEOUT' : 'FAILED', error: err };
    }
  }

  it('sessions of 3 s: no existing PO is PO_NOT_FOUND, PARTIAL or FAILED, every file has the catalog bytes; missing POs cost one extra page load at most', async () => {
    Object.assign(standin.knobs, { sessionLifetimeSec: 3, pageLatencyMs: 100, downloadLatencyMs: 150 });
    const existing = standin.catalog.ids();
    const pos = [...existing, ...MISSING].sort().map((id) => `PO${id}`);
    const from = standin.requests.length;
    const started = Date.now();
    const out = join(root, 'out');
    const statuses = new Map<string, number>();
    const wrong: string[] = [];
    for (const po of pos) {
      const { status, result, error } = await outcome(po, out);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      const served = standin.catalog.served(po);
      if (!served) {
        if (status !== 'PO_NOT_FOUND') wrong.push(`${po} is missing but ended ${status}: ${error?.message}`);
        continue;
      }
      const expected = served.attachments.length ? 'COMPLETED' : 'NO_ATTACHMENTS';
      if (status !== expected) {
        wrong.push(`${po} ended ${status}, not ${expected}: ${error?.message ?? result?.error?.message}`);
        continue;
      }
      if (served.source !== result!.source) wrong.push(`${po}: attachments from the ${result!.source}, not the ${served.source}`);
      const got = result!.files.map((f) => createHash('sha256').update(readFileSync(f.path)).digest('hex')).sort();
      if (JSON.stringify(got) !== JSON.stringify(served.attachments.map((a) => a.sha256).sort())) wrong.push(`${po}: files differ from the catalog`);
    }
    const log = standin.requests.slice(from);
    const renewals = log.filter((r) => r.path === '/sso/saml').length;
    // A download answered with anything but its file: the session had ended in the middle of a PO.
    const sizes = new Map(existing.flatMap((id) => standin.catalog.served(id)!.attachments.map((a) => [a.id, a.bytes] as const)));
    const midPo = log.filter((r) => r.kind === 'download' && r.bytes !== sizes.get(/^\/attachments\/(\d+)/.exec(r.path)?.[1] ?? '')).length;
    console.log(`      outcomes ${JSON.stringify(Object.fromEntries(statuses))}; ${renewals} renewals, ${midPo} downloads met an ended session`);
    assert.deepEqual(wrong, []);
    // Per second of the run, not a fixed count: a faster client meets fewer ends of 3-second sessions.
    const seconds = (Date.now() - started) / 1000;
    assert.ok(renewals >= Math.floor(seconds / 4), `sessions ended often enough to matter (${renewals} renewals in ${Math.round(seconds)} s)`);
    assert.ok(midPo >= 3, `sessions ended in the middle of POs (${midPo} downloads)`);
    for (const id of MISSING) {
      const loads = log.filter((r) => r.path === `/order_headers/${id}`).length;
      assert.ok(loads >= 1 && loads <= 2, `PO${id}: ${loads} page loads`);
    }
  });
});
