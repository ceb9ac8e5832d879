// Builds every bundle with esbuild (no type-checking here: `npm run typecheck` does that):
//   dist/extension.js  VS Code extension host (CommonJS, 'vscode' external)
//   dist/worker.js     inference worker thread (loads weights, builds graphs, runs onnxruntime)
//   dist/cli.js        the attention-lens command
//   dist/webview.js    the panel's UI (browser IIFE)
//   dist/webview-inference.js  the panel's in-browser inference worker (ES module: onnxruntime-web's WebGPU build
//                      bundled in), with dist/ort-wasm-simd-threaded.asyncify.wasm copied beside it
//   dist/bench.js      benchmarks
//   dist/resvg.wasm, dist/fonts/  what PNG export loads at run time (writers/png.ts, writers/fonts.ts)
// In the Node bundles onnxruntime-node / onnxruntime-web stay external: they carry native binaries and .wasm files
// that are loaded from node_modules at run time (and shipped in the .vsix).
// Every file is written to a temporary name and renamed into place, and left alone when its bytes are the same: a
// build that runs while a worker or the CLI starts from dist/ (test files rebuild before they run, two at a time)
// must never let them read a half-written bundle — an inference worker that read one stopped "while loading".
// A bundle whose inputs (esbuild's metafile: every source file it read) all have the size and modification time
// recorded when it was last built, with the same options and this script and package-lock.json unchanged, is not
// rebuilt: the ~37 test files that build before they run then cost a few stats each instead of ~2.5 s of esbuild.
// `--force` rebuilds everything.
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, chmodSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const force = process.argv.includes('--force');
mkdirSync('dist', { recursive: true });

const nodeExternal = ['vscode', 'onnxruntime-node', 'onnxruntime-web', 'onnxruntime-web/*'];
const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  external: nodeExternal,
  logLevel: 'warning',
};
const targets = [
  { entry: 'extension/extension.ts', out: 'dist/extension.js', ...node },
  { entry: 'runtime/inspector/worker.ts', out: 'dist/worker.js', ...node },
  { entry: 'cli/main.ts', out: 'dist/cli.js', ...node, banner: { js: '#!/usr/bin/env node' } },
  { entry: 'bench/main.ts', out: 'dist/bench.js', ...node },
  {
    entry: 'test/integration/suite/index.ts',
    out: 'dist/test/suite/index.js',
    ...node,
    external: [...nodeExternal, 'mocha'],
  },
  {
    // WebGPU in the real panel: a mocha suite for the extension host (test/e2e/webgpu-panel.e2e.ts runs it).
    entry: 'test/e2e/webgpu-panel.suite.ts',
    out: 'dist/test/webgpu-suite/index.js',
    ...node,
    external: [...nodeExternal, 'mocha'],
  },
  {
    // Long inputs: the test API's side of the real-VS-Code phase `long` (test/e2e/long.e2e.ts runs it).
    entry: 'test/e2e/long.suite.ts',
    out: 'dist/test/long-suite/index.js',
    ...node,
    external: [...nodeExternal, 'mocha'],
  },
  {
    entry: 'webview/main.ts',
    out: 'dist/webview.js',
    bundle: true,
    platform: 'browser',
    target: 'chrome120',
    format: 'iife',
    sourcemap: production ? false : 'linked',
    minify: production,
    logLevel: 'warning',
  },
  {
    // A module worker: onnxruntime-web's ES build reads import.meta.url. The panel starts it from a blob: URL.
    entry: 'webview/inference/worker.ts',
    out: 'dist/webview-inference.js',
    bundle: true,
    platform: 'browser',
    target: 'chrome120',
    format: 'esm',
    sourcemap: production ? false : 'linked',
    minify: production,
    logLevel: 'warning',
  },
];

/** Writes `bytes` to `to` through a temporary file renamed into place; nothing when `to` already holds them. */
function writeAtomic(to, bytes, mode) {
  if (existsSync(to) && statSync(to).size === bytes.length && readFileSync(to).equals(Buffer.from(bytes))) return;
  mkdirSync(dirname(to), { recursive: true });
  const temp = `${to}.${process.pid}.tmp`;
  writeFileSync(temp, bytes);
  if (mode !== undefined) chmodSync(temp, mode);
  renameSync(temp, to);
}

