/** The workbench as a person sees it: views, editors, the status bar, hovers, notifications. */
import { type Frame, type Locator, type Page } from 'playwright-core';
import { closeQuickInput, escapeRegExp, notifications, oneLine, runCommand, statusBarTexts, waitFor } from './editor';

/** Shows the PO Pool container (Workers, Queue, Results) in the side bar. */
export async function showPoolViews(page: Page): Promise<void> {
  await runCommand(page, 'View: Show PO Pool');
  await page.locator('.part.sidebar .pane-header h3.title', { hasText: /^Workers$/i }).waitFor({ state: 'visible', timeout: 30_000 });
}

/** The body of the view titled `viewTitle` in the side bar. */
export function viewBody(page: Page, viewTitle: string): Locator {
  return page.locator('.part.sidebar .pane')
    .filter({ has: page.locator('.pane-header h3.title', { hasText: new RegExp(`^${escapeRegExp(viewTitle)}$`, 'i') }) })
    .locator('.pane-body');
}

/** Texts of the buttons and links of a view's welcome content (empty when the view shows rows). */
export async function welcomeItems(page: Page, viewTitle: string): Promise<string[]> {
  return (await viewBody(page, viewTitle).locator('.welcome-view-content').locator('.monaco-button, a').allInnerTexts()).map(oneLine).filter(Boolean);
}

/** The row of a tree view whose label is `label` (the row text starts with it). */
export function treeRow(page: Page, viewTitle: string, label: string | RegExp): Locator {
  const starts = typeof label === 'string' ? new RegExp(`^\\s*${escapeRegExp(label)}(\\s|$)`) : label;
  return viewBody(page, viewTitle).locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: starts }) }).first();
}

export interface TreeItemText {
  label: string;
  description: string;
  /** Label and description as one line, as a person reads the row. */
  text: string;
  expanded?: boolean;
}

/** Rows of the tree in the view titled `viewTitle`, label and description apart. */
export async function treeItems(page: Page, viewTitle: string): Promise<TreeItemText[]> {
  return viewBody(page, viewTitle).locator('.monaco-list-row').evaluateAll((rows) => rows.map((row) => {
    const text = (selector: string) => (row.querySelector(selector)?.textContent ?? '').replace(/\s+/g, ' ').trim();
    const expanded = row.getAttribute('aria-expanded');
    const label = text('.label-name');
    const description = text('.label-description');
    return { label, description, text: [label, description].filter(Boolean).join(' '), ...(expanded ? { expanded: expanded === 'true' } : {}) };
  }));
}

/** Expands a collapsed tree row (a Results group) by clicking its twistie. */
export async function expandTreeRow(page: Page, viewTitle: string, label: string | RegExp): Promise<void> {
  const row = treeRow(page, viewTitle, label);
  await row.waitFor({ state: 'visible', timeout: 30_000 });
  if ((await row.getAttribute('aria-expanded')) !== 'true') await row.locator('.monaco-tl-twistie').click();
  await waitFor(async () => (await row.getAttribute('aria-expanded')) === 'true', 10_000, `${String(label)} to expand in ${viewTitle}`);
}

/**
 * The text of the hover that shows when the pointer rests on `target` (a tree row's tooltip, an
 * editor decoration's hover message), once it matches `expect` when given.
 */
export async function hoverText(page: Page, target: Locator, expect?: RegExp): Promise<string> {
  const hovers = page.locator('.monaco-hover:visible, .workbench-hover:visible');
  let last = '';
  return waitFor(async () => {
    // Away first, and until any earlier hover is gone, so its text is not taken for this one's.
    await page.mouse.move(1, 1);
    await waitFor(async () => (await hovers.count()) === 0, 3_000, 'earlier hovers to close').catch(() => undefined);
    await target.hover();
    await hovers.first().waitFor({ state: 'visible', timeout: 3_000 });
    last = (await hovers.allInnerTexts()).map(oneLine).join(' | ');
    return last.length > 0 && (!expect || expect.test(last)) && last;
  }, 20_000, `a hover${expect ? ` matching ${expect}` : ''}`).catch((err) => {
    throw new Error(`${(err as Error).message}; last hover: ${JSON.stringify(last)}`);
  });
}

/** Opens a workspace file with Quick Open (Ctrl+P), as a person would. */
export async function openFile(page: Page, name: string): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  await closeQuickInput(page);
  await page.keyboard.press('Control+P');
  await widget.waitFor({ state: 'visible', timeout: 10_000 });
  await widget.locator('input.input').fill(name);
  await widget.locator('.monaco-list-row', { hasText: name }).first().waitFor({ state: 'visible', timeout: 15_000 });
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ state: 'visible', timeout: 15_000 });
  await page.locator('.editor-instance .monaco-editor .view-line').first().waitFor({ state: 'visible', timeout: 15_000 });
}

