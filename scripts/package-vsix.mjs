#!/usr/bin/env node
// Packages the extension as the .vsix files the Marketplace serves per platform, with @vscode/vsce 3 (Node 20):
// one per onnxruntime-node binary (vsce package --target <os>-<arch>, carrying only that binary) and one universal
// package without a native binary (Wasm in the extension host, WebGPU/Wasm in the panel) for every other platform,
// Intel Macs included. .vscodeignore describes the universal package; a platform package adds its binary's folder.
//
//   node scripts/package-vsix.mjs                      build (--production) + all six packages → vsix/
//   node scripts/package-vsix.mjs --target linux-x64   one package (repeatable; `universal` for the universal one)
//   node scripts/package-vsix.mjs --no-build           package the current dist/
//   node scripts/package-vsix.mjs --out-dir DIR        where the packages go (default vsix/)
//   node scripts/package-vsix.mjs --target T --out F   one package to file F
//
// vsce must print no warning (a warning fails the script). Prints each .vsix path and size, checks its content
// (required files in, sources/tests/other platforms' binaries out), and a last line per package `VSIX <target> <path>`
// for scripts (vscode-tests.mjs reads it). test/unit/package/vsix-content.test.ts checks the binaries' headers.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** vsce target → onnxruntime-node's binary folder (bin/napi-v6/<os>/<arch>); universal: none. */
const TARGETS = {
  'linux-x64': 'linux/x64',
  'linux-arm64': 'linux/arm64',
  'darwin-arm64': 'darwin/arm64',
  'win32-x64': 'win32/x64',
  'win32-arm64': 'win32/arm64',
  universal: undefined,
};
const BIN = 'node_modules/onnxruntime-node/bin/napi-v6';
/** Files of a binary folder that nothing loads: the npm tarball holds darwin's versioned dylib as a second 44 MB
 * copy (a symlink upstream); onnxruntime_binding.node's load command names only @rpath/libonnxruntime.1.dylib. The
 * Windows DLLs all stay: onnxruntime.dll imports DirectML.dll, and dxil/dxcompiler serve its GPU providers. */
const UNUSED = new Set(['darwin/arm64/libonnxruntime.1.30.0.dylib']);

/** The binary files a platform package carries (every file of its folder in node_modules but the unused). */
function binaryFiles(target) {
  const dir = TARGETS[target];
  if (!dir) return [];
  return readdirSync(join(repo, BIN, dir))
    .filter((f) => !UNUSED.has(`${dir}/${f}`))
    .map((f) => `${BIN}/${dir}/${f}`);
}

const args = process.argv.slice(2);
const argValues = (name) => args.flatMap((a, i) => (a === name && i + 1 < args.length ? [args[i + 1]] : []));
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const targets = argValues('--target');
if (!targets.length) targets.push(...Object.keys(TARGETS));
for (const t of targets)
  if (!(t in TARGETS)) {
    console.error(`[package-vsix] unknown --target ${t}: one of ${Object.keys(TARGETS).join(', ')}`);
    process.exit(2);
  }
const outFile = argValues('--out')[0];
if (outFile && targets.length !== 1) {
  console.error('[package-vsix] --out names one file: give exactly one --target with it');
  process.exit(2);
}
const outDir = resolve(argValues('--out-dir')[0] ?? join(repo, 'vsix'));

/** The file name vsce would choose: <name>-<version>[-<target>].vsix. */
function vsixName(target) {
  return `${pkg.name}-${pkg.version}${target === 'universal' ? '' : `-${target}`}.vsix`;
}

