// `nice npx tsx bench/ig-ab.ts [--model stories|minilm] [--runs 7] VARIANT...`: interleaved A/B of Integrated
// Gradients (32 midpoint rows + the baseline, the bench's targets: stories260K log p of token 13 at the last position,
// all-MiniLM-L6-v2 the cosine with a fixed reference; 64 tokens) under gradient-service tunings, each run divided by
// that run's one-row plain forward (the family's whole graph, no attention outputs) like bench/gradients.ts. Variants:
// `now` (the defaults), `before` (bench/gradients.ts's BEFORE), `rms-plain` (RMSNorm node by node), `softmax-plain`
// (attention's Softmax by its own rule), `rows=N` (at most N rows a batch), `one-batch`, `threads=1` (one intra-op
// thread). CPU ms (user + system) and wall ms, median (range). Printed, never asserted.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { createSession } from '../runtime/backend/ort';
import { computeFeeds } from '../runtime/models/feeds';
import { buildFullGraph } from '../runtime/models/read-model';
import type { FeedTensor } from '../runtime/models/plan';
import { batchRows, GradientService } from '../runtime/grad/gradient-service';
import { integratedGradients, midpointAlphas } from '../runtime/analysis/gradient-methods';
import { fmt, summarize, table, timed } from './stats';
import { gradientCase } from './gradient-case';

const { values: argv, positionals } = parseArgs({
  options: { model: { type: 'string' }, runs: { type: 'string' }, tokens: { type: 'string' } },
  allowPositionals: true,
});
const RUNS = Number(argv.runs ?? 7);
const TOKENS = Number(argv.tokens ?? 64);

type Tuning = ConstructorParameters<typeof GradientService>[4];
function tuningOf(v: string): Tuning {
  if (v === 'now') return {};
  if (v === 'before') return { keepDenormals: true, plainRules: true, keepZeroBias: true, oneBatch: true };
  if (v === 'rms-plain') return { plainRmsNorm: true };
  if (v === 'softmax-plain') return { plainSoftmax: true };
  if (v === 'one-batch') return { oneBatch: true };
  const rows = /^rows=(\d+)$/.exec(v);
  if (rows) return { maxRows: Number(rows[1]) };
  throw new Error(`unknown variant ${v}`);
}

async function main(): Promise<void> {
  const minilm = argv.model === 'minilm';
  const dir = path.resolve(minilm ? '.cache/models/all-MiniLM-L6-v2' : 'test/fixtures/models/stories260K');
  const { source, ids, target } = await gradientCase(dir, TOKENS, minilm ? 'encoder' : 'causal');
  const E = source.config.hidden;
  const S = ids.length;
  const full = buildFullGraph(source, { attentionOutputs: false });
  const forward = await createSession(full.onnx, { backend: 'native', threads: 2 });
  const f = computeFeeds({ ids: [ids], mask: [ids.map(() => 1)] }, source.config);
  const all: Record<string, FeedTensor> = { ...f.embed, ...f.layer };
  const feeds: Record<string, FeedTensor> = {};
  for (const name of full.inputNames) feeds[name] = all[name];
  const fwdRun = () => forward.run(feeds, [full.outputNames[0]]);
  await fwdRun();
  const alphas = [...midpointAlphas(32), 0];
  // The floor's first part: the plain forward alone over IG's 33 rows, in the batches gradient-service.ts picks.
  const chunk = batchRows(alphas.length, S, source.config);
  const calls = Math.ceil(alphas.length / chunk);
  const fb = computeFeeds(
    { ids: Array.from({ length: chunk }, () => ids), mask: Array.from({ length: chunk }, () => ids.map(() => 1)) },
    source.config,
  );
  const allB: Record<string, FeedTensor> = { ...fb.embed, ...fb.layer };
  const feedsB: Record<string, FeedTensor> = {};
  for (const name of full.inputNames) feedsB[name] = allB[name];
  const fwdBatched = async () => {
    for (let k = 0; k < calls; k++) await forward.run(feedsB, [full.outputNames[0]]);
  };
  await fwdBatched();
  const batched: number[][] = [];
  const variants = positionals.length ? positionals : ['now'];
  const services = variants.map((v) =>
    v === 'threads=1'
      ? new GradientService(source, 'native', 1)
      : new GradientService(source, 'native', 2, undefined, tuningOf(v)),
  );
  const ig = async (svc: GradientService) => {
    const p = await svc.compute({ ids, target, alphas, valueOnly: 1, baseline: 'zero' });
    integratedGradients(p.grad, 32, p.embedding, p.baseline!, S, E);
    return p;
  };
  const sums: number[] = [];
  for (const svc of services) {
    const p = await ig(svc);
    sums.push(p.target[0]);
  }
  const fwd: number[][] = [];
  const times = variants.map(() => [] as number[][]);
  for (let r = 0; r < RUNS; r++) {
    fwd.push(await timed(fwdRun));
    // Rotate which variant goes first.
    for (let k = 0; k < variants.length; k++) {
      const i = (k + r) % variants.length;
      times[i].push(await timed(() => ig(services[i])));
    }
    fwd.push(await timed(fwdRun));
    batched.push(await timed(fwdBatched));
  }
  // Each run's forward: the mean of the two around it.
  const base = Array.from({ length: RUNS }, (_, r) => [0, 1].map((k) => (fwd[2 * r][k] + fwd[2 * r + 1][k]) / 2));
  const ratio = (xs: number[][], k: 0 | 1) => fmt(summarize(xs.map((x, r) => x[k] / base[r][k])), 1);
  const rows = [
    [
      'forward (1 row)',
      fmt(summarize(base.map((x) => x[1])), 1),
      '1',
      fmt(summarize(base.map((x) => x[0])), 1),
      '1',
      '',
    ],
    [
      `forward only, ${calls} × ${chunk} rows`,
      fmt(summarize(batched.map((x) => x[1])), 0),
      ratio(batched, 1),
      fmt(summarize(batched.map((x) => x[0])), 0),
      ratio(batched, 0),
      '',
    ],
    ...variants.map((v, i) => [
      `IG ${v}`,
      fmt(summarize(times[i].map((x) => x[1])), 0),
      ratio(times[i], 1),
      fmt(summarize(times[i].map((x) => x[0])), 0),
      ratio(times[i], 0),
      sums[i].toFixed(6),
    ]),
  ];
  for (const s of services) await s.release();
  await forward.release();
  const load = (await import('node:os')).loadavg().map((l) => l.toFixed(1));
  console.log(
    `${minilm ? 'all-MiniLM-L6-v2' : 'stories260K'}, ${S} tokens, ${RUNS} interleaved runs, load after: ${load.join(' ')}`,
  );
  console.log(table(['what', 'cpu ms', 'cpu × fwd', 'wall ms', 'wall × fwd', 'f(row 0)'], rows));
}

void main();
