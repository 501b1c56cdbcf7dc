import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultSettings } from '../../../src/extension/settings';
import { statusLooks } from '../../../src/extension/outcome';

// Run from the repository root, as scripts/test.mjs does.
const raw = JSON.parse(readFileSync('package.json', 'utf8'));
const nls: Record<string, string> = JSON.parse(readFileSync('package.nls.json', 'utf8'));
const keysUsed = new Set<string>();
/** The manifest as VS Code shows it in English: every "%key%" replaced from package.nls.json. */
function localized(value: unknown): unknown {
  if (typeof value === 'string') {
    const key = /^%(.+)%$/.exec(value)?.[1];
    if (!key) return value;
    keysUsed.add(key);
    assert.ok(key in nls, `package.nls.json has no ${key}`);
    return nls[key];
  }
  if (Array.isArray(value)) return value.map(localized);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, localized(v)]));
  return value;
}
const pkg = localized(raw) as typeof raw;
const source = readdirSync('src/extension').filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join('src/extension', f), 'utf8')).join('\n');

describe('extension: manifest', () => {
  const commands: { command: string; title: string; category: string }[] = pkg.contributes.commands;

  it('activates on its own commands, views and panel only', () => {
    assert.equal(pkg.main, './dist/extension.js');
    assert.deepEqual(pkg.activationEvents, ['onWebviewPanel:poPool.status']);
    assert.ok(!pkg.activationEvents.some((e: string) => e === '*' || e === 'onStartupFinished'));
  });

  it('titles every command "PO Pool: <Title>" in the palette', () => {
    for (const c of commands) {
      assert.equal(c.category, 'PO Pool', c.command);
      assert.match(c.command, /^poPool\.[a-zA-Z]+$/);
      assert.match(c.title, /^[A-Z]/);
    }
    const titles = commands.map((c) => `${c.category}: ${c.title}`);
    for (const t of [
      'Process POs in Selection', 'Process POs in File', 'Start Pool', 'Stop Pool', 'Restart Worker', 'Cancel Task', 'Retry Failed POs',
      'Open Downloads Folder', 'Show Status Panel', 'Show Log', 'Sign in to Coupa', 'Try the Demo',
    ]) assert.ok(titles.includes(`PO Pool: ${t}`), t);
  });

  it('registers exactly the commands it contributes, and menus name only those', () => {
    const registered = new Set([...source.matchAll(/register(?:Command)?\('(poPool\.[a-zA-Z]+)'/g)].map((m) => m[1]));
    assert.deepEqual([...registered].sort(), commands.map((c) => c.command).sort());
    const contributed = new Set(commands.map((c) => c.command));
    for (const [menu, items] of Object.entries(pkg.contributes.menus as Record<string, { command: string }[]>)) {
      for (const item of items) assert.ok(contributed.has(item.command), `${menu}: ${item.command}`);
    }
    for (const view of pkg.contributes.views.poPool) assert.ok(source.includes(`'${view.id}'`), view.id);
  });

  it('declares every setting with the defaults the code falls back to', () => {
    const props = pkg.contributes.configuration.properties;
    assert.deepEqual(Object.keys(props).sort(), Object.keys(defaultSettings).map((k) => `poPool.${k}`).sort());
    for (const [key, value] of Object.entries(defaultSettings)) assert.deepEqual(props[`poPool.${key}`].default, value, key);
    assert.deepEqual([props['poPool.workerCount'].minimum, props['poPool.workerCount'].maximum], [1, 8]);
    assert.deepEqual([props['poPool.memoryThreshold'].minimum, props['poPool.memoryThreshold'].maximum], [0.5, 0.9]);
  });

  it('ships every icon and webview asset it names', () => {
    for (const path of [pkg.icon, 'media/pool.svg', 'media/panel.js', 'media/panel.css', 'samples/po-list.txt']) assert.ok(existsSync(path), path);
    for (const look of Object.values(statusLooks)) assert.ok(existsSync(`media/icons/${look.decoration}.svg`), look.decoration);
  });

  it('gives first-run welcome content with links to sign in and to the demo', () => {
    const welcome = pkg.contributes.viewsWelcome.find((w: { when?: string }) => w.when === 'poPool.firstRun');
    assert.match(welcome.contents, /\(command:poPool\.signIn\)/);
    assert.match(welcome.contents, /\(command:poPool\.tryDemo\)/);
  });

  it('keeps vscode out of every module the tests and other processes can load', () => {
    const glue = new Set(['poolController', 'ui', 'treeItems', 'workersView', 'queueView', 'resultsView', 'decorations', 'statusBar', 'statusPanel', 'log', 'contextKeys', 'poolCommands', 'processCommands', 'problems', 'resultCommands', 'cliAccess']);
    for (const f of readdirSync('src/extension')) {
      const text = readFileSync(join('src/extension', f), 'utf8');
      const importsVscode = /from 'vscode'/.test(text) && !/import type \* as vscode from 'vscode'/.test(text);
      assert.equal(importsVscode, glue.has(f.replace(/\.ts$/, '')), f);
    }
  });

  it('keeps what points workers at an executable or a folder out of workspaces and Settings Sync', () => {
    const props = pkg.contributes.configuration.properties;
    const guarded = ['poPool.browser', 'poPool.baseProfilePath', 'poPool.remoteEndpoints', 'poPool.downloadFolder'];
    for (const key of guarded) assert.match(props[key].scope, /^machine(-overridable)?$/, key);
    for (const key of ['poPool.browser', 'poPool.baseProfilePath', 'poPool.remoteEndpoints']) assert.equal(props[key].scope, 'machine', key);
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.deepEqual([...pkg.capabilities.untrustedWorkspaces.restrictedConfigurations].sort(), [...guarded].sort());
    assert.equal(pkg.capabilities.virtualWorkspaces, false);
    assert.deepEqual(pkg.extensionKind, ['workspace']);
  });

  it('offers "Process POs in Selection" in the editor menu only on PO lists or a selection holding POs', () => {
    const items = pkg.contributes.menus['editor/context'].filter((m: { command: string }) => m.command === 'poPool.processSelection');
    assert.equal(items.length, 1);
    const when: string = items[0].when;
    assert.ok(!/editorHasSelection/.test(when), 'not on any selection in any file');
    assert.match(when, /editorLangId =~ \/\^\(plaintext\|csv\|tsv\)\$\//);
    assert.match(when, /poPool\.selectionHasPos/);
    assert.match(source, /'poPool\.selectionHasPos'/, 'the context key is set');
  });

  it('runs a PO list from its editor: a title button and a default key', () => {
    const title = pkg.contributes.menus['editor/title'].find((m: { command: string }) => m.command === 'poPool.processFile');
    assert.match(title.when, /resourceScheme == file/);
    assert.match(title.group, /^navigation/);
    const key = pkg.contributes.keybindings.find((k: { command: string }) => k.command === 'poPool.processSelection');
    assert.equal(key.key, 'ctrl+alt+enter');
    assert.match(key.when, /editorTextFocus/);
    assert.match(key.when, /poPool\.selectionHasPos/);
  });

  it('walks a first-time user from the Coupa address to the report, each step completed by doing it', () => {
    const [walkthrough] = pkg.contributes.walkthroughs;
    const steps: { id: string; media: { markdown: string }; completionEvents: string[] }[] = walkthrough.steps;
    assert.deepEqual(steps.map((s) => s.id), ['coupaAddress', 'signIn', 'tryDemo', 'processList', 'openReport']);
    for (const step of steps) {
      assert.ok(existsSync(step.media.markdown), step.media.markdown);
      assert.ok(step.completionEvents.length > 0, step.id);
    }
    assert.deepEqual(steps[1].completionEvents, ['onContext:poPool.signedIn']);
    assert.match(source, /'setContext', 'poPool\.signedIn', true/, 'signing in sets what completes its step');
  });

  it('declares the po-pool task type its provider runs', () => {
    const [task] = pkg.contributes.taskDefinitions;
    assert.equal(task.type, 'po-pool');
    assert.deepEqual(task.required, ['file']);
    assert.deepEqual(Object.keys(task.properties).sort(), ['file', 'priority', 'redo']);
    assert.match(source, /registerTaskProvider\(TASK_TYPE/);
    assert.match(source, /const TASK_TYPE = 'po-pool'/);
  });

  it('takes every string people read in the manifest from package.nls.json, and every string there is used', () => {
    assert.deepEqual(Object.keys(nls).filter((k) => !keysUsed.has(k)), []);
    for (const c of raw.contributes.commands) assert.match(c.title, /^%command\.\w+%$/, c.command);
    for (const [key, p] of Object.entries(raw.contributes.configuration.properties as Record<string, { description?: string; markdownDescription?: string }>)) {
      assert.match(p.description ?? p.markdownDescription ?? '', /^%config\.\w+\.\w+%$/, key);
    }
    assert.match(source, /vscode\.l10n\.t\(/, 'new UI strings go through vscode.l10n.t');
  });
});
