#!/usr/bin/env node
// Installs code-server (VS Code's server + web workbench) into .cache/code-server, in its own folder with its
// own package.json, so the real-VS-Code tests (scripts/vscode-tests.mjs) can run on machines that reach only
// package registries. Idempotent: a second run only checks the install and returns.
//
//   node scripts/install-code-server.mjs          install if missing, then verify
//   node scripts/install-code-server.mjs --force  reinstall
//
// code-server 4.100.3 (VS Code 1.100.3) is pinned: it is the newest release that runs on Node 20.
// Offline fixes (see docs/real-vscode.md):
//   - @vscode/ripgrep downloads rg from GitHub in its postinstall: its cache is pre-seeded with Debian's rg,
//     packed as $TMPDIR/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz.
//   - node-pty runs `npx node-gyp`: npm_config_yes=true lets npx install it without asking.
//   - kerberos builds from source: needs libkrb5-dev (apt).
//   - npm 11 may skip dependencies' install scripts unless allowed: we pass --foreground-scripts
//     --unsafe-perm and then check that every native module was actually built, rebuilding it if not.
// System packages: apt-get install -y chromium ripgrep libkrb5-dev
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, readFileSync, rmSync, copyFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const installDir = join(repo, '.cache', 'code-server');
export const codeServerBin = join(installDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const APT_HINT = 'apt-get update && apt-get install -y chromium ripgrep libkrb5-dev';

const log = (m) => console.log(`[install-code-server] ${m}`);

function fail(message) {
  throw new Error(`[install-code-server] ${message}`);
}

function run(cmd, args, opts = {}) {
  log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.error) return { ok: false, message: r.error.message };
  return { ok: r.status === 0, message: `exit ${r.status}` };
}

/** Native modules code-server needs at run time, with the file their build leaves behind. */
function nativeChecks() {
  const lib = join(installDir, 'node_modules', 'code-server', 'lib', 'vscode');
  const nm = join(lib, 'node_modules');
  return [
    { name: 'node-pty', dir: join(nm, 'node-pty'), built: ['build/Release/pty.node'] },
    { name: 'kerberos', dir: join(nm, 'kerberos'), built: ['build/Release/kerberos.node'] },
    { name: '@vscode/spdlog', dir: join(nm, '@vscode', 'spdlog'), built: ['build/Release/spdlog.node'] },
    { name: 'native-watchdog', dir: join(nm, 'native-watchdog'), built: ['build/Release/watchdog.node'] },
    // prebuilt binary in a platform package, or built from source into build/Release
    {
      name: '@parcel/watcher',
      dir: join(nm, '@parcel', 'watcher'),
      built: ['build/Release/watcher.node', '../watcher-linux-x64-glibc/watcher.node'],
      optional: true,
    },
    {
      name: 'argon2',
      dir: join(installDir, 'node_modules', 'argon2'),
      built: ['lib/binding/napi-v3/argon2.node'],
      optional: true,
    },
    { name: '@vscode/ripgrep', dir: join(nm, '@vscode', 'ripgrep'), built: ['bin/rg'] },
  ];
}

function missingNative() {
  return nativeChecks().filter((c) => existsSync(c.dir) && !c.built.some((f) => existsSync(join(c.dir, f))));
}

function installedVersion() {
  const pj = join(installDir, 'node_modules', 'code-server', 'package.json');
  if (!existsSync(pj)) return undefined;
  try {
    return JSON.parse(readFileSync(pj, 'utf8')).version;
  } catch {
    return undefined;
  }
}

/** True when code-server is installed at the pinned version with its native modules built. */
export function isInstalled() {
  return (
    installedVersion() === CODE_SERVER_VERSION &&
    existsSync(codeServerBin) &&
    missingNative().filter((c) => !c.optional).length === 0
  );
}

