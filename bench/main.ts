// `npm run bench`: how fast the inspector streams attention, against onnxruntime running the same model as one
// plain session. For all-MiniLM-L6-v2, SmolLM2-135M-Instruct as a Q4_1 GGUF and a synthetic BERT-base on both
// backends it prints load time, time to the
// first layer, total run time, GFLOP/s, peak RSS, the calling thread's worst event-loop delay, and the ratio to the
// raw baseline. Figures are printed, never asserted (the machine is shared; see docs/performance.md).
// Then the explain section (bench/explain.ts); `--explain` runs only that section.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { defaultThreads, load, loadSynthetic, type SyntheticSpec } from '../runtime/inspector/load-model';
import type { Inspector } from '../runtime/inspector/api';
import { readModel, type ModelSource } from '../runtime/models/read-model';
import { readGgufModel } from '../runtime/models/gguf-source';
import { syntheticBert } from '../runtime/models/synthetic';
import type { BackendName } from '../runtime/types';
import { forwardFlops, type Dims } from './flops';
import { RawModel } from './raw';
import { fmt, summarize, table, type Summary } from './stats';
import { benchExplain } from './explain';

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    backend: { type: 'string' },
    threads: { type: 'string' },
    runs: { type: 'string' },
    explain: { type: 'boolean' },
    only: { type: 'string' },
  },
});
const quick = argv.quick === true;
const threads = argv.threads ? Number(argv.threads) : defaultThreads();
const backends: BackendName[] = argv.backend ? [argv.backend as BackendName] : ['native', 'wasm'];
const baseRuns = argv.runs ? Number(argv.runs) : quick ? 3 : 5;

interface BenchModel {
  label: string;
  dims: Dims;
  lengths: number[];
  open: (backend: BackendName) => Promise<Inspector>;
  source: () => Promise<ModelSource>;
  ids: (n: number) => number[];
}

/** Deterministic ids (xorshift) in [lo, hi). */
function randomIds(n: number, lo: number, hi: number, seed = 7): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return lo + ((s >>> 0) % (hi - lo));
  });
}

const minilmDir = path.resolve('.cache/models/all-MiniLM-L6-v2');
const bertBase: SyntheticSpec = {
  layers: 12,
  hidden: 768,
  heads: 12,
  intermediate: 3072,
  vocab: 30522,
  maxPositions: 512,
  seed: 1,
};

const models: BenchModel[] = [];
if (existsSync(path.join(minilmDir, 'model.safetensors'))) {
  const cfg = JSON.parse(readFileSync(path.join(minilmDir, 'config.json'), 'utf8'));
  models.push({
    label: 'MiniLM-L6 (6×384)',
    dims: { layers: cfg.num_hidden_layers, hidden: cfg.hidden_size, intermediate: cfg.intermediate_size },
    lengths: quick ? [32, 128] : [32, 128, 512],
    open: (backend) => load(minilmDir, { backend, threads }),
    source: () => readModel(minilmDir),
    ids: (n) => [101, ...randomIds(n - 2, 1000, 30000), 102],
  });
} else {
  console.log(`(all-MiniLM-L6-v2 is not in ${minilmDir}; run \`node scripts/fetch-model.mjs\` to include it)`);
}
const smolFile = path.resolve('.cache/models/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf');
/** For the RSS note: the GGUF file's size and the model's weights as float32. */
const fileNotes: { label: string; fileBytes: number; fp32Bytes: number }[] = [];
if (existsSync(smolFile)) {
  const label = 'SmolLM2-135M Q4_1 GGUF (30×576)';
  models.push({
    label,
    // A SiLU-gated MLP has three matrices: counted as 1.5 × a two-matrix MLP of the same inner size.
    dims: { layers: 30, hidden: 576, intermediate: 1536 * 1.5, kvHidden: 192 },
    lengths: quick ? [128] : [128, 512],
    open: (backend) => load(smolFile, { backend, threads }),
    source: async () => readGgufModel(smolFile),
    ids: (n) => randomIds(n, 0, 49152),
  });
  const w = readGgufModel(smolFile).weights;
  let fp32 = 0;
  for (const n of w.names()) fp32 += w.shape(n).reduce((a, b) => a * b, 1) * 4;
  fileNotes.push({ label, fileBytes: statSync(smolFile).size, fp32Bytes: fp32 });
} else {
  console.log(`(SmolLM2 is not in ${smolFile}; run \`node scripts/fetch-model.mjs\` to include it)`);
}
models.push({
  label: 'synthetic BERT-base (12×768)',
  dims: { layers: 12, hidden: 768, intermediate: 3072 },
  lengths: quick ? [128] : [128, 512],
  open: (backend) => loadSynthetic(bertBase, { backend, threads }),
  source: async () => syntheticBert(bertBase),
  ids: (n) => randomIds(n, 0, bertBase.vocab),
});

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const mb = (bytes: number) => bytes / 2 ** 20;

