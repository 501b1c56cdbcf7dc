/**
 * More of the workbench as a person sees it, beyond harness.ts: the walkthrough page, the quick
 * fix menu, a tree's context menu, progress notifications.
 */
import type { Page } from 'playwright-core';

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

/** Picks `label` in the open quick fix menu. */
export async function pickCodeAction(page: Page, label: string): Promise<void> {
  const menu = page.locator('.action-widget');
  await menu.locator('.monaco-list-row', { hasText: label }).first().click();
  await menu.waitFor({ state: 'hidden', timeout: 10_000 });
}

/** Picks `label` in the context menu that is open. */
export async function pickContextMenu(page: Page, label: string): Promise<string[]> {
  const menu = page.locator('.context-view .monaco-menu');
  await menu.waitFor({ state: 'visible', timeout: 10_000 });
  const items = (await menu.locator('.action-label').allInnerTexts()).map((t) => t.trim()).filter(Boolean);
  await menu.locator('.action-item', { has: page.locator('.action-label', { hasText: label }) }).first().click();
  await menu.waitFor({ state: 'hidden', timeout: 10_000 });
  return items;
}
