// `npx tsx bench/generate.ts [--model FILE.gguf|DIR] [--prompt N] [--new N] [--runs N] [--wasm-runs N]`: what
// attention rows cost during KV-cached generation. Per backend, the same decode-step graph with every layer's
// attention as outputs and without them (the plain KV-cached decoder: the baseline) generate --new tokens greedily
// after a --prompt-token prompt, interleaved, in this process; prints per-token latency (the steps after the
// prefill, mean per run; wall time and the process's CPU time) as median (min–max) over the runs, the ratios
// with/without attention, the prefill time and tokens/s. Defaults: SmolLM2-135M-Instruct Q4_1 GGUF, 512-token
// prompt, 64 new tokens (issue 16's target ≤ 1.15×).
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { KvGenerator } from '../runtime/generate/kv-generator';
import { defaultThreads } from '../runtime/inspector/load-model';
import { readGgufModel } from '../runtime/models/gguf-source';
import { readModel, type ModelSource } from '../runtime/models/read-model';
import type { BackendName } from '../runtime/types';
import { smolLm2Gguf } from '../test/helpers/fixtures';
import { fmt, summarize, table } from './stats';

const { values: argv } = parseArgs({
  options: {
    model: { type: 'string' },
    prompt: { type: 'string' },
    new: { type: 'string' },
    runs: { type: 'string' },
    'wasm-runs': { type: 'string' },
  },
});
const model = path.resolve(argv.model ?? smolLm2Gguf());
const promptTokens = Number(argv.prompt ?? 512);
const newTokens = Number(argv.new ?? 64);
const runs = Number(argv.runs ?? 3);
const wasmRuns = Number(argv['wasm-runs'] ?? 1);
const threads = defaultThreads();

interface Sample {
  prefillMs: number;
  /** Mean of the steps after the prefill. */
  perTokenMs: number;
  /** The same in CPU time of the whole process (every onnxruntime thread): steadier than wall time on a machine
   * shared with other work. */
  cpuPerTokenMs: number;
}

async function once(gen: KvGenerator, ids: number[]): Promise<Sample> {
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const t0 = performance.now();
  let prefillEnd = t0;
  let cpuStart = cpu();
  let steps = 0;
  for await (const s of gen.generate(ids, { maxNew: newTokens })) {
    if (s.kind === 'prompt') {
      prefillEnd = performance.now();
      cpuStart = cpu();
    } else steps++;
  }
  return {
    prefillMs: prefillEnd - t0,
    perTokenMs: (performance.now() - prefillEnd) / steps,
    cpuPerTokenMs: (cpu() - cpuStart) / steps,
  };
}

async function backendRows(source: ModelSource, backend: BackendName, n: number, ids: number[]): Promise<string[][]> {
  const gens = {
    'without attention': await KvGenerator.create(source, { backend, threads, attention: false }),
    'with attention rows': await KvGenerator.create(source, { backend, threads, attention: true }),
  };
  const names = Object.keys(gens) as (keyof typeof gens)[];
  const samples: Record<string, Sample[]> = { 'without attention': [], 'with attention rows': [] };
  await once(gens['without attention'], ids.slice(0, 16)); // warm-up (short)
  await once(gens['with attention rows'], ids.slice(0, 16));
  // Interleaved, rotating which goes first.
  for (let i = 0; i < n; i++)
    for (let j = 0; j < names.length; j++) {
      const name = names[(i + j) % names.length];
      samples[name].push(await once(gens[name], ids));
    }
  for (const g of Object.values(gens)) await g.dispose();
  const base = summarize(samples['without attention'].map((s) => s.perTokenMs)).median;
  const cpuBase = summarize(samples['without attention'].map((s) => s.cpuPerTokenMs)).median;
  return names.map((name) => {
    const per = summarize(samples[name].map((s) => s.perTokenMs));
    const cpu = summarize(samples[name].map((s) => s.cpuPerTokenMs));
    const prefill = summarize(samples[name].map((s) => s.prefillMs));
    const tps = summarize(samples[name].map((s) => 1000 / s.perTokenMs));
    return [
      backend,
      name,
      fmt(per, 1),
      `${(per.median / base).toFixed(3)}×`,
      fmt(cpu, 1),
      `${(cpu.median / cpuBase).toFixed(3)}×`,
      fmt(prefill),
      fmt(tps, 1),
    ];
  });
}

async function main(): Promise<void> {
  const source = model.endsWith('.gguf') ? readGgufModel(model) : await readModel(model);
  const V = source.config.vocabSize;
  const ids = Array.from({ length: promptTokens }, (_, i) => 1000 + ((i * 7919) % Math.max(1, V - 1000)));
  const rows = runs > 0 ? await backendRows(source, 'native', runs, ids) : [];
  if (wasmRuns > 0) rows.push(...(await backendRows(source, 'wasm', wasmRuns, ids)));
  console.log(
    `\n${path.basename(model)} (${source.config.layers} layers × ${source.config.hidden}), ${promptTokens}-token ` +
      `prompt, ${newTokens} new tokens (greedy), ${threads} threads; native ${runs} runs, wasm ${wasmRuns}, ` +
      'interleaved, in-process',
  );
  console.log(
    table(
      [
        'backend',
        'decode-step graph',
        'ms/token',
        'ratio',
        'CPU ms/token',
        'CPU ratio',
        'prefill ms',
        'tokens/s (after prefill)',
      ],
      rows,
    ),
  );
}

void main();