function seedRipgrepCache(cacheRoot) {
  const rg = ['/usr/bin/rg', '/usr/local/bin/rg'].find((p) => existsSync(p));
  if (!rg) fail(`ripgrep (rg) is missing; it is needed offline by @vscode/ripgrep. Install it with: ${APT_HINT}`);
  const cacheDir = join(cacheRoot, 'vscode-ripgrep-cache-1.15.11');
  mkdirSync(cacheDir, { recursive: true });
  const tgz = join(cacheDir, 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz');
  if (!existsSync(tgz)) {
    const stage = join(cacheRoot, 'rg-stage');
    mkdirSync(stage, { recursive: true });
    copyFileSync(rg, join(stage, 'rg'));
    const r = run('tar', ['-czf', tgz, '-C', stage, 'rg']);
    if (!r.ok) fail(`could not pack ${rg} into ${tgz}: ${r.message}`);
  }
  log(`ripgrep cache seeded: ${tgz}`);
}

function install() {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    log(`warning: tested on linux/x64 only (this is ${process.platform}/${process.arch})`);
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== 20)
    log(`warning: code-server ${CODE_SERVER_VERSION} declares Node 20; this is Node ${process.versions.node}`);
  if (!existsSync('/usr/include/krb5.h') && !existsSync('/usr/include/krb5/krb5.h')) {
    fail(`libkrb5-dev is missing (kerberos builds from source). Install it with: ${APT_HINT}`);
  }

  mkdirSync(installDir, { recursive: true });
  writeFileSync(
    join(installDir, 'package.json'),
    JSON.stringify(
      {
        name: 'attention-lens-code-server',
        private: true,
        description:
          'code-server for the real-VS-Code tests (scripts/install-code-server.mjs). Not part of the extension.',
        dependencies: { 'code-server': CODE_SERVER_VERSION },
      },
      null,
      2,
    ) + '\n',
  );
  // A config of this folder's own, so that no project or user setting changes how code-server installs.
  writeFileSync(join(installDir, '.npmrc'), 'fund=false\naudit=false\nupdate-notifier=false\n');

  const tmp = join(installDir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  seedRipgrepCache(tmp);

  const env = {
    ...process.env,
    TMPDIR: tmp,
    npm_config_yes: 'true',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    CI: 'true',
  };
  // npm 11 prints "install-scripts ... not yet covered by allowScripts" but (11.x) still runs them; the
  // native-module check below catches a future npm that skips them, and rebuilds those modules explicitly.
  const args = [
    'install',
    '--unsafe-perm',
    '--foreground-scripts',
    '--no-audit',
    '--no-fund',
    `code-server@${CODE_SERVER_VERSION}`,
  ];
  const r = run('npm', args, { cwd: installDir, env });
  if (!r.ok)
    fail(
      `npm install code-server@${CODE_SERVER_VERSION} failed (${r.message}). Check network access to the npm registry and: ${APT_HINT}`,
    );

  // npm 11 can skip install scripts (warning "install-scripts ... approve"); rebuild whatever was not built.
  let missing = missingNative();
  if (missing.length) {
    log(`native modules not built: ${missing.map((m) => m.name).join(', ')}; rebuilding`);
    for (const m of missingNative()) {
      // `npm rebuild <pkg>` from the folder whose node_modules holds it runs that package's install scripts.
      const owner = m.dir.slice(0, m.dir.lastIndexOf(`${'/'}node_modules${'/'}`));
      run('npm', ['rebuild', m.name, '--foreground-scripts', '--ignore-scripts=false'], { cwd: owner, env });
      if (m.name === '@vscode/ripgrep') run('node', ['lib/postinstall.js'], { cwd: m.dir, env });
    }
    missing = missingNative();
  }
  const required = missing.filter((m) => !m.optional);
  if (required.length)
    fail(`native modules still not built: ${required.map((m) => `${m.name} (${m.dir})`).join(', ')}`);
  if (missing.length) log(`warning: optional native modules not built: ${missing.map((m) => m.name).join(', ')}`);
  rmSync(join(tmp, 'rg-stage'), { recursive: true, force: true });
}

function verify() {
  const r = spawnSync(process.execPath, [codeServerBin, '--config', '/dev/null', '--version'], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, HOME: join(installDir, 'home') },
  });
  const out = `${r.stdout ?? ''}`;
  const line = out.split('\n').find((l) => l.startsWith(`${CODE_SERVER_VERSION} `));
  if (r.status !== 0 || !line) fail(`code-server --version failed (exit ${r.status}): ${out} ${r.stderr ?? ''}`);
  log(`code-server ${line.trim()} OK (${codeServerBin})`);
}

export function checkChromium() {
  const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(chromium)) {
    return `Chromium not found at ${chromium}. Install Debian's chromium with: ${APT_HINT} (never \`npx playwright install\`), or set CHROMIUM_PATH.`;
  }
  return undefined;
}

export function ensureCodeServer({ force = false } = {}) {
  if (force) rmSync(join(installDir, 'node_modules'), { recursive: true, force: true });
  if (isInstalled()) {
    log(`code-server ${CODE_SERVER_VERSION} already installed in ${installDir}`);
  } else {
    const t0 = Date.now();
    install();
    log(`installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  verify();
  const chromiumProblem = checkChromium();
  if (chromiumProblem) fail(chromiumProblem);
  log('chromium OK');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    ensureCodeServer({ force: process.argv.includes('--force') });
  } catch (e) {
    console.error(`ERROR ${e.message}`);
    process.exit(1);
  }
}
