import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { processPo, type AdapterOptions } from '../../src/coupa/adapter';
import { isSignInUrl } from '../../src/coupa/session';
import { createStandin, type AttachmentRecord, type PoRecord, type Standin } from '../../src/coupa/standin';
import { AuthenticationError, DownloadError, NetworkError, PONotFoundError, TimeoutError } from '../../src/protocol/errors';
import type { POResult } from '../../src/protocol/types';
import type { Page } from 'playwright-core';
import { BrowserSession } from '../../src/worker/browserSession';
import { copyProfile } from '../../src/shared/profile';
import { makeBaseProfile, processesMentioning, tempDir, waitUntil } from '../support';

/**
 * The adapter in a real Chromium against the stand-in, one browser for the whole suite. Expected
 * bytes come from the stand-in's catalog, never from what the adapter itself reports.
 */
describe('adapter: one PO in a real browser against the stand-in', function () {
  this.timeout(120_000);
  let standin: Standin;
  let root: string;
  let downloads: string;
  let session: BrowserSession;

  before(async () => {
    standin = await createStandin({ seed: 5, hostileNames: true, maxAttachments: 3, poCount: 400 });
    root = tempDir('adapter');
    const base = join(root, 'base-profile');
    await makeBaseProfile(base, standin.url);
    await copyProfile(base, join(root, 'copy'));
    session = new BrowserSession({ baseUrl: standin.url, profileDir: join(root, 'copy'), headless: true, browser: 'auto', startupTimeout: 30_000 });
    await session.launch();
    assert.equal(await session.authenticate(), true, 'the copied profile is signed in');
  });

  after(async () => {
    await session?.close();
    await standin?.close();
    assert.deepEqual(processesMentioning(root), [], 'no browser left running');
    rmSync(root, { recursive: true, force: true });
  });

  beforeEach(async () => {
    downloads = join(root, `out-${Date.now()}`);
    standin.resetKnobs();
    assert.equal(await session.recoverSession(), true, 'signed in before each test');
  });

  /** One PO in a new tab; `prepare` can change what the tab will be served first. */
  async function run(poNumber: string, options: Partial<AdapterOptions> = {}, prepare?: (page: Page) => Promise<unknown>): Promise<POResult> {
    const tab = await session.createTab(`t-${poNumber}`);
    try {
      await prepare?.(tab.page);
      return await processPo(tab.page, poNumber, {
        baseUrl: standin.url, downloadDir: downloads, maxDownloadBytes: 50 * 1024 * 1024, deadline: Date.now() + 60_000, ...options,
      });
    } finally {
      await session.closeTab(tab);
    }
  }

  const records = (): PoRecord[] => standin.catalog.ids().map((id) => standin.catalog.po(id)!);
  const plain = (r: PoRecord) => r.attachments.length >= 2 && new Set(r.attachments.map((a) => a.name)).size === r.attachments.length;
  function findPo(predicate: (r: PoRecord) => boolean): PoRecord {
    const found = records().find(predicate);
    assert.ok(found, 'the catalog has such a PO');
    return found;
  }

  function assertNoWork(): void {
    const work = join(downloads, '.work');
    assert.deepEqual(existsSync(work) ? readdirSync(work) : [], [], 'nothing left in .work');
  }

  /** The files on disk are exactly the served ones, inside the PO folder, each its own file. */
  function assertFiles(result: POResult, served: AttachmentRecord[]): void {
    const folder = join(downloads, result.poNumber);
    assert.equal(result.folder, folder);
    assert.deepEqual(result.files.map((f) => f.sha256).sort(), served.map((a) => a.sha256).sort());
    assert.deepEqual(readdirSync(folder).sort(), result.files.map((f) => f.name).sort(), 'nothing else in the folder');
    assert.equal(new Set(result.files.map((f) => f.path.toLowerCase())).size, served.length, 'no file overwritten');
    assert.equal(statSync(folder).mode & 0o777, 0o700, 'the PO folder is the user\'s alone');
    for (const f of result.files) {
      assert.equal(statSync(f.path).mode & 0o777, 0o600, `${f.name} is the user's alone`);
      assert.ok(!relative(folder, f.path).startsWith('..') && relative(folder, f.path) === f.name, `${f.path} is inside ${folder}`);
      const bytes = readFileSync(f.path);
      assert.equal(bytes.length, f.bytes);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), f.sha256);
    }
    assertNoWork();
  }

  for (const markup of ['spans', 'links'] as const) {
    it(`downloads every attachment of a PO in the ${markup} markup`, async () => {
      const po = findPo((r) => r.markup === markup && plain(r));
      const result = await run(po.poNumber);
      assert.equal(result.status, 'COMPLETED', JSON.stringify(result.error));
      assert.equal(result.poNumber, po.poNumber);
      assert.equal(result.source, 'po');
      assert.equal(result.supplier, po.supplier);
      assert.deepEqual(result.attachments, po.attachments.map((a) => a.name));
      assertFiles(result, po.attachments);
      assert.ok(result.timings.finishedAt >= result.timings.startedAt);
    });
  }

  it('puts every hostile name inside its PO folder, overwriting none', async () => {
    const po = records()[0];
    assert.ok(po.attachments.length >= 15, 'the first PO carries every hostile name');
    const result = await run(`po ${po.id}`);
    assert.equal(result.status, 'COMPLETED', JSON.stringify(result.error));
    assertFiles(result, po.attachments);
    for (const f of result.files) assert.doesNotMatch(f.name, /[<>:"/\\|?*\u0000-\u001f]|^\.|[. ]$/);
  });

  it('a redo replaces the PO folder instead of mixing into it', async () => {
    const po = findPo((r) => plain(r) && r !== records()[0]);
    await run(po.poNumber);
    writeFileSync(join(downloads, po.poNumber, 'left over from before.txt'), 'x');
    const again = await run(po.poNumber);
    assert.equal(again.status, 'COMPLETED');
    assertFiles(again, po.attachments);
  });

  const served = (r: PoRecord) => standin.catalog.served(r.id)!;

  it('falls back to the requisition when the PO page has no attachments', async () => {
    const po = findPo((r) => served(r).source === 'requisition');
    const result = await run(po.poNumber);
    assert.equal(result.status, 'COMPLETED', JSON.stringify(result.error));
    assert.equal(result.source, 'requisition');
    assertFiles(result, served(po).attachments);
  });

  it('NO_ATTACHMENTS, and no folder, when neither the PO nor its requisition has any (or it is not accessible)', async () => {
    const none = findPo((r) => served(r).attachments.length === 0);
    const result = await run(none.poNumber);
    assert.equal(result.status, 'NO_ATTACHMENTS');
    assert.deepEqual(result.files, []);
    assert.ok(!existsSync(join(downloads, none.poNumber)));
    assertNoWork();
  });

  it('a missing PO is PONotFoundError, after confirming the session is alive', async () => {
    await assert.rejects(run('PO990001'), (err: unknown) => err instanceof PONotFoundError && /not found/.test(err.message));
    await assert.rejects(run('PO12'), (err: unknown) => err instanceof PONotFoundError && err.data?.invalid === true);
    assert.ok(!existsSync(join(downloads, 'PO990001')));
    assertNoWork();
  });

  it('an expired session that redirects to sign-in: SSO signs straight back in, else AuthenticationError', async () => {
    const po = findPo((r) => plain(r) && r.markup === 'links');
    standin.expireAllSessions();
    // The redirect goes through the identity provider, which still knows the user.
    assert.equal((await run(po.poNumber)).status, 'COMPLETED');
    standin.knobs.sso = false;
    standin.expireAllSessions();
    await assert.rejects(run(po.poNumber), (err: unknown) => err instanceof AuthenticationError);
    await assert.rejects(run('PO990002'), (err: unknown) => err instanceof AuthenticationError, 'never "not found" while signed out');
    assert.equal(await session.recoverSession(), false);
    standin.knobs.sso = true;
    assert.equal(await session.recoverSession(), true);
    assert.equal((await run(po.poNumber)).status, 'COMPLETED');
  });

  it('an expired session that shows the error page is AuthenticationError, never PONotFoundError', async () => {
    const po = findPo((r) => plain(r) && r.markup === 'spans');
    standin.knobs.expiredSession = 'error-page';
    standin.expireAllSessions();
    for (const poNumber of [po.poNumber, 'PO990003']) {
      await assert.rejects(run(poNumber), (err: unknown) => err instanceof AuthenticationError, poNumber);
    }
    assert.equal(await session.recoverSession(), true);
    assert.equal((await run(po.poNumber)).status, 'COMPLETED');
  });

  it('with a renewal from the caller, an expired session behind the error page is renewed: the PO completes, a missing PO costs one more page load', async () => {
    const po = findPo((r) => plain(r) && r.markup === 'links');
    standin.knobs.expiredSession = 'error-page';
    let renewals = 0;
    const renewSession = async () => {
      renewals++;
      return session.recoverSession();
    };
    standin.expireAllSessions();
    const result = await run(po.poNumber, { renewSession });
    assert.equal(result.status, 'COMPLETED');
    assertFiles(result, po.attachments);
    assert.equal(renewals, 1);
    standin.expireAllSessions();
    const from = standin.requests.length;
    await assert.rejects(run('PO990004', { renewSession }), (err: unknown) => err instanceof PONotFoundError);
    assert.equal(standin.requests.slice(from).filter((r) => r.path === '/order_headers/990004').length, 2, 'loaded again once, after the renewal');
    assert.equal(renewals, 2);
  });

  for (const markup of ['spans', 'links'] as const) {
    it(`a session that ends between the page and its files (${markup}): renewed, the files fetched again, COMPLETED; without a person, AuthenticationError`, async () => {
      const po = findPo((r) => plain(r) && r.markup === markup);
      standin.knobs.expiredSession = 'error-page';
      // The list is on the page, no file asked for yet: the session ends now.
      const endSessionOnList = (_level: string, message: string) => {
        if (/attachment\(s\) on the PO page/.test(message)) standin.expireAllSessions();
      };
      const result = await run(po.poNumber, { renewSession: () => session.recoverSession(), log: endSessionOnList });
      assert.equal(result.status, 'COMPLETED', JSON.stringify(result.error));
      assertFiles(result, po.attachments);
      await assert.rejects(run(po.poNumber, { renewSession: async () => false, log: endSessionOnList }),
        (err: unknown) => err instanceof AuthenticationError && /without a person/.test(err.message));
      assertNoWork();
    });
  }

  it('fetches files from the tenant host only: links to other hosts on the page are not attachments', async () => {
    const po = findPo((r) => plain(r) && r.markup === 'links');
    // The same server under another host name: it would answer, so only the rule keeps it from being asked.
    const other = standin.idpUrl;
    const aid = po.attachments[0].id;
    const foreign = `<li><a href="${other}/attachments/${aid}/download">Supplier catalogue.pdf</a></li>` +
      '<li><a href="https://supplier.example/download/terms.pdf" download>terms.pdf</a></li>' +
      `<li class="attachment" data-url="${other}/attachments/${aid}"><span role="button" title="widget.pdf" aria-label="widget.pdf file attachment">widget.pdf</span></li>`;
    const from = standin.requests.length;
    const result = await run(po.poNumber, {}, (page) => page.route(`${standin.url}/order_headers/${po.id}`, async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, body: (await response.text()).replace('</ul>', `${foreign}</ul>`) });
    }));
    assert.equal(result.status, 'COMPLETED', JSON.stringify(result.error));
    assert.deepEqual(result.attachments, po.attachments.map((a) => a.name));
    assertFiles(result, po.attachments);
    assert.equal(standin.requests.slice(from).filter((r) => r.path.startsWith(`/attachments/${aid}`)).length, 1, 'the other host was never asked');
  });

  it('an expired session without SSO cannot be recovered by the worker', async () => {
    standin.knobs.sso = false;
    standin.expireAllSessions();
    const tab = await session.createTab('sso');
    try {
      assert.equal(await session.recoverSession(), false, 'a person must sign in');
      await tab.page.goto(`${standin.url}/order_headers/${records()[1].id}`);
      assert.ok(isSignInUrl(tab.page.url(), standin.url));
    } finally {
      await session.closeTab(tab);
    }
    standin.knobs.sso = true;
  });

  it('5xx and 429 are NetworkError (429 with Retry-After in retryAfterMs)', async () => {
    const po = findPo(plain);
    standin.knobs.errorRate = 1;
    await assert.rejects(run(po.poNumber), (err: unknown) => err instanceof NetworkError && [500, 503].includes(err.data?.status as number));
    standin.knobs.errorRate = 0;
    Object.assign(standin.knobs, { rateLimitPerSec: 1, retryAfterSec: 7 });
    await new Promise((r) => setTimeout(r, 1_100));
    await fetch(`${standin.url}/sessions/new`, { redirect: 'manual' }); // uses up this second's one request
    await assert.rejects(run(po.poNumber), (err: unknown) => err instanceof NetworkError && err.data?.status === 429 && err.data?.retryAfterMs === 7000);
    standin.knobs.rateLimitPerSec = 0;
    assertNoWork();
  });

  for (const markup of ['spans', 'links'] as const) {
    it(`a web page instead of the file fails the download (${markup}), leaving no folder`, async () => {
      const po = findPo((r) => plain(r) && r.markup === markup);
      standin.knobs.htmlInsteadOfFileRate = 1;
      await assert.rejects(run(po.poNumber), (err: unknown) => err instanceof DownloadError && /web page instead of the file/.test(err.message));
      assert.ok(!existsSync(join(downloads, po.poNumber)));
      assertNoWork();
    });
  }

  it('a cut-off download is tried again; one that keeps breaking is a NetworkError; an oversized file a DownloadError', async () => {
    const po = findPo((r) => plain(r) && r.markup === 'links');
    standin.knobs.truncateRate = 1;
    const from = standin.requests.length;
    const said: string[] = [];
    const first = run(po.poNumber, { log: (_level, message) => said.push(message) });
    // Chromium resumes a cut-off transfer a few times by itself; once it gives up, the adapter says it
    // will try again, and by then the server has recovered.
    await waitUntil(() => said.some((m) => /trying it again in \d+ ms/.test(m)), 20_000, 'the adapter to plan another try');
    standin.knobs.truncateRate = 0;
    const result = await first;
    assert.equal(result.status, 'COMPLETED');
    assertFiles(result, po.attachments);
    const asked = standin.requests.slice(from).filter((r) => r.kind === 'download').map((r) => r.path);
    assert.deepEqual(new Set(asked).size, po.attachments.length, 'each file asked for, and nothing else');
    assert.equal(asked.filter((p) => p !== asked[0]).length, po.attachments.length - 1, 'the files that came through were asked for once');

    const other = findPo((r) => plain(r) && r.markup === 'links' && r !== po);
    standin.knobs.truncateRate = 1;
    await assert.rejects(run(other.poNumber), (err: unknown) => err instanceof NetworkError);
    standin.knobs.truncateRate = 0;
    await assert.rejects(run(other.poNumber, { maxDownloadBytes: 10 }), (err: unknown) => err instanceof DownloadError && /limit/.test(err.message));
    assert.ok(!existsSync(join(downloads, other.poNumber)));
    assertNoWork();
  });

  it('PARTIAL when only some files fail, with the reason', async () => {
    const po = findPo((r) => r.markup === 'links' && plain(r) && new Set(r.attachments.map((a) => a.bytes)).size > 1);
    const sizes = po.attachments.map((a) => a.bytes).sort((a, b) => a - b);
    const result = await run(po.poNumber, { maxDownloadBytes: sizes[0] });
    assert.equal(result.status, 'PARTIAL');
    assert.equal(result.error?.kind, 'DownloadError');
    assert.match(result.error!.message, /failed/);
    assertFiles(result, po.attachments.filter((a) => a.bytes <= sizes[0]));
  });

  it('gives up with TimeoutError at the deadline, leaving no folder', async () => {
    const po = findPo((r) => plain(r));
    standin.knobs.downloadLatencyMs = 5_000;
    const started = Date.now();
    await assert.rejects(run(po.poNumber, { deadline: Date.now() + 1_500 }), (err: unknown) => err instanceof TimeoutError);
    assert.ok(Date.now() - started < 5_000, 'did not wait for the slow server');
    assert.ok(!existsSync(join(downloads, po.poNumber)));
    mkdirSync(join(downloads, '.work'), { recursive: true });
    assertNoWork();
  });
});
