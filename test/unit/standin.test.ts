import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import {
  createStandin, HOSTILE_NAMES, NOT_FOUND_TEXT, type PoRecord, type Standin, type StandinOptions,
} from '../../src/coupa/standin';

const EMAIL = 'demo@example.com';
const PASSWORD = 'demo';

function get(s: Standin, path: string, cookie?: string, signal?: AbortSignal): Promise<Response> {
  return fetch(s.url + path, { redirect: 'manual', headers: cookie ? { cookie } : {}, ...(signal ? { signal } : {}) });
}

/** The value of one Set-Cookie, and the whole header line (for its attributes). */
function setCookie(res: Response, name: string): { value: string; line: string } | undefined {
  const line = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  return line ? { value: line.slice(name.length + 1).split(';')[0], line } : undefined;
}

async function signIn(s: Standin, returnTo = '/'): Promise<{ cookie: string; coupa: string; idp: string; res: Response }> {
  const res = await fetch(`${s.url}/sessions`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'user[login]': EMAIL, 'user[password]': PASSWORD, return_to: returnTo }).toString(),
  });
  const coupa = setCookie(res, '_coupa_session')?.value ?? '';
  const idp = setCookie(res, 'idp_session')?.value ?? '';
  return { cookie: `_coupa_session=${coupa}; idp_session=${idp}`, coupa, idp, res };
}

function sha256(buf: ArrayBuffer | Buffer): string {
  return createHash('sha256').update(Buffer.from(buf as ArrayBuffer)).digest('hex');
}

function escaped(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function findPo(s: Standin, test: (po: PoRecord) => boolean): PoRecord {
  for (const id of s.catalog.ids()) {
    const po = s.catalog.po(id)!;
    if (test(po)) return po;
  }
  throw new Error('no PO in the catalog fits');
}

/** A server for one describe block, closed after it. */
function withStandin(options: StandinOptions = {}): { s: Standin } {
  const holder = {} as { s: Standin };
  before(async () => {
    holder.s = await createStandin(options);
  });
  after(async () => {
    await holder.s?.close();
  });
  return holder;
}

describe('coupa stand-in: sign-in and sessions', () => {
  const t = withStandin();

  it('binds to 127.0.0.1 only, on a free port', async () => {
    assert.match(t.s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(t.s.port > 0);
    const others = Object.values(networkInterfaces()).flat().filter((i) => i && !i.internal).map((i) => i!.address);
    for (const host of [...others, '::1']) {
      const reached = await new Promise<boolean>((resolve) => {
        const socket = connect({ host, port: t.s.port });
        socket.once('connect', () => { socket.destroy(); resolve(true); });
        socket.once('error', () => resolve(false));
      });
      assert.equal(reached, false, `reachable on ${host}`);
    }
  });

  it('serves the sign-in form and keeps return_to', async () => {
    const res = await get(t.s, '/sessions/new?return_to=%2Forder_headers%2F100001');
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<form action="\/sessions" method="post"/);
    assert.match(html, /<input type="text" id="user_email" name="user\[login\]"/);
    assert.match(html, /<input type="password" id="user_password" name="user\[password\]"/);
    assert.match(html, /<button type="submit"[^>]*>Sign In<\/button>/);
    assert.match(html, /name="return_to" value="\/order_headers\/100001"/);
  });

  it('signs in with the right credentials: persistent HttpOnly cookies, redirect to return_to', async () => {
    const { res, coupa, idp } = await signIn(t.s, '/order_headers/100001');
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/order_headers/100001');
    assert.ok(coupa.length >= 16 && idp.length >= 16);
    for (const name of ['_coupa_session', 'idp_session']) {
      const line = setCookie(res, name)!.line;
      assert.match(line, /HttpOnly/);
      assert.match(line, /Path=\//);
      assert.match(line, /Max-Age=\d+/);
    }
    const again = await signIn(t.s);
    assert.notEqual(again.coupa, coupa, 'each sign-in is a new session');
    assert.equal(again.res.headers.get('location'), '/');
  });

  it('refuses a return_to that leaves the server', async () => {
    const { res } = await signIn(t.s, '//evil.example/x');
    assert.equal(res.headers.get('location'), '/');
  });

  it('shows the form again with an error on a wrong password', async () => {
    const res = await fetch(`${t.s.url}/sessions`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ 'user[login]': EMAIL, 'user[password]': 'nope' }).toString(),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.getSetCookie().length, 0);
    const html = await res.text();
    assert.match(html, /<div class="flash_error">Invalid email or password\.<\/div>/);
    assert.match(html, /id="user_password"/);
  });

  it('redirects a page without a session to sign-in, with return_to', async () => {
    const res = await get(t.s, '/order_headers/100001');
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/sessions/new?return_to=%2Forder_headers%2F100001');
    const bogus = await get(t.s, '/user/home', '_coupa_session=not-a-session');
    assert.equal(bogus.status, 302);
  });

  it('shows the dashboard with a session', async () => {
    const { cookie } = await signIn(t.s);
    for (const path of ['/', '/user/home']) {
      const res = await get(t.s, path, cookie);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /<h1>Home<\/h1>/);
    }
  });

  it('logs every request with its kind, status and size, and tells the logger', async () => {
    const lines: string[] = [];
    const s = await createStandin({ logger: { debug: (m) => lines.push(m) } });
    try {
      const { cookie } = await signIn(s);
      const po = findPo(s, (p) => p.attachments.length > 0);
      await (await get(s, `/order_headers/${po.id}`, cookie)).text();
      const file = await (await get(s, `/attachments/${po.attachments[0].id}/download`, cookie)).arrayBuffer();
      assert.deepEqual(s.requests.map((r) => [r.method, r.kind, r.status]), [
        ['POST', 'login', 302], ['GET', 'page', 200], ['GET', 'download', 200],
      ]);
      assert.equal(s.requests[2].bytes, file.byteLength);
      assert.ok(s.requests.every((r) => r.finishedAt >= r.startedAt && r.startedAt > 0));
      assert.equal(lines.length, 3);
      assert.match(lines[1], new RegExp(`GET /order_headers/${po.id} 200 \\d+ ms`));
    } finally {
      await s.close();
    }
  });
});

