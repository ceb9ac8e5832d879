// `nice npx tsx bench/long-memory.ts [--backend native|wasm] [--lengths 2048,8192] [--runs 2] [--modes kept,raw]`:
// what a run kept for long inputs really takes, against what runtime/models/memory-estimate.ts says before the
// load, and how far the Wasm backend (one 4 GiB heap per process) reaches. Each (length, mode) runs in a fresh
// process, so one heap or peak RSS is never another's: 'kept' loads SmolLM2-135M (Q4_1 GGUF) as the product does (the
// layer sessions, one short run, then the summaries variant a kept run creates) and times kept runs; 'raw' times the
// whole model as one session without attention outputs (bench/raw.ts), the same graph's baseline; 'maps' runs the
// layers' plain sessions, every map returned and dropped (the Wasm heap's n² term). Printed per row:
// wall time median and range, the peak RSS and its rise during the runs, the Wasm heap at its largest (a Wasm memory
// never shrinks), the bytes the kept run holds and the estimate's parts; a run that fails prints its one line.
// Printed, never asserted: the machine is shared (load average printed per row).
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { seededIds } from './seeded-ids';

const { values: argv } = parseArgs({
  options: {
    backend: { type: 'string' },
    lengths: { type: 'string' },
    runs: { type: 'string' },
    modes: { type: 'string' },
    threads: { type: 'string' },
    child: { type: 'string' },
  },
});
const MB = 2 ** 20;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

// The Wasm heap: onnxruntime-web's threaded build creates its memory in JS; keep a handle on it (before the import).
const heaps: WebAssembly.Memory[] = [];
{
  const Base = WebAssembly.Memory;
  class Tracked extends Base {
    constructor(d: WebAssembly.MemoryDescriptor) {
      super(d);
      heaps.push(this);
    }
  }
  (WebAssembly as { Memory: typeof WebAssembly.Memory }).Memory = Tracked;
}

interface ChildResult {
  ms: number[];
  rssBefore: number;
  /** Kept runs: after the load and a short run, before the summaries variant's sessions exist. */
  rssLoaded: number;
  rssPeak: number;
  heap: number;
  kept: number;
  error?: string;
}

async function child(spec: string): Promise<void> {
  const [backend, mode, nText, runsText, threadsText] = spec.split(',');
  const n = Number(nText);
  const { readGgufModel } = await import('../runtime/models/gguf-source');
  const { buildPlan } = await import('../runtime/models/read-model');
  const { smolLm2Gguf } = await import('../test/helpers/fixtures');
  const source = readGgufModel(smolLm2Gguf());
  const plan = buildPlan(source);
  const f = plan.facts;
  const ids = seededIds(n, f.vocabSize);
  const out: ChildResult = { ms: [], rssBefore: 0, rssLoaded: 0, rssPeak: 0, heap: 0, kept: 0 };
  const rss = () => process.resourceUsage().maxRSS * 1024;
  try {
    if (mode === 'raw') {
      const { RawModel } = await import('./raw');
      const raw = await RawModel.create(source, backend as 'native' | 'wasm', Number(threadsText));
      await raw.run(seededIds(16, f.vocabSize));
      out.rssBefore = rss();
      for (let r = 0; r < Number(runsText); r++) out.ms.push(await raw.run(ids));
    } else {
      const { StageEngine } = await import('../runtime/inspector/engine');
      const { KeptRun } = await import('../runtime/attention/kept-run');
      const { KEPT_TOP_K } = await import('../runtime/inspector/long-runs');
      const engine = await StageEngine.create(plan, backend as 'native' | 'wasm', Number(threadsText));
      await engine.run(seededIds(16, f.vocabSize), { withVectors: false, onLayer: () => {} });
      out.rssLoaded = rss();
      if (mode === 'kept') await engine.prepareLong();
      out.rssBefore = rss();
      for (let r = 0; r < Number(runsText) && mode === 'maps'; r++) {
        const t0 = performance.now();
        await engine.run(ids, { withVectors: false, onLayer: () => {} });
        out.ms.push(performance.now() - t0);
      }
      for (let r = 0; r < Number(runsText) && mode === 'kept'; r++) {
        const run = new KeptRun(f, { topK: KEPT_TOP_K, specials: [0], block: 64 });
        const t0 = performance.now();
        await engine.run(ids, {
          withVectors: false,
          onLayer: () => {},
          summaries: { topK: KEPT_TOP_K, specials: [0], onSummaries: (t) => run.addSummaries(t) },
        });
        out.ms.push(performance.now() - t0);
        out.kept = run.bytes();
      }
    }
  } catch (e) {
    out.error = (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 300);
  }
  out.rssPeak = rss();
  out.heap = heaps.reduce((a, m) => Math.max(a, m.buffer.byteLength), 0);
  console.log(`RESULT ${JSON.stringify(out)}`);
}

