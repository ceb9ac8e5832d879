// The gradient benchmark: what gradient × input (one gradient pass, runtime/grad), AttnLRP (one backward pass with its
// rules, runtime/grad/attnlrp-rules.ts) and Integrated Gradients with 32 steps (32 midpoint rows + the baseline row,
// batched) cost against one plain forward pass of the same model on the
// same tokens (the family's full graph, no attention outputs), on stories260K and all-MiniLM-L6-v2, native
// onnxruntime, in this thread. The four are measured in alternation so that load on the shared machine hits them
// alike; graph building and session creation are timed once, apart. The forward pass alone on IG's 33 rows batched is
// printed too: it is the floor of what batched IG can cost. Every figure is given twice: wall-clock time and the
// process's CPU time (user + system over its threads), which load from other processes on a shared machine inflates
// far less (the wall-clock ratio swings with whoever else runs; the CPU one is the work). An encoder–decoder case
// (tiny-marian-dates: encoder + teacher-forced decoder against runtime/grad/seq2seq-gradients.ts, log p of one
// target token, IG on the source side, attention × gradient on the cross-attention, AttnLRP of the token's logit (its
// own graph, in a service of its own so that its graph is not evicted by the others'), and the context-mixing methods
// ALTI+ and value zeroing through the last decoder layer's cross-attention of runtime/inspector/seq2seq-mixing-
// service.ts) follows. Figures are printed, never asserted.
// Run: nice npx tsx bench/gradients.ts   (THREADS=n, TOKENS=n, RUNS=n to change the defaults; ONLY=seq2seq for the
// encoder–decoder case alone)
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { createSession } from '../runtime/backend/ort';
import { buildFullGraph, buildPlan } from '../runtime/models/read-model';
import { StageEngine } from '../runtime/inspector/engine';
import { computeFeeds } from '../runtime/models/feeds';
import { GradientService } from '../runtime/grad/gradient-service';
import type { GradientTarget } from '../runtime/grad/gradients';
import { gradientTimesInput, integratedGradients, midpointAlphas } from '../runtime/analysis/gradient-methods';
import { Seq2SeqRunner, shiftRight } from '../runtime/generate/seq2seq-runner';
import { readSeq2SeqModel } from '../runtime/models/seq2seq-read';
import { seq2seqGradientAttribution, Seq2SeqGradientService } from '../runtime/grad/seq2seq-gradients';
import { Seq2SeqMixingService } from '../runtime/inspector/seq2seq-mixing-service';
import { marianDatesDir } from '../test/helpers/fixtures';
import { fmt, summarize, table, timed } from './stats';
import { gradientCase } from './gradient-case';

const THREADS = Number(process.env.THREADS ?? 2);
const TOKENS = Number(process.env.TOKENS ?? 64);
const RUNS = Number(process.env.RUNS ?? 11);
const STEPS = 32;
/** The gradient graphs and sessions as they were before the IG speed-ups, for the interleaved A/B row. */
const BEFORE: ConstructorParameters<typeof GradientService>[4] = {
  keepDenormals: true,
  plainRules: true,
  keepZeroBias: true,
  oneBatch: true,
};
const BEFORE_WORDS =
  'one batch, denormals kept, GELU/SiLU/LayerNorm/RMSNorm/attention Softmax node by node, GELU scales and attention scale unfolded, zero bias kept';

/** Rows of the table: wall and CPU median (range), each as a ratio per run to that run's forward pass too, and the
 * CPU ratio to the run the user's Show Attention makes (`shown`, where measured). */
function rowsOf(label: string, kinds: [string, number[][], number][], fwd: number[][], shown?: number[][]): string[][] {
  const ratio = (xs: number[][], base: number[][], k: 0 | 1) => summarize(xs.map((x, i) => x[k] / base[i][k]));
  return kinds.map(([what, xs, setup]) => [
    label,
    what,
    fmt(summarize(xs.map((x) => x[0])), 2),
    xs === fwd ? '1' : fmt(ratio(xs, fwd, 0), 2),
    fmt(summarize(xs.map((x) => x[1])), 2),
    xs === fwd ? '1' : fmt(ratio(xs, fwd, 1), 2),
    shown ? (xs === shown ? '1' : fmt(ratio(xs, shown, 1), 2)) : '',
    setup.toFixed(0),
  ]);
}

