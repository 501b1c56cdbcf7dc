import { strict as assert } from 'node:assert';
import { createStandin, type Standin } from '../../src/coupa/standin';
import { heavyAssets } from '../../src/coupa/standin/assets';
import { scopeStorageState, sessionHosts } from '../../src/coupa/storageScope';
import type { BrowserStorageState } from '../../src/protocol/workerMessages';

const cookie = (name: string, domain: string) => ({ name, value: 'v', domain, path: '/', expires: -1, httpOnly: true, secure: false, sameSite: 'Lax' as const });

describe('storageScope: a shared browser carries only Coupa\'s and its identity provider\'s cookies', () => {
  let standin: Standin;
  afterEach(async () => standin?.close());

  it('keeps cookies the browser would send to the tenant or its provider, and their origins\' storage', () => {
    const state: BrowserStorageState = {
      cookies: [
        cookie('_coupa_session', 'acme.coupahost.com'), cookie('tracking', '.coupahost.com'), cookie('other_tenant', 'globex.coupahost.com'),
        cookie('sid', 'acme.okta.com'), cookie('okta_all', '.okta.com'), cookie('mail', 'mail.example.org'), cookie('lookalike', 'notacme.coupahost.com'),
      ],
      origins: [
        { origin: 'https://acme.coupahost.com', localStorage: [{ name: 'a', value: '1' }] },
        { origin: 'https://mail.example.org', localStorage: [{ name: 'b', value: '2' }] },
      ],
    };
    const scoped = scopeStorageState(state, ['acme.coupahost.com', 'acme.okta.com']);
    assert.deepEqual(scoped.cookies.map((c) => c.name), ['_coupa_session', 'tracking', 'sid', 'okta_all']);
    assert.deepEqual(scoped.origins.map((o) => o.origin), ['https://acme.coupahost.com']);
  });

  it('finds the identity provider from where the sign-in page redirects a stranger (idp-bounce: localhost)', async () => {
    standin = await createStandin({ expiredSession: 'idp-bounce' });
    assert.deepEqual(await sessionHosts(standin.url), ['127.0.0.1', 'localhost']);
    standin.knobs.expiredSession = 'redirect';
    assert.deepEqual(await sessionHosts(standin.url), ['127.0.0.1'], 'a tenant that signs in itself has no provider to add');
  });

  it('an unreachable tenant: its own host only', async () => {
    standin = await createStandin({});
    const url = standin.url;
    await standin.close();
    assert.deepEqual(await sessionHosts(url, 2_000), ['127.0.0.1']);
  });

  it('heavy pages: the PO page links a cached ~1.5 MB script and a stylesheet, served without a session', async () => {
    standin = await createStandin({ heavyPages: true });
    const [script, style] = heavyAssets();
    assert.ok(script.body.length >= 1_400_000 && script.body.length < 1_700_000, `${script.body.length} bytes`);
    for (const asset of [script, style]) {
      const res = await fetch(standin.url + asset.path);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('cache-control') ?? '', /immutable/);
      assert.equal((await res.arrayBuffer()).byteLength, asset.body.length);
    }
  });
});
