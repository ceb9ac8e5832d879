// `npx tsx bench/long-layer.ts [--n 512] [--runs 7] [--rows 64,128] [--whole] [--lean]`: one SmolLM2 layer session
// (layer 1) at n tokens, alternating the variants a run can use — the default (map fetched), the default without
// fetching the map, the summaries variant whole (--whole) and in query-row blocks (one session: a Loop whose rows
// per block are fed, queryRows(n) or the --rows counts), each with and without onnxruntime's CPU arena — so that
// their ratios come from the same minutes of a shared machine. Median and range per variant of wall and CPU time
// (the process's, all threads), their ratios to the default without the map (raw-like), and each session's creation.
import { parseArgs } from 'node:util';
import { createSession, type Session } from '../runtime/backend/ort';
import { readGgufModel } from '../runtime/models/gguf-source';
import { QUERY_ROWS_INPUT, queryRows } from '../runtime/models/attention-summaries';
import { buildPlan } from '../runtime/models/read-model';
import { keyMaskFeed } from '../runtime/models/feeds';
import type { FeedTensor } from '../runtime/models/plan';
import { smolLm2Gguf } from '../test/helpers/fixtures';
import { fmt, summarize, table } from './stats';

const { values: argv } = parseArgs({
  options: {
    n: { type: 'string' },
    runs: { type: 'string' },
    whole: { type: 'boolean' },
    // --lean: only the layer without its map and the blocked variants without the arena (8,192 tokens: the fetched
    // map and an arena per variant would hold several GB).
    lean: { type: 'boolean' },
    rows: { type: 'string' },
  },
});
const n = Number(argv.n ?? 512);
const runs = Number(argv.runs ?? 7);
/** Rows per query block to compare (the engine uses queryRows(n, heads)); --whole adds the summaries variant whole. */
const rowCounts = (argv.rows ?? String(queryRows(n, 9))).split(',').map(Number);

async function main(): Promise<void> {
  const source = readGgufModel(smolLm2Gguf());
  const plan = buildPlan(source);
  const stage = plan.stages[1];
  const { hidden: E } = plan.facts;
  const hidden: FeedTensor = {
    type: 'float32',
    dims: [1, n, E],
    data: Float32Array.from({ length: n * E }, (_, i) => Math.sin(i) * 0.5),
  };
  const ids = Array.from({ length: n }, (_, i) => 3 + ((i * 7919) % 40000));
  const batch = { ids: [ids], mask: [ids.map(() => 1)] };
  const f = plan.feeds(batch);
  const base: Record<string, FeedTensor> = { hidden };
  for (const name of stage.inputNames) if (name !== 'hidden') base[name] = f.layer[name];
  const summaryFeeds: Record<string, FeedTensor> = {
    ...base,
    top_k: { type: 'int64', dims: [1], data: BigInt64Array.of(8n) },
    special_keys: { type: 'float32', dims: [n], data: new Float32Array(n) },
  };
  const opts = { backend: 'native' as const, threads: 2 };
  const variants: [string, Session, Record<string, FeedTensor>, string[]][] = [];
  const t0 = performance.now();
  const plain = await createSession(stage.onnx, opts);
  const plainMs = performance.now() - t0;
  variants.push(['default, hidden only', plain, base, ['hidden_out']]);
  if (!argv.lean) variants.push(['default, map fetched', plain, base, ['hidden_out', 'attn']]);
  const summaryOut = [
    'hidden_out',
    'q',
    'k',
    'top_weights',
    'top_keys',
    'entropy',
    'special_mass',
    'key_mean',
    'previous_weight',
    'block_max',
    'block_mean',
  ];
  // The blocked variants build their mask from key_mask [B,S] (no n × n bias fed).
  const blockedFeeds: Record<string, FeedTensor> = { ...summaryFeeds, key_mask: keyMaskFeed(batch) };
  const created: string[] = [];
  const session = async (label: string, bytes: Uint8Array, arena: boolean) => {
    const t0 = performance.now();
    const made = await createSession(bytes, { ...opts, memArena: arena });
    created.push(`${label}${arena ? ', arena' : ''}: session created in ${(performance.now() - t0).toFixed(0)} ms`);
    return made;
  };
  const pick = (s: Session, feeds: Record<string, FeedTensor>) =>
    Object.fromEntries(s.inputNames.map((name) => [name, feeds[name]]));
  for (const arena of argv.lean ? [false] : [true, false]) {
    if (argv.whole) {
      const whole = await session('summaries whole', stage.variant!({ summaries: true }), arena);
      variants.push([`summaries whole${arena ? ', arena' : ''}`, whole, pick(whole, summaryFeeds), summaryOut]);
    }
    const blocked = await session('blocked', stage.variant!({ summaries: true, blocked: true }), arena);
    for (const r of rowCounts) {
      const rows: FeedTensor = { type: 'int64', dims: [1], data: BigInt64Array.of(BigInt(r)) };
      const feeds = pick(blocked, { ...blockedFeeds, [QUERY_ROWS_INPUT]: rows });
      variants.push([`blocks of ${r} rows${arena ? ', arena' : ''}`, blocked, feeds, summaryOut]);
    }
  }
  const times = variants.map(() => [] as number[]);
  const cpu = variants.map(() => [] as number[]);
  for (const [, s, feeds, fetches] of variants) await s.run(feeds, fetches); // warm-up
  for (let r = 0; r < runs; r++)
    for (let v = 0; v < variants.length; v++) {
      const [, s, feeds, fetches] = variants[v];
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await s.run(feeds, fetches);
      times[v].push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[v].push((c.user + c.system) / 1000);
    }
  const ref = summarize(times[0]).median;
  console.log(`SmolLM2 layer 1 at ${n} tokens, native, 2 threads, ${runs} alternating runs (shared machine)`);
  console.log(
    table(
      ['variant', 'unit', 'ms', '× hidden only', 'CPU ms', 'CPU ×'],
      variants.map(([label], v) => [
        label,
        'ms',
        fmt(summarize(times[v]), 1),
        (summarize(times[v]).median / ref).toFixed(2),
        fmt(summarize(cpu[v]), 1),
        (summarize(cpu[v]).median / summarize(cpu[0]).median).toFixed(2),
      ]),
    ),
  );
  console.log(`default layer session created in ${plainMs.toFixed(0)} ms`);
  for (const line of created) console.log(line);
  for (const s of new Set(variants.map(([, s]) => s))) await s.release();
}

void main();
