import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { processPo } from '../../src/coupa/adapter';
import { createStandin, type Standin } from '../../src/coupa/standin';
import { copyProfile } from '../../src/shared/profile';
import { BrowserSession } from '../../src/worker/browserSession';
import { makeBaseProfile, processesMentioning, tempDir } from '../support';

const LOGO = '/assets/coupa-logo.png';
const FONT = '/assets/coupa-sans.woff2';

describe('coupa page resources: what a worker\'s tabs do not load', function () {
  this.timeout(120_000);
  let standin: Standin;
  let root: string;
  let base: string;

  before(async () => {
    standin = await createStandin({ seed: 6, maxAttachments: 2, poCount: 50 });
    root = tempDir('resources');
    base = join(root, 'base-profile');
    await makeBaseProfile(base, standin.url);
  });

  after(async () => {
    await standin?.close();
    assert.deepEqual(processesMentioning(root), [], 'no browser left running');
    rmSync(root, { recursive: true, force: true });
  });

  /** The paths a fresh session asked for while signing in and downloading a PO with attachments. */
  async function pathsAsked(blockPageResources: boolean): Promise<string[]> {
    const copy = join(root, `copy-${String(blockPageResources)}`);
    await copyProfile(base, copy);
    const session = new BrowserSession({
      baseUrl: standin.url, profileDir: copy, headless: true, browser: 'auto', startupTimeout: 30_000, blockPageResources,
    });
    const from = standin.requests.length;
    try {
      await session.launch();
      assert.equal(await session.authenticate(), true, 'signed in');
      const po = standin.catalog.ids().map((id) => standin.catalog.po(id)!).find((r) => r.attachments.length > 0)!;
      const tab = await session.createTab('t1');
      const result = await processPo(tab.page, po.poNumber, {
        baseUrl: standin.url, downloadDir: join(root, 'out'), maxDownloadBytes: 1024 * 1024, deadline: Date.now() + 60_000,
      });
      assert.equal(result.status, 'COMPLETED', JSON.stringify(result.error));
      assert.deepEqual(result.files.map((f) => f.sha256).sort(), po.attachments.map((a) => a.sha256).sort());
    } finally {
      await session.close();
    }
    return standin.requests.slice(from).map((r) => r.path);
  }

  it('with blockPageResources: no logo, no font, and the PO downloads as ever', async () => {
    const asked = await pathsAsked(true);
    assert.ok(asked.some((p) => p.startsWith('/order_headers/')), 'the PO page was loaded');
    assert.deepEqual(asked.filter((p) => p === LOGO || p === FONT), []);
  });

  it('without it (the default): the logo and the font are loaded', async () => {
    const asked = await pathsAsked(false);
    assert.ok(asked.includes(LOGO), `the logo was asked for: ${asked.join(' ')}`);
    assert.ok(asked.includes(FONT), `the font was asked for: ${asked.join(' ')}`);
  });
});
