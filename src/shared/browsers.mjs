// Which Chromium-family browser to drive. Plain JavaScript with no dependencies, because the
// bootstrap (before `npm ci`) and the worker bundle both use it.
import { accessSync, constants, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const env = process.env;
const programFiles = [env.PROGRAMFILES, env['PROGRAMFILES(X86)'], env.LOCALAPPDATA].filter(Boolean);

/** Known install places per Playwright channel, per platform. */
const known = {
  chrome: {
    linux: ['/opt/google/chrome/chrome', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'],
    darwin: ['/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'],
    win32: programFiles.map((p) => join(p, 'Google', 'Chrome', 'Application', 'chrome.exe')),
  },
  msedge: {
    linux: ['/opt/microsoft/msedge/msedge', '/usr/bin/microsoft-edge', '/usr/bin/microsoft-edge-stable'],
    darwin: ['/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge'],
    win32: programFiles.map((p) => join(p, 'Microsoft', 'Edge', 'Application', 'msedge.exe')),
  },
  chromium: {
    linux: ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/snap/bin/chromium'],
    darwin: ['/Applications/Chromium.app/Contents/MacOS/Chromium'],
    win32: programFiles.map((p) => join(p, 'Chromium', 'Application', 'chrome.exe')),
  },
};

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * @param {string} [preference] 'auto' | 'chrome' | 'msedge' | 'chromium' | an executable path
 * @returns {{ name: string, executablePath: string, channel?: string } | undefined}
 *   `channel` is set for Chrome and Edge (Playwright launches them by channel); Chromium goes by path.
 */
export function findBrowser(preference = 'auto') {
  const wanted = preference || 'auto';
  if (wanted !== 'auto' && !(wanted in known)) {
    return executable(wanted) ? { name: wanted, executablePath: wanted } : undefined;
  }
  if (wanted === 'auto' && env.PO_POOL_BROWSER) {
    return executable(env.PO_POOL_BROWSER) ? { name: env.PO_POOL_BROWSER, executablePath: env.PO_POOL_BROWSER } : undefined;
  }
  const order = wanted === 'auto' ? ['chrome', 'msedge', 'chromium'] : [wanted];
  for (const name of order) {
    const path = (known[name][process.platform] ?? []).find(executable);
    if (path) return { name, executablePath: path, ...(name === 'chromium' ? {} : { channel: name }) };
  }
  return undefined;
}

/**
 * Debian's own binary before its /usr/bin wrapper: the wrapper is a shell that stays the browser's
 * parent, so killing the pid Playwright knows would leave the browser itself running.
 */
const systemShells = {
  linux: ['/usr/lib/chromium/chromium-headless-shell', '/usr/bin/chromium-headless-shell'],
};

/** Where `playwright install` keeps its browsers (PLAYWRIGHT_BROWSERS_PATH moves it, as it does for Playwright). */
export function playwrightCacheDir() {
  if (env.PLAYWRIGHT_BROWSERS_PATH && env.PLAYWRIGHT_BROWSERS_PATH !== '0') return env.PLAYWRIGHT_BROWSERS_PATH;
  if (process.platform === 'win32') return join(env.LOCALAPPDATA ?? homedir(), 'ms-playwright');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'ms-playwright');
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ms-playwright');
}

/**
 * Playwright's headless shells in `cacheDir`, newest build first, in both layouts Playwright has used
 * (`chrome-linux/headless_shell` before 1.49, Chrome for Testing's folder since).
 * @param {string} cacheDir
 * @returns {string[]}
 */
export function cachedHeadlessShells(cacheDir) {
  let builds;
  try {
    builds = readdirSync(cacheDir).filter((name) => /^chromium_headless_shell-\d+$/.test(name));
  } catch {
    return [];
  }
  builds.sort((a, b) => Number(b.split('-')[1]) - Number(a.split('-')[1]));
  const exe = process.platform === 'win32' ? '.exe' : '';
  const inside = {
    linux: [['chrome-headless-shell-linux64', 'chrome-headless-shell'], ['chrome-headless-shell-linux-arm64', 'chrome-headless-shell'], ['chrome-linux', 'headless_shell']],
    darwin: [['chrome-headless-shell-mac-arm64', 'chrome-headless-shell'], ['chrome-headless-shell-mac-x64', 'chrome-headless-shell'], ['chrome-mac', 'headless_shell']],
    win32: [['chrome-headless-shell-win64', `chrome-headless-shell${exe}`], ['chrome-win', `headless_shell${exe}`]],
  }[process.platform] ?? [];
  return builds.flatMap((build) => inside.map((parts) => join(cacheDir, build, ...parts)));
}

/**
 * The headless shell to run headless workers with instead of `preference`'s full browser: it has no
 * browser UI to start and draw, so it starts faster and uses less CPU and memory. Only for 'auto' and
 * 'chromium': a path, PO_POOL_BROWSER, or the chrome/msedge channel is what the user asked for.
 * @param {string} [preference]
 * @param {string[]} [places] candidate executables in order (tests pass their own)
 * @returns {{ name: string, executablePath: string } | undefined}
 */
export function findHeadlessShell(preference = 'auto', places = undefined) {
  const wanted = preference || 'auto';
  if (wanted !== 'auto' && wanted !== 'chromium') return undefined;
  if (wanted === 'auto' && env.PO_POOL_BROWSER) return undefined;
  const candidates = places ?? [...(systemShells[process.platform] ?? []), ...cachedHeadlessShells(playwrightCacheDir())];
  const path = candidates.find(executable);
  return path ? { name: 'chromium-headless-shell', executablePath: path } : undefined;
}

/** What to tell a user who has none, per platform. */
export function installHint() {
  switch (process.platform) {
    case 'win32':
      return 'Install Microsoft Edge or Google Chrome, or set PO_POOL_BROWSER to a Chromium-family browser executable.';
    case 'darwin':
      return 'Install Google Chrome (https://www.google.com/chrome/) or Microsoft Edge, or set PO_POOL_BROWSER to a Chromium-family browser executable.';
    default:
      return 'Install a Chromium-family browser, e.g. `sudo apt-get install chromium` (Debian/Ubuntu) or `sudo dnf install chromium` (Fedora), or set PO_POOL_BROWSER to its executable.';
  }
}

/**
 * Flags every worker passes. `--no-sandbox` only where it is required (root on Linux), since
 * Chromium refuses to start sandboxed as root.
 */
export function browserArgs() {
  const args = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu'];
  if (process.platform === 'linux' && typeof process.getuid === 'function' && process.getuid() === 0) args.push('--no-sandbox');
  return args;
}
