/**
 * The extension's activation time: dist/extension.js is loaded with a stub `vscode` module (through
 * Module._load) and `activate()` is timed. Prints one JSON line. Run in its own process each time, so
 * the module cache is cold like in a fresh extension host; PO_POOL_STATE_DIR points at a throwaway
 * state folder (activation connects to, and may start, a supervisor after it returns).
 */
import Module from 'node:module';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const bundle = resolve(process.argv[2] ?? 'dist/extension.js');
const root = resolve(process.argv[3] ?? '.');

type AnyFn = (...args: unknown[]) => unknown;

/** Anything not given below: a callable, constructible object whose members are more of the same. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- it stands for any part of the vscode API
function deep(name: string): any {
  const target = function () {} as unknown as AnyFn;
  return new Proxy(target, {
    get(_t, prop) {
      if (prop === 'then') return undefined;
      if (prop === Symbol.toPrimitive) return () => 0;
      if (prop === Symbol.iterator) return function* () {};
      if (prop === 'dispose') return () => undefined;
      return deep(`${name}.${String(prop)}`);
    },
    set: () => true,
    apply: () => deep(`${name}()`),
    construct: () => deep(`new ${name}`),
  });
}

const disposable = () => ({ dispose: () => undefined });

class EventEmitter<T> {
  private listeners: ((e: T) => void)[] = [];
  event = (listener: (e: T) => void) => {
    this.listeners.push(listener);
    return disposable();
  };
  fire(e: T): void {
    for (const l of this.listeners) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

class Disposable {
  constructor(private readonly fn: () => void = () => undefined) {}
  static from(...items: { dispose(): unknown }[]) {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  dispose(): void {
    this.fn();
  }
}

class Uri {
  constructor(readonly scheme: string, readonly fsPath: string) {}
  get path() {
    return this.fsPath;
  }
  static file(p: string) {
    return new Uri('file', p);
  }
  static parse(s: string) {
    return new Uri(s.split(':')[0], s);
  }
  static joinPath(u: Uri, ...parts: string[]) {
    return new Uri(u.scheme, join(u.fsPath, ...parts));
  }
  with() {
    return this;
  }
  toString() {
    return `${this.scheme}://${this.fsPath}`;
  }
}

class TreeItem {
  constructor(readonly label: unknown, readonly collapsibleState?: number) {}
}
class ThemeIcon {
  constructor(readonly id: string, readonly color?: unknown) {}
}
class ThemeColor {
  constructor(readonly id: string) {}
}
class MarkdownString {
  constructor(public value = '') {}
  appendMarkdown(s: string) {
    this.value += s;
    return this;
  }
  appendText(s: string) {
    this.value += s;
    return this;
  }
}

const event = () => disposable();
const outputChannel = () => ({
  name: 'PO Pool', logLevel: 2, onDidChangeLogLevel: event, append() {}, appendLine() {}, replace() {}, clear() {}, show() {}, hide() {},
  dispose() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {},
});
const treeView = () => ({ ...disposable(), onDidChangeSelection: event, onDidChangeVisibility: event, onDidExpandElement: event, onDidCollapseElement: event, onDidChangeCheckboxState: event, visible: true, selection: [], reveal: async () => undefined, badge: undefined, message: undefined, title: undefined, description: undefined });

const vscodeStub: Record<string, unknown> = {
  EventEmitter, Disposable, Uri, TreeItem, ThemeIcon, ThemeColor, MarkdownString,
  TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
  StatusBarAlignment: { Left: 1, Right: 2 },
  ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  ViewColumn: { Active: -1, Beside: -2, One: 1 },
  UIKind: { Desktop: 1, Web: 2 },
  CodeActionKind: { QuickFix: 'quickfix', Empty: '' },
  DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
  DecorationRangeBehavior: { OpenOpen: 0, ClosedClosed: 1, OpenClosed: 2, ClosedOpen: 3 },
  Range: class { constructor(...a: unknown[]) { void a; } },
  Position: class { constructor(...a: unknown[]) { void a; } },
  commands: { registerCommand: () => disposable(), executeCommand: async () => undefined },
  languages: {
    createDiagnosticCollection: () => ({ ...disposable(), set() {}, delete() {}, clear() {}, get: () => undefined, forEach() {} }),
    registerCodeLensProvider: () => disposable(), registerCodeActionsProvider: () => disposable(), registerHoverProvider: () => disposable(),
  },
  tasks: { registerTaskProvider: () => disposable() },
  l10n: { t: (message: string, ...args: unknown[]) => message.replace(/\{(\d+)\}/g, (_m, i: string) => String(args[Number(i)])) },
  env: { uiKind: 1, remoteName: undefined, openExternal: async () => true, clipboard: { writeText: async () => undefined } },
  extensions: { getExtension: () => undefined },
  workspace: {
    getConfiguration: () => ({ get: (_k: string, d?: unknown) => d, has: () => false, inspect: () => undefined, update: async () => undefined }),
    workspaceFolders: undefined,
    onDidChangeConfiguration: event, onDidCloseTextDocument: event, onDidChangeTextDocument: event, onDidOpenTextDocument: event,
    asRelativePath: (p: unknown) => String(p), getWorkspaceFolder: () => undefined, textDocuments: [],
  },
  window: {
    createOutputChannel: outputChannel,
    createTreeView: treeView,
    registerTreeDataProvider: () => disposable(),
    createStatusBarItem: () => ({ ...disposable(), show() {}, hide() {}, text: '', tooltip: '', command: undefined }),
    createTextEditorDecorationType: () => ({ key: 'd', dispose() {} }),
    registerWebviewPanelSerializer: () => disposable(),
    registerFileDecorationProvider: () => disposable(),
    createWebviewPanel: () => deep('panel'),
    onDidChangeVisibleTextEditors: event, onDidChangeActiveTextEditor: event, onDidChangeWindowState: event, onDidChangeTextEditorSelection: event,
    setStatusBarMessage: () => disposable(),
    visibleTextEditors: [], activeTextEditor: undefined, state: { focused: true },
    showWarningMessage: async () => undefined, showInformationMessage: async () => undefined, showErrorMessage: async () => undefined,
    showQuickPick: async () => undefined, showInputBox: async () => undefined, showOpenDialog: async () => undefined,
    withProgress: async (_o: unknown, task: AnyFn) => task({ report() {} }, { isCancellationRequested: false, onCancellationRequested: event }),
  },
};
const vscode = new Proxy(vscodeStub, {
  get: (t, prop: string) => (prop in t ? t[prop] : deep(`vscode.${prop}`)),
});

const memento = () => {
  const m = new Map<string, unknown>();
  return { get: (k: string, d?: unknown) => (m.has(k) ? m.get(k) : d), update: async (k: string, v: unknown) => void m.set(k, v), keys: () => [...m.keys()], setKeysForSync() {} };
};
const stateDir = process.env.PO_POOL_STATE_DIR ?? join(root, '.bench-state');
const context = {
  subscriptions: [] as { dispose(): unknown }[],
  extensionPath: root,
  extensionUri: Uri.file(root),
  asAbsolutePath: (p: string) => join(root, p),
  globalState: memento(),
  workspaceState: memento(),
  globalStorageUri: Uri.file(join(stateDir, 'global')),
  storageUri: undefined,
  logUri: Uri.file(join(stateDir, 'log')),
  globalStoragePath: join(stateDir, 'global'),
  logPath: join(stateDir, 'log'),
  extensionMode: 1,
  environmentVariableCollection: deep('environmentVariableCollection'),
  secrets: { get: async () => undefined, store: async () => undefined, delete: async () => undefined, onDidChange: event },
  extension: { id: 'coupa-po-pool.coupa-po-pool', packageJSON: {}, extensionPath: root },
};

const mod = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
const original = mod._load;
mod._load = function (request: string, parent: unknown, isMain: boolean) {
  if (request === 'vscode') return vscode;
  return original.call(this, request, parent, isMain);
};

const t0 = performance.now();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ext = require(bundle) as { activate(ctx: unknown): unknown };
const t1 = performance.now();
let error: string | undefined;
try {
  ext.activate(context);
} catch (err) {
  error = (err as Error).stack ?? String(err);
}
const t2 = performance.now();
process.stdout.write(`${JSON.stringify({ requireMs: t1 - t0, activateMs: t2 - t1, totalMs: t2 - t0, subscriptions: context.subscriptions.length, error })}\n`);
setTimeout(() => process.exit(0), 50);
