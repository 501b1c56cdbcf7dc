// Set-up for the end-to-end suite, run by scripts/test.mjs before it; safe to run again.
// 1. code-server (the editor under test) in .cache/code-server/, installed without any download
//    from outside the npm registry: its native modules are built here, and ripgrep, which its
//    postinstall would fetch from GitHub, is served from Debian's `rg` through the cache it reads.
// 2. coupa-po-pool.vsix, packaged when missing or older than the build or the manifest.
import { execFileSync } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';

const CODE_SERVER_VERSION = '4.100.3'; // the last line that runs on Node 20
// Pinned by code-server 4.100.3's lib/vscode/npm-shrinkwrap.json; its postinstall reads this cache.
const RIPGREP = { pkg: '1.15.11', release: 'v13.0.0-10' };

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const installDir = join(root, '.cache/code-server');
const stamp = join(installDir, `.installed-${CODE_SERVER_VERSION}`);
const vsix = join(root, 'coupa-po-pool.vsix');

function step(message) {
  console.log(`[e2e-setup] ${message}`);
}

async function timed(what, fn) {
  const started = Date.now();
  step(`${what}...`);
  await fn();
  step(`${what}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const installLog = join(installDir, 'install.log');

function run(cmd, args, options = {}) {
  execFileSync(cmd, args, { stdio: 'inherit', ...options, env: { ...process.env, ...options.env } });
}

/**
 * The install prints thousands of lines of compiler and npm output; CI keeps only the tail of what
 * a run prints, so it goes to install.log, and only a failure shows its last lines here.
 */
function runLogged(cmd, args, options = {}) {
  appendFileSync(installLog, `\n$ ${cmd} ${args.join(' ')}\n`);
  const fd = openSync(installLog, 'a');
  try {
    run(cmd, args, { ...options, stdio: ['ignore', fd, fd] });
  } catch (error) {
    const lines = readFileSync(installLog, 'utf8').trimEnd().split('\n');
    console.error(`[e2e-setup] ${cmd} ${args[0]} failed; the last lines of ${installLog}:`);
    console.error(lines.slice(-60).join('\n'));
    throw error;
  } finally {
    closeSync(fd);
  }
}

function onPath(name) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, name)));
}

/** Debian packages the native builds and the ripgrep stand-in need, which this machine lacks. */
function missingPackages() {
  const missing = [];
  // kerberos (VS Code's proxy auth) compiles against MIT Kerberos' GSSAPI headers.
  if (!existsSync('/usr/include/gssapi/gssapi.h') && !existsSync('/usr/include/gssapi.h')) missing.push('libkrb5-dev');
  if (!onPath('make') || !onPath('g++')) missing.push('build-essential');
  if (!onPath('python3')) missing.push('python3');
  if (!onPath('rg')) missing.push('ripgrep');
  return missing;
}

function ensureSystemPackages() {
  const missing = missingPackages();
  if (missing.length === 0) return;
  const debianRoot = process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/etc/debian_version');
  if (!debianRoot) {
    console.error(`[e2e-setup] code-server's native modules need: ${missing.join(' ')}.`);
    console.error(`[e2e-setup] Install them first, e.g. \`sudo apt-get install -y ${missing.join(' ')}\` (Debian/Ubuntu).`);
    process.exit(2);
  }
  step(`installing Debian packages: ${missing.join(' ')}`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', ...missing], { env });
}

/**
 * @vscode/ripgrep's postinstall uses `<tmpdir>/vscode-ripgrep-cache-<version>/<asset>` when present
 * instead of asking GitHub, and untars it straight into its bin/, expecting `rg` at the top.
 */
function seedRipgrepCache() {
  const target = { x64: 'x86_64-unknown-linux-musl', arm64: 'aarch64-unknown-linux-musl' }[process.arch];
  if (process.platform !== 'linux' || !target) return; // elsewhere the download is its own business
  const dir = join(tmpdir(), `vscode-ripgrep-cache-${RIPGREP.pkg}`);
  const archive = join(dir, `ripgrep-${RIPGREP.release}-${target}.tar.gz`);
  if (existsSync(archive)) return;
  const rg = execFileSync('sh', ['-c', 'command -v rg'], { encoding: 'utf8' }).trim();
  mkdirSync(dir, { recursive: true });
  run('tar', ['-czhf', archive, '-C', dirname(rg), 'rg']); // -h: the binary itself, should rg be a link
  step(`ripgrep cache: ${archive} (from ${rg})`);
}

/** node-gyp would download Node's headers; use the ones installed beside this Node when there are. */
function nodeHeadersDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include/node/common.gypi')) ? prefix : undefined;
}

