// The gradient benchmark: what gradient × input (one gradient pass, runtime/grad) and Integrated Gradients with 32
// steps (32 midpoint rows + the baseline row, batched) cost against one plain forward pass of the same model on the
// same tokens (the family's full graph, no attention outputs), on stories260K and all-MiniLM-L6-v2, native
// onnxruntime, in this thread. The three are measured in alternation so that load on the shared machine hits them
// alike; graph building and session creation are timed once, apart. The forward pass alone on IG's 33 rows batched is
// printed too: it is the floor of what batched IG can cost. Figures are printed, never asserted.
// Run: nice npx tsx bench/gradients.ts   (THREADS=n, TOKENS=n, RUNS=n to change the defaults)
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { createSession } from '../runtime/backend/ort';
import { buildFullGraph, readModel } from '../runtime/models/read-model';
import { computeFeeds } from '../runtime/models/feeds';
import { loadTokenizer } from '../runtime/tokenizers';
import { GradientService } from '../runtime/grad/gradient-service';
import type { GradientTarget } from '../runtime/grad/gradients';
import { gradientTimesInput, integratedGradients, midpointAlphas } from '../runtime/analysis/gradient-methods';
import { fmt, summarize, table } from './stats';

const THREADS = Number(process.env.THREADS ?? 2);
const TOKENS = Number(process.env.TOKENS ?? 64);
const RUNS = Number(process.env.RUNS ?? 11);
const STEPS = 32;
const TEXT =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw ' +
  'a big, red ball. She wanted to play with it, but it was too high. Lily asked her mom to help her. Her mom said ' +
  'yes and they played together all day long until the sun went down behind the hills.';

interface Case {
  label: string;
  dir: string;
  target: (ids: number[], hidden: number) => GradientTarget;
}

async function bench(c: Case): Promise<string[][]> {
  const source = await readModel(c.dir);
  const tokenizer = await loadTokenizer(c.dir);
  const ids = tokenizer
    .encode(TEXT)
    .map((t) => t.id)
    .slice(0, TOKENS);
  const S = ids.length;
  const E = source.config.hidden;
  const target = c.target(ids, E);

  const tBuild = performance.now();
  const full = buildFullGraph(source, { attentionOutputs: false });
  const forward = await createSession(full.onnx, { backend: 'native', threads: THREADS });
  const feeds = computeFeeds({ ids: [ids], mask: [ids.map(() => 1)] }, source.config);
  const forwardFeeds = Object.fromEntries(
    full.inputNames.map((n) => [n, feeds.embed[n] ?? feeds.layer[n]]).filter(([, v]) => v !== undefined),
  );
  const forwardMs = performance.now() - tBuild;
  const service = new GradientService(source, 'native', THREADS);
  const t1 = performance.now();
  await service.compute({ ids, target });
  const gradBuildMs = performance.now() - t1;
  const alphas = [...midpointAlphas(STEPS), 0];
  const t2 = performance.now();
  await service.compute({ ids, target, alphas, baseline: 'zero' });
  const igBuildMs = performance.now() - t2;
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

  const fwd: number[] = [];
  const gxi: number[] = [];
  const ig: number[] = [];
  const fwdBatch: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let t = performance.now();
    await forward.run(forwardFeeds, [full.outputNames[0]]);
    fwd.push(performance.now() - t);
    t = performance.now();
    const g = await service.compute({ ids, target });
    gradientTimesInput(g.grad, g.embedding, S, E);
    gxi.push(performance.now() - t);
    t = performance.now();
    const p = await service.compute({ ids, target, alphas, baseline: 'zero' });
    integratedGradients(p.grad, STEPS, p.embedding, p.baseline!, S, E);
    ig.push(performance.now() - t);
    t = performance.now();
    await forward.run(forwardBatchFeeds, [full.outputNames[0]]);
    fwdBatch.push(performance.now() - t);
  }
  await forward.release();
  await service.release();
  const ratio = (xs: number[]) => summarize(xs.map((x, i) => x / fwd[i]));
  const row = (what: string, xs: number[], setup: number) => [
    c.label,
    what,
    fmt(summarize(xs), 2),
    xs === fwd ? '1' : fmt(ratio(xs), 2),
    setup.toFixed(0),
  ];
  return [
    row(`forward pass (${S} tokens)`, fwd, forwardMs),
    row('gradient × input', gxi, gradBuildMs),
    row(`Integrated Gradients, ${STEPS} steps`, ig, igBuildMs),
    row(`forward only, ${rows} rows batched`, fwdBatch, 0),
  ];
}

async function main(): Promise<void> {
  const cases: Case[] = [
    {
      label: 'stories260K',
      dir: path.resolve('test/fixtures/models/stories260K'),
      target: (ids) => ({ measure: 'log-prob', readout: ids.length - 1, token: 13 }),
    },
  ];
  const minilm = path.resolve('.cache/models/all-MiniLM-L6-v2');
  if (existsSync(path.join(minilm, 'model.safetensors')))
    cases.push({
      label: 'all-MiniLM-L6-v2',
      dir: minilm,
      target: (_ids, hidden) => ({
        measure: 'cosine',
        reference: Array.from({ length: hidden }, (_, i) => Math.sin(i + 1)),
      }),
    });
  else console.log(`(all-MiniLM-L6-v2 is not in ${minilm}; run \`node scripts/fetch-model.mjs\`)`);
  const rows: string[][] = [];
  for (const c of cases) rows.push(...(await bench(c)));
  console.log(
    `gradients, native onnxruntime, ${THREADS} threads, ${RUNS} alternating runs; ms median (range); ratio = per run ÷ the forward pass of that run`,
  );
  console.log(table(['model', 'what', 'ms', '× forward', 'setup ms'], rows));
}

void main();
