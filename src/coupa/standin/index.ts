/**
 * The embedded Coupa stand-in: a real HTTP server on 127.0.0.1 that serves the page structure of
 * coupa-notes.md (sign-in, dashboard, PO and requisition pages, attachment downloads, error pages),
 * for the demo, the tests and the benchmarks.
 *
 * Everything about the POs comes from `seed`, so `standin.catalog` tells a test which POs exist and the
 * exact sha256 a client must end up with for each attachment. Faults (latency, 5xx, 429, expired
 * sessions, truncated or slow downloads, HTML instead of a file, a server that stops answering) are
 * knobs that can be changed while the server runs, through `standin.knobs`.
 *
 * Routes:
 *   GET  /sessions/new                  sign-in form; with SSO and a live `idp_session`, signs straight in
 *   POST /sessions                      checks the credentials, sets `_coupa_session` and `idp_session`
 *   GET  / and /user/home               dashboard
 *   GET  /order_headers/<id>            PO page (404 "Oops" page for an unknown id)
 *   GET  /requisition_headers/<rid>     requisition page, or 403 "You are not authorized"
 *   GET  /attachments/<aid>/download    the file (also /attachments/<aid> and /attachments/<aid>/<name>)
 * Every route but the sign-in ones needs a session: without one, 302 to /sessions/new?return_to=.
 */
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { Catalog, type AttachmentRecord, type PoRecord } from './catalog';
import {
  NOT_AUTHORIZED_TEXT, NOT_FOUND_TEXT, errorPage, homePage, poPage, rateLimitedPage, requisitionPage,
  serverErrorPage, signInPage, viewerPage,
} from './pages';
import { Rng, hash32 } from './random';
import { Sessions } from './sessions';

export type { AttachmentRecord, PoRecord } from './catalog';
export { HOSTILE_NAMES } from './catalog';
export { NOT_AUTHORIZED_TEXT, NOT_FOUND_TEXT, INVALID_LOGIN_TEXT } from './pages';

export interface StandinOptions {
  /** 0 (default) = a free port. */
  port?: number;
  /** Default 1; every PO, name, size and byte below is derived from it. */
  seed?: number;
  /** Default 100000: POs live at ids firstPoId .. firstPoId+poCount-1. */
  firstPoId?: number;
  /** Default 1000. */
  poCount?: number;
  /** Default 0.05: the fraction of ids in the range that do not exist (decided per id). */
  missingRate?: number;
  /** Ids that never exist, in addition (`PO100003` or `100003`). */
  missingIds?: string[];
  /** Default 4: each PO has 0..max attachments, uniformly (hostile names come on top). At most 400. */
  maxAttachments?: number;
  /** Default 2000. Below the size of a type's magic bytes, the magic bytes are cut. */
  minAttachmentBytes?: number;
  /** Default 60000. Sizes are log-uniform between min and max. */
  maxAttachmentBytes?: number;
  /**
   * Default false. When true, about 30% of POs get one group of hostile names on top of their own,
   * and the lowest existing PO gets every one of them (see HOSTILE_NAMES).
   */
  hostileNames?: boolean;
  /** Default 'mixed': a per-PO choice between the span widget and plain links. */
  markup?: 'spans' | 'links' | 'mixed';
  /** Default 0.1: the fraction of POs with no attachments on the PO page but some on their requisition. */
  requisitionRate?: number;
  /** Default demo@example.com / demo. */
  credentials?: { email: string; password: string };
  /** Default 0; applies to every HTML page except the instant answers (redirects, expired-session page). */
  pageLatencyMs?: number;
  /** Default 0; before a download's headers. */
  downloadLatencyMs?: number;
  /** Default 0: the fraction of PO, requisition and download requests answered 500 or 503. */
  errorRate?: number;
  /** Default 0 = never. Seconds from sign-in after which a Coupa session ends (fractions allowed). */
  sessionLifetimeSec?: number;
  /**
   * Default 'redirect'. 'error-page' = the pitfall in the notes: an expired (not a missing) session
   * answers the generic "Oops" page at once, status 200, instead of redirecting to sign-in.
   */
  expiredSession?: 'redirect' | 'error-page';
  /**
   * Default true: a live `idp_session` (set at sign-in) lets GET /sessions/new sign the user straight
   * back in. false = the provider's session is gone: a person must type the password again.
   */
  sso?: boolean;
  /** Default 0 = off. Above this many requests in the last second: 429 with Retry-After. */
  rateLimitPerSec?: number;
  /** Default 1. */
  retryAfterSec?: number;
  /** Default 0 = off. Throttles download bodies. */
  slowDownloadBytesPerSec?: number;
  /** Default 0: the fraction of downloads that send a Content-Length, then cut the connection half way. */
  truncateRate?: number;
  /** Default false. When true, requests are accepted and never answered. */
  hang?: boolean;
  /** Default 0: the fraction of downloads answered with an HTML page (200, text/html, no Content-Disposition). */
  htmlInsteadOfFileRate?: number;
  logger?: { debug(msg: string): void; info?(msg: string): void };
}

