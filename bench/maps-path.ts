// `nice npx tsx bench/maps-path.ts [--model smollm2|minilm] [--n 512] [--runs 5]`: where the maps path's time goes
// beyond raw onnxruntime, interleaved run by run in one process: raw (one session, no attention outputs), the same
// layer stages chained while fetching only hidden_out (the cost of staging: a call and a thread-pool wake per stage),
// the stages fetching every map (onnxruntime's output allocation and onnxruntime-node's copy into a new buffer), and
// StageEngine.run (the product path: its checks and callbacks). Median and range of wall and CPU time, and of the
// process's minor page faults per run (fresh memory touched: the fetched maps' new buffers). Printed, never
// asserted.
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createSession, type Session } from '../runtime/backend/ort';
import { StageEngine } from '../runtime/inspector/engine';
import { readGgufModel } from '../runtime/models/gguf-source';
import { buildPlan, readModel } from '../runtime/models/read-model';
import { layerOutputs, type FeedTensor } from '../runtime/models/plan';
import { smolLm2Gguf } from '../test/helpers/fixtures';
import { RawModel } from './raw';
import { fmt, summarize, table, timed } from './stats';
import { seededIds } from './seeded-ids';

const { values: argv } = parseArgs({
  options: { model: { type: 'string' }, n: { type: 'string' }, runs: { type: 'string' } },
});
const n = Number(argv.n ?? 512);
const runs = Number(argv.runs ?? 5);

async function main(): Promise<void> {
  const minilm = argv.model === 'minilm';
  const source = minilm ? await readModel('.cache/models/all-MiniLM-L6-v2') : readGgufModel(smolLm2Gguf());
  const ids = minilm
    ? [101, ...seededIds(n - 2, 29000).map((x) => 1000 + x), 102]
    : seededIds(n, source.config.vocabSize);
  const plan = buildPlan(source);
  const raw = await RawModel.create(source, 'native', 2);
  const engine = await StageEngine.create(plan, 'native', 2);
  // The same layer stages as the engine's, in sessions of our own (the engine's are private).
  const stages: { s: Session; inputs: string[]; maps: string[]; final: boolean }[] = [];
  for (const st of plan.stages)
    if (st.role === 'layer')
      stages.push({
        s: await createSession(st.onnx, { backend: 'native', threads: 2 }),
        inputs: st.inputNames,
        maps: layerOutputs(st).map((o) => o.attn),
        final: st.outputNames.includes('last_hidden'),
      });
  const f = plan.feeds({ ids: [ids], mask: [ids.map(() => 1)] });
  const shared: Record<string, FeedTensor> = { ...f.embed, ...f.layer };
  const chain = async (withMaps: boolean) => {
    let hidden: FeedTensor | undefined;
    const kept: Float32Array[] = [];
    for (const st of stages) {
      const feeds: Record<string, FeedTensor> = {};
      for (const i of st.inputs) feeds[i] = i === 'hidden' ? hidden! : shared[i];
      const out = await st.s.run(feeds, ['hidden_out', ...(withMaps ? st.maps : [])]);
      hidden = { type: 'float32', dims: out.hidden_out.dims, data: out.hidden_out.data };
      if (withMaps) for (const m of st.maps) kept.push(out[m].data);
    }
    return kept.length;
  };
  const variants: [string, () => Promise<unknown>][] = [
    ['raw (one session)', () => raw.run(ids)],
    ['stages, hidden only', () => chain(false)],
    ['stages, every map fetched', () => chain(true)],
    ['engine.run (maps path)', () => engine.run(ids, { withVectors: false, onLayer: () => {} })],
  ];
  for (const [, fn] of variants) await fn(); // warm-up
  const ms = variants.map(() => [] as number[]);
  const cpu = variants.map(() => [] as number[]);
  const faults = variants.map(() => [] as number[]);
  const load0 = loadavg()[0];
  for (let r = 0; r < runs; r++)
    for (const [i, [, fn]] of variants.entries()) {
      const f0 = process.resourceUsage().minorPageFault;
      const [wall, c] = await timed(fn);
      ms[i].push(wall);
      cpu[i].push(c);
      faults[i].push(process.resourceUsage().minorPageFault - f0);
    }
  const base = summarize(ms[0]).median;
  const baseCpu = summarize(cpu[0]).median;
  console.log(
    `${minilm ? 'all-MiniLM-L6-v2' : 'SmolLM2-135M Q4_1'} ${n} tokens, native, 2 threads, ${runs} interleaved runs, load ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}`,
  );
  console.log(
    table(
      ['variant', 'wall ms', '÷ raw', 'CPU ms', 'CPU ÷ raw', 'page faults'],
      variants.map(([name], i) => [
        name,
        fmt(summarize(ms[i])),
        (summarize(ms[i]).median / base).toFixed(2),
        fmt(summarize(cpu[i])),
        (summarize(cpu[i]).median / baseCpu).toFixed(2),
        fmt(summarize(faults[i])),
      ]),
    ),
  );
  await raw.release();
  await engine.release();
  for (const st of stages) await st.s.release();
}

void main();
