// `npx tsx bench/long-inputs.ts [--lengths 512,2048] [--runs 2] [--threads N] [--modes graph] [--backend wasm]`:
// SmolLM2-135M (Q4_1 GGUF) on long inputs, native (or Wasm). Per length: the raw baseline (the whole model as one onnxruntime session without attention
// outputs, bench/raw.ts), today's run that keeps every dense map, and the run kept for long inputs (per layer q, k,
// rows' log-sum-exp and head summaries read from each layer's map as it streams, runtime/attention/kept-run.ts) —
// median and range of total and first-layer times, their ratios to raw, the bytes kept for attention and the peak
// RSS so far; then the cost of exact values recomputed on demand (hover, a row, a column, a 64 × 64 window).
// Printed, never asserted: the machine is shared (few runs; say so when quoting).
import { loadavg as osLoad } from 'node:os';
import { parseArgs } from 'node:util';
import { KeptRun } from '../runtime/attention/kept-run';
import { KEPT_TOP_K } from '../runtime/inspector/long-runs';
import { queryRows, type LayerSummaryTensors } from '../runtime/models/attention-summaries';
import { StageEngine } from '../runtime/inspector/engine';
import { readGgufModel } from '../runtime/models/gguf-source';
import { buildPlan } from '../runtime/models/read-model';
import { smolLm2Gguf } from '../test/helpers/fixtures';
import { RawModel } from './raw';
import { fmt, summarize, table } from './stats';
import { seededIds } from './seeded-ids';

const { values: argv } = parseArgs({
  options: {
    lengths: { type: 'string' },
    runs: { type: 'string' },
    threads: { type: 'string' },
    modes: { type: 'string' },
    backend: { type: 'string' },
    // Rows per query block of the kept runs (default queryRows(n, heads)).
    rows: { type: 'string' },
  },
});
const lengths = (argv.lengths ?? '512,1024,2048').split(',').map(Number);
const runs = Number(argv.runs ?? 2);
// arena: the graph run with onnxruntime's CPU arena on its layer sessions (the engine's default is off).
const modes = (argv.modes ?? 'dense,kept,graph').split(',') as ('dense' | 'kept' | 'graph' | 'arena')[];
const threads = Number(argv.threads ?? 2);
const backend = (argv.backend ?? 'native') as 'native' | 'wasm';
const MB = 2 ** 20;
const loadavg = () =>
  osLoad()
    .map((x) => x.toFixed(1))
    .join(' ');
const rssMB = () => process.resourceUsage().maxRSS / 1024;
/** CPU milliseconds of the process (every thread: onnxruntime's pool too) since `from`. */
const cpuMs = (from: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(from);
  return (c.user + c.system) / 1000;
};

