/**
 * Reading a loaded PO or requisition page: its header, its attachments in whichever markup the tenant
 * uses, and the link to its requisition. Where to look is in selectors.ts.
 */
import type { Page } from 'playwright-core';
import type { Context } from './context';
import * as sel from './selectors';

/** An attachment as found on the page, marked in the DOM so it can be clicked later. */
export interface Found {
  /** Absolute URL without a trailing /download (what de-duplicates the two markups), or a unique id. */
  key: string;
  name: string;
  /** The value of the MARK attribute on the element to click. */
  mark: string;
}

export const MARK = 'data-po-pool-attachment';

export async function readHeader(page: Page): Promise<{ supplier?: string; status?: string }> {
  return page.evaluate((s) => {
    const clean = (text: string | null | undefined) => (text ?? '').replace(/\s+/g, ' ').trim() || undefined;
    const first = (selectors: string[]) => {
      for (const selector of selectors) {
        for (const el of Array.from(document.querySelectorAll(selector))) {
          const text = clean(el.textContent);
          if (text && text.length < 200) return text;
        }
      }
      return undefined;
    };
    const labelled = (label: RegExp) => {
      for (const el of Array.from(document.querySelectorAll(s.labels))) {
        if (el.children.length === 0 && label.test(clean(el.textContent) ?? '')) {
          const value = clean(el.nextElementSibling?.textContent);
          if (value && value.length < 200) return value;
        }
      }
      return undefined;
    };
    return {
      supplier: first(s.supplier) ?? labelled(new RegExp(s.supplierLabel, 'i')),
      status: first(s.status) ?? labelled(new RegExp(s.statusLabel, 'i')),
    };
  }, { supplier: sel.SUPPLIER, status: sel.STATUS, labels: sel.LABEL_ELEMENTS, supplierLabel: sel.SUPPLIER_LABEL, statusLabel: sel.STATUS_LABEL })
    .catch(() => ({}));
}

/**
 * Finds attachments in both markups (the span widget, plain links and blob links), marks each in the
 * DOM, and drops duplicates (the same file can be reachable from a widget and a link). Only files on the
 * tenant's own host count: a page also links suppliers' sites and other services, and a worker signed
 * into Coupa must not fetch whatever a PO's text points at.
 */
export async function markAttachments(page: Page, ctx: Context): Promise<Found[]> {
  return page.evaluate((s) => {
    const found: { key: string; name: string; mark: string }[] = [];
    const seen = new Set<string>();
    const resolve = (url: string) => {
      try {
        const u = new URL(url, location.href);
        return (u.protocol === 'http:' || u.protocol === 'https:') && u.host === s.host ? u : undefined;
      } catch {
        return undefined;
      }
    };
    const keyOf = (u: URL) => {
      u.hash = '';
      return u.href.replace(new RegExp(s.downloadSuffix), '');
    };
    const add = (el: Element, key: string, name: string) => {
      if (seen.has(key)) return;
      seen.add(key);
      const id = String(found.length);
      el.setAttribute(s.mark, id);
      found.push({ key, name, mark: id });
    };
    document.querySelectorAll(s.widget).forEach((el, i) => {
      const holder = s.widgetUrlHolders.map((h) => el.closest(h)?.getAttribute('data-url')).find((u) => u);
      const dataUrl = holder ?? el.getAttribute('data-url');
      const url = dataUrl ? resolve(dataUrl) : undefined;
      if (dataUrl && !url) return;
      const name = el.getAttribute('title') || (el.getAttribute('aria-label') ?? '').replace(/\s*file attachment\s*$/i, '') ||
        (el.textContent ?? '').trim();
      add(el, url ? keyOf(url) : `widget:${i}`, name);
    });
    for (const a of Array.from(document.querySelectorAll<HTMLAnchorElement>(s.link))) {
      const href = a.getAttribute('href') ?? '';
      if (!href || href.startsWith('#')) continue;
      const url = resolve(href);
      if (!url || new RegExp(s.notAFile).test(url.pathname)) continue;
      if (a.closest(`[${s.mark}]`) || a.querySelector(`[${s.mark}]`)) continue;
      const fromUrl = url.searchParams.get('filename') ?? decodeURIComponent(url.pathname.split('/').filter(Boolean).pop() ?? '');
      const name = (a.getAttribute('download') || (a.textContent ?? '').trim() || a.getAttribute('title') || fromUrl).replace(/\s+/g, ' ');
      add(a, keyOf(new URL(url.href)), name);
      // A new window would take the download event away from this tab.
      a.removeAttribute('target');
      // Same-origin links then always download, even when the server answers with a web page, so that
      // case is caught by the HTML check instead of navigating the tab away.
      if (url.origin === location.origin && !a.hasAttribute('download')) a.setAttribute('download', '');
    }
    return found;
  }, {
    mark: MARK, host: new URL(ctx.base).host, widget: sel.ATTACHMENT_WIDGET, widgetUrlHolders: sel.WIDGET_URL_HOLDERS,
    link: sel.ATTACHMENT_LINK, notAFile: sel.NOT_A_FILE_PATH, downloadSuffix: sel.DOWNLOAD_SUFFIX,
  });
}

/** The floating toolbar covers attachments and intercepts their clicks. */
export async function hideToolbar(page: Page): Promise<void> {
  await page.evaluate((toolbar) => {
    for (const el of Array.from(document.querySelectorAll<HTMLElement>(toolbar))) el.style.setProperty('display', 'none', 'important');
  }, sel.FLOATING_TOOLBAR).catch(() => undefined);
}

/** The PO's requisition, when the page links one on the tenant's own host. */
export async function requisitionUrl(page: Page, ctx: Context): Promise<string | undefined> {
  // The page has loaded: a link that is not there now will not appear, so don't wait for it.
  const link = page.locator(sel.REQUISITION_LINK).first();
  const href = (await link.count()) ? await link.getAttribute('href') : null;
  if (!href) return undefined;
  const url = new URL(href, page.url());
  return url.host === new URL(ctx.base).host ? url.href : undefined;
}