function run(cmd, cmdArgs, what, { failOnWarning = false } = {}) {
  const t0 = Date.now();
  console.log(`[package-vsix] $ ${[cmd, ...cmdArgs].map((a) => relative(repo, a) || a).join(' ')}`);
  const r = spawnSync(cmd, cmdArgs, {
    cwd: repo,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: 'true', FORCE_COLOR: '0' },
    timeout: 300_000,
  });
  process.stdout.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  if (r.status !== 0) {
    console.error(`[package-vsix] ${what} failed (${r.error?.message ?? `exit ${r.status}`})`);
    process.exit(1);
  }
  const warnings = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /\bWARNING\b/.test(l));
  if (failOnWarning && warnings.length) {
    console.error(`[package-vsix] ${what} printed warnings (fix them; a Marketplace package has none):`);
    for (const w of warnings) console.error(`  ${w.trim()}`);
    process.exit(1);
  }
  console.log(`[package-vsix] ${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** Lists a .vsix's entries with the zip reader vsce itself uses (yauzl). */
async function entriesOf(file) {
  const yauzl = require('yauzl');
  return new Promise((resolveEntries, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const names = [];
      zip.on('entry', (e) => {
        names.push(e.fileName);
        zip.readEntry();
      });
      zip.on('end', () => resolveEntries(names));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

/** Required files in, sources/tests/maps and any other platform's binary out. Returns the problems. */
async function check(file, target) {
  const entries = await entriesOf(file);
  const has = (p) => entries.includes(`extension/${p}`);
  const required = [
    'package.json',
    'LICENSE.txt',
    'readme.md',
    'changelog.md',
    pkg.icon,
    pkg.main.replace(/^\.\//, ''),
    'dist/webview.js',
    'dist/worker.js',
    'dist/cli.js',
    // In-webview inference (backend webgpu/auto): the worker bundle and onnxruntime-web's WebGPU .wasm it loads.
    'dist/webview-inference.js',
    'dist/ort-wasm-simd-threaded.asyncify.wasm',
    // PNG export: resvg's WebAssembly and the bundled fallback font.
    'dist/resvg.wasm',
    'dist/fonts/DejaVuSans-subset.ttf',
    'node_modules/onnxruntime-node/package.json',
    'node_modules/onnxruntime-node/dist/index.js',
    'node_modules/onnxruntime-web/package.json',
    'node_modules/onnxruntime-web/dist/ort.node.min.js',
    'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm',
    'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.mjs',
    'node_modules/onnxruntime-common/package.json',
    'node_modules/onnxruntime-common/dist/cjs/index.js',
    'node_modules/onnxruntime-common/dist/cjs/package.json',
  ].filter(Boolean);
  const binaries = binaryFiles(target);
  required.push(...binaries);
  const missing = required.filter((p) => !has(p));
  const forbidden = entries.filter(
    (e) =>
      /^extension\/(test|scripts|runtime|extension|protocol|webview|figures|writers|cli|bench|docs|vsix|\.cache|test-results|dist\/test)\//.test(
        e,
      ) ||
      /\.(map|ts)$/.test(e) ||
      e === 'extension/dist/.build-inputs.json' ||
      (e.startsWith(`extension/${BIN}/`) && !binaries.includes(e.slice('extension/'.length))),
  );
  return { entries, missing, forbidden };
}

async function packageOne(target, out, ignoreDir) {
  // The universal package: .vscodeignore as is; a platform package: plus its own binary's folder.
  const base = readFileSync(join(repo, '.vscodeignore'), 'utf8');
  const ignoreFile = join(ignoreDir, `${target}.vscodeignore`);
  const own = TARGETS[target];
  const keep = binaryFiles(target).map((f) => `!${f}\n`);
  writeFileSync(ignoreFile, own ? `${base}\n# ${target}: its onnxruntime-node binary\n${keep.join('')}` : base);
  const vsce = join(dirname(require.resolve('@vscode/vsce/package.json')), 'vsce');
  // vsce writes its zip in place; packaging to a temporary name in the same folder, then renaming, leaves either
  // the previous package or the new one under the final name.
  const partial = `${out.replace(/\.vsix$/, '')}.partial-${process.pid}.vsix`;
  const vsceArgs = [
    vsce,
    'package',
    '--out',
    partial,
    ...(own ? ['--target', target] : []),
    '--ignoreFile',
    ignoreFile,
    '--no-update-package-json',
    '--no-git-tag-version',
  ];
  try {
    run(process.execPath, vsceArgs, `vsce package (${target})`, { failOnWarning: true });
    renameSync(partial, out);
  } finally {
    rmSync(partial, { force: true });
  }
  const { entries, missing, forbidden } = await check(out, target);
  const size = statSync(out).size;
  console.log(`[package-vsix] ${target}: ${out}, ${(size / 1024 / 1024).toFixed(1)} MiB, ${entries.length} files`);
  if (missing.length) console.error(`[package-vsix] missing from ${target}:\n  ${missing.join('\n  ')}`);
  if (forbidden.length)
    console.error(
      `[package-vsix] should not be in ${target}:\n  ${forbidden.slice(0, 20).join('\n  ')}${forbidden.length > 20 ? `\n  … ${forbidden.length - 20} more` : ''}`,
    );
  if (missing.length || forbidden.length) process.exit(1);
  return size;
}

if (!args.includes('--no-build'))
  run(process.execPath, [join(repo, 'scripts', 'build.mjs'), '--production'], 'build --production');
if (!existsSync(join(repo, pkg.main ?? 'dist/extension.js'))) {
  console.error(`[package-vsix] ${pkg.main} is missing: build first (npm run build) or leave out --no-build`);
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });
const ignoreDir = mkdtempSync(join(tmpdir(), 'attention-lens-vsix-'));
const made = [];
try {
  for (const target of targets) {
    const out = resolve(outFile ?? join(outDir, vsixName(target)));
    made.push({ target, out, size: await packageOne(target, out, ignoreDir) });
  }
} finally {
  rmSync(ignoreDir, { recursive: true, force: true });
}
console.log('[package-vsix] | package | size |');
console.log('[package-vsix] |---|---|');
for (const m of made) console.log(`[package-vsix] | ${m.target} | ${(m.size / 1024 / 1024).toFixed(1)} MiB |`);
// Last lines: the paths, for scripts (vscode-tests.mjs reads them).
for (const m of made) console.log(`VSIX ${m.target} ${m.out}`);