interface Case {
  label: string;
  dir: string;
  kind: 'causal' | 'encoder';
}

async function bench(c: Case): Promise<string[][]> {
  const { source, ids, target } = await gradientCase(c.dir, TOKENS, c.kind);
  const E = source.config.hidden;
  const S = ids.length;

  const tBuild = performance.now();
  const full = buildFullGraph(source, { attentionOutputs: false });
  const forward = await createSession(full.onnx, { backend: 'native', threads: THREADS });
  const feeds = computeFeeds({ ids: [ids], mask: [ids.map(() => 1)] }, source.config);
  const forwardFeeds = Object.fromEntries(
    full.inputNames.map((n) => [n, feeds.embed[n] ?? feeds.layer[n]]).filter(([, v]) => v !== undefined),
  );
  const forwardMs = performance.now() - tBuild;
  // The same forward with denormals flushed as the gradient sessions do (is the ratio fair to the forward?).
  const forwardFtz = await createSession(full.onnx, { backend: 'native', threads: THREADS, denormalAsZero: true });
  await forwardFtz.run(forwardFeeds, [full.outputNames[0]]); // warm
  // The forward the user runs: Show Attention's staged plan (the default stages, every layer's attention fetched and
  // handed on as it arrives), in this process without the worker.
  const tPlan = performance.now();
  const engine = await StageEngine.create(buildPlan(source), 'native', THREADS);
  const planMs = performance.now() - tPlan;
  const showRun = () => engine.run(ids, { withVectors: false, onLayer: () => undefined });
  await showRun(); // warm
  const service = new GradientService(source, 'native', THREADS);
  const t1 = performance.now();
  await service.compute({ ids, target });
  const gradBuildMs = performance.now() - t1;
  // AttnLRP: its own graph (the modified rules), explaining the logit where the target is a token; in a service of its
  // own, since a service keeps two graphs and the alternation would rebuild one each time.
  const lrpService = new GradientService(source, 'native', THREADS);
  const lrpTarget: GradientTarget = { ...target, measure: target.measure === 'cosine' ? 'cosine' : 'logit' };
  const t3 = performance.now();
  await lrpService.compute({ ids, target: lrpTarget, rules: 'attnlrp' });
  const lrpBuildMs = performance.now() - t3;
  const alphas = [...midpointAlphas(STEPS), 0];
  const t2 = performance.now();
  await service.compute({ ids, target, alphas, valueOnly: 1, baseline: 'zero' });
  const igBuildMs = performance.now() - t2;
  // The same IG before this bench's speed-ups (BEFORE lists them), interleaved with the rest.
  const before = new GradientService(source, 'native', THREADS, undefined, BEFORE);
  const t4 = performance.now();
  await before.compute({ ids, target, alphas, valueOnly: 1, baseline: 'zero' });
  const beforeBuildMs = performance.now() - t4;
  await forward.run(forwardFeeds, [full.outputNames[0]]); // warm
  // The floor of batched IG: the forward pass alone on IG's 33 rows at once.
  const rows = alphas.length;
  const batchFeeds = computeFeeds(
    { ids: Array.from({ length: rows }, () => ids), mask: Array.from({ length: rows }, () => ids.map(() => 1)) },
    source.config,
  );
  const forwardBatchFeeds = Object.fromEntries(
    full.inputNames.map((n) => [n, batchFeeds.embed[n] ?? batchFeeds.layer[n]]).filter(([, v]) => v !== undefined),
  );
  await forward.run(forwardBatchFeeds, [full.outputNames[0]]); // warm

  const fwd: number[][] = [];
  const gxi: number[][] = [];
  const lrp: number[][] = [];
  const ig: number[][] = [];
  const fwdBatch: number[][] = [];
  const shown: number[][] = [];
  const igBefore: number[][] = [];
  const fwdFtz: number[][] = [];
  const runIg = async (svc: GradientService) => {
    const p = await svc.compute({ ids, target, alphas, valueOnly: 1, baseline: 'zero' });
    integratedGradients(p.grad, STEPS, p.embedding, p.baseline!, S, E);
  };
  for (let r = 0; r < RUNS; r++) {
    fwd.push(await timed(() => forward.run(forwardFeeds, [full.outputNames[0]])));
    shown.push(await timed(showRun));
    fwdFtz.push(await timed(() => forwardFtz.run(forwardFeeds, [full.outputNames[0]])));
    gxi.push(
      await timed(async () => {
        const g = await service.compute({ ids, target });
        gradientTimesInput(g.grad, g.embedding, S, E);
      }),
    );
    lrp.push(
      await timed(async () => {
        const g = await lrpService.compute({ ids, target: lrpTarget, rules: 'attnlrp' });
        gradientTimesInput(g.grad, g.embedding, S, E);
      }),
    );
    // Which IG goes first alternates from run to run.
    if (r % 2) igBefore.push(await timed(() => runIg(before)));
    ig.push(await timed(() => runIg(service)));
    if (r % 2 === 0) igBefore.push(await timed(() => runIg(before)));
    fwdBatch.push(await timed(() => forward.run(forwardBatchFeeds, [full.outputNames[0]])));
  }
  await forward.release();
  await forwardFtz.release();
  await engine.release();
  await service.release();
  await before.release();
  await lrpService.release();
  return rowsOf(
    c.label,
    [
      [`forward pass (${S} tokens, one graph, no attention out)`, fwd, forwardMs],
      ['  the same, denormals flushed to zero', fwdFtz, 0],
      ['Show Attention run (staged plan, attention out)', shown, planMs],
      ['gradient × input', gxi, gradBuildMs],
      ['AttnLRP', lrp, lrpBuildMs],
      [`Integrated Gradients, ${STEPS} steps`, ig, igBuildMs],
      [`  the same before (${BEFORE_WORDS})`, igBefore, beforeBuildMs],
      [`forward only, ${rows} rows batched`, fwdBatch, 0],
    ],
    fwd,
    shown,
  );
}

