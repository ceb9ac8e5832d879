// `nice npx tsx bench/kept-path.ts [--n 512] [--runs 5] [--profile DIR]`: where a kept run's time goes beyond raw
// onnxruntime (issue 15's ≤ 1.10× target), interleaved run by run in one process on SmolLM2-135M (Q4_1 GGUF), native:
// raw (one session, no attention outputs), the plain layer stages chained fetching only hidden_out (the cost of
// staging), the summaries variant's stages fetching only hidden_out (the blocked graph's own cost), with every output
// fetched (onnxruntime's outputs and onnxruntime-node's copies), and StageEngine.run kept with KeptRun.addSummaries
// (the product path: its checks and the JS kept per layer). Median and range of wall and CPU time (the process's,
// every thread) and minor page faults per run. --profile DIR: onnxruntime's per-node profile of raw and of the
// summaries stages, summed by op type (the Loop's body nodes apart). Printed, never asserted.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createSession, type Session } from '../runtime/backend/ort';
import { KeptRun } from '../runtime/attention/kept-run';
import { KEPT_TOP_K } from '../runtime/inspector/long-runs';
import { StageEngine } from '../runtime/inspector/engine';
import { QUERY_ROWS_INPUT, queryRows, summaryNames } from '../runtime/models/attention-summaries';
import { readGgufModel } from '../runtime/models/gguf-source';
import { buildPlan } from '../runtime/models/read-model';
import { layerOutputs, type FeedTensor } from '../runtime/models/plan';
import { smolLm2Gguf } from '../test/helpers/fixtures';
import { RawModel } from './raw';
import { fmt, summarize, table, timed } from './stats';
import { seededIds } from './seeded-ids';

const { values: argv } = parseArgs({
  options: {
    n: { type: 'string' },
    runs: { type: 'string' },
    profile: { type: 'string' },
    threads: { type: 'string' },
  },
});
const n = Number(argv.n ?? 512);
const runs = Number(argv.runs ?? 5);
const threads = Number(argv.threads ?? 2);

interface Chained {
  s: Session;
  inputs: readonly string[];
  all: string[];
}

