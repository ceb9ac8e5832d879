// `npx tsx bench/seq2seq.ts [--runs N] [--source N] [--target N] [--base-only | --tiny-only] [--base-dir DIR]`: what
// encoder, decoder and cross attention cost an encoder–decoder run. For tiny-marian-dates and a Marian-base-shaped
// model with random weights (6 + 6 layers × 8 heads, d 512, FFN 2048, vocabulary 58,101; or, with --base-dir, the
// folder scripts/make-marian-base-onnx.py writes, .cache/models/marian-base-random: the same shape on a vocabulary of
// 400, the weights bench/seq2seq-onnx.ts runs as optimum exports), native: the same encoder and decoder graphs
// with every attention as outputs and without them (the baseline: raw onnxruntime on the same graphs), interleaved,
// for (1) the teacher-forced pass (encoder + one decoder pass over a --target-token target) and (2) KV-cached greedy
// decoding of --target tokens after the encoder (ms per step). Prints median (min–max) over the runs of wall and of
// the process's CPU time (every onnxruntime thread), and the ratios with / without attention (issue 17's target
// ≤ 1.15×). A third row times Explain's perturbation pass: the graphs with attention outputs teacher-forced without
// fetching them (Seq2SeqEngine.forward). --source: source tokens (default 64).
import { parseArgs } from 'node:util';
import * as path from 'node:path';
import { Seq2SeqRunner, shiftRight } from '../runtime/generate/seq2seq-runner';
import { defaultThreads } from '../runtime/inspector/load-model';
import { readSeq2SeqModel } from '../runtime/models/seq2seq-read';
import type { Seq2SeqSource } from '../runtime/models/seq2seq-source';
import { syntheticMarian } from '../runtime/models/synthetic-seq2seq';
import { marianDatesDir } from '../test/helpers/fixtures';
import { table } from './stats';
import { interleavedSamples, ratioCells, type Seq2SeqSample } from './seq2seq-timing';

const { values: argv } = parseArgs({
  options: {
    runs: { type: 'string' },
    source: { type: 'string' },
    target: { type: 'string' },
    'base-only': { type: 'boolean' },
    'tiny-only': { type: 'boolean' },
    'base-dir': { type: 'string' },
  },
});
const runs = Number(argv.runs ?? 5);
const sourceTokens = Number(argv.source ?? 64);
const targetTokens = Number(argv.target ?? 32);
const threads = defaultThreads();

interface Sample extends Seq2SeqSample {
  steps: number;
}

/** The process's CPU time (every onnxruntime thread) since `from`, in ms. */
const cpuMs = (from: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(from);
  return (c.user + c.system) / 1000;
};

/** Ids 2 .. V-2 in a fixed pattern (never the pad/start or the usual eos 0). */
const ids = (n: number, V: number, mul: number) => Array.from({ length: n }, (_, i) => 2 + ((i * mul) % (V - 4)));

/** Runners whose teacher-forced pass fetches no maps, as Explain's perturbation passes run (Seq2SeqEngine.forward). */
const explainPass = new Set<Seq2SeqRunner>();

async function once(r: Seq2SeqRunner, src: number[], tgt: number[]): Promise<Sample> {
  const c = r.source.config;
  const maps = explainPass.has(r) ? false : undefined; // undefined: as the runner was made
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await r.teacherForce(await r.encode(src, maps), shiftRight(tgt, c.decoderStartTokenId), maps);
  const forcedMs = performance.now() - t0;
  const forcedCpuMs = cpuMs(c0);
  const enc = await r.encode(src);
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  let steps = 0;
  for await (const _ of r.translate(enc, { maxNew: tgt.length })) steps++;
  return { forcedMs, forcedCpuMs, perStepMs: (performance.now() - t1) / steps, perStepCpuMs: cpuMs(c1) / steps, steps };
}

async function rows(name: string, source: Seq2SeqSource): Promise<string[][]> {
  const V = source.config.vocabSize;
  const src = ids(Math.min(sourceTokens, source.config.maxPositions), V, 7919);
  const tgt = ids(Math.min(targetTokens, source.config.maxPositions), V, 104729);
  const runners = {
    'without attention': await Seq2SeqRunner.create(source, { backend: 'native', threads, attention: false }),
    'with attention': await Seq2SeqRunner.create(source, { backend: 'native', threads, attention: true }),
    // The graphs with attention outputs, teacher-forced without fetching them (Explain's pass; its greedy is the
    // row above's).
    "with attention, Explain's pass": await Seq2SeqRunner.create(source, { backend: 'native', threads }),
  };
  explainPass.add(runners["with attention, Explain's pass"]);
  const samples = await interleavedSamples(runners, runs, (r, warmUp) =>
    warmUp ? once(r, src.slice(0, 8), tgt.slice(0, 4)) : once(r, src, tgt),
  );
  for (const r of Object.values(runners)) await r.release();
  const cells = ratioCells(samples, 'without attention');
  return Object.keys(runners).map((n) => [
    name,
    n,
    `${src.length} / ${tgt.length}`,
    ...cells[n],
    String(samples[n][0].steps),
  ]);
}

async function main(): Promise<void> {
  const all: string[][] = [];
  if (!argv['base-only']) all.push(...(await rows('tiny-marian-dates', await readSeq2SeqModel(marianDatesDir))));
  if (!argv['tiny-only'] && argv['base-dir'])
    all.push(...(await rows(path.basename(argv['base-dir']), await readSeq2SeqModel(path.resolve(argv['base-dir'])))));
  else if (!argv['tiny-only']) {
    const base = syntheticMarian({
      encoderLayers: 6,
      decoderLayers: 6,
      hidden: 512,
      heads: 8,
      ffn: 2048,
      vocab: 58101,
      maxPositions: 512,
      seed: 17,
    });
    all.push(...(await rows('marian-base (random)', base)));
  }
  console.log(`\nnative, ${threads} threads, ${runs} runs interleaved, in-process; ms (wall) and CPU ms (process)`);
  console.log(
    table(
      [
        'model',
        'graphs',
        'source / target',
        'teacher-forced ms',
        'ratio',
        'CPU ms',
        'ratio',
        'greedy ms/step',
        'ratio',
        'CPU ms',
        'ratio',
        'steps',
      ],
      all,
    ),
  );
}

void main();
