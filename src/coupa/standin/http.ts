/** The stand-in's HTTP plumbing: one request and its answer, cookies, forms, safe redirects. */
import type * as http from 'node:http';

export const HTML = 'text/html; charset=utf-8';
const MAX_FORM_BYTES = 64 * 1024;

export interface RequestLogEntry {
  method: string;
  /** Path and query as requested. */
  path: string;
  /** 0 while unanswered, and for ever for a request that was never answered (hang). */
  status: number;
  /** Requests to the identity provider and Coupa's sign-in routes are all 'login'. */
  kind: 'page' | 'download' | 'login' | 'other';
  startedAt: number;
  /** 0 until the response ends (or its connection closes). */
  finishedAt: number;
  /** Body bytes sent. */
  bytes: number;
}

export interface Exchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: URL;
  entry: RequestLogEntry;
  cookies: Map<string, string>;
}

export function send(ex: Exchange, status: number, body: string | Buffer, headers: http.OutgoingHttpHeaders = {}): void {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  ex.res.writeHead(status, { 'Content-Type': HTML, 'Content-Length': buf.length, 'Cache-Control': 'no-store', ...headers });
  if (ex.req.method !== 'HEAD') ex.entry.bytes += buf.length;
  ex.res.end(buf);
}

export function redirect(ex: Exchange, location: string, cookies: string[] = []): void {
  send(ex, 302, '', { Location: location, ...(cookies.length ? { 'Set-Cookie': cookies } : {}) });
}

// Prefixing keeps a path like `//host/x` a path instead of a URL with another host.
export function parseTarget(rawPath: string): URL {
  try {
    return new URL(`http://127.0.0.1${rawPath.startsWith('/') ? rawPath : `/${rawPath}`}`);
  } catch {
    return new URL('http://127.0.0.1/');
  }
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return cookies;
}

/** Only a path on this server: an absolute or protocol-relative return_to would be an open redirect. */
export function safeReturnTo(value: string | null | undefined): string {
  return value && value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\') ? value : '/';
}

export function readForm(req: http.IncomingMessage): Promise<URLSearchParams | undefined> {
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
export function contentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