/** tiny-marian-dates: the teacher-forced pass (encoder + decoder, no attention outputs) against the gradient of
 * log p(target token 0) w.r.t. the source and decoder-input embeddings, and source-side IG (32 steps + f(x) and
 * f(baseline): 34 rows, batched). */
async function benchSeq2Seq(): Promise<string[][]> {
  const source = await readSeq2SeqModel(marianDatesDir);
  const V = source.config.vocabSize;
  const src = Array.from(
    { length: Math.min(TOKENS, source.config.maxPositions) },
    (_, i) => 2 + ((i * 7919) % (V - 4)),
  );
  const labels = Array.from({ length: 16 }, (_, i) => 2 + ((i * 104729) % (V - 4)));
  const dec = shiftRight(labels, source.config.decoderStartTokenId);
  const request = { sourceIds: src, decoderInputIds: dec, target: { labels, position: 0 } };
  const t0 = performance.now();
  const runner = await Seq2SeqRunner.create(source, { backend: 'native', threads: THREADS, attention: false });
  const forwardMs = performance.now() - t0;
  const service = new Seq2SeqGradientService(source, 'native', THREADS);
  const t1 = performance.now();
  await seq2seqGradientAttribution(service, request, 'grad-x-input');
  const gradBuildMs = performance.now() - t1;
  const t2 = performance.now();
  await seq2seqGradientAttribution(service, request, 'integrated-gradients', { steps: STEPS });
  const igBuildMs = performance.now() - t2;
  const t3 = performance.now();
  await seq2seqGradientAttribution(service, request, 'attn-x-grad');
  const axgBuildMs = performance.now() - t3;
  const lrpService = new Seq2SeqGradientService(source, 'native', THREADS);
  const t6 = performance.now();
  await seq2seqGradientAttribution(lrpService, request, 'attnlrp');
  const lrpBuildMs = performance.now() - t6;
  // Context mixing reads every target row (the whole target) here, as Explain's `target` does.
  const mixing = new Seq2SeqMixingService(source, 'native', THREADS);
  const mixRequest = { sourceIds: src, decoderInputIds: dec };
  const t4 = performance.now();
  await mixing.compute({ ...mixRequest, method: 'alti' });
  const altiBuildMs = performance.now() - t4;
  const t5 = performance.now();
  const vzRows = (await mixing.compute({ ...mixRequest, method: 'value-zeroing' })).rows;
  const vzBuildMs = performance.now() - t5;
  const fwd: number[][] = [];
  const gxi: number[][] = [];
  const ig: number[][] = [];
  const axg: number[][] = [];
  const lrp: number[][] = [];
  const alti: number[][] = [];
  const vz: number[][] = [];
  for (let r = 0; r < RUNS; r++) {
    fwd.push(await timed(async () => runner.teacherForce(await runner.encode(src), dec)));
    gxi.push(await timed(() => seq2seqGradientAttribution(service, request, 'grad-x-input')));
    ig.push(await timed(() => seq2seqGradientAttribution(service, request, 'integrated-gradients', { steps: STEPS })));
    axg.push(await timed(() => seq2seqGradientAttribution(service, request, 'attn-x-grad')));
    lrp.push(await timed(() => seq2seqGradientAttribution(lrpService, request, 'attnlrp')));
    alti.push(await timed(() => mixing.compute({ ...mixRequest, method: 'alti' })));
    vz.push(await timed(() => mixing.compute({ ...mixRequest, method: 'value-zeroing' })));
  }
  await runner.release();
  await service.release();
  await lrpService.release();
  await mixing.release();
  return rowsOf(
    'tiny-marian-dates',
    [
      [`teacher-forced pass (${src.length} + ${dec.length} tokens)`, fwd, forwardMs],
      ['gradient × input (source and target)', gxi, gradBuildMs],
      [`Integrated Gradients, ${STEPS} steps (source)`, ig, igBuildMs],
      ['attention × gradient (cross, every layer)', axg, axgBuildMs],
      ['AttnLRP (source and target, the logit)', lrp, lrpBuildMs],
      ['ALTI+ (whole target)', alti, altiBuildMs],
      [`value zeroing, last decoder layer (${vzRows} rows)`, vz, vzBuildMs],
    ],
    fwd,
  );
}

