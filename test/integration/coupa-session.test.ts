import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { checkSession } from '../../src/coupa/session';
import { browserArgs, findBrowser } from '../../src/shared/browsers.mjs';
import { processesMentioning, tempDir } from '../support';

interface Answer {
  status?: number;
  location?: string;
  body?: string;
}

/**
 * The session check in a real Chromium against scripted pages we did not write for the stand-in: each
 * test says what Coupa (127.0.0.1) and an Okta-like provider (localhost, another cookie jar) answer.
 * Every way a provider can renew a session on the way must count as "the session had ended", or an
 * error page is taken for a missing PO.
 */
describe('coupa session check: sign-in hops on the way', function () {
  this.timeout(60_000);
  let root: string;
  let server: Server;
  let context: BrowserContext;
  let page: Page;
  let base = '';
  let okta = '';
  let answers: Record<string, Answer> = {};

  const html = (body: string): Answer => ({ body: `<!DOCTYPE html><html><body>${body}</body></html>` });
  const dashboard = html('<h1>Home</h1><p>Welcome back.</p>');
  /** The provider posts its assertion back to Coupa with a form that submits itself. */
  const samlPost = (): Answer => html(`<form method="post" action="${base}/sso/saml" id="f"><input type="hidden" name="SAMLResponse" value="x"></form>` +
    '<script>document.getElementById("f").submit()</script>');

  before(async () => {
    root = tempDir('session');
    server = createServer((req, res) => {
      req.resume();
      const answer = answers[`http://${req.headers.host}${(req.url ?? '/').split('?')[0]}`] ?? { status: 404, body: 'not here' };
      res.writeHead(answer.status ?? (answer.location ? 302 : 200), { 'Content-Type': 'text/html', ...(answer.location ? { Location: answer.location } : {}) });
      res.end(answer.body ?? '');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    base = `http://127.0.0.1:${port}`;
    okta = `http://localhost:${port}/app/coupa/exk1/sso/saml`;
    const found = findBrowser('auto');
    assert.ok(found, 'a browser is installed');
    context = await chromium.launchPersistentContext(join(root, 'profile'), {
      ...(found.channel ? { channel: found.channel } : { executablePath: found.executablePath }),
      args: browserArgs(),
    });
    page = await context.newPage();
  });

  after(async () => {
    await context?.close();
    await new Promise((resolve) => server?.close(resolve));
    assert.deepEqual(processesMentioning(root), [], 'no browser left running');
    rmSync(root, { recursive: true, force: true });
  });

  it('a live session: alive, nothing passed', async () => {
    answers = { [`${base}/`]: dashboard };
    assert.deepEqual(await checkSession(page, base, 30_000), { state: 'alive', passedSignIn: false });
  });

  it('redirects to the provider, which posts back signed in: alive now, but it had ended', async () => {
    answers = {
      [`${base}/`]: { location: `${base}/sessions/new?return_to=%2F` },
      [`${base}/sessions/new`]: { location: `${okta}?SAMLRequest=abc` },
      [okta]: samlPost(),
      [`${base}/sso/saml`]: { location: `${base}/user/home` },
      [`${base}/user/home`]: dashboard,
    };
    assert.deepEqual(await checkSession(page, base, 30_000), { state: 'alive', passedSignIn: true });
  });

  it('a dashboard that sends itself to the provider by script once loaded: the hop is seen though no redirect shows it', async () => {
    answers = {
      [`${base}/`]: html(`<h1>Home</h1><script>addEventListener('load', () => setTimeout(() => { location.href = '${okta}'; }, 50))</script>`),
      [okta]: samlPost(),
      [`${base}/sso/saml`]: { location: `${base}/user/home` },
      [`${base}/user/home`]: dashboard,
    };
    const check = await checkSession(page, base, 30_000);
    assert.equal(check.passedSignIn, true, JSON.stringify(check));
  });

  it('the generic error page, or a sign-in form in place, is an ended session', async () => {
    answers = { [`${base}/`]: html('<div class="flash_error">Oops! We couldn\'t find what you wanted.</div>') };
    assert.equal((await checkSession(page, base, 30_000)).state, 'signed-out');
    answers = { [`${base}/`]: html('<form><input id="user_email"><input type="password" id="user_password"></form>') };
    assert.equal((await checkSession(page, base, 30_000)).state, 'signed-out');
  });

  it('a provider that wants a password: signed out', async () => {
    answers = {
      [`${base}/`]: { location: okta },
      [okta]: html('<form><input name="username"><input type="password" name="password"></form>'),
    };
    assert.deepEqual(await checkSession(page, base, 30_000), { state: 'signed-out', passedSignIn: true });
  });
});
