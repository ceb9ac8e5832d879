#!/usr/bin/env node
// Packages the extension as a .vsix with @vscode/vsce 3 (runs on Node 20), dependencies included:
// onnxruntime-node's native binding and onnxruntime-web's .wasm must be inside the package (.vscodeignore trims
// the rest: sources, tests, other platforms' binaries).
//
//   node scripts/package-vsix.mjs              build (--production) + package → attention-lens-<version>-linux-x64.vsix
//   node scripts/package-vsix.mjs --no-build   package the current dist/
//   node scripts/package-vsix.mjs --out FILE
//
// The package is platform-specific (vsce --target linux-x64): it carries only onnxruntime-node's linux/x64
// binary. Prints the .vsix path and size, and checks its content (required files in, sources/tests out).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const argValue = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const target = 'linux-x64';
const out = resolve(argValue('--out') ?? join(repo, `${pkg.name}-${pkg.version}-${target}.vsix`));

function run(cmd, cmdArgs, what) {
  const t0 = Date.now();
  console.log(`[package-vsix] $ ${[cmd, ...cmdArgs].map((a) => relative(repo, a) || a).join(' ')}`);
  const r = spawnSync(cmd, cmdArgs, {
    cwd: repo,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, CI: 'true' },
    timeout: 300_000,
  });
  if (r.status !== 0) {
    console.error(`[package-vsix] ${what} failed (${r.error?.message ?? `exit ${r.status}`})`);
    process.exit(1);
  }
  console.log(`[package-vsix] ${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

if (!args.includes('--no-build'))
  run(process.execPath, [join(repo, 'scripts', 'build.mjs'), '--production'], 'build --production');
if (!existsSync(join(repo, pkg.main ?? 'dist/extension.js'))) {
  console.error(`[package-vsix] ${pkg.main} is missing after the build`);
  process.exit(1);
}

const vsce = join(dirname(require.resolve('@vscode/vsce/package.json')), 'vsce');
const vsceArgs = [
  vsce,
  'package',
  '--out',
  out,
  '--target',
  target,
  '--allow-missing-repository',
  '--skip-license',
  '--no-update-package-json',
  '--no-git-tag-version',
];
run(process.execPath, vsceArgs, 'vsce package');

// Check the content.
const AdmZip = require('adm-zip');
const entries = new AdmZip(out).getEntries().map((e) => e.entryName);
const has = (p) => entries.includes(`extension/${p}`);
const required = [
  'package.json',
  pkg.main.replace(/^\.\//, ''),
  'node_modules/onnxruntime-node/package.json',
  'node_modules/onnxruntime-node/dist/index.js',
  'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
  'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
  'node_modules/onnxruntime-web/package.json',
  'node_modules/onnxruntime-web/dist/ort.node.min.js',
  'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm',
  'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.mjs',
  'node_modules/onnxruntime-common/package.json',
];
for (const f of [
  'dist/webview.js',
  'dist/worker.js',
  // In-webview inference (backend webgpu/auto): the worker bundle and onnxruntime-web's WebGPU .wasm it loads.
  'dist/webview-inference.js',
  'dist/ort-wasm-simd-threaded.asyncify.wasm',
  // PNG export: resvg's WebAssembly and the bundled fallback font.
  'dist/resvg.wasm',
  'dist/fonts/DejaVuSans-subset.ttf',
])
  if (existsSync(join(repo, f))) required.push(f);
const missing = required.filter((p) => !has(p));
const forbidden = entries.filter(
  (e) =>
    /^extension\/(test|scripts|runtime|extension|protocol|webview|figures|writers|cli|bench|docs|\.cache|test-results|dist\/test)\//.test(
      e,
    ) ||
    /^extension\/node_modules\/onnxruntime-node\/bin\/napi-v6\/(darwin|win32|linux\/arm64)\//.test(e) ||
    /\.map$/.test(e),
);
const size = statSync(out).size;
console.log(`[package-vsix] ${out}`);
console.log(`[package-vsix] size: ${(size / 1024 / 1024).toFixed(1)} MiB, ${entries.length} files`);
if (missing.length) console.error(`[package-vsix] missing from the .vsix:\n  ${missing.join('\n  ')}`);
if (forbidden.length)
  console.error(
    `[package-vsix] should not be in the .vsix:\n  ${forbidden.slice(0, 20).join('\n  ')}${forbidden.length > 20 ? `\n  … ${forbidden.length - 20} more` : ''}`,
  );
if (missing.length || forbidden.length) process.exit(1);
// Last line: the path, for scripts (vscode-tests.mjs reads it).
console.log(`VSIX ${out}`);