async function main(): Promise<void> {
  const source = readGgufModel(smolLm2Gguf());
  const plan = buildPlan(source);
  const f = plan.facts;
  const tRaw = performance.now();
  const raw = await RawModel.create(source, backend, threads);
  const rawCreateS = (performance.now() - tRaw) / 1000;
  const engine = await StageEngine.create(plan, backend, threads);
  // Warm-up: both engine variants' sessions are created on first use.
  for (const withVectors of [false, true])
    await engine.run(seededIds(16, f.vocabSize), { withVectors, onLayer: () => {} });
  await raw.run(seededIds(16, f.vocabSize));
  console.log(
    `SmolLM2-135M Q4_1, ${backend}, ${threads} threads, ${runs} runs per row (shared 2-core machine, load ${loadavg()})\n`,
  );
  const rows: string[][] = [];
  const exactRows: string[][] = [];
  for (const n of lengths) {
    const ids = seededIds(n, f.vocabSize);
    const rawMs: number[] = [];
    const rawCpu: number[] = [];
    const mode = () => ({ total: [] as number[], first: [] as number[], cpu: [] as number[], bytes: 0 });
    const dense = mode();
    const kept = mode();
    const graph = mode();
    const arena = mode();
    const graphKeepMs: number[] = [];
    const arenaKeepMs: number[] = [];
    const keepMs: number[] = [];
    let last: KeptRun | undefined;
    // The summaries variant's layer sessions (one a layer, for every length: the first long run after loading the
    // model pays this once), created before timing and printed apart, beside raw's own session creation.
    const t0 = performance.now();
    for (const mode of modes) if (mode === 'graph' || mode === 'arena') await engine.prepareLong(mode === 'arena');
    console.log(
      `${n} tokens (${queryRows(n, f.heads)} rows a block): summaries sessions created in ${((performance.now() - t0) / 1000).toFixed(1)} s (once per model; raw's session: ${rawCreateS.toFixed(1)} s)`,
    );
    for (let r = 0; r < runs; r++) {
      const c0 = process.cpuUsage();
      rawMs.push(await raw.run(ids));
      rawCpu.push(cpuMs(c0));
      for (const mode of modes) {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        let first = 0;
        const maps: Float32Array[] = [];
        const run = new KeptRun(f, { topK: KEPT_TOP_K, specials: [0], block: 64 });
        const summaries = {
          arena: mode === 'arena',
          ...(argv.rows ? { rows: Number(argv.rows) } : {}),
          topK: KEPT_TOP_K,
          specials: [0],
          onSummaries: (t: LayerSummaryTensors) => {
            const t1 = performance.now();
            run.addSummaries(t);
            (mode === 'arena' ? arenaKeepMs : graphKeepMs).push(performance.now() - t1);
            if (t.layer === 0) first = performance.now() - t0;
          },
        };
        await engine.run(ids, {
          ...(mode === 'graph' || mode === 'arena' ? { summaries } : {}),
          withVectors: mode === 'kept',
          onLayer: (attention, q, k) => {
            if (mode === 'dense') maps.push(attention.data);
            else {
              const t1 = performance.now();
              run.add(attention, q, k);
              keepMs.push(performance.now() - t1);
            }
            if (attention.layer === 0) first = performance.now() - t0;
          },
        });
        const m = mode === 'dense' ? dense : mode === 'kept' ? kept : mode === 'arena' ? arena : graph;
        m.total.push(performance.now() - t0);
        m.cpu.push(cpuMs(c0));
        m.first.push(first);
        m.bytes = mode === 'dense' ? maps.reduce((a, x) => a + x.byteLength, 0) : run.bytes();
        if (mode === 'graph') last = run;
        maps.length = 0;
      }
    }
    const base = summarize(rawMs).median;
    for (const [label, m] of [
      ['dense maps (today)', dense],
      ['kept, summaries in JS', kept],
      ['kept, summaries in graph', graph],
      ['kept, in graph, arena', arena],
    ] as const) {
      if (m.total.length === 0) continue;
      const t = summarize(m.total);
      rows.push([
        String(n),
        label,
        fmt(summarize(rawMs)),
        fmt(t),
        (t.median / base).toFixed(2),
        fmt(summarize(rawCpu)),
        fmt(summarize(m.cpu)),
        (summarize(m.cpu).median / summarize(rawCpu).median).toFixed(2),
        (summarize(m.first).median / t.median).toFixed(2),
        (
          (m === kept ? keepMs : m === graph ? graphKeepMs : m === arena ? arenaKeepMs : [0]).reduce(
            (a, x) => a + x,
            0,
          ) / runs
        ).toFixed(0),
        (m.bytes / MB).toFixed(0),
        rssMB().toFixed(0),
      ]);
    }
    // Each length's rows as soon as they exist (a long length may not finish on a loaded machine).
    for (const r of rows.filter((x) => x[0] === String(n))) console.log(`${r.join(' | ')} (load ${loadavg()})`);
    // Exact values on demand from the last kept run: the middle layer, head 0, the last query.
    const ex = last?.layer(Math.floor(f.layers / 2))?.exact;
    if (!ex) continue;
    const time = (fn: () => void, reps: number) => {
      const xs: number[] = [];
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        fn();
        xs.push(performance.now() - t0);
      }
      return fmt(summarize(xs), 2);
    };
    exactRows.push([
      String(n),
      'ms',
      time(() => ex.value(0, n - 1, n >> 1), 20),
      time(() => ex.row(0, n - 1), 5),
      time(() => ex.column(0, n >> 1), 3),
      time(() => ex.window(0, { start: n - 64, end: n }, { start: n - 128, end: n - 64 }), 3),
    ]);
  }
  console.log(
    table(
      [
        'tokens',
        'run',
        'raw ms',
        'run ms',
        '× raw',
        'raw CPU ms',
        'run CPU ms',
        'CPU × raw',
        'first/total',
        'JS keep ms',
        'kept MB',
        'peak RSS MB',
      ],
      rows,
    ),
  );
  console.log('\nExact values recomputed on demand (middle layer, head 0):');
  console.log(table(['tokens', 'unit', 'value', 'row', 'column', '64×64 window'], exactRows));
  await raw.release();
  await engine.release();
}

void main();