async function main(): Promise<void> {
  const cases: Case[] = [
    {
      label: 'stories260K',
      dir: path.resolve('test/fixtures/models/stories260K'),
      kind: 'causal',
    },
  ];
  const minilm = path.resolve('.cache/models/all-MiniLM-L6-v2');
  if (existsSync(path.join(minilm, 'model.safetensors')))
    cases.push({
      label: 'all-MiniLM-L6-v2',
      dir: minilm,
      kind: 'encoder',
    });
  else console.log(`(all-MiniLM-L6-v2 is not in ${minilm}; run \`node scripts/fetch-model.mjs\`)`);
  const rows: string[][] = [];
  if (process.env.ONLY !== 'seq2seq') for (const c of cases) rows.push(...(await bench(c)));
  rows.push(...(await benchSeq2Seq()));
  const load = (await import('node:os')).loadavg().map((l) => l.toFixed(1));
  console.log(
    `gradients, native onnxruntime, ${THREADS} threads, ${RUNS} alternating runs; ms median (range); ratio = per run ÷ the forward pass of that run; load average after: ${load.join(' ')}`,
  );
  console.log(
    'baseline of "× fwd" (issue 18’s targets: gradient × input ≤ 3×, IG 32 steps ≤ 40×): one forward pass of the same tokens, one row, one graph of the whole model, no attention outputs, denormals kept (the strictest); "× run": the forward the user runs (Show Attention: the staged plan, every layer’s attention fetched)',
  );
  console.log(table(['model', 'what', 'wall ms', 'wall × fwd', 'cpu ms', 'cpu × fwd', 'cpu × run', 'setup ms'], rows));
}

void main();
