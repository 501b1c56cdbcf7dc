/**
 * What a worker's tabs do not load: images, fonts and media, which nothing here reads, and what Coupa's
 * pages ask of other hosts (analytics, chat widgets, CDNs of third parties). Each costs the browser a
 * request and work before `load`, which the session check waits for.
 *
 * Never refused: a tab's own navigations (to the identity provider and back, the SAML form's POST, an
 * attachment that redirects to a storage host), requests to the tenant and to every host a tab was sent
 * to, and whatever the identity provider's own pages load, since sign-in must work as the provider wrote it.
 */
import type { BrowserContext, Page } from 'playwright-core';

export interface RequestFacts {
  url: string;
  /** Playwright's `resourceType()`. */
  resourceType: string;
  /** A navigation of a tab itself (not of a frame in it), redirects included. */
  tabNavigation: boolean;
  /** The address of the tab that asks. */
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

/**
 * Filters the requests of every tab of a context, through the tab's own DevTools session. Not with
 * Playwright's `route`: routing turns the browser's HTTP cache off, and Coupa's pages then fetch and
 * compile their large cached scripts again on every load, which costs far more than the requests saved
 * (bench/RESULTS.md, "Lean path per PO").
 */
export class RequestTrimmer {
  private readonly filter: PageResourceFilter;
  private readonly tabs = new WeakMap<Page, Promise<void>>();

  constructor(context: BrowserContext, baseUrl: string) {
    this.filter = new PageResourceFilter(baseUrl);
    // Tabs opened elsewhere (the session probe's) are filtered too, from the moment their session is set up.
    context.on('page', (page) => void this.ready(page));
  }

  /** Resolves once the tab's requests are filtered; never fails, since an unfiltered tab still works. */
  ready(page: Page): Promise<void> {
    let done = this.tabs.get(page);
    if (!done) {
      done = this.attach(page).catch(() => undefined);
      this.tabs.set(page, done);
    }
    return done;
  }

  private async attach(page: Page): Promise<void> {
    const cdp = await page.context().newCDPSession(page);
    const { frameTree } = await cdp.send('Page.getFrameTree');
    const tabFrame = frameTree.frame.id;
    cdp.on('Fetch.requestPaused', (event) => {
      const load = this.filter.needed({
        url: event.request.url,
        resourceType: event.resourceType.toLowerCase(),
        tabNavigation: event.resourceType === 'Document' && event.frameId === tabFrame,
        pageUrl: page.url(),
      });
      const answer = load
        ? cdp.send('Fetch.continueRequest', { requestId: event.requestId })
        : cdp.send('Fetch.failRequest', { requestId: event.requestId, errorReason: 'BlockedByClient' });
      answer.catch(() => undefined);
    });
    await cdp.send('Fetch.enable', { patterns: [{ urlPattern: '*', requestStage: 'Request' }] });
  }
}
