/**
 * What a worker's tabs do not load: images, fonts and media, which nothing here reads, and what Coupa's
 * pages ask of other hosts (analytics, chat widgets, CDNs of third parties). Each costs the browser a
 * request and work before `load`, which the session check waits for.
 *
 * Never refused: a tab's own navigations (to the identity provider and back, the SAML form's POST, an
 * attachment that redirects to a storage host), requests to the tenant and to every host a tab was sent
 * to, and whatever the identity provider's own pages load, since sign-in must work as the provider wrote it.
 */
import type { BrowserContext, Request } from 'playwright-core';

export interface RequestFacts {
  url: string;
  /** Playwright's `resourceType()`. */
  resourceType: string;
  /** A navigation of a tab itself (not of a frame in it), redirects included. */
  tabNavigation: boolean;
  /** The address of the page (frame) that asks; '' when none (a service worker's request). */
  pageUrl: string;
}

const UNNEEDED_TYPES = new Set(['image', 'font', 'media']);

function hostOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.host : undefined;
  } catch {
    return undefined;
  }
}

export class PageResourceFilter {
  private readonly tenant: string;
  /** The tenant, and the hosts its sign-in sent a tab to: its identity provider. */
  private readonly sentTo: Set<string>;

  constructor(baseUrl: string) {
    this.tenant = new URL(baseUrl).host;
    this.sentTo = new Set([this.tenant]);
  }

  needed(request: RequestFacts): boolean {
    const host = hostOf(request.url);
    if (request.tabNavigation) {
      if (host) this.sentTo.add(host);
      return true;
    }
    if (UNNEEDED_TYPES.has(request.resourceType)) return false;
    if (!host || this.sentTo.has(host)) return true;
    const page = hostOf(request.pageUrl);
    return page !== undefined && page !== this.tenant;
  }
}

function factsOf(request: Request): RequestFacts {
  let frame: ReturnType<Request['frame']> | undefined;
  try {
    frame = request.frame();
  } catch {
    // A service worker's request has no frame.
  }
  return {
    url: request.url(),
    resourceType: request.resourceType(),
    tabNavigation: request.isNavigationRequest() && frame?.parentFrame() === null,
    pageUrl: frame?.url() ?? '',
  };
}

/**
 * Refuses the requests a worker does not need in every tab of `context`. Routing turns the browser's
 * HTTP cache off for the context (Playwright's rule): pages' scripts and stylesheets are fetched again
 * on every load.
 */
export async function blockUnneededRequests(context: BrowserContext, baseUrl: string): Promise<void> {
  const filter = new PageResourceFilter(baseUrl);
  await context.route('**/*', (route, request) =>
    (filter.needed(factsOf(request)) ? route.continue() : route.abort('blockedbyclient')).catch(() => undefined));
}
