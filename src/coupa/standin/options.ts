/** What the stand-in can be asked to do: its catalog at creation, and knobs that can change while it runs. */

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
   * Default 'redirect': an expired session is sent to sign-in, like a missing one.
   * 'error-page' = every page of an expired session answers the generic "Oops" page at once, status
   * 200: exactly what a missing PO gets, which is why a tool must check the session before believing it.
   * 'idp-bounce' = a tenant behind a corporate identity provider on its own origin (`idpUrl`): sign-in
   * goes through the provider, which sends a browser it knows straight back signed in. An expired
   * session gets the "Oops" page (200) on PO and requisition pages, a sign-in redirect (so a bounce
   * through the provider) everywhere else, and either of the two, decided per request, on attachments.
   * A browser profile must be signed in while 'idp-bounce' is on: the provider's cookie lives on its
   * origin. Such a profile works in the other modes too.
   */
  expiredSession?: 'redirect' | 'error-page' | 'idp-bounce';
  /**
   * Default true: the identity provider still knows the user, so signing in needs nobody (a live
   * `idp_session` lets GET /sessions/new, or the provider, sign straight back in). false = the
   * provider's session is gone: a person must type the password again.
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
  /**
   * Default false. When true, PO and requisition pages weigh what Coupa's do: a cached ~1.5 MB
   * application script that builds part of the page's DOM, and a stylesheet of thousands of rules.
   */
  heavyPages?: boolean;
  /** Default Date.now: the clock of session lifetimes and the rate limit, so tests can move time. */
  now?: () => number;
  logger?: { debug(msg: string): void; info?(msg: string): void };
}

export type StandinKnobs = Required<Pick<StandinOptions,
  'pageLatencyMs' | 'downloadLatencyMs' | 'errorRate' | 'sessionLifetimeSec' | 'expiredSession' | 'sso' |
  'rateLimitPerSec' | 'retryAfterSec' | 'slowDownloadBytesPerSec' | 'truncateRate' | 'hang' | 'htmlInsteadOfFileRate' | 'heavyPages'>>;

/** The knobs as created: every default in one place, and what `resetKnobs` returns to. */
export function knobsFrom(options: StandinOptions): StandinKnobs {
  return {
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
    heavyPages: options.heavyPages ?? false,
  };
}