/** Samples the process RSS (main thread + worker) every 20 ms while active. */
function rssSampler(): { stop: () => number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

interface LensSample {
  firstMs: number;
  totalMs: number;
  /** The process's CPU time (user + system, every thread) during the run, ms. */
  cpuMs: number;
  /** Worst event-loop delay of this thread during the run, ms. */
  loopMs: number;
}

async function lensRun(inspector: Inspector, ids: number[]): Promise<LensSample> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  const cpu0 = process.cpuUsage();
  const run = inspector.run(ids);
  for await (const _layer of run) {
    // consume: the layers arrive as transferred buffers
  }
  const cpu = process.cpuUsage(cpu0);
  h.disable();
  const t = run.timings()!;
  return { firstMs: t.firstLayerMs, totalMs: t.totalMs, cpuMs: (cpu.user + cpu.system) / 1000, loopMs: h.max / 1e6 };
}

/** raw.run's milliseconds and the process's CPU time during it (user + system, every thread), ms. */
async function rawRun(raw: RawModel, ids: number[]): Promise<{ ms: number; cpuMs: number }> {
  const cpu0 = process.cpuUsage();
  const ms = await raw.run(ids);
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

interface Row {
  model: string;
  backend: BackendName;
  tokens: number;
  runs: number;
  loadS: number;
  first: Summary;
  total: Summary;
  raw: Summary;
  /** The process's CPU time during each run (all threads), ms. */
  cpu: Summary;
  /** Median of the per-pair ratios of CPU time (run / raw), min and max. */
  cpuRatio: Summary;
  gflops: number;
  rssMb: number;
  loopMs: number;
}

async function main(): Promise<void> {
  if (argv.explain) {
    await benchExplain(backends, threads, baseRuns);
    return;
  }
  const rows: Row[] = [];
  const notes: string[] = [];
  const t0 = performance.now();

  // --only TEXT: the models whose label contains TEXT, without the explain section.
  for (const model of models.filter((m) => !argv.only || m.label.includes(argv.only))) {
    let source: ModelSource | undefined;
    for (const backend of backends) {
      gc();
      const sampler = rssSampler();
      const loadStart = performance.now();
      let inspector: Inspector;
      try {
        inspector = await model.open(backend);
      } catch (e) {
        sampler.stop();
        notes.push(`${model.label} on ${backend}: could not load (${(e as Error).message})`);
        continue;
      }
      const loadS = (performance.now() - loadStart) / 1000;
      // Warm-up (Wasm runs slowly for its first seconds while V8 optimises).
      for (const n of model.lengths) await lensRun(inspector, model.ids(n));
      const rssMb = mb(sampler.stop());
      // The calling thread's event-loop delay, measured before the raw baseline exists: that baseline runs
      // onnxruntime on this very thread (the ratio needs it in-process), and its Wasm runs and garbage would
      // be charged to the inspector, which in the extension shares the thread with nothing of the kind.
      const loopByLength = new Map<number, number>();
      for (const n of model.lengths) {
        const samples: number[] = [];
        for (let i = 0; i < baseRuns; i++) samples.push((await lensRun(inspector, model.ids(n))).loopMs);
        loopByLength.set(n, Math.max(...samples));
      }

      source ??= await model.source();
      const raw = await RawModel.create(source, backend, threads);
      for (const n of model.lengths) await raw.run(model.ids(n));

      for (const n of model.lengths) {
        const ids = model.ids(n);
        const slow = backend === 'wasm' && n >= 512 && model.dims.hidden >= 768;
        // Native runs are short and the machine is shared: three times the runs for a steadier median.
        const runs = slow ? Math.min(baseRuns, 3) : backend === 'native' ? baseRuns * 3 : baseRuns;
        if (slow && runs < baseRuns)
          notes.push(`${model.label} on wasm at ${n} tokens: ${runs} runs (slow), not ${baseRuns}.`);
        const lens: LensSample[] = [];
        const rawMs: number[] = [];
        const cpuRatios: number[] = [];
        // Interleaved, so that load from other processes hits both alike, and alternating which goes first, so that
        // the state one leaves behind (caches, idle cores) does not always fall on the other.
        for (let i = 0; i < runs; i++) {
          let l: LensSample;
          let r: { ms: number; cpuMs: number };
          if (i % 2 === 0) {
            l = await lensRun(inspector, ids);
            r = await rawRun(raw, ids);
          } else {
            r = await rawRun(raw, ids);
            l = await lensRun(inspector, ids);
          }
          lens.push(l);
          rawMs.push(r.ms);
          cpuRatios.push(l.cpuMs / r.cpuMs);
        }
        const total = summarize(lens.map((s) => s.totalMs));
        rows.push({
          model: model.label,
          backend,
          tokens: n,
          runs,
          loadS,
          first: summarize(lens.map((s) => s.firstMs)),
          total,
          raw: summarize(rawMs),
          cpu: summarize(lens.map((s) => s.cpuMs)),
          cpuRatio: summarize(cpuRatios),
          gflops: forwardFlops(model.dims, n) / (total.median / 1000) / 1e9,
          rssMb,
          loopMs: loopByLength.get(n) ?? Math.max(...lens.map((s) => s.loopMs)),
        });
        process.stderr.write(`  ${model.label} ${backend} ${n} tokens: total ${total.median.toFixed(1)} ms\n`);
      }
      await inspector.dispose();
      await raw.release();
    }
    source = undefined;
  }

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `\nAttention Lens bench — Node ${process.version}, ${availableParallelism()} cores (${cpu}), ${threads} inference threads${quick ? ', --quick' : ''}`,
  );
  console.log('Times in ms: median (min–max) over the runs after a warm-up. raw = the same model as one onnxruntime');
  console.log(
    'session without attention outputs, same backend and threads, in this process. ratio = total / raw (medians).\n' +
      'cpu ratio = the process CPU time (user + system, all threads) of a run over its paired raw run: median (range);\n' +
      'on a loaded machine it moves far less than wall time.',
  );
  console.log(
    'RSS = process peak (main + worker) during load and warm-up. loop = worst event-loop delay of the calling thread\n' +
      'over runs made before the in-process raw baseline exists (it would block this thread itself).\n',
  );
  console.log(
    table(
      [
        'model',
        'backend',
        'tokens',
        'runs',
        'load s',
        'first layer',
        'total',
        'raw',
        'ratio',
        'cpu ms',
        'cpu ratio',
        'first/total',
        'GFLOP/s',
        'RSS MB',
        'loop ms',
      ],
      rows.map((r) => [
        r.model,
        r.backend,
        String(r.tokens),
        String(r.runs),
        r.loadS.toFixed(2),
        fmt(r.first, 1),
        fmt(r.total, 1),
        fmt(r.raw, 1),
        (r.total.median / r.raw.median).toFixed(2),
        r.cpu.median.toFixed(0),
        fmt(r.cpuRatio, 2),
        (r.first.median / r.total.median).toFixed(2),
        r.gflops.toFixed(1),
        r.rssMb.toFixed(0),
        r.loopMs.toFixed(1),
      ]),
    ),
  );

  console.log(
    '\nTargets: native backend at 128 tokens: total ≤ 1.15 × raw native; first layer ≤ 0.25 × total; calling thread never blocked > 50 ms.',
  );
  for (const r of rows) {
    const ratio = r.total.median / r.raw.median;
    const first = r.first.median / r.total.median;
    if (r.backend === 'native' && r.tokens === 128) {
      console.log(
        `  ${r.model}: ratio ${ratio.toFixed(2)} ${ratio <= 1.15 ? 'ok' : 'MISSED'}, first/total ${first.toFixed(2)} ${first <= 0.25 ? 'ok' : 'MISSED'}, loop ${r.loopMs.toFixed(1)} ms ${r.loopMs <= 50 ? 'ok' : 'MISSED'}`,
      );
    }
  }
  const worstLoop = Math.max(...rows.map((r) => r.loopMs));
  console.log(
    `  worst event-loop delay over all runs: ${worstLoop.toFixed(1)} ms ${worstLoop <= 50 ? 'ok' : 'MISSED'}`,
  );
  for (const f of fileNotes)
    for (const r of rows.filter(
      (x) =>
        x.model === f.label && x.tokens === Math.max(...rows.filter((y) => y.model === f.label).map((y) => y.tokens)),
    ))
      console.log(
        `  ${f.label} on ${r.backend}: peak RSS ${r.rssMb.toFixed(0)} MB = ${(r.rssMb / mb(f.fileBytes)).toFixed(1)} × the GGUF file (${mb(f.fileBytes).toFixed(0)} MB), ${(r.rssMb / mb(f.fp32Bytes)).toFixed(2)} × its weights as float32 (${mb(f.fp32Bytes).toFixed(0)} MB): weights are held as float32.`,
      );
  for (const n of notes) console.log(`note: ${n}`);
  if (!argv.only) await benchExplain(backends, threads, baseRuns);
  console.log(`bench took ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
