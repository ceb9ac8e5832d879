// WebGPU benchmark: the same models and inputs on four paths, side by side — native onnxruntime-node and Wasm in the
// Node worker thread (the extension host's paths), and Wasm and WebGPU in a browser worker (the panel's path, in
// Debian's headless chromium). Prints median (min–max) run times in ms and load times; asserts nothing.
//
// ON THESE MACHINES THE WEBGPU ADAPTER IS SWIFTSHADER — a software Vulkan implementation running on the CPU — so the
// WebGPU column measures a software adapter and says nothing about a real GPU's speed. Browser Wasm runs on one
// thread (a webview is not cross-origin isolated, so no SharedArrayBuffer threads).
//   node scripts/build.mjs && npx tsx bench/webgpu.ts [--runs N] [--lengths 16,64,128] [--models stories260K,...]
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { load } from '../runtime/inspector/load-model';
import type { Inspector } from '../runtime/inspector/api';
import { repoRoot } from '../test/helpers/code-server';
import {
  checkModel,
  idsOf,
  MODELS,
  openWebGpuPage,
  type TestModel,
  type WebGpuPage,
} from '../test/helpers/webgpu-page';
import { fmt, summarize, table, type Summary } from './stats';

const { values: argv } = parseArgs({
  options: {
    runs: { type: 'string' },
    lengths: { type: 'string' },
    models: { type: 'string' },
    threads: { type: 'string' },
  },
});
const runs = argv.runs ? Number(argv.runs) : 5;
const lengths = (argv.lengths ?? '16,64,128').split(',').map(Number);
const threads = argv.threads ? Number(argv.threads) : 2;
const chosen = argv.models ? MODELS.filter((m) => argv.models!.split(',').includes(m.name)) : MODELS;

type Path = 'native' | 'wasm (node)' | 'wasm (browser)' | 'webgpu (swiftshader)';
const PATHS: Path[] = ['native', 'wasm (node)', 'wasm (browser)', 'webgpu (swiftshader)'];

/** `n` ids: the text's ids repeated (the values do not matter for timing). */
function idsOfLength(base: number[], n: number): number[] {
  return Array.from({ length: n }, (_, i) => base[i % base.length]);
}

interface Runner {
  loadMs: number;
  note: string;
  run(ids: number[]): Promise<number>;
  close(): Promise<void>;
}

async function nodeRunner(m: TestModel, backend: 'native' | 'wasm'): Promise<Runner> {
  const inspector: Inspector = await load(m.dir, { backend, threads, workerPath: join(repoRoot, 'dist', 'worker.js') });
  return {
    loadMs: inspector.loadMs,
    note: `${inspector.backend}, ${inspector.threads} threads`,
    async run(ids) {
      const stream = inspector.run(ids);
      for await (const layer of stream) void layer;
      return stream.timings()!.totalMs;
    },
    close: () => inspector.dispose(),
  };
}

async function pageRunner(page: WebGpuPage, m: TestModel, backend: 'wasm' | 'webgpu'): Promise<Runner> {
  const loaded = await page.load(m, { backend, fallback: 'fail', maxTokens: Math.max(...lengths) });
  if (!loaded.ok) throw new Error(`${m.name} on ${backend} in the browser: ${loaded.error.message}`);
  if (loaded.backend !== backend) throw new Error(`${m.name}: asked for ${backend}, got ${loaded.backend}`);
  return {
    loadMs: loaded.loadMs,
    note: loaded.adapter ? `adapter ${loaded.adapter}` : '1 thread',
    async run(ids) {
      const r = await page.run(ids, false);
      if (r.error) throw new Error(r.error.message);
      if (r.fallbacks.length) throw new Error(`fell back: ${r.fallbacks[0].reason}`);
      return r.ms;
    },
    close: async () => undefined,
  };
}

async function main(): Promise<void> {
  const page = await openWebGpuPage({ webgpu: true });
  const rows: string[][] = [];
  const loads: string[][] = [];
  try {
    for (const m of chosen) {
      checkModel(m);
      const base = await idsOf(m);
      const results = new Map<Path, Map<number, Summary>>();
      for (const p of PATHS) {
        const runner =
          p === 'native'
            ? await nodeRunner(m, 'native')
            : p === 'wasm (node)'
              ? await nodeRunner(m, 'wasm')
              : await pageRunner(page, m, p === 'wasm (browser)' ? 'wasm' : 'webgpu');
        loads.push([m.name, p, runner.loadMs.toFixed(0), runner.note]);
        const byLength = new Map<number, Summary>();
        try {
          for (const n of lengths) {
            const ids = idsOfLength(base, n);
            await runner.run(ids); // warm-up: shader compilation, Wasm tier-up
            const ms: number[] = [];
            for (let i = 0; i < runs; i++) ms.push(await runner.run(ids));
            byLength.set(n, summarize(ms));
            process.stderr.write(`  ${m.name} ${p} ${n} tokens: ${fmt(byLength.get(n)!, 1)} ms\n`);
          }
        } finally {
          await runner.close();
        }
        results.set(p, byLength);
      }
      for (const n of lengths) rows.push([m.name, String(n), ...PATHS.map((p) => fmt(results.get(p)!.get(n)!, 1))]);
    }
  } finally {
    await page.close();
  }
  console.log(
    `\nRun time in ms, median (min–max) of ${runs} runs after one warm-up; batch 1; Node paths ${threads} threads.`,
  );
  console.log('The WebGPU adapter here is SwiftShader (software Vulkan on the CPU): not a GPU measurement.\n');
  console.log(table(['model', 'tokens', ...PATHS], rows));
  console.log('\nLoad time in ms (read weights, build graphs, create sessions; browser: fetch + transfer too):\n');
  console.log(table(['model', 'path', 'load ms', 'engine'], loads));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
