/**
 * The embedded Coupa stand-in: a real HTTP server on 127.0.0.1 that serves the page structure of real
 * Coupa tenants (sign-in, dashboard, PO and requisition pages, attachment downloads, error pages), for
 * the demo, the tests and the benchmarks.
 *
 * Everything about the POs comes from `seed`, so `standin.catalog` tells a test which POs exist and the
 * exact sha256 a client must end up with for each attachment. Faults (latency, 5xx, 429, expired
 * sessions, truncated or slow downloads, HTML instead of a file, a server that stops answering) are
 * knobs that can be changed while the server runs, through `standin.knobs`.
 *
 * Routes:
 *   GET  /sessions/new                  sign-in form; with SSO and a live `idp_session`, signs straight in;
 *                                       with expiredSession 'idp-bounce', 302 to the identity provider
 *   POST /sessions                      checks the credentials, sets `_coupa_session` and `idp_session`
 *   POST /sso/saml                      the identity provider's assertion: sets `_coupa_session`
 *   GET  / and /user/home               dashboard
 *   GET  /order_headers/<id>            PO page (404 "Oops" page for an unknown id)
 *   GET  /requisition_headers/<rid>     requisition page, or 403 "You are not authorized"
 *   GET  /attachments/<aid>/download    the file (also /attachments/<aid> and /attachments/<aid>/<name>)
 *   GET  /assets/coupa-logo.png, /assets/coupa-sans.woff2   the top bar's logo and font (no session needed)
 *   GET  /assets/<name>-<hash>.js|css   with heavyPages, the application script and stylesheet (no session needed)
 * Every other route but the sign-in ones needs a session: without one, 302 to /sessions/new?return_to=.
 * The identity provider's routes are on `idpUrl` (see idp.ts).
 */
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { Catalog, type AttachmentRecord, type PoRecord, type Served } from './catalog';
import {
  contentDisposition, parseCookies, parseTarget, readForm, redirect, safeReturnTo, send, type Exchange, type RequestLogEntry,
} from './http';
import { IDP_COOKIE, IdentityProvider } from './idp';
import {
  NOT_AUTHORIZED_TEXT, NOT_FOUND_TEXT, errorPage, homePage, poPage, rateLimitedPage, requisitionPage,
  serverErrorPage, signInPage, viewerPage,
} from './pages';
import { Rng, hash32 } from './random';
import { heavyAssets, heavyHead, PAGE_ASSETS, type Asset } from './assets';
import { knobsFrom, type StandinKnobs, type StandinOptions } from './options';
import { Sessions } from './sessions';

export type { AttachmentRecord, PoRecord, Served } from './catalog';
export type { RequestLogEntry } from './http';
export type { StandinKnobs, StandinOptions } from './options';
export { HOSTILE_NAMES } from './catalog';
export { NOT_AUTHORIZED_TEXT, NOT_FOUND_TEXT, INVALID_LOGIN_TEXT } from './pages';

export interface Standin {
  /** Coupa: http://127.0.0.1:<port> */
  url: string;
  /** The identity provider of expiredSession 'idp-bounce': http://localhost:<port>, another cookie jar. */
  idpUrl: string;
  port: number;
  knobs: StandinKnobs;
  /** Every knob back to the value it was created with. */
  resetKnobs(): void;
  catalog: {
    po(idOrPoNumber: string): PoRecord | undefined;
    ids(): string[];
    /** The attachments a client must end up with for a PO (undefined: no such PO). */
    served(idOrPoNumber: string): Served | undefined;
  };
  /** Every request, in arrival order; the oldest are dropped beyond 200 000 (kept between 200 000 and 220 000). */
  requests: RequestLogEntry[];
  /** Every Coupa session ends now; identity-provider sessions stay. */
  expireAllSessions(): void;
  /** Closes the server and every open socket, hung ones too. */
  close(): Promise<void>;
}

const REQUEST_LOG_LIMIT = 200_000;
const COUPA_COOKIE = '_coupa_session';
const COUPA_COOKIE_MAX_AGE = 14 * 24 * 3600;
const IDP_COOKIE_MAX_AGE = 365 * 24 * 3600;

