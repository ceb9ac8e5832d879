// Builds every bundle with esbuild (no type-checking here: `npm run typecheck` does that):
//   dist/extension.js  VS Code extension host (CommonJS, 'vscode' external)
//   dist/worker.js     inference worker thread (loads weights, builds graphs, runs onnxruntime)
//   dist/cli.js        the attention-lens command
//   dist/webview.js    the panel's UI (browser IIFE)
//   dist/bench.js      benchmarks
// onnxruntime-node / onnxruntime-web stay external: they carry native binaries and .wasm files that are loaded
// from node_modules at run time (and shipped in the .vsix).
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, chmodSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
mkdirSync('dist', { recursive: true });

const nodeExternal = ['vscode', 'onnxruntime-node', 'onnxruntime-web'];
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
];

const contexts = [];
for (const { entry, out, ...opts } of targets) {
  if (!existsSync(entry)) continue;
  const options = { entryPoints: [entry], outfile: out, ...opts };
  if (watch) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
    contexts.push(ctx);
  } else {
    await esbuild.build(options);
  }
}
if (existsSync('dist/cli.js')) chmodSync('dist/cli.js', 0o755);
if (!watch) console.log(`build: ${targets.filter((t) => existsSync(t.entry)).length} bundles in dist/`);