/** onnxruntime-web's .wasm files the browser bundles load (handed to the worker as bytes by the page). */
const WEB_WASM = ['ort-wasm-simd-threaded.asyncify.wasm'];
function copyWebWasm() {
  const dist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web')); // …/onnxruntime-web/dist
  for (const name of WEB_WASM) {
    const from = join(dist, name);
    const to = join('dist', name);
    if (!existsSync(to) || statSync(to).size !== statSync(from).size || statSync(to).mtimeMs < statSync(from).mtimeMs)
      writeAtomic(to, readFileSync(from));
  }
}

/** resvg's WebAssembly and the bundled font, beside the Node bundles that export PNG. */
function copyPngAssets() {
  const require = createRequire(import.meta.url);
  const assets = [
    [require.resolve('@resvg/resvg-wasm/index_bg.wasm'), join('dist', 'resvg.wasm')],
    [join('writers', 'assets', 'DejaVuSans-subset.ttf'), join('dist', 'fonts', 'DejaVuSans-subset.ttf')],
    [join('writers', 'assets', 'LICENSE.txt'), join('dist', 'fonts', 'LICENSE.txt')],
  ];
  mkdirSync(join('dist', 'fonts'), { recursive: true });
  for (const [from, to] of assets)
    if (!existsSync(to) || statSync(to).size !== statSync(from).size || statSync(to).mtimeMs < statSync(from).mtimeMs)
      writeAtomic(to, readFileSync(from));
}

/** What a bundle was last built from: dist/.build-inputs.json, { [out]: { key, inputs: { [file]: [size, mtimeMs] } } }. */
const STAMP = join('dist', '.build-inputs.json');
function readStamp() {
  try {
    return JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return {};
  }
}
const fileState = (f) => {
  try {
    const st = statSync(f);
    return [st.size, st.mtimeMs];
  } catch {
    return null;
  }
};
const sameState = (a, b) => a !== null && b !== null && a[0] === b[0] && a[1] === b[1];
/** The options, this script and the lockfile: a change to any rebuilds every bundle. */
const keyOf = (options) =>
  createHash('sha256')
    .update(JSON.stringify(options))
    .update(JSON.stringify([fileState(fileURLToPath(import.meta.url)), fileState('package-lock.json')]))
    .digest('hex');
/** Whether `out` was built from `key` and its recorded inputs are as they were; its outputs still there. */
function upToDate(stamp, out, key) {
  const s = stamp[out];
  if (!s || s.key !== key || !existsSync(out) || (!production && !existsSync(`${out}.map`))) return false;
  return Object.entries(s.inputs).every(([f, st]) => sameState(fileState(f), st));
}

const contexts = [];
const stamp = watch ? {} : readStamp();
let built = 0;
for (const { entry, out, ...opts } of targets) {
  if (!existsSync(entry)) continue;
  const options = { entryPoints: [entry], outfile: out, ...opts };
  if (watch) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
    contexts.push(ctx);
  } else {
    const key = keyOf(options);
    if (!force && upToDate(stamp, out, key)) continue;
    const started = Date.now();
    const result = await esbuild.build({ ...options, write: false, metafile: true });
    for (const file of result.outputFiles)
      writeAtomic(file.path, file.contents, file.path.endsWith(join('dist', 'cli.js')) ? 0o755 : undefined);
    const inputs = Object.fromEntries(Object.keys(result.metafile.inputs).map((f) => [f, fileState(f)]));
    // Not recorded (so rebuilt next time): a bundle with an input that is no file on disk (a namespace), or one
    // modified since shortly before this build started — it may have been saved after esbuild read it.
    const unsure = Object.values(inputs).some((st) => st === null || st[1] >= started - 2000);
    stamp[out] = unsure ? undefined : { key, inputs };
    built++;
  }
}
if (!watch && built > 0) writeAtomic(STAMP, Buffer.from(JSON.stringify(stamp)));
if (existsSync('dist/cli.js')) chmodSync('dist/cli.js', 0o755);
copyWebWasm();
copyPngAssets();
if (!watch) console.log(`build: ${targets.filter((t) => existsSync(t.entry)).length} bundles in dist/`);