export type StandinKnobs = Required<Pick<StandinOptions,
  'pageLatencyMs' | 'downloadLatencyMs' | 'errorRate' | 'sessionLifetimeSec' | 'expiredSession' | 'sso' |
  'rateLimitPerSec' | 'retryAfterSec' | 'slowDownloadBytesPerSec' | 'truncateRate' | 'hang' | 'htmlInsteadOfFileRate'>>;

export interface RequestLogEntry {
  method: string;
  /** Path and query as requested. */
  path: string;
  /** 0 while unanswered, and for ever for a request that was never answered (hang). */
  status: number;
  kind: 'page' | 'download' | 'login' | 'other';
  startedAt: number;
  /** 0 until the response ends (or its connection closes). */
  finishedAt: number;
  /** Body bytes sent. */
  bytes: number;
}

export interface Standin {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  knobs: StandinKnobs;
  catalog: { po(idOrPoNumber: string): PoRecord | undefined; ids(): string[] };
  /** Every request, in arrival order; the oldest are dropped beyond 200 000 (kept between 200 000 and 220 000). */
  requests: RequestLogEntry[];
  /** Every Coupa session ends now; identity-provider sessions stay. */
  expireAllSessions(): void;
  /** Closes the server and every open socket, hung ones too. */
  close(): Promise<void>;
}

const REQUEST_LOG_LIMIT = 200_000;
const COUPA_COOKIE = '_coupa_session';
const IDP_COOKIE = 'idp_session';
const COUPA_COOKIE_MAX_AGE = 14 * 24 * 3600;
const IDP_COOKIE_MAX_AGE = 365 * 24 * 3600;
const MAX_FORM_BYTES = 64 * 1024;
const HTML = 'text/html; charset=utf-8';