export async function createStandin(options: StandinOptions = {}): Promise<Standin> {
  const seed = options.seed ?? 1;
  const catalog = new Catalog({
    seed,
    firstPoId: options.firstPoId ?? 100_000,
    poCount: options.poCount ?? 1000,
    missingRate: options.missingRate ?? 0.05,
    missingIds: options.missingIds ?? [],
    maxAttachments: options.maxAttachments ?? 4,
    minAttachmentBytes: options.minAttachmentBytes ?? 2_000,
    maxAttachmentBytes: options.maxAttachmentBytes ?? 60_000,
    hostileNames: options.hostileNames ?? false,
    markup: options.markup ?? 'mixed',
    requisitionRate: options.requisitionRate ?? 0.1,
  });
  const credentials = options.credentials ?? { email: 'demo@example.com', password: 'demo' };
  const knobs = knobsFrom(options);
  const createdKnobs = { ...knobs };
  const now = options.now ?? Date.now;
  const logger = options.logger;
  const sessions = new Sessions(() => knobs.sessionLifetimeSec, now);
  // Faults draw from their own seeded stream: the same run of requests meets the same faults.
  const faults = new Rng(hash32(`${seed}|faults`));
  // So does the way an expired session's attachment link answers, so switching it on moves no other fault.
  const expiredAnswers = new Rng(hash32(`${seed}|expired`));
  const requests: RequestLogEntry[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const recentRequests: number[] = [];
  let closed = false;

  const roll = (rate: number): boolean => rate > 0 && (rate >= 1 || faults.chance(rate));

  // Timers are tracked so close() can cancel them; a cancelled wait never resumes its request.
  const wait = (ms: number): Promise<void> => {
    if (!(ms > 0)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  };

  const coupaCookie = (email: string): string =>
    `${COUPA_COOKIE}=${sessions.create(email)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${COUPA_COOKIE_MAX_AGE}`;
  // Signing in through the provider also sets Coupa's own model of it (`idp_session` on Coupa's
  // origin), so a profile made in 'idp-bounce' mode still signs straight back in in the other modes.
  const signedInCookies = (email: string): string[] => [
    coupaCookie(email),
    `${IDP_COOKIE}=${sessions.createIdp(email)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${IDP_COOKIE_MAX_AGE}`,
  ];
  const idp = new IdentityProvider({
    sessions, credentials, remembers: () => knobs.sso, coupaCookies: signedInCookies, wait: () => wait(knobs.pageLatencyMs),
  });

  function signInRedirect(ex: Exchange): void {
    redirect(ex, `/sessions/new?return_to=${encodeURIComponent(ex.url.pathname + ex.url.search)}`);
  }

  function serverError(ex: Exchange): void {
    const status = faults.chance(0.5) ? 500 : 503;
    send(ex, status, serverErrorPage(status), status === 503 ? { 'Retry-After': String(knobs.retryAfterSec) } : {});
  }

  async function handleSignInForm(ex: Exchange): Promise<void> {
    const returnTo = safeReturnTo(ex.url.searchParams.get('return_to'));
    if (sessions.check(ex.cookies.get(COUPA_COOKIE)).state === 'valid') return redirect(ex, returnTo);
    if (knobs.expiredSession === 'idp-bounce') return redirect(ex, idp.signInUrl(returnTo));
    const idpEmail = knobs.sso ? sessions.idpEmail(ex.cookies.get(IDP_COOKIE)) : undefined;
    if (idpEmail !== undefined) return redirect(ex, returnTo, [coupaCookie(idpEmail)]);
    await wait(knobs.pageLatencyMs);
    send(ex, 200, signInPage(returnTo));
  }

  async function handleSignIn(ex: Exchange): Promise<void> {
    const form = await readForm(ex.req);
    if (!form) return send(ex, 413, errorPage('The request is too large.'));
    const email = (form.get('user[login]') ?? '').trim();
    const password = form.get('user[password]') ?? '';
    const returnTo = safeReturnTo(form.get('return_to'));
    await wait(knobs.pageLatencyMs);
    if (email.toLowerCase() !== credentials.email.toLowerCase() || password !== credentials.password) {
      return send(ex, 200, signInPage(returnTo, { error: true, email }));
    }
    redirect(ex, returnTo, signedInCookies(credentials.email));
  }

  /** How a page answers a session that has ended, by kind of page (see `expiredSession`). */
  function expiredAnswer(ex: Exchange): void {
    const path = ex.url.pathname;
    const recordPage = /^\/(order_headers|requisition_headers)\//.test(path);
    if (knobs.expiredSession === 'error-page') return send(ex, 200, errorPage(NOT_FOUND_TEXT));
    if (knobs.expiredSession === 'idp-bounce') {
      const errorPageNow = recordPage || (ex.entry.kind === 'download' && expiredAnswers.chance(0.5));
      if (errorPageNow) return send(ex, 200, errorPage(NOT_FOUND_TEXT));
    }
    signInRedirect(ex);
  }

  async function handlePo(ex: Exchange, id: string): Promise<void> {
    await wait(knobs.pageLatencyMs);
    if (roll(knobs.errorRate)) return serverError(ex);
    const po = catalog.po(id);
    if (!po) return send(ex, 404, errorPage(NOT_FOUND_TEXT));
    send(ex, 200, poPage(po, knobs.heavyPages ? heavyHead() : ''));
  }

  async function handleRequisition(ex: Exchange, rid: string): Promise<void> {
    await wait(knobs.pageLatencyMs);
    if (roll(knobs.errorRate)) return serverError(ex);
    const po = catalog.poOfRequisition(rid);
    if (!po) return send(ex, 404, errorPage(NOT_FOUND_TEXT));
    if (!po.requisitionAccessible) return send(ex, 403, errorPage(NOT_AUTHORIZED_TEXT));
    send(ex, 200, requisitionPage(po, knobs.heavyPages ? heavyHead() : ''));
  }

  async function handleDownload(ex: Exchange, aid: string): Promise<void> {
    await wait(knobs.downloadLatencyMs);
    if (roll(knobs.errorRate)) return serverError(ex);
    const found = catalog.attachment(aid);
    if (!found) return send(ex, 404, errorPage(NOT_FOUND_TEXT));
    if (found.onRequisition && !found.po.requisitionAccessible) return send(ex, 403, errorPage(NOT_AUTHORIZED_TEXT));
    if (roll(knobs.htmlInsteadOfFileRate)) return send(ex, 200, viewerPage(found.attachment));
    await sendFile(ex, found.attachment);
  }

  async function sendFile(ex: Exchange, attachment: AttachmentRecord): Promise<void> {
    const body = attachment.content();
    const { res } = ex;
    res.writeHead(200, {
      'Content-Type': attachment.contentType,
      'Content-Length': body.length,
      'Content-Disposition': contentDisposition(attachment.name),
      'Cache-Control': 'private',
    });
    if (ex.req.method === 'HEAD') return void res.end();
    const truncate = roll(knobs.truncateRate);
    const end = truncate ? Math.floor(body.length / 2) : body.length;
    const rate = knobs.slowDownloadBytesPerSec;
    // Ten slices a second keep a throttled transfer smooth enough for progress and timeouts to see it.
    const slice = rate > 0 ? Math.max(1, Math.round(rate / 10)) : end;
    let offset = 0;
    while (offset < end && !res.destroyed) {
      const chunk = body.subarray(offset, Math.min(end, offset + slice));
      offset += chunk.length;
      ex.entry.bytes += chunk.length;
      const drained = res.write(chunk);
      if (offset < end) {
        if (rate > 0) await wait(100);
        else if (!drained) await new Promise<void>((resolve) => res.once('drain', resolve));
      }
    }
    if (res.destroyed) return;
    if (truncate) {
      // Let what was written reach the client first, then cut: a half file, not a refused request.
      res.write('', () => ex.req.socket.destroy());
      return;
    }
    res.end();
  }

  function sendAsset(ex: Exchange, asset: Asset): void {
    ex.entry.bytes += asset.body.length;
    ex.res.writeHead(200, { 'Content-Type': asset.contentType, 'Content-Length': asset.body.length, 'Cache-Control': 'public, max-age=31536000, immutable' });
    ex.res.end(ex.req.method === 'HEAD' ? undefined : asset.body);
  }

  async function route(ex: Exchange): Promise<void> {
    const { req, url } = ex;
    const path = url.pathname;
    if (path === '/sessions/new' && (req.method === 'GET' || req.method === 'HEAD')) return handleSignInForm(ex);
    if (path === '/sessions' && req.method === 'POST') return handleSignIn(ex);
    if (path === '/sso/saml' && req.method === 'POST') return idp.consume(ex);
    // Static assets need no session, as from a CDN.
    const asset = path.startsWith('/assets/') ? [...PAGE_ASSETS, ...heavyAssets()].find((a) => a.path === path) : undefined;
    if (asset) return sendAsset(ex, asset);
    if (ex.entry.kind === 'other') return send(ex, 404, '', { 'Content-Type': 'text/plain' });

    const session = sessions.check(ex.cookies.get(COUPA_COOKIE));
    if (session.state === 'expired') return expiredAnswer(ex);
    if (session.state !== 'valid') return signInRedirect(ex);

    if (path === '/' || path === '/user/home') {
      await wait(knobs.pageLatencyMs);
      return send(ex, 200, homePage(session.email, catalog.ids().slice(0, 10).map((id) => catalog.po(id)!)));
    }
    let m = /^\/order_headers\/(\d+)\/?$/.exec(path);
    if (m) return handlePo(ex, m[1]);
    m = /^\/requisition_headers\/(\d+)\/?$/.exec(path);
    if (m) return handleRequisition(ex, m[1]);
    m = /^\/attachments\/(\d+)(?:\/[^/]*)?\/?$/.exec(path);
    if (m) return handleDownload(ex, m[1]);
    await wait(knobs.pageLatencyMs);
    send(ex, 404, errorPage(NOT_FOUND_TEXT));
  }

  /** A request over the rate limit, answered at once; the clock is the stand-in's. */
  function overRateLimit(): boolean {
    if (knobs.rateLimitPerSec <= 0) return false;
    const at = now();
    while (recentRequests.length > 0 && recentRequests[0] <= at - 1000) recentRequests.shift();
    if (recentRequests.length >= knobs.rateLimitPerSec) return true;
    recentRequests.push(at);
    return false;
  }

  const server = http.createServer((req, res) => {
    const startedAt = Date.now();
    const rawPath = req.url ?? '/';
    const url = parseTarget(rawPath);
    // One server, two origins: the browser keeps separate cookies for `localhost` and `127.0.0.1`.
    const toIdp = /^localhost(:\d+)?$/i.test(req.headers.host ?? '');
    const entry: RequestLogEntry = {
      method: req.method ?? 'GET', path: rawPath, status: 0, kind: toIdp ? 'login' : kindOf(url.pathname), startedAt, finishedAt: 0, bytes: 0,
    };
    requests.push(entry);
    if (requests.length > REQUEST_LOG_LIMIT * 1.1) requests.splice(0, requests.length - REQUEST_LOG_LIMIT);
    res.on('close', () => {
      entry.status = res.headersSent ? res.statusCode : 0;
      entry.finishedAt = Date.now();
      logger?.debug(`coupa stand-in: ${entry.method} ${toIdp ? 'idp ' : ''}${entry.path} ${entry.status || 'unanswered'} ${entry.finishedAt - startedAt} ms`);
    });

    if (knobs.hang) return;
    const ex: Exchange = { req, res, url, entry, cookies: parseCookies(req.headers.cookie) };
    if (overRateLimit()) return send(ex, 429, rateLimitedPage(), { 'Retry-After': String(knobs.retryAfterSec) });
    (toIdp ? idp.handle(ex) : route(ex)).catch((err: unknown) => {
      logger?.debug(`coupa stand-in: ${entry.method} ${entry.path} failed: ${(err as Error).stack ?? err}`);
      if (!res.headersSent && !res.destroyed) send(ex, 500, serverErrorPage(500));
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}`;
  idp.coupaUrl = url;
  idp.idpUrl = `http://localhost:${port}`;
  logger?.info?.(`coupa stand-in: listening on ${url} (seed ${seed})`);

  return {
    url,
    idpUrl: idp.idpUrl,
    port,
    knobs,
    resetKnobs: () => void Object.assign(knobs, createdKnobs),
    catalog: { po: (idOrPoNumber) => catalog.po(idOrPoNumber), ids: () => catalog.ids(), served: (idOrPoNumber) => catalog.served(idOrPoNumber) },
    requests,
    expireAllSessions: () => sessions.expireAll(),
    close: () => {
      if (closed) return Promise.resolve();
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      return done;
    },
  };
}

function kindOf(path: string): RequestLogEntry['kind'] {
  if (path === '/sessions' || path.startsWith('/sessions/') || path === '/sso/saml') return 'login';
  if (path.startsWith('/attachments/')) return 'download';
  if (path === '/favicon.ico' || path === '/robots.txt' || path.startsWith('/assets/')) return 'other';
  return 'page';
}