async function main(): Promise<void> {
  const backend = argv.backend ?? 'native';
  const lengths = (argv.lengths ?? '2048,8192').split(',').map(Number);
  const runs = argv.runs ?? '2';
  const threads = argv.threads ?? '2';
  const modes = (argv.modes ?? 'kept,raw').split(',');
  const { readGgufModel } = await import('../runtime/models/gguf-source');
  const { smolLm2Gguf } = await import('../test/helpers/fixtures');
  const { estimateFamilyMemory, keptRunMemory } = await import('../runtime/models/memory-estimate');
  const source = readGgufModel(smolLm2Gguf());
  const tensors = source.weights.names().map((name) => ({ name, shape: source.weights.shape(name) }));
  console.log(`SmolLM2-135M Q4_1, ${backend}, ${threads} threads, ${runs} runs a row, a fresh process a row\n`);
  const { fmt, summarize } = await import('./stats');
  for (const n of lengths) {
    const est = estimateFamilyMemory(source.config, tensors, n);
    const kept = keptRunMemory(source.config, n);
    for (const mode of modes) {
      const before = load();
      const t0 = performance.now();
      const p = spawnSync(
        process.execPath,
        ['--import', 'tsx', __filename, '--child', [backend, mode, n, runs, threads].join(',')],
        { encoding: 'utf8', maxBuffer: 64 * MB },
      );
      const line = p.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) {
        const why = (p.stderr || p.stdout).trim().split('\n').slice(-3).join(' | ');
        console.log(`${n} ${mode}: the process ended (${p.status ?? p.signal}) without a result: ${why}`);
        continue;
      }
      const r = JSON.parse(line.slice(7)) as ChildResult;
      const parts = [
        `${n} ${mode}`,
        r.ms.length ? `${fmt(summarize(r.ms))} ms` : 'no run',
        `peak RSS ${(r.rssPeak / MB).toFixed(0)} MB (+${((r.rssPeak - r.rssBefore) / MB).toFixed(0)} during the runs)`,
        ...(mode === 'kept' ? [`the summaries sessions +${((r.rssBefore - r.rssLoaded) / MB).toFixed(0)} MB`] : []),
        ...(backend === 'wasm' ? [`Wasm heap ${(r.heap / MB).toFixed(0)} MB`] : []),
        ...(mode === 'kept'
          ? [
              `kept ${(r.kept / MB).toFixed(0)} MB (estimate ${(kept.heldBytes / MB).toFixed(0)})`,
              `estimate: layer transients ${(kept.transientBytes / MB).toFixed(0)} MB (block scores ${(kept.blockBytes / MB).toFixed(1)} MB), run ${(est.runtimeBytes / MB).toFixed(0)} MB, total ${(est.totalBytes / MB).toFixed(0)} MB`,
            ]
          : []),
        `load ${before} → ${load()}`,
        `${((performance.now() - t0) / 1000).toFixed(0)} s with the load`,
        ...(r.error ? [`FAILED: ${r.error}`] : []),
      ];
      console.log(parts.join('; '));
    }
  }
}

if (argv.child) void child(argv.child);
else void main();