interface Exchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: URL;
  entry: RequestLogEntry;
  cookies: Map<string, string>;
}

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
  const knobs: StandinKnobs = {
    pageLatencyMs: options.pageLatencyMs ?? 0,
    downloadLatencyMs: options.downloadLatencyMs ?? 0,
    errorRate: options.errorRate ?? 0,
    sessionLifetimeSec: options.sessionLifetimeSec ?? 0,
    expiredSession: options.expiredSession ?? 'redirect',
    sso: options.sso ?? true,
    rateLimitPerSec: options.rateLimitPerSec ?? 0,
    retryAfterSec: options.retryAfterSec ?? 1,
    slowDownloadBytesPerSec: options.slowDownloadBytesPerSec ?? 0,
    truncateRate: options.truncateRate ?? 0,
    hang: options.hang ?? false,
    htmlInsteadOfFileRate: options.htmlInsteadOfFileRate ?? 0,
  };
  const logger = options.logger;
  const sessions = new Sessions(() => knobs.sessionLifetimeSec);
  // Faults draw from their own seeded stream: the same run of requests meets the same faults.
  const faults = new Rng(hash32(`${seed}|faults`));
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

  function send(ex: Exchange, status: number, body: string | Buffer, headers: http.OutgoingHttpHeaders = {}): void {
    const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    ex.res.writeHead(status, { 'Content-Type': HTML, 'Content-Length': buf.length, 'Cache-Control': 'no-store', ...headers });
    if (ex.req.method !== 'HEAD') ex.entry.bytes += buf.length;
    ex.res.end(buf);
  }

  function redirect(ex: Exchange, location: string, cookies: string[] = []): void {
    send(ex, 302, '', { Location: location, ...(cookies.length ? { 'Set-Cookie': cookies } : {}) });
  }

  function signInRedirect(ex: Exchange): void {
    redirect(ex, `/sessions/new?return_to=${encodeURIComponent(ex.url.pathname + ex.url.search)}`);
  }

  function coupaCookie(email: string): string {
    return `${COUPA_COOKIE}=${sessions.create(email)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${COUPA_COOKIE_MAX_AGE}`;
  }

  function serverError(ex: Exchange): void {
    const status = faults.chance(0.5) ? 500 : 503;
    send(ex, status, serverErrorPage(status), status === 503 ? { 'Retry-After': String(knobs.retryAfterSec) } : {});
  }

  async function handleSignInForm(ex: Exchange): Promise<void> {
    const returnTo = safeReturnTo(ex.url.searchParams.get('return_to'));
    if (sessions.check(ex.cookies.get(COUPA_COOKIE)).state === 'valid') return redirect(ex, returnTo);
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
    const idp = `${IDP_COOKIE}=${sessions.createIdp(credentials.email)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${IDP_COOKIE_MAX_AGE}`;
    redirect(ex, returnTo, [coupaCookie(credentials.email), idp]);
  }

  async function handlePo(ex: Exchange, id: string): Promise<void> {
    await wait(knobs.pageLatencyMs);
    if (roll(knobs.errorRate)) return serverError(ex);
    const po = catalog.po(id);
    if (!po) return send(ex, 404, errorPage(NOT_FOUND_TEXT));
    send(ex, 200, poPage(po));
  }

  async function handleRequisition(ex: Exchange, rid: string): Promise<void> {
    await wait(knobs.pageLatencyMs);
    if (roll(knobs.errorRate)) return serverError(ex);
    const po = catalog.poOfRequisition(rid);
    if (!po) return send(ex, 404, errorPage(NOT_FOUND_TEXT));
    if (!po.requisitionAccessible) return send(ex, 403, errorPage(NOT_AUTHORIZED_TEXT));
    send(ex, 200, requisitionPage(po));
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

  async function route(ex: Exchange): Promise<void> {
    const { req, url } = ex;
    const path = url.pathname;
    if (path === '/sessions/new' && (req.method === 'GET' || req.method === 'HEAD')) return handleSignInForm(ex);
    if (path === '/sessions' && req.method === 'POST') return handleSignIn(ex);
    if (ex.entry.kind === 'other') return send(ex, 404, '', { 'Content-Type': 'text/plain' });

    const session = sessions.check(ex.cookies.get(COUPA_COOKIE));
    if (session.state === 'expired' && knobs.expiredSession === 'error-page') return send(ex, 200, errorPage(NOT_FOUND_TEXT));
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

  const server = http.createServer((req, res) => {
    const startedAt = Date.now();
    const rawPath = req.url ?? '/';
    const url = parseTarget(rawPath);
    const entry: RequestLogEntry = {
      method: req.method ?? 'GET', path: rawPath, status: 0, kind: kindOf(url.pathname), startedAt, finishedAt: 0, bytes: 0,
    };
    requests.push(entry);
    if (requests.length > REQUEST_LOG_LIMIT * 1.1) requests.splice(0, requests.length - REQUEST_LOG_LIMIT);
    res.on('close', () => {
      entry.status = res.headersSent ? res.statusCode : 0;
      entry.finishedAt = Date.now();
      logger?.debug(`coupa stand-in: ${entry.method} ${entry.path} ${entry.status || 'unanswered'} ${entry.finishedAt - startedAt} ms`);
    });

    if (knobs.hang) return;
    if (knobs.rateLimitPerSec > 0) {
      const now = Date.now();
      while (recentRequests.length > 0 && recentRequests[0] <= now - 1000) recentRequests.shift();
      if (recentRequests.length >= knobs.rateLimitPerSec) {
        const ex = { req, res, url, entry, cookies: new Map<string, string>() };
        return send(ex, 429, rateLimitedPage(), { 'Retry-After': String(knobs.retryAfterSec) });
      }
      recentRequests.push(now);
    }
    const ex: Exchange = { req, res, url, entry, cookies: parseCookies(req.headers.cookie) };
    route(ex).catch((err: unknown) => {
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
  logger?.info?.(`coupa stand-in: listening on ${url} (seed ${seed})`);

  return {
    url,
    port,
    knobs,
    catalog: { po: (idOrPoNumber) => catalog.po(idOrPoNumber), ids: () => catalog.ids() },
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

// Prefixing keeps a path like `//host/x` a path instead of a URL with another host.
function parseTarget(rawPath: string): URL {
  try {
    return new URL(`http://127.0.0.1${rawPath.startsWith('/') ? rawPath : `/${rawPath}`}`);
  } catch {
    return new URL('http://127.0.0.1/');
  }
}

function kindOf(path: string): RequestLogEntry['kind'] {
  if (path === '/sessions' || path.startsWith('/sessions/')) return 'login';
  if (path.startsWith('/attachments/')) return 'download';
  if (path === '/favicon.ico' || path === '/robots.txt') return 'other';
  return 'page';
}

function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return cookies;
}

/** Only a path on this server: an absolute or protocol-relative return_to would be an open redirect. */
function safeReturnTo(value: string | null | undefined): string {
  return value && value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\') ? value : '/';
}

function readForm(req: http.IncomingMessage): Promise<URLSearchParams | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_FORM_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_FORM_BYTES ? undefined : new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

/**
 * `filename="…"` for old clients (ASCII only, no quote or backslash) and `filename*=` with the real
 * name, percent-encoded as RFC 5987 wants (encodeURIComponent leaves `'()*` alone; they must go too).
 */
function contentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