async function main(): Promise<void> {
  const source = readGgufModel(smolLm2Gguf());
  const ids = seededIds(n, source.config.vocabSize);
  const plan = buildPlan(source);
  const f = plan.facts;
  const raw = await RawModel.create(source, 'native', threads);
  const engine = await StageEngine.create(plan, 'native', threads);
  await engine.prepareLong();
  const plain: Chained[] = [];
  const kept: Chained[] = [];
  const keptArena: Chained[] = [];
  for (const st of plan.stages) {
    if (st.role !== 'layer') continue;
    const final = st.outputNames.includes('last_hidden') ? ['last_hidden'] : [];
    plain.push({ s: await createSession(st.onnx, { backend: 'native', threads }), inputs: st.inputNames, all: [] });
    const onnx = st.variant!({ summaries: true, blocked: true });
    const all = layerOutputs(st).flatMap((o) => [o.q, o.k, ...Object.values(summaryNames(o.attn.slice(4)))]);
    for (const [list, arena] of [
      [kept, false],
      [keptArena, true],
    ] as const) {
      const s = await createSession(onnx, { backend: 'native', threads, memArena: arena });
      list.push({ s, inputs: s.inputNames, all: [...all, ...final] });
    }
  }
  const batch = { ids: [ids], mask: [ids.map(() => 1)] };
  const dense = plan.feeds(batch);
  const lean = plan.feeds(batch, { denseBias: false });
  const plainFeeds: Record<string, FeedTensor> = { ...dense.embed, ...dense.layer };
  const keptFeeds: Record<string, FeedTensor> = {
    ...lean.embed,
    ...lean.layer,
    top_k: { type: 'int64', dims: [1], data: BigInt64Array.of(BigInt(KEPT_TOP_K)) },
    special_keys: { type: 'float32', dims: [n], data: new Float32Array(n).fill(0).map((_, i) => (i === 0 ? 1 : 0)) },
    [QUERY_ROWS_INPUT]: { type: 'int64', dims: [1], data: BigInt64Array.of(BigInt(queryRows(n, f.heads))) },
  };
  // The top 8 keys of each row, as kept runs kept before (KEPT_TOP_K): onnxruntime's heap selection over every entry.
  const top8Feeds: Record<string, FeedTensor> = {
    ...keptFeeds,
    top_k: { type: 'int64', dims: [1], data: BigInt64Array.of(8n) },
  };
  const chain = async (stages: Chained[], shared: Record<string, FeedTensor>, every: boolean) => {
    let hidden: FeedTensor | undefined;
    for (const st of stages) {
      const feeds: Record<string, FeedTensor> = {};
      for (const i of st.inputs) feeds[i] = i === 'hidden' ? hidden! : shared[i];
      const out = await st.s.run(feeds, every ? ['hidden_out', ...st.all] : ['hidden_out']);
      hidden = { type: 'float32', dims: out.hidden_out.dims, data: out.hidden_out.data };
    }
  };
  const engineKept = async (keep: boolean) => {
    const run = new KeptRun(f, { topK: KEPT_TOP_K, specials: [0], block: 64 });
    await engine.run(ids, {
      withVectors: false,
      summaries: { topK: KEPT_TOP_K, specials: [0], onSummaries: (t) => (keep ? run.addSummaries(t) : undefined) },
      onLayer: () => {},
    });
  };
  const variants: [string, () => Promise<unknown>][] = [
    ['raw (one session)', () => raw.run(ids)],
    ['plain stages, hidden only', () => chain(plain, plainFeeds, false)],
    ['kept stages, hidden only', () => chain(kept, keptFeeds, false)],
    ['kept stages + arena, hidden only', () => chain(keptArena, keptFeeds, false)],
    ['kept stages, top-8, hidden only', () => chain(kept, top8Feeds, false)],
    ['kept stages, every output', () => chain(kept, keptFeeds, true)],
    ['engine.run kept, nothing kept', () => engineKept(false)],
    ['engine.run kept + addSummaries', () => engineKept(true)],
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
    `SmolLM2-135M Q4_1 ${n} tokens, native, ${threads} threads, ${runs} interleaved runs, load ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}`,
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
  if (argv.profile) await profile(argv.profile, source, plan, plainFeeds, keptFeeds, kept);
  await raw.release();
  await engine.release();
  for (const st of [...plain, ...kept, ...keptArena]) await st.s.release();
}

/** onnxruntime's per-node kernel time of raw and of the summaries stages (fresh profiled sessions), by op type. */
async function profile(
  dir: string,
  source: ReturnType<typeof readGgufModel>,
  plan: ReturnType<typeof buildPlan>,
  plainFeeds: Record<string, FeedTensor>,
  keptFeeds: Record<string, FeedTensor>,
  kept: Chained[],
): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const reps = 3;
  const { buildFullGraph } = await import('../runtime/models/read-model');
  const full = buildFullGraph(source, { attentionOutputs: false, logits: false });
  const rawS = await createSession(full.onnx, { backend: 'native', threads, profilePrefix: path.join(dir, 'raw') });
  const rawFeeds: Record<string, FeedTensor> = {};
  for (const name of full.inputNames) rawFeeds[name] = plainFeeds[name];
  for (let r = 0; r < reps; r++) await rawS.run(rawFeeds, ['last_hidden']);
  await rawS.release();
  const stages: Chained[] = [];
  let i = 0;
  for (const st of plan.stages) {
    if (st.role !== 'layer') continue;
    const s = await createSession(st.variant!({ summaries: true, blocked: true }), {
      backend: 'native',
      threads,
      memArena: false,
      profilePrefix: path.join(dir, `kept${i++}`),
    });
    stages.push({ s, inputs: s.inputNames, all: kept[stages.length].all });
  }
  for (let r = 0; r < reps; r++) {
    let hidden: FeedTensor | undefined;
    for (const st of stages) {
      const feeds: Record<string, FeedTensor> = {};
      for (const x of st.inputs) feeds[x] = x === 'hidden' ? hidden! : keptFeeds[x];
      const out = await st.s.run(feeds, ['hidden_out', ...st.all]);
      hidden = { type: 'float32', dims: out.hidden_out.dims, data: out.hidden_out.data };
    }
  }
  for (const st of stages) await st.s.release();
  const files = fs.readdirSync(dir).filter((x) => x.endsWith('.json'));
  const sum = (prefix: string) => {
    const byOp = new Map<string, number>();
    let session = 0;
    for (const file of files.filter((x) => x.startsWith(prefix))) {
      const events = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as {
        cat: string;
        name: string;
        dur: number;
        args?: { op_name?: string };
      }[];
      for (const e of events) {
        if (e.cat === 'Session' && e.name === 'model_run') session += e.dur;
        if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
        const op = `${e.name.includes('block') ? 'body ' : ''}${e.args?.op_name ?? '?'}`;
        byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
      }
    }
    return { byOp, session };
  };
  const r = sum('raw');
  const k = sum('kept');
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, x) => a + x, 0);
  console.log(
    `\nonnxruntime profile, ms per run (${reps} runs): raw model_run ${(r.session / reps / 1000).toFixed(0)}, kernels ${(total(r.byOp) / reps / 1000).toFixed(0)}; kept stages model_run ${(k.session / reps / 1000).toFixed(0)}, kernels ${(total(k.byOp) / reps / 1000).toFixed(0)}`,
  );
  const ops = [...new Set([...r.byOp.keys(), ...k.byOp.keys()])].sort(
    (a, b) => Math.max(k.byOp.get(b) ?? 0, r.byOp.get(b) ?? 0) - Math.max(k.byOp.get(a) ?? 0, r.byOp.get(a) ?? 0),
  );
  console.log(
    table(
      ['op', 'raw ms', 'kept ms'],
      ops
        .slice(0, 40)
        .map((op) => [
          op,
          ((r.byOp.get(op) ?? 0) / reps / 1000).toFixed(1),
          ((k.byOp.get(op) ?? 0) / reps / 1000).toFixed(1),
        ]),
    ),
  );
}

void main();
