// Set-up shared by `npm run demo`, `npm test` and `npm run package`: needs nothing but Node.
// 1. `npm ci` when node_modules is absent or older than package-lock.json.
// 2. A Chromium-family browser: Chrome, Edge, Chromium or $PO_POOL_BROWSER; on Debian as root with
//    none, Debian's `chromium` is installed; elsewhere we say exactly what to install.
// 3. On Debian as root, Debian's `chromium-headless-shell` beside it for headless workers (lighter than
//    the full browser); anywhere else the full browser does that work and nothing is installed.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { findBrowser, findHeadlessShell, installHint } from '../src/shared/browsers.mjs';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);

function step(message) {
  console.log(`[bootstrap] ${message}`);
}

function run(cmd, args, env = {}) {
  execFileSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
}

const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  console.error(`[bootstrap] Node ${process.versions.node} is too old: install Node 20 or later.`);
  process.exit(2);
}

const lockHash = createHash('sha256').update(readFileSync('package-lock.json')).digest('hex');
const stamp = 'node_modules/.po-pool-lock-hash';
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== lockHash) {
  step('installing dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
  writeFileSync(stamp, lockHash);
}

const debianRoot = process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/etc/debian_version');
let aptUpdated = false;
function aptInstall(pkg) {
  if (!aptUpdated) run('apt-get', ['update', '-qq'], { DEBIAN_FRONTEND: 'noninteractive' });
  aptUpdated = true;
  run('apt-get', ['install', '-y', '-qq', pkg], { DEBIAN_FRONTEND: 'noninteractive' });
}

let browser = findBrowser('auto');
if (!browser) {
  if (!debianRoot) {
    console.error(`[bootstrap] No Chromium-family browser found. ${installHint()}`);
    process.exit(2);
  }
  step("no browser found: installing Debian's chromium (apt-get)");
  aptInstall('chromium');
  browser = findBrowser('auto');
  if (!browser) {
    console.error(`[bootstrap] chromium was installed but not found. ${installHint()}`);
    process.exit(2);
  }
}
step(`browser: ${browser.name} (${browser.executablePath})`);

if (debianRoot && !findHeadlessShell('chromium')) {
  step("installing Debian's chromium-headless-shell for headless workers (apt-get)");
  try {
    aptInstall('chromium-headless-shell');
  } catch {
    // Older Debian releases have no such package; headless workers then run the full browser.
    step('chromium-headless-shell could not be installed: headless workers use the full browser');
  }
}
const shell = findHeadlessShell('auto');
if (shell) step(`headless shell: ${shell.executablePath}`);