/** Loads every native module code-server needs, so an install whose scripts were skipped is caught. */
function nativeModulesWork() {
  const check = `
    const { existsSync } = require('fs');
    const vscode = require('module').createRequire(${JSON.stringify(join(installDir, 'node_modules/code-server/lib/vscode/package.json'))});
    const server = require('module').createRequire(${JSON.stringify(join(installDir, 'node_modules/code-server/package.json'))});
    server('argon2');
    for (const m of ['@vscode/spdlog', 'node-pty', 'native-watchdog', 'kerberos', '@parcel/watcher']) vscode(m);
    if (!existsSync(vscode('@vscode/ripgrep').rgPath)) throw new Error('ripgrep binary missing');
  `;
  try {
    execFileSync(process.execPath, ['-e', check], { stdio: 'pipe' });
    return true;
  } catch (error) {
    step(`native modules not usable: ${String(error.stderr ?? error).split('\n').find((l) => /Error/.test(l)) ?? error}`);
    return false;
  }
}

async function installCodeServer() {
  ensureSystemPackages();
  seedRipgrepCache();
  mkdirSync(installDir, { recursive: true });
  rmSync(stamp, { force: true });
  writeFileSync(installLog, `code-server ${CODE_SERVER_VERSION} install, ${new Date().toISOString()}\n`);
  // A project of its own, so the install never touches the repo's package.json or lockfile, and
  // its allowScripts lets code-server's and argon2's install scripts run under npm's script policy.
  writeFileSync(join(installDir, 'package.json'), JSON.stringify({
    name: 'po-pool-e2e-code-server',
    private: true,
    dependencies: { 'code-server': CODE_SERVER_VERSION },
    allowScripts: { 'code-server': true, argon2: true },
  }, null, 2) + '\n');
  const headers = nodeHeadersDir();
  const env = {
    npm_config_unsafe_perm: 'true', // code-server's postinstall refuses to run as root without it
    npm_config_yes: 'true', // a nested `npx node-gyp` would otherwise wait for a "y"
    npm_config_update_notifier: 'false',
    ...(headers ? { npm_config_nodedir: headers } : {}),
  };
  if (!headers) step('no Node headers beside this Node: node-gyp will try to download them');
  step(`npm and compiler output: ${installLog} (argon2 and kerberos first ask GitHub for prebuilt binaries: 'ENOTFOUND github.com' there is expected, they are compiled here instead)`);
  // --foreground-scripts: the nested installs and native builds print as they go, and a failure
  // shows its compiler output instead of a one-line summary.
  runLogged('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--foreground-scripts'], { cwd: installDir, env });
  if (!nativeModulesWork()) {
    // npm's script policy (advisory in npm 11, blocking later) may have skipped the install scripts
    // of VS Code's own dependencies: allow exactly those its shrinkwrap marks, and build them.
    step('rebuilding code-server native modules');
    const vscodeDir = join(installDir, 'node_modules/code-server/lib/vscode');
    const { packages } = JSON.parse(readFileSync(join(vscodeDir, 'npm-shrinkwrap.json'), 'utf8'));
    const withScripts = Object.entries(packages).filter(([path, p]) => path && p.hasInstallScript).map(([path]) => path.replace(/^.*node_modules\//, ''));
    writeFileSync(join(vscodeDir, '.npmrc'), `allow-scripts=${withScripts.join(',')}\n`);
    runLogged('npm', ['rebuild', '--foreground-scripts'], { cwd: vscodeDir, env });
    runLogged('npm', ['rebuild', '--foreground-scripts', 'argon2'], { cwd: join(installDir, 'node_modules/code-server'), env });
    if (!nativeModulesWork()) {
      console.error(`[e2e-setup] code-server installed, but its native modules do not load (see above and ${installLog}).`);
      process.exit(1);
    }
  }
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

function vsixIsStale() {
  if (!existsSync(vsix)) return true;
  const built = statSync(vsix).mtimeMs;
  return ['dist/extension.js', 'package.json'].some((f) => existsSync(join(root, f)) && statSync(join(root, f)).mtimeMs > built);
}

async function main() {
  const started = Date.now();
  if (existsSync(stamp) && existsSync(join(installDir, 'node_modules/.bin/code-server'))) {
    step(`code-server ${CODE_SERVER_VERSION}: already installed in .cache/code-server`);
  } else {
    await timed(`installing code-server ${CODE_SERVER_VERSION} into .cache/code-server`, installCodeServer);
  }

  if (vsixIsStale()) {
    await timed('packaging coupa-po-pool.vsix', () => run(process.execPath, [join(root, 'scripts/package.mjs')], { cwd: root }));
  } else {
    step('coupa-po-pool.vsix: up to date');
  }
  step(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

try {
  await main();
} catch (error) {
  // The failing command has printed its own output above; one line says which step it was.
  console.error(`[e2e-setup] failed: ${String(error.message ?? error).split('\n')[0]}`);
  process.exit(1);
}