describe('coupa stand-in: PO and requisition pages', () => {
  const spans = withStandin({ markup: 'spans' });
  const links = withStandin({ markup: 'links' });
  let spansCookie = '';
  let linksCookie = '';
  before(async () => {
    spansCookie = (await signIn(spans.s)).cookie;
    linksCookie = (await signIn(links.s)).cookie;
  });

  it('shows header, status, supplier, lines, toolbar and span-widget attachments', async () => {
    const po = findPo(spans.s, (p) => p.attachments.length >= 2);
    const res = await get(spans.s, `/order_headers/${po.id}`, spansCookie);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/html/);
    const html = await res.text();
    assert.match(html, new RegExp(`<h1[^>]*>Purchase Order #${po.id} <span class="status[^"]*">${po.status}</span></h1>`));
    assert.ok(html.includes(`<span class="supplier_name">${escaped(po.supplier)}</span>`));
    assert.ok(html.includes('<div class="page_buttons_right orderHeaderShowFloatingSection floatingSectionOnTop">'));
    assert.match(html, /position: fixed/);
    assert.equal((html.match(/<tr><td>\d+<\/td>/g) ?? []).length, po.lines.length);
    for (const a of po.attachments) {
      const name = escaped(a.name);
      assert.ok(html.includes(
        `<li class="attachment" data-url="/attachments/${a.id}"><span class="attachment-file" data-url="/attachments/${a.id}/${escaped(encodeURIComponent(a.name))}">` +
        `<span role="button" tabindex="0" title="${name}" aria-label="${name} file attachment">${name}</span></span></li>`,
      ), a.name);
    }
    assert.ok(!html.includes('href="/attachments/'), 'no plain link to the files');
    assert.match(html, /<script>[\s\S]*\/download[\s\S]*<\/script>/);
  });

  it('shows plain download links in the links markup', async () => {
    const po = findPo(links.s, (p) => p.attachments.length >= 1);
    const html = await (await get(links.s, `/order_headers/${po.id}`, linksCookie)).text();
    for (const a of po.attachments) {
      assert.ok(html.includes(`<a href="/attachments/${a.id}/download" class="attachment-link">${escaped(a.name)}</a>`), a.name);
    }
    assert.ok(!html.includes('<script>'));
  });

  it('mixes both markups by default, per PO', async () => {
    const s = await createStandin();
    try {
      const kinds = new Set(s.catalog.ids().slice(0, 50).map((id) => s.catalog.po(id)!.markup));
      assert.deepEqual([...kinds].sort(), ['links', 'spans']);
    } finally {
      await s.close();
    }
  });

  it('escapes names and suppliers', async () => {
    const po = findPo(spans.s, (p) => p.attachments.some((a) => /[<>"&]/.test(a.name)));
    const html = await (await get(spans.s, `/order_headers/${po.id}`, spansCookie)).text();
    const tricky = po.attachments.find((a) => /[<>"&]/.test(a.name))!;
    assert.ok(html.includes(escaped(tricky.name)));
    assert.ok(!html.includes(tricky.name), `raw name in the page: ${tricky.name}`);
    const supplierPo = findPo(spans.s, (p) => p.supplier.includes('<'));
    const supplierHtml = await (await get(spans.s, `/order_headers/${supplierPo.id}`, spansCookie)).text();
    assert.ok(supplierHtml.includes('Smith &amp; Sons &lt;Ltd&gt; &quot;Best&quot;'));
  });

  it('links the requisition, whose page lists its attachments', async () => {
    const po = findPo(spans.s, (p) => p.attachments.length === 0 && p.requisitionAttachments.length > 0);
    const html = await (await get(spans.s, `/order_headers/${po.id}`, spansCookie)).text();
    assert.ok(html.includes(`<a href="/requisition_headers/${po.requisitionId}">Requisition</a>`));
    assert.match(html, /<p class="empty">None<\/p>/);
    const req = await get(spans.s, `/requisition_headers/${po.requisitionId}`, spansCookie);
    assert.equal(req.status, 200);
    const reqHtml = await req.text();
    for (const a of po.requisitionAttachments) assert.ok(reqHtml.includes(`data-url="/attachments/${a.id}"`));
    const file = await get(spans.s, `/attachments/${po.requisitionAttachments[0].id}/download`, spansCookie);
    assert.equal(sha256(await file.arrayBuffer()), po.requisitionAttachments[0].sha256);
  });

  it('shows no requisition link on a PO without one', async () => {
    const po = findPo(spans.s, (p) => !p.requisitionId);
    const html = await (await get(spans.s, `/order_headers/${po.id}`, spansCookie)).text();
    assert.ok(!html.includes('/requisition_headers/'));
  });

  it('answers "You are not authorized" for a requisition that is not accessible', async () => {
    const po = findPo(spans.s, (p) => p.requisitionId !== undefined && !p.requisitionAccessible);
    const res = await get(spans.s, `/requisition_headers/${po.requisitionId}`, spansCookie);
    assert.equal(res.status, 403);
    assert.match(await res.text(), /<div class="flash_error">You are not authorized/);
  });

  it('answers the generic error page, 404, for an unknown PO', async () => {
    const missing = ['99', '100000999999', 'abc', 'PO100001'];
    const gap = Array.from({ length: 1000 }, (_, i) => String(100_000 + i)).find((id) => !spans.s.catalog.po(id));
    assert.ok(gap, 'missingRate leaves holes in the range');
    for (const id of [...missing, gap]) {
      const res = await get(spans.s, `/order_headers/${id}`, spansCookie);
      assert.equal(res.status, 404, id);
      assert.ok((await res.text()).includes(`<div class="flash_error">${NOT_FOUND_TEXT}</div>`), id);
    }
    assert.equal((await get(spans.s, '/requisition_headers/1', spansCookie)).status, 404);
    assert.equal((await get(spans.s, '/attachments/1000001/download', spansCookie)).status, 404);
  });

  it('never has the ids in missingIds', async () => {
    const s = await createStandin({ missingIds: ['100001', 'PO100002'], missingRate: 0 });
    try {
      assert.equal(s.catalog.po('100001'), undefined);
      assert.equal(s.catalog.po('100002'), undefined);
      assert.ok(s.catalog.po('100003'));
      assert.equal(s.catalog.ids().length, 998);
      assert.equal(s.catalog.po('PO100003')?.id, '100003');
    } finally {
      await s.close();
    }
  });
});

describe('coupa stand-in: downloads', () => {
  const t = withStandin({ maxAttachments: 6 });
  let cookie = '';
  before(async () => {
    cookie = (await signIn(t.s)).cookie;
  });

  it('sends the exact bytes of the catalog with type, length and disposition', async () => {
    let checked = 0;
    for (const id of t.s.catalog.ids().slice(0, 15)) {
      for (const a of t.s.catalog.po(id)!.attachments) {
        const res = await get(t.s, `/attachments/${a.id}/download`, cookie);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), a.contentType);
        assert.equal(res.headers.get('content-length'), String(a.bytes));
        const disposition = res.headers.get('content-disposition')!;
        const m = /^attachment; filename="([\x20-\x7e]*)"; filename\*=UTF-8''(\S+)$/.exec(disposition);
        assert.ok(m, disposition);
        assert.equal(decodeURIComponent(m[2]), a.name);
        const body = Buffer.from(await res.arrayBuffer());
        assert.equal(body.length, a.bytes);
        assert.equal(sha256(body), a.sha256);
        if (a.name.endsWith('.pdf')) assert.equal(body.subarray(0, 8).toString('latin1'), '%PDF-1.4');
        checked++;
      }
    }
    assert.ok(checked >= 10, `only ${checked} files checked`);
  });

  it('serves the file on the widget data-urls too', async () => {
    const a = findPo(t.s, (p) => p.attachments.length > 0).attachments[0];
    for (const path of [`/attachments/${a.id}`, `/attachments/${a.id}/${encodeURIComponent(a.name)}`]) {
      const res = await get(t.s, path, cookie);
      assert.equal(sha256(await res.arrayBuffer()), a.sha256, path);
    }
  });

  it('redirects a download without a session to sign-in', async () => {
    const a = findPo(t.s, (p) => p.attachments.length > 0).attachments[0];
    const res = await get(t.s, `/attachments/${a.id}/download`);
    assert.equal(res.status, 302);
    assert.match(res.headers.get('location')!, /^\/sessions\/new\?return_to=%2Fattachments%2F/);
  });

  it('names files with spaces, accents, illegal characters and repeats', () => {
    const names = t.s.catalog.ids().flatMap((id) => t.s.catalog.po(id)!.attachments.map((a) => a.name));
    assert.ok(names.some((n) => n.includes(' ')));
    assert.ok(names.some((n) => /[^\x00-\x7f]/.test(n)));
    assert.ok(names.some((n) => /[:*?"<>|]/.test(n)));
    const exts = new Set(names.map((n) => n.slice(n.lastIndexOf('.'))));
    assert.deepEqual([...exts].sort(), ['.csv', '.docx', '.eml', '.msg', '.pdf', '.png', '.xlsx']);
    const repeats = t.s.catalog.ids().some((id) => {
      const own = t.s.catalog.po(id)!.attachments.map((a) => a.name);
      return new Set(own).size < own.length;
    });
    assert.ok(repeats, 'some PO has two attachments with the same name');
  });

  it('keeps sizes within bounds and about half of maxAttachments per PO', () => {
    const pos = t.s.catalog.ids().map((id) => t.s.catalog.po(id)!);
    const all = pos.flatMap((p) => [...p.attachments, ...p.requisitionAttachments]);
    assert.ok(all.every((a) => a.bytes >= 2000 && a.bytes <= 60_000));
    const ownCounts = pos.filter((p) => p.attachments.length > 0 || p.requisitionAttachments.length === 0).map((p) => p.attachments.length);
    const mean = ownCounts.reduce((x, y) => x + y, 0) / ownCounts.length;
    assert.ok(mean > 2.5 && mean < 3.5, `mean ${mean}`);
    assert.ok(pos.every((p) => p.attachments.length <= 6));
  });
});

describe('coupa stand-in: determinism', () => {
  const a = withStandin({ seed: 7 });
  const b = withStandin({ seed: 7 });
  const c = withStandin({ seed: 8 });

  function summary(s: Standin): unknown {
    return s.catalog.ids().slice(0, 40).map((id) => {
      const po = s.catalog.po(id)!;
      const files = (list: PoRecord['attachments']) => list.map((x) => [x.id, x.name, x.bytes, x.contentType, x.sha256]);
      return [po.id, po.poNumber, po.status, po.supplier, po.lines, po.markup, po.requisitionId, po.requisitionAccessible,
        files(po.attachments), files(po.requisitionAttachments)];
    });
  }

  it('builds the same catalog from the same seed', () => {
    assert.deepEqual(a.s.catalog.ids(), b.s.catalog.ids());
    assert.deepEqual(summary(a.s), summary(b.s));
  });

  it('builds another catalog from another seed', () => {
    assert.notDeepEqual(a.s.catalog.ids(), c.s.catalog.ids());
    assert.notDeepEqual(summary(a.s), summary(c.s));
  });

  it('keeps the rates near what was asked', () => {
    const ids = a.s.catalog.ids();
    assert.ok(ids.length > 920 && ids.length < 980, `${ids.length} of 1000 exist`);
    assert.deepEqual(ids, [...ids].sort((x, y) => Number(x) - Number(y)));
    const fallback = ids.filter((id) => {
      const po = a.s.catalog.po(id)!;
      return po.attachments.length === 0 && po.requisitionAccessible && po.requisitionAttachments.length > 0;
    });
    const share = fallback.length / ids.length;
    assert.ok(share > 0.06 && share < 0.14, `requisition-only share ${share}`);
  });
});

describe('coupa stand-in: session expiry and SSO', () => {
  let clock = 1_700_000_000_000;
  const redirecting = withStandin({ pageLatencyMs: 150, now: () => clock });
  const pitfall = withStandin({ expiredSession: 'error-page', pageLatencyMs: 150, now: () => clock });
  const noSso = withStandin({ sso: false });

  afterEach(() => {
    redirecting.s.knobs.sessionLifetimeSec = 0;
    pitfall.s.knobs.sessionLifetimeSec = 0;
  });

  it('holds pages back by pageLatencyMs', async () => {
    const { cookie } = await signIn(redirecting.s);
    const started = Date.now();
    assert.equal((await get(redirecting.s, '/order_headers/100001', cookie)).status, 200);
    assert.ok(Date.now() - started >= 140);
  });

  it('ends sessions after sessionLifetimeSec, then redirects to sign-in', async () => {
    redirecting.s.knobs.sessionLifetimeSec = 0.2;
    const { cookie } = await signIn(redirecting.s);
    assert.equal((await get(redirecting.s, '/order_headers/100001', cookie)).status, 200);
    clock += 200;
    const res = await get(redirecting.s, '/order_headers/100001', cookie);
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/sessions/new?return_to=%2Forder_headers%2F100001');
  });

  it('ends every Coupa session on expireAllSessions, and SSO signs straight back in', async () => {
    const first = await signIn(redirecting.s);
    redirecting.s.expireAllSessions();
    assert.equal((await get(redirecting.s, '/user/home', first.cookie)).status, 302);
    const sso = await get(redirecting.s, '/sessions/new?return_to=%2Forder_headers%2F100001', first.cookie);
    assert.equal(sso.status, 302);
    assert.equal(sso.headers.get('location'), '/order_headers/100001');
    const fresh = setCookie(sso, '_coupa_session');
    assert.ok(fresh && fresh.value !== first.coupa);
    const page = await get(redirecting.s, '/order_headers/100001', `_coupa_session=${fresh.value}; idp_session=${first.idp}`);
    assert.equal(page.status, 200);
  });

  it('without the identity-provider session, shows the form', async () => {
    const res = await get(redirecting.s, '/sessions/new', 'idp_session=forged');
    assert.equal(res.status, 200);
    assert.equal(setCookie(res, '_coupa_session'), undefined);
    assert.match(await res.text(), /id="user_password"/);
  });

  it('with sso off, a person must type the password again', async () => {
    const first = await signIn(noSso.s);
    noSso.s.expireAllSessions();
    const res = await get(noSso.s, '/sessions/new?return_to=%2F', first.cookie);
    assert.equal(res.status, 200);
    assert.equal(setCookie(res, '_coupa_session'), undefined);
    assert.match(await res.text(), /id="user_email"/);
  });

  it("with expiredSession 'error-page', an expired session gets the Oops page at once (the pitfall)", async () => {
    const { cookie } = await signIn(pitfall.s);
    pitfall.s.expireAllSessions();
    const started = Date.now();
    const res = await get(pitfall.s, '/order_headers/100001', cookie);
    const ms = Date.now() - started;
    assert.equal(res.status, 200);
    assert.ok((await res.text()).includes(NOT_FOUND_TEXT));
    assert.ok(ms < 140, `answered in ${ms} ms, faster than a real page`);
    // A missing session still redirects; SSO still recovers.
    assert.equal((await get(pitfall.s, '/order_headers/100001')).status, 302);
    const sso = await get(pitfall.s, '/sessions/new', cookie);
    assert.equal(sso.status, 302);
    const fresh = setCookie(sso, '_coupa_session')!.value;
    assert.equal((await get(pitfall.s, '/order_headers/100001', `_coupa_session=${fresh}`)).status, 200);
  });

  it("applies the 'error-page' behaviour to lifetime expiry too", async () => {
    pitfall.s.knobs.sessionLifetimeSec = 0.1;
    const { cookie } = await signIn(pitfall.s);
    clock += 100;
    const res = await get(pitfall.s, '/user/home', cookie);
    assert.equal(res.status, 200);
    assert.ok((await res.text()).includes(NOT_FOUND_TEXT));
  });
});

describe('coupa stand-in: faults', () => {
  const t = withStandin({ maxAttachments: 3, minAttachmentBytes: 20_000, maxAttachmentBytes: 20_000 });
  let cookie = '';
  let po: PoRecord;
  const defaults = { ...({} as Standin['knobs']) };
  before(async () => {
    Object.assign(defaults, t.s.knobs);
    cookie = (await signIn(t.s)).cookie;
    po = findPo(t.s, (p) => p.attachments.length > 0 && p.requisitionId !== undefined && p.requisitionAccessible);
  });
  afterEach(() => {
    Object.assign(t.s.knobs, defaults);
  });

  it('errorRate 1: PO, requisition and download answer 500 or 503; the dashboard does not', async () => {
    t.s.knobs.errorRate = 1;
    for (const path of [`/order_headers/${po.id}`, `/requisition_headers/${po.requisitionId}`, `/attachments/${po.attachments[0].id}/download`]) {
      const res = await get(t.s, path, cookie);
      assert.ok(res.status === 500 || res.status === 503, `${path}: ${res.status}`);
      assert.match(res.headers.get('content-type')!, /^text\/html/);
    }
    assert.equal((await get(t.s, '/user/home', cookie)).status, 200);
  });

  it('rateLimitPerSec: answers 429 with Retry-After above the rate', async () => {
    t.s.knobs.rateLimitPerSec = 2;
    t.s.knobs.retryAfterSec = 3;
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      const res = await get(t.s, '/user/home', cookie);
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    assert.deepEqual(statuses, [200, 200, 429, 429]);
    assert.equal(retryAfter, '3');
  });

  it('truncateRate 1: a Content-Length, then half the body and a cut connection', async () => {
    t.s.knobs.truncateRate = 1;
    const a = po.attachments[0];
    const res = await get(t.s, `/attachments/${a.id}/download`, cookie);
    assert.equal(res.headers.get('content-length'), String(a.bytes));
    let received = -1;
    try {
      received = (await res.arrayBuffer()).byteLength;
    } catch {
      // The body stream errors: the usual way a client sees a cut.
    }
    assert.ok(received < a.bytes, `received ${received} of ${a.bytes}`);
  });

  it('slowDownloadBytesPerSec throttles the body', async () => {
    t.s.knobs.slowDownloadBytesPerSec = 50_000;
    const a = po.attachments[0];
    const started = Date.now();
    const res = await get(t.s, `/attachments/${a.id}/download`, cookie);
    assert.equal(sha256(await res.arrayBuffer()), a.sha256);
    const ms = Date.now() - started;
    assert.ok(ms >= 300, `20 kB at 50 kB/s took ${ms} ms`);
  });

  it('downloadLatencyMs holds the download back', async () => {
    t.s.knobs.downloadLatencyMs = 200;
    const started = Date.now();
    await (await get(t.s, `/attachments/${po.attachments[0].id}/download`, cookie)).arrayBuffer();
    assert.ok(Date.now() - started >= 190);
  });

  it('htmlInsteadOfFileRate 1: a 200 HTML page without Content-Disposition', async () => {
    t.s.knobs.htmlInsteadOfFileRate = 1;
    const res = await get(t.s, `/attachments/${po.attachments[0].id}/download`, cookie);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/html/);
    assert.equal(res.headers.get('content-disposition'), null);
    assert.match(await res.text(), /<html/);
  });

  it('hang: accepts requests and never answers; close() still returns quickly', async () => {
    const s = await createStandin({ hang: true });
    let pending: Promise<unknown> | undefined;
    try {
      await assert.rejects(get(s, '/user/home', undefined, AbortSignal.timeout(300)), /abort|timeout/i);
      pending = get(s, '/sessions/new').then(() => 'answered', () => 'cut');
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      const started = Date.now();
      await s.close();
      assert.ok(Date.now() - started < 1000, 'close() took too long');
    }
    assert.equal(await pending, 'cut');
    assert.ok(s.requests.length >= 1 && s.requests.every((r) => r.status === 0));
  });
});

describe('coupa stand-in: hostile names', () => {
  const t = withStandin({ hostileNames: true });
  let cookie = '';
  before(async () => {
    cookie = (await signIn(t.s)).cookie;
  });

  it('produces every listed hostile name', () => {
    const wanted = ['../../evil.pdf', '/etc/passwd', 'CON', 'NUL.pdf', 'a\u0000b.pdf'];
    const names = t.s.catalog.ids().flatMap((id) => t.s.catalog.po(id)!.attachments.map((a) => a.name));
    for (const name of wanted) assert.ok(names.includes(name), name);
    assert.ok(names.some((n) => /[\u0001-\u001f]/.test(n)), 'control characters');
    assert.ok(names.some((n) => n.length === 300), 'a 300-character name');
    const carrier = t.s.catalog.po(t.s.catalog.ids()[0])!.attachments.map((a) => a.name);
    for (const name of HOSTILE_NAMES) assert.ok(carrier.includes(name), JSON.stringify(name));
    assert.ok(carrier.some((n, i) => carrier.some((m, j) => i !== j && n !== m && n.toLowerCase() === m.toLowerCase())), 'names differing only in case');
    assert.ok(carrier.some((n, i) => carrier.indexOf(n) !== i), 'the same name twice');
    const elsewhere = t.s.catalog.ids().slice(1).filter((id) => t.s.catalog.po(id)!.attachments.some((a) => HOSTILE_NAMES.includes(a.name)));
    assert.ok(elsewhere.length > 50, 'hostile names are mixed into other POs too');
  });

  it('serves hostile names escaped in the page and intact in the download headers', async () => {
    const po = t.s.catalog.po(t.s.catalog.ids()[0])!;
    const html = await (await get(t.s, `/order_headers/${po.id}`, cookie)).text();
    assert.ok(!html.includes('<img src=x'), 'markup in a name stays text');
    for (const a of po.attachments) {
      const res = await get(t.s, `/attachments/${a.id}/download`, cookie);
      assert.equal(res.status, 200, JSON.stringify(a.name));
      const disposition = res.headers.get('content-disposition')!;
      assert.equal(decodeURIComponent(/filename\*=UTF-8''(\S+)$/.exec(disposition)![1]), a.name);
      assert.match(/filename="([^"]*)"/.exec(disposition)![1], /^[\x20-\x7e]*$/);
      assert.equal(sha256(await res.arrayBuffer()), a.sha256);
    }
  });

  it('adds no hostile names when off', async () => {
    const s = await createStandin();
    try {
      const names = s.catalog.ids().flatMap((id) => s.catalog.po(id)!.attachments.map((a) => a.name));
      assert.ok(!names.some((n) => HOSTILE_NAMES.includes(n)));
    } finally {
      await s.close();
    }
  });
});

describe("coupa stand-in: expiredSession 'idp-bounce' (an identity provider on its own origin)", () => {
  let clock = 1_700_000_000_000;
  const t = withStandin({ expiredSession: 'idp-bounce', sessionLifetimeSec: 3, pageLatencyMs: 150, now: () => clock });
  afterEach(() => t.s.resetKnobs());

  /** The hidden fields of the provider's self-submitting form, and where it posts. */
  function samlForm(html: string): { action: string; assertion: string; relayState: string } {
    const value = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '';
    return { action: /<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? '', assertion: value('SAMLResponse'), relayState: value('RelayState') };
  }

  function post(url: string, fields: Record<string, string>, cookie?: string): Promise<Response> {
    return fetch(url, {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** The whole way a browser signs in: Coupa -> provider's form -> password -> assertion -> Coupa. */
  async function signInThroughProvider(s: Standin, returnTo = '/'): Promise<{ coupa: string; idp: string; landed: string; cookie: string }> {
    const toIdp = await get(s, `/sessions/new?return_to=${encodeURIComponent(returnTo)}`);
    const form = await fetch(toIdp.headers.get('location')!, { redirect: 'manual' });
    const relayState = /name="RelayState" value="([^"]*)"/.exec(await form.text())![1];
    const signedIn = await post(`${s.idpUrl}/idp/login`, { username: EMAIL, password: PASSWORD, RelayState: relayState });
    const idp = setCookie(signedIn, 'idp_session')!.value;
    const saml = samlForm(await signedIn.text());
    const back = await post(saml.action, { SAMLResponse: saml.assertion, RelayState: saml.relayState });
    const coupa = setCookie(back, '_coupa_session')!.value;
    // What the browser keeps on Coupa's origin: the session, and Coupa's own note of the provider.
    const cookie = `_coupa_session=${coupa}; idp_session=${setCookie(back, 'idp_session')!.value}`;
    return { coupa, idp, landed: back.headers.get('location')!, cookie };
  }

  it('signs in through the provider: Coupa redirects to another origin, which posts an assertion back', async () => {
    assert.equal(t.s.idpUrl, `http://localhost:${t.s.port}`);
    const toIdp = await get(t.s, '/sessions/new?return_to=%2Forder_headers%2F100001');
    assert.equal(toIdp.status, 302);
    const location = new URL(toIdp.headers.get('location')!);
    assert.equal(location.origin, t.s.idpUrl);
    assert.equal(location.searchParams.get('RelayState'), '/order_headers/100001');
    const form = await fetch(location, { redirect: 'manual' });
    const html = await form.text();
    assert.match(html, /<form action="\/idp\/login" method="post"/);
    assert.match(html, /id="user_password"/);

    const wrong = await post(`${t.s.idpUrl}/idp/login`, { username: EMAIL, password: 'nope', RelayState: '/' });
    assert.match(await wrong.text(), /Invalid email or password/);
    assert.equal(setCookie(wrong, 'idp_session'), undefined);

    const { coupa, idp, landed } = await signInThroughProvider(t.s, '/order_headers/100001');
    assert.ok(coupa.length >= 16 && idp.length >= 16);
    assert.equal(landed, '/order_headers/100001');
    assert.equal((await get(t.s, '/order_headers/100001', `_coupa_session=${coupa}`)).status, 200);
  });

  it('the provider answers with a form that submits itself (a client-side hop), and an assertion signs in once', async () => {
    const { idp } = await signInThroughProvider(t.s);
    const again = await fetch(`${t.s.idpUrl}/idp/sso/saml?SAMLRequest=x&RelayState=%2Fuser%2Fhome`, { redirect: 'manual', headers: { cookie: `idp_session=${idp}` } });
    assert.equal(again.status, 200);
    const html = await again.text();
    assert.match(html, /<script>document\.getElementById\('saml_post'\)\.submit\(\);<\/script>/);
    assert.doesNotMatch(html, /type="password"/, 'nobody types anything');
    const saml = samlForm(html);
    assert.equal(saml.action, `${t.s.url}/sso/saml`);
    assert.equal(saml.relayState, '/user/home');
    assert.equal((await post(saml.action, { SAMLResponse: saml.assertion, RelayState: saml.relayState })).status, 302);
    assert.equal((await post(saml.action, { SAMLResponse: saml.assertion, RelayState: '/' })).status, 403, 'a replayed assertion');
    // Coupa's routes are not the provider's, and the other way round.
    assert.equal((await fetch(`${t.s.idpUrl}/order_headers/100001`, { redirect: 'manual' })).status, 404);
    assert.equal((await get(t.s, '/idp/sso/saml')).status, 302, 'on Coupa, an unknown page needs a session');
  });

  it('an expired session: PO and requisition pages answer "Oops" (200) at once, other pages bounce through the provider', async () => {
    const { coupa, idp } = await signInThroughProvider(t.s);
    const po = findPo(t.s, (p) => p.attachments.length > 0 && p.requisitionAccessible);
    const cookie = `_coupa_session=${coupa}`;
    clock += 2_900;
    assert.equal((await get(t.s, `/order_headers/${po.id}`, cookie)).status, 200, 'alive just before its lifetime ends');
    clock += 100;
    for (const path of [`/order_headers/${po.id}`, `/requisition_headers/${po.requisitionId}`]) {
      const started = Date.now();
      const res = await get(t.s, path, cookie);
      assert.equal(res.status, 200, path);
      assert.ok((await res.text()).includes(`<div class="flash_error">${NOT_FOUND_TEXT}</div>`), path);
      assert.ok(Date.now() - started < 140, `${path} answered at once`);
    }
    const home = await get(t.s, '/user/home', cookie);
    assert.equal(home.status, 302);
    assert.equal(home.headers.get('location'), '/sessions/new?return_to=%2Fuser%2Fhome');
    const toIdp = await get(t.s, home.headers.get('location')!, cookie);
    assert.equal(new URL(toIdp.headers.get('location')!).origin, t.s.idpUrl);
    // The provider still knows the user: straight back, with a fresh Coupa session.
    const bounce = samlForm(await (await fetch(toIdp.headers.get('location')!, { headers: { cookie: `idp_session=${idp}` } })).text());
    const back = await post(bounce.action, { SAMLResponse: bounce.assertion, RelayState: bounce.relayState });
    assert.equal(back.headers.get('location'), '/user/home');
    const fresh = setCookie(back, '_coupa_session')!.value;
    assert.notEqual(fresh, coupa);
    assert.equal((await get(t.s, `/order_headers/${po.id}`, `_coupa_session=${fresh}`)).status, 200);
    // No session at all is not an expired one: sign-in, as always.
    assert.equal((await get(t.s, `/order_headers/${po.id}`)).status, 302);
  });

  it("an expired session's attachment links answer the error page or the bounce, decided per request and seeded, never the file", async () => {
    const answers = async (s: Standin): Promise<string[]> => {
      const saved = clock;
      const { coupa } = await signInThroughProvider(s);
      clock += 3_000;
      const a = findPo(s, (p) => p.attachments.length > 0).attachments[0];
      const seen: string[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await get(s, `/attachments/${a.id}/download`, `_coupa_session=${coupa}`);
        const body = await r.text();
        assert.equal(r.headers.get('content-disposition'), null);
        seen.push(r.status === 302 ? `302 ${r.headers.get('location')}` : `${r.status} ${body.includes(NOT_FOUND_TEXT) ? 'oops' : 'other'}`);
      }
      clock = saved;
      return seen;
    };
    const first = await answers(t.s);
    assert.ok(first.every((a) => a === '200 oops' || a.startsWith('302 /sessions/new?return_to=%2Fattachments%2F')), first.join(', '));
    assert.ok(first.includes('200 oops') && first.some((a) => a.startsWith('302')), `both kinds: ${first.join(', ')}`);
    const twin = await createStandin({ expiredSession: 'idp-bounce', sessionLifetimeSec: 3, now: () => clock });
    try {
      assert.deepEqual(await answers(twin), first, 'the same seed answers the same way');
    } finally {
      await twin.close();
    }
  });

  it('with sso off the provider has forgotten the user: its form again, even with its cookie', async () => {
    const { idp } = await signInThroughProvider(t.s);
    t.s.knobs.sso = false;
    const res = await fetch(`${t.s.idpUrl}/idp/sso/saml?SAMLRequest=x&RelayState=%2F`, { headers: { cookie: `idp_session=${idp}` } });
    assert.match(await res.text(), /id="user_password"/);
  });

  it('a profile signed in through the provider still signs straight back in after switching to another mode', async () => {
    const { cookie } = await signInThroughProvider(t.s);
    t.s.knobs.expiredSession = 'redirect';
    t.s.expireAllSessions();
    const sso = await get(t.s, '/sessions/new?return_to=%2Fuser%2Fhome', cookie);
    assert.equal(sso.headers.get('location'), '/user/home');
    assert.ok(setCookie(sso, '_coupa_session'));
  });

  it('resetKnobs puts every knob back to its value at creation', () => {
    const created = { ...t.s.knobs };
    Object.assign(t.s.knobs, {
      pageLatencyMs: 1, downloadLatencyMs: 2, errorRate: 0.5, sessionLifetimeSec: 9, expiredSession: 'redirect', sso: false,
      rateLimitPerSec: 3, retryAfterSec: 4, slowDownloadBytesPerSec: 5, truncateRate: 0.1, hang: true, htmlInsteadOfFileRate: 0.2,
    });
    t.s.resetKnobs();
    assert.deepEqual(t.s.knobs, created);
    assert.equal(t.s.knobs.expiredSession, 'idp-bounce');
    assert.equal(t.s.knobs.sessionLifetimeSec, 3);
  });

  it('counts the rate limit on its clock', async () => {
    t.s.knobs.rateLimitPerSec = 2;
    const statuses = async () => Promise.all([1, 2, 3].map(async () => (await get(t.s, '/sessions/new')).status));
    clock += 5_000;
    assert.deepEqual((await statuses()).sort(), [302, 302, 429]);
    clock += 999;
    assert.equal((await get(t.s, '/sessions/new')).status, 429, 'still within the same second');
    clock += 1;
    assert.deepEqual((await statuses()).sort(), [302, 302, 429]);
  });
});