/** Selects whole lines `first`..`last` (1-based) of the active editor with the keyboard. */
export async function selectLines(page: Page, first: number, last: number): Promise<void> {
  await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+Home');
  for (let i = 1; i < first; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.down('Shift');
  for (let i = first; i <= last; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.up('Shift');
}

export interface EditorLine {
  /** 1-based, from the line's position. */
  line: number;
  text: string;
  /** What decorations draw after the text (the `after` content), '' when nothing. */
  after: string;
  /** Gutter decorations (glyph margin / line decorations) on the line. */
  gutter: boolean;
}

/** The visible lines of the active editor with what is drawn after each. */
export async function editorLines(page: Page): Promise<EditorLine[]> {
  const editor = page.locator('.editor-instance .monaco-editor').first();
  return editor.evaluate((root) => {
    const unquote = (c: string) => {
      if (!c || c === 'none' || c === 'normal') return '';
      const m = /^"(.*)"$/s.exec(c);
      return m ? m[1].replace(/\\(.)/g, '$1') : c;
    };
    const lineHeight = parseFloat(getComputedStyle(root.querySelector('.view-line') as HTMLElement).height) || 19;
    const scrollTop = (root.querySelector('.lines-content') as HTMLElement | null)?.style.top ?? '0px';
    const offset = -parseFloat(scrollTop) || 0;
    // Gutter icons are backgrounds of elements in the margin, positioned at their line's top.
    const gutterTops = new Set<number>();
    for (const el of Array.from(root.querySelectorAll('.margin *')) as HTMLElement[]) {
      if (getComputedStyle(el).backgroundImage === 'none') continue;
      let at: HTMLElement | null = el;
      while (at && !at.style.top && !at.classList.contains('margin')) at = at.parentElement;
      if (at?.style.top) gutterTops.add(Math.round(parseFloat(at.style.top)));
    }
    return (Array.from(root.querySelectorAll('.view-lines .view-line')) as HTMLElement[]).map((el) => {
      const top = parseFloat(el.style.top) || 0;
      const after = (Array.from(el.querySelectorAll('span')) as HTMLElement[])
        .map((span) => unquote(getComputedStyle(span, '::after').content))
        .filter(Boolean)
        .join(' ');
      return {
        line: Math.round((top + offset) / lineHeight) + 1,
        text: (el.textContent ?? '').replace(/\u00a0/g, ' '),
        after,
        gutter: gutterTops.has(Math.round(top)),
      };
    }).sort((a, b) => a.line - b.line);
  });
}

export interface PoolStatusBar {
  text: string;
  done: number;
  total: number;
  workers: number;
}

/** The extension's status bar item, parsed when it shows `POs n/m · k workers`. */
export async function poolStatusBar(page: Page): Promise<PoolStatusBar | undefined> {
  for (const text of await statusBarTexts(page)) {
    const m = /POs ([\d,]+)\/([\d,]+) · (\d+) workers?/.exec(text);
    if (m) return { text, done: Number(m[1].replace(/,/g, '')), total: Number(m[2].replace(/,/g, '')), workers: Number(m[3]) };
  }
  return undefined;
}

/** The extension's status bar item shows the pool in ERROR (an error icon before "PO Pool"). */
export async function poolInError(page: Page): Promise<boolean> {
  return (await page.locator('.statusbar-item', { hasText: /^\s*PO Pool\s*$/ }).locator('.codicon-error').count()) > 0;
}

/**
 * Waits until a notification toast matching `pattern` shows, and returns its text. An error toast
 * shown instead (the pool's errors come as error notifications) fails at once, unless `failOnError`
 * is false; on a timeout the message lists every notification, those already hidden in the
 * notification center too.
 */
export async function waitForNotification(page: Page, pattern: RegExp, timeoutMs = 60_000, failOnError = true): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shown = await notifications(page).catch(() => [] as string[]);
    const found = shown.find((n) => pattern.test(n));
    if (found) return found;
    const error = failOnError && (await errorNotifications(page).catch(() => [] as string[])).find((n) => /^PO Pool: /.test(n));
    if (error) throw new Error(`waiting for a notification matching ${pattern}, this error showed instead: ${clipText(error, 2000)}`);
    if (failOnError && (await poolInError(page))) {
      const all = [...shown, ...(await notificationCenter(page).catch(() => [] as string[]))];
      throw new Error(`waiting for a notification matching ${pattern}, the status bar shows the pool in error; notifications: ${clipText(JSON.stringify(all), 2000)}`);
    }
    if (Date.now() > deadline) {
      const all = [...shown, ...(await notificationCenter(page).catch(() => [] as string[]))];
      throw new Error(`timed out after ${timeoutMs} ms waiting for a notification matching ${pattern}; notifications: ${clipText(JSON.stringify(all), 2000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Texts of the error toasts: VS Code marks their severity with the error codicon. */
export async function errorNotifications(page: Page): Promise<string[]> {
  const items = page.locator('.notification-list-item').filter({ has: page.locator('.codicon-error') });
  return (await items.locator('.notification-list-item-message').allInnerTexts()).map(oneLine);
}

export function clipText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Every notification in the notification center (toasts hide there after a while). */
export async function notificationCenter(page: Page): Promise<string[]> {
  await runCommand(page, 'Notifications: Show Notifications');
  const texts = (await page.locator('.notifications-center .notification-list-item-message').allInnerTexts()).map(oneLine);
  await runCommand(page, 'Notifications: Hide Notifications').catch(() => undefined);
  return texts;
}

/** Dismisses every notification toast, so the next one is easy to tell apart. */
export async function clearNotifications(page: Page): Promise<void> {
  await runCommand(page, 'Notifications: Clear All Notifications').catch(() => undefined);
}

/** The numbers of the status panel, as its `data-testid`s show them. */
export async function panelNumbers(frame: Frame): Promise<Record<'state' | 'processed' | 'total' | 'queueDepth' | 'running' | 'failed' | 'throughput' | 'eta', string>> {
  const text = async (id: string) => oneLine(await frame.locator(`[data-testid="${id}"]`).innerText({ timeout: 10_000 }));
  return {
    state: await text('pool-state'),
    processed: await text('processed'),
    total: await text('total'),
    queueDepth: await text('queue-depth'),
    running: await text('running'),
    failed: await text('failed'),
    throughput: await text('throughput'),
    eta: await text('eta'),
  };
}

/** A number as the panel prints it (`1,234`), or NaN for a dash. */
export function panelNumber(text: string): number {
  return /^[\d,]+$/.test(text) ? Number(text.replace(/,/g, '')) : NaN;
}
