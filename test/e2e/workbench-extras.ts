/**
 * More of the workbench as a person sees it, beyond harness.ts: the walkthrough page, the quick
 * fix menu, a tree's context menu, progress notifications.
 */
import type { Locator, Page } from 'playwright-core';

export interface WalkthroughStep {
  title: string;
  /** The step's checkbox is ticked (VS Code sets aria-checked on the step button). */
  done: boolean;
}

/** The steps of the walkthrough open in the editor, in order. */
export async function walkthroughSteps(page: Page): Promise<WalkthroughStep[]> {
  return page.locator('button.getting-started-step').evaluateAll((buttons) => buttons
    .filter((b) => (b as HTMLElement).offsetParent !== null)
    .map((b) => ({
      title: (b.querySelector('.step-title')?.textContent ?? '').replace(/\s+/g, ' ').trim(),
      done: b.getAttribute('aria-checked') === 'true',
    })));
}

/** Labels of the quick fix / code action menu, once it shows. */
export async function codeActionLabels(page: Page): Promise<string[]> {
  const menu = page.locator('.action-widget');
  await menu.waitFor({ state: 'visible', timeout: 15_000 });
  return (await menu.locator('.monaco-list-row .title').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
}

/**
 * Moves the keyboard focus down `menu` until the focused entry reads `label`, then presses Enter: a
 * pointer click lands on the workbench's pointer block over the editor, not on the menu.
 */
async function pickByKeyboard(page: Page, menu: Locator, focused: Locator, label: string): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < 30; i++) {
    const text = (await focused.count()) ? (await focused.first().innerText()).replace(/\s+/g, ' ').trim() : '';
    if (text.includes(label)) {
      await page.keyboard.press('Enter');
      await menu.waitFor({ state: 'hidden', timeout: 10_000 });
      return;
    }
    seen.push(text);
    await page.keyboard.press('ArrowDown');
  }
  throw new Error(`"${label}" is not in the menu; the keyboard went through ${JSON.stringify([...new Set(seen)])}`);
}

/** Picks `label` in the open quick fix menu. */
export async function pickCodeAction(page: Page, label: string): Promise<void> {
  const menu = page.locator('.action-widget');
  await pickByKeyboard(page, menu, menu.locator('.monaco-list-row.focused'), label);
}

/** Picks `label` in the context menu that is open; returns the menu's entries. */
export async function pickContextMenu(page: Page, label: string): Promise<string[]> {
  const menu = page.locator('.context-view .monaco-menu');
  await menu.waitFor({ state: 'visible', timeout: 10_000 });
  const items = (await menu.locator('.action-label').allInnerTexts()).map((t) => t.trim()).filter(Boolean);
  await pickByKeyboard(page, menu, menu.locator('.action-item.focused'), label);
  return items;
}
