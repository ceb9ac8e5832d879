// `npx tsx bench/seq2seq-onnx.ts [--runs N] [--source N] [--target N] [--only tiny|base|floor] [--threads N]`: what tapping attention
// costs an imported optimum encoder–decoder export with a key/value cache (issue 17's target: ≤ 1.15× raw
// onnxruntime on the same graphs, teacher-forced and KV-cached greedy). Two models, each exported by optimum in both
// cache layouts (past: decoder_model + decoder_with_past_model; merged: decoder_model_merged):
//   tiny-marian-dates (test/fixtures/models/tiny-marian-dates-onnx-past, -merged; 2 + 2 layers × 4 heads, d 128);
//   marian-base-random (.cache/models/marian-base-random-onnx-past, -merged; opus-mt's shape, 6 + 6 layers × 8 heads,
//     d 512, FFN 2048, random weights; not in the repository: `/work/.venv-optimum/bin/python
//     scripts/make-marian-base-onnx.py` makes it, and the bench says so when it is missing).
// Native, in-process, interleaved:
//   with attention: ImportEngine (encoder and first decoder pass whole — per-layer stages only for an export without
//     start/eos ids in its config.json — then its step decoder: one
//     session with every Softmax as an output; a merged decoder split into its two branches), every row taken;
//   raw onnxruntime: sessions on the export's own files, untouched, no taps (the merged file run as it is, switched
//     by use_cache_branch), fetching last_hidden_state, logits and present.* only.
// (1) teacher-forced: encode --source tokens, one decoder pass (no cache) over --target tokens (a sample is the mean of
// up to 10 passes, ~20 ms of raw onnxruntime); (2) KV-cached greedy:
// encode, the first decoder pass on the start token, then --target − 1 cached steps on fixed tokens (greedy's work
// without its argmax, which both would do alike). Prints median (min–max) of wall and of the process's CPU time
// (every onnxruntime thread) per teacher-forced pass and per cached step, and the ratios with / without attention.
// Then beam search against greedy, per search step, on each export (both cache layouts and tiny-marian-dates-onnx
// without a cache): the worker's run of an import (import-seq2seq.ts: encode, the search, then the teacher-forced
// pass on the chosen tokens; greedy: its steps, rows stacked), 4 beams vs 1, on a date and on the --source tokens;
// ms per step = the run's ms / its search steps; calls/step = decoder session calls per search step (the cached
// exports' beams are the rows of one call). And the measurement behind that choice: raw onnxruntime on
// decoder_with_past_model.onnx, 4 rows in one call against 4 one-row calls, at 8 cached tokens after --source ones.
// The teacher-forced floor table also times Explain's perturbation pass (ImportEngine.forward, one source row read as
// one target log-probability: the encoder and decoder without their maps fetched).
// Last, the floor of a cached step (tiny-marian-dates-onnx-past): raw onnxruntime on decoder_with_past_model.onnx as
// it is, on the graph the engine runs (its Softmax outputs as graph outputs, and their joined copy) not fetching the
// taps, and fetching the joined taps, against the engine's step; batches of --target − 1 steps, interleaved.
import { parseArgs } from 'node:util';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSession, type OutputTensor, type PassTensor, type Session } from '../runtime/backend/ort';
import { defaultThreads } from '../runtime/inspector/load-model';
import type { FeedTensor } from '../runtime/models/plan';
import { ImportEngine } from '../runtime/onnx/import-engine';
import { servedImportSeq2Seq } from '../runtime/inspector/import-seq2seq';
import type { RunControl } from '../runtime/inspector/worker-loop';
import { findOnnxInFolder } from '../runtime/onnx/locate';
import { analyseFile, tapWholeGraph } from '../runtime/onnx/prepare';
import { readOnnxFile } from '../runtime/onnx/read';
import { fixturesDir, marianDatesCacheDirs, marianDatesDir } from '../test/helpers/fixtures';
import { fmt, summarize, table, timed } from './stats';
import { interleavedSamples, ratioCells, type Seq2SeqSample } from './seq2seq-timing';

const { values: argv } = parseArgs({
  options: {
    runs: { type: 'string' },
    source: { type: 'string' },
    target: { type: 'string' },
    only: { type: 'string' },
    threads: { type: 'string' },
  },
});
const runs = Number(argv.runs ?? 7);
const sourceTokens = Number(argv.source ?? 64);
const targetTokens = Number(argv.target ?? 32);
const threads = argv.threads ? Number(argv.threads) : defaultThreads();

/** The Marian-base-shaped exports made by scripts/make-marian-base-onnx.py (git-ignored). */
const baseDirs = {
  past: path.resolve('.cache/models/marian-base-random-onnx-past'),
  merged: path.resolve('.cache/models/marian-base-random-onnx-merged'),
};

type Sample = Seq2SeqSample;
type Timed = Omit<Sample, 'forcedMs' | 'forcedCpuMs'>;

interface Runner {
  forced: (src: number[], tgt: number[]) => Promise<void>;
  greedy: (src: number[], tgt: number[]) => Promise<Timed>;
  release: () => Promise<void>;
}

const int64 = (ids: number[]): FeedTensor => ({
  type: 'int64',
  dims: [1, ids.length],
  data: BigInt64Array.from(ids.map(BigInt)),
}); // [1,S]
const asFeed = (t: OutputTensor): FeedTensor => ({ type: 'float32', dims: t.dims, data: t.data });
const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;

/** The engine: every encoder, decoder and cross row taken. */
async function withAttention(dir: string): Promise<Runner> {
  const engine = await ImportEngine.create(findOnnxInFolder(dir)!, 'native', threads);
  const start = engine.facts.encoderDecoder!.decoderStartTokenId;
  return {
    release: () => engine.release(),
    forced: async (src, tgt) => {
      const enc = await engine.encode(src);
      const d = await engine.decode(enc, [start, ...tgt.slice(0, -1)]);
      if (enc.layers.length + d.self.length + d.cross.length === 0) throw new Error('no attention');
    },
    greedy: async (src, tgt) => {
      const enc = await engine.encode(src);
      const first = await engine.decode(enc, [start], undefined, true);
      let taken = first.self.length + first.cross.length;
      const t1 = performance.now();
      const c1 = process.cpuUsage();
      for (let t = 1; t < tgt.length; t++) {
        const step = await engine.step(enc, first.cache!, tgt[t - 1], t);
        taken += step.self.length + step.cross.length;
      }
      const steps = Math.max(1, tgt.length - 1);
      const timed = { perStepMs: (performance.now() - t1) / steps, perStepCpuMs: cpuMs(process.cpuUsage(c1)) / steps };
      if (taken !== tgt.length * 2 * engine.facts.encoderDecoder!.decoderLayers)
        throw new Error(`took ${taken} attention rows`);
      return timed;
    },
  };
}

/** Raw onnxruntime on the export's own files: no taps, last_hidden_state, logits and present.* only. */
async function raw(dir: string): Promise<Runner> {
  const open = async (name: string) =>
    createSession(fs.readFileSync(path.join(dir, name)), { backend: 'native', threads });
  const encoder = await open('encoder_model.onnx');
  const merged = fs.existsSync(path.join(dir, 'decoder_model_merged.onnx'));
  const firstSession = await open(merged ? 'decoder_model_merged.onnx' : 'decoder_model.onnx');
  const stepSession: Session = merged ? firstSession : await open('decoder_with_past_model.onnx');
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as {
    decoder_start_token_id: number;
    d_model: number;
    decoder_attention_heads: number;
  };
  const heads = config.decoder_attention_heads;
  const headSize = config.d_model / heads;
  const presents = (s: Session) => s.outputNames.filter((n) => n.startsWith('present.'));
  const branch = (on: boolean): PassTensor => ({ type: 'bool', dims: [1], data: Uint8Array.of(on ? 1 : 0) });
  const encode = async (src: number[]) => {
    const mask = int64(src.map(() => 1));
    const hidden = (await encoder.run({ input_ids: int64(src), attention_mask: mask }, ['last_hidden_state']))
      .last_hidden_state; // [1,S,E]
    return { mask, hidden: asFeed(hidden) };
  };
  /** The first decoder pass's feeds (no cache); the merged graph takes every cache input even then: empty ones. */
  const firstFeeds = (ids: number[], mask: FeedTensor, hidden: FeedTensor) => {
    const feeds: Record<string, FeedTensor | PassTensor> = {
      input_ids: int64(ids),
      encoder_attention_mask: mask,
      encoder_hidden_states: hidden,
    };
    if (merged) {
      for (const name of firstSession.inputNames.filter((n) => n.startsWith('past_key_values.')))
        feeds[name] = { type: 'float32', dims: [1, heads, 0, headSize], data: new Float32Array(0) }; // [1,H,0,Dh]
      feeds.use_cache_branch = branch(false);
    }
    return feeds;
  };
  return {
    release: async () => {
      await Promise.all([encoder.release(), firstSession.release(), merged ? undefined : stepSession.release()]);
    },
    forced: async (src, tgt) => {
      const { mask, hidden } = await encode(src);
      const ids = [config.decoder_start_token_id, ...tgt.slice(0, -1)];
      await firstSession.run(firstFeeds(ids, mask, hidden), ['logits']);
    },
    greedy: async (src, tgt) => {
      const { mask, hidden } = await encode(src);
      const out = await firstSession.run(firstFeeds([config.decoder_start_token_id], mask, hidden), [
        'logits',
        ...presents(firstSession),
      ]);
      const cache = new Map<string, FeedTensor>();
      for (const n of presents(firstSession)) cache.set(n.replace('present.', 'past_key_values.'), asFeed(out[n]));
      const t1 = performance.now();
      const c1 = process.cpuUsage();
      const stepPresents = presents(stepSession).filter((n) => !n.includes('.encoder.'));
      for (let t = 1; t < tgt.length; t++) {
        const f: Record<string, FeedTensor | PassTensor> = {
          input_ids: int64([tgt[t - 1]]),
          encoder_attention_mask: mask,
        };
        for (const name of stepSession.inputNames.filter((n) => n.startsWith('past_key_values.')))
          f[name] = cache.get(name)!;
        if (merged) {
          f.encoder_hidden_states = hidden;
          f.use_cache_branch = branch(true);
        }
        const o = await stepSession.run(f, ['logits', ...stepPresents]);
        for (const n of stepPresents) cache.set(n.replace('present.', 'past_key_values.'), asFeed(o[n]));
      }
      const steps = Math.max(1, tgt.length - 1);
      return { perStepMs: (performance.now() - t1) / steps, perStepCpuMs: cpuMs(process.cpuUsage(c1)) / steps };
    },
  };
}

/** One sample: `reps` teacher-forced passes (their mean: a small model's pass is a millisecond or two, which one
 * timing on a shared machine does not resolve), then one greedy decode's steps. */
async function once(r: Runner, src: number[], tgt: number[], reps = 1): Promise<Sample> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < reps; i++) await r.forced(src, tgt);
  const forcedMs = (performance.now() - t0) / reps;
  const forcedCpuMs = cpuMs(process.cpuUsage(c0)) / reps;
  return { forcedMs, forcedCpuMs, ...(await r.greedy(src, tgt)) };
}

async function rows(name: string, dir: string): Promise<string[][]> {
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as {
    vocab_size: number;
    max_position_embeddings: number;
  };
  const V = config.vocab_size;
  const ids = (n: number, mul: number) => Array.from({ length: n }, (_, i) => 2 + ((i * mul) % (V - 4)));
  const src = ids(Math.min(sourceTokens, config.max_position_embeddings), 7919);
  const tgt = ids(Math.min(targetTokens, config.max_position_embeddings), 104729);
  const runners = { 'raw onnxruntime': await raw(dir), 'with attention': await withAttention(dir) };
  // Passes per sample: enough for ~20 ms of raw onnxruntime (10 for tiny-marian-dates, 1 for Marian base).
  await runners['raw onnxruntime'].forced(src, tgt);
  const t0 = performance.now();
  await runners['raw onnxruntime'].forced(src, tgt);
  const reps = Math.max(1, Math.min(10, Math.round(20 / (performance.now() - t0))));
  const samples = await interleavedSamples(runners, runs, (r, warmUp) =>
    warmUp ? once(r, src.slice(0, 8), tgt.slice(0, 4)) : once(r, src, tgt, reps),
  );
  for (const r of Object.values(runners)) await r.release();
  const cells = ratioCells(samples, 'raw onnxruntime');
  return Object.keys(runners).map((n) => [name, n, `${src.length} / ${tgt.length}`, ...cells[n]]);
}

/** A translation run as the worker serves an import: ms, tokens, search steps and decoder calls. */
async function translate(
  engine: ImportEngine,
  ids: number[],
  beams: number,
  maxNew: number,
): Promise<{ ms: number; tokens: number; steps: number; calls: number }> {
  // Count the decoder calls and the search's steps: a cached step at position p is search step p + 1; without a
  // cache the pass over a prefix of T tokens is step T (the last decode of a beam run is the teacher-forced pass).
  const decode = engine.decode.bind(engine);
  const step = engine.step.bind(engine);
  const stepRows = engine.stepRows.bind(engine);
  const passes: number[] = [];
  let steps = 0;
  engine.decode = (enc, decoderIds, ...rest) => {
    passes.push(decoderIds.length);
    return decode(enc, decoderIds, ...rest);
  };
  engine.step = (enc, cache, id, position, ...rest) => {
    steps = Math.max(steps, position + 1);
    passes.push(0);
    return step(enc, cache, id, position, ...rest);
  };
  engine.stepRows = (enc, caches, rowIds, position, ...rest) => {
    steps = Math.max(steps, position + 1);
    for (let b = 0; b < (engine.batchedBeams ? 1 : rowIds.length); b++) passes.push(0);
    return stepRows(enc, caches, rowIds, position, ...rest);
  };
  let tokens = 0;
  const control: RunControl = {
    isCancelled: () => false,
    emit: (e) => {
      if (e.type === 'target') tokens = e.ids.length;
    },
    keep: () => undefined,
  };
  const t0 = performance.now();
  await servedImportSeq2Seq(engine).run({ ids, withVectors: false, target: { translate: maxNew, beams } }, control);
  const ms = performance.now() - t0;
  engine.decode = decode;
  engine.step = step;
  engine.stepRows = stepRows;
  const search = beams > 1 ? passes.slice(0, -1) : passes; // a beam run ends with its teacher-forced pass
  if (!engine.cached) steps = Math.max(...search);
  return { ms, tokens, steps: Math.max(steps, 1), calls: search.length };
}

async function beamRows(name: string, dir: string, sources: [string, number[]][]): Promise<string[][]> {
  const engine = await ImportEngine.create(findOnnxInFolder(dir)!, 'native', threads);
  const out: string[][] = [];
  try {
    for (const [what, src] of sources) {
      const maxNew = Math.min(targetTokens, engine.facts.maxPositions);
      await translate(engine, src, 4, maxNew); // warm-up
      const samples: Record<number, Awaited<ReturnType<typeof translate>>[]> = { 1: [], 4: [] };
      for (let i = 0; i < runs; i++)
        for (const beams of i % 2 ? [4, 1] : [1, 4]) samples[beams].push(await translate(engine, src, beams, maxNew));
      const perStep = (b: number) => summarize(samples[b].map((x) => x.ms / x.steps));
      for (const beams of [1, 4]) {
        const s = samples[beams][0];
        out.push([
          name,
          `${what}, ${beams === 1 ? 'greedy' : `${beams} beams`}`,
          `${src.length} / ${s.tokens}`,
          String(s.steps),
          (s.calls / s.steps).toFixed(2),
          fmt(summarize(samples[beams].map((x) => x.ms)), 1),
          fmt(perStep(beams), 3),
          `${(perStep(beams).median / perStep(1).median).toFixed(2)}×`,
        ]);
      }
    }
  } finally {
    await engine.release();
  }
  return out;
}

/** Raw onnxruntime on decoder_with_past_model.onnx: `rows` beams as rows of one call, or as one-row calls. */
async function batchRows(dir: string): Promise<string[][]> {
  const session = await createSession(fs.readFileSync(path.join(dir, 'decoder_with_past_model.onnx')), {
    backend: 'native',
    threads,
  });
  const S = sourceTokens;
  const P = 8;
  const B = 4;
  const feeds = (rows: number): Record<string, FeedTensor> => {
    const f: Record<string, FeedTensor> = {
      input_ids: { type: 'int64', dims: [rows, 1], data: new BigInt64Array(rows).fill(5n) }, // [B,1]
      encoder_attention_mask: { type: 'int64', dims: [rows, S], data: new BigInt64Array(rows * S).fill(1n) }, // [B,S]
    };
    for (const name of session.inputNames.filter((n) => n.startsWith('past_key_values.'))) {
      const length = name.includes('.encoder.') ? S : P;
      const data = new Float32Array(rows * 4 * length * 32); // [B,4,P|S,32]
      for (let k = 0; k < data.length; k++) data[k] = Math.sin(k * 0.37) * 0.5;
      f[name] = { type: 'float32', dims: [rows, 4, length, 32], data };
    }
    return f;
  };
  const fetches = [
    'logits',
    ...session.outputNames.filter((n) => n.startsWith('present.') && !n.includes('.encoder.')),
  ];
  const one = feeds(1);
  const all = feeds(B);
  const ways: Record<string, () => Promise<void>> = {
    [`${B} one-row calls`]: async () => {
      for (let b = 0; b < B; b++) await session.run(one, fetches);
    },
    [`${B} rows in one call`]: async () => {
      await session.run(all, fetches);
    },
  };
  const names = Object.keys(ways);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) for (let w = 0; w < 20; w++) await ways[n]();
  for (let i = 0; i < runs * 20; i++)
    for (let j = 0; j < names.length; j++) {
      const n = names[(i + j) % names.length];
      const t0 = performance.now();
      await ways[n]();
      samples[n].push(performance.now() - t0);
    }
  await session.release();
  const base = summarize(samples[names[0]]).median;
  return names.map((n) => {
    const s = summarize(samples[n]);
    return ['tiny-marian-dates-onnx-past', n, `${S} / ${P}`, fmt(s, 3), `${(s.median / base).toFixed(2)}×`];
  });
}

/**
 * Per cached step on the with-past export: raw onnxruntime on the file as it is, on the engine's tapped graph without
 * and with fetching its joined taps, and the engine's step (all from one first pass's cache, --target − 1 steps a
 * sample, interleaved); ms and CPU ms per step with ratios to the first.
 */
async function stepFloor(dir: string): Promise<string[][]> {
  const file = path.join(dir, 'decoder_with_past_model.onnx');
  const plain = await createSession(fs.readFileSync(file), { backend: 'native', threads });
  const tapped = tapWholeGraph(analyseFile({ onnx: readOnnxFile(file), label: 'step' }, false, true), true);
  const tappedSession = await createSession(tapped.bytes, { backend: 'native', threads });
  const engine = await ImportEngine.create(findOnnxInFolder(dir)!, 'native', threads);
  const V = engine.facts.vocabSize;
  const src = Array.from(
    { length: Math.min(sourceTokens, engine.facts.maxPositions) },
    (_, i) => 2 + ((i * 7919) % (V - 4)),
  );
  const steps = Math.max(1, Math.min(targetTokens, engine.facts.maxPositions) - 1);
  const ids = Array.from({ length: steps }, (_, i) => 2 + ((i * 104729) % (V - 4)));
  const enc = await engine.encode(src);
  const first = await engine.decode(enc, [engine.facts.encoderDecoder!.decoderStartTokenId], undefined, true);
  const mask = int64(src.map(() => 1));
  const presents = plain.outputNames.filter((n) => n.startsWith('present.'));
  const pasts = plain.inputNames.filter((n) => n.startsWith('past_key_values.'));
  const rawSteps = (session: Session, taps: string[]) => async () => {
    const cache = new Map(first.cache!);
    for (let t = 0; t < steps; t++) {
      const f: Record<string, FeedTensor> = { input_ids: int64([ids[t]]), encoder_attention_mask: mask };
      for (const n of pasts) f[n] = cache.get(n)!;
      const o = await session.run(f, ['logits', ...presents, ...taps]);
      for (const n of presents) cache.set(n.replace('present.', 'past_key_values.'), asFeed(o[n]));
    }
  };
  const ways: Record<string, () => Promise<void>> = {
    'raw, the file as it is': rawSteps(plain, []),
    'raw, tapped graph, taps not fetched': rawSteps(tappedSession, []),
    'raw, tapped graph, joined taps fetched': rawSteps(tappedSession, [tapped.joined!]),
    'engine step (every row taken)': async () => {
      const cache = new Map(first.cache!);
      for (let t = 0; t < steps; t++) await engine.step(enc, cache, ids[t], t + 1);
    },
  };
  const names = Object.keys(ways);
  const wall: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) await ways[n]();
  for (let i = 0; i < runs * 3; i++)
    for (let j = 0; j < names.length; j++) {
      const n = names[(i + j) % names.length];
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await ways[n]();
      cpu[n].push(cpuMs(process.cpuUsage(c0)) / steps);
      wall[n].push((performance.now() - t0) / steps);
    }
  await Promise.all([plain.release(), tappedSession.release(), engine.release()]);
  const base = { wall: summarize(wall[names[0]]).median, cpu: summarize(cpu[names[0]]).median };
  return names.map((n) => {
    const w = summarize(wall[n]);
    const c = summarize(cpu[n]);
    return [
      n,
      `${src.length} / ${steps}`,
      fmt(w, 3),
      `${(w.median / base.wall).toFixed(3)}×`,
      fmt(c, 3),
      `${(c.median / base.cpu).toFixed(3)}×`,
    ];
  });
}

/**
 * Per teacher-forced pass on the with-past export (encoder_model.onnx, then decoder_model.onnx over --target tokens):
 * raw onnxruntime on the files as they are; on the graphs the engine runs (every Softmax output a graph output, and
 * their sum) not fetching the taps, and fetching the taps and their sum as the engine does, every pass's outputs
 * held until it ends (as the engine's maps are); and the engine's
 * encode + decode. Batches of 10 passes interleaved (--runs × 3 batches each); ms and CPU ms per pass, the ratio of
 * medians and the median of the per-batch ratios (each batch against the raw batch of its round).
 */
async function forcedFloor(dir: string): Promise<string[][]> {
  const open = async (bytes: Uint8Array) => createSession(bytes, { backend: 'native', threads });
  const files = { encoder: path.join(dir, 'encoder_model.onnx'), decoder: path.join(dir, 'decoder_model.onnx') };
  const plainEncoder = await open(fs.readFileSync(files.encoder));
  const plainDecoder = await open(fs.readFileSync(files.decoder));
  const tap = (file: string) =>
    tapWholeGraph(analyseFile({ onnx: readOnnxFile(file), label: path.basename(file) }, false));
  const tappedEncoder = tap(files.encoder);
  const tappedDecoder = tap(files.decoder);
  const encoderSession = await open(tappedEncoder.bytes);
  const decoderSession = await open(tappedDecoder.bytes);
  const engine = await ImportEngine.create(findOnnxInFolder(dir)!, 'native', threads);
  const V = engine.facts.vocabSize;
  const S = Math.min(sourceTokens, engine.facts.maxPositions);
  const T = Math.min(targetTokens, engine.facts.maxPositions);
  const src = Array.from({ length: S }, (_, i) => 2 + ((i * 7919) % (V - 4)));
  const tgt = Array.from({ length: T }, (_, i) => 2 + ((i * 104729) % (V - 4)));
  const decoderIds = [engine.facts.encoderDecoder!.decoderStartTokenId, ...tgt.slice(0, -1)];
  const rawPass = (encoder: Session, decoder: Session, encoderTaps: string[], decoderTaps: string[]) => async () => {
    const mask = int64(src.map(() => 1));
    const out = await encoder.run({ input_ids: int64(src), attention_mask: mask }, [
      'last_hidden_state',
      ...encoderTaps,
    ]);
    const feeds = { input_ids: int64(decoderIds), encoder_attention_mask: mask };
    const last = await decoder.run({ ...feeds, encoder_hidden_states: asFeed(out.last_hidden_state) }, [
      'logits',
      ...decoderTaps,
    ]);
    return [out, last]; // both passes' maps live until the pass ends, as the engine's (and any reader's) do
  };
  const fetched = (g: typeof tappedEncoder) => [...g.taps, g.sums!];
  const ways: Record<string, () => Promise<unknown>> = {
    'raw, the files as they are': rawPass(plainEncoder, plainDecoder, [], []),
    'raw, tapped graphs, taps not fetched': rawPass(encoderSession, decoderSession, [], []),
    'raw, tapped graphs, taps + sum fetched and kept': rawPass(
      encoderSession,
      decoderSession,
      fetched(tappedEncoder),
      fetched(tappedDecoder),
    ),
    'engine encode + decode (every map taken)': async () => {
      const enc = await engine.encode(src);
      const d = await engine.decode(enc, decoderIds);
      if (enc.layers.length + d.self.length + d.cross.length === 0) throw new Error('no attention');
      return [enc, d];
    },
    // What Explain's perturbation passes run: the same encode + teacher-forced decode, reading one log-probability.
    "engine forward, Explain's pass (no maps fetched)": async () =>
      engine.forward(
        { ids: [src], mask: [src.map(() => 1)] },
        { read: { kind: 'target-logprobs', decoderInput: decoderIds, picks: [T - 1, tgt[T - 1]] } },
      ),
  };
  const reps = 10;
  const names = Object.keys(ways);
  const wall: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) for (let k = 0; k < reps; k++) await ways[n]();
  for (let i = 0; i < runs * 3; i++)
    for (let j = 0; j < names.length; j++) {
      const n = names[(i + j) % names.length];
      const [w, c] = await timed(async () => {
        for (let k = 0; k < reps; k++) await ways[n]();
      });
      wall[n].push(w / reps);
      cpu[n].push(c / reps);
    }
  await Promise.all([plainEncoder, plainDecoder, encoderSession, decoderSession, engine].map((x) => x.release()));
  const base = names[0];
  const cells = (xs: Record<string, number[]>, n: string) => {
    const s = summarize(xs[n]);
    const perRun = summarize(xs[n].map((x, i) => x / xs[base][i])).median;
    return [fmt(s, 3), `${(s.median / summarize(xs[base]).median).toFixed(3)}×`, `${perRun.toFixed(3)}×`];
  };
  return names.map((n) => [n, `${S} / ${T}`, ...cells(wall, n), ...cells(cpu, n)]);
}

/** The main table (both models, both layouts), the beam table and the batched-beams measurement. */
async function tables(load: () => string): Promise<void> {
  const models: [string, Record<string, string>][] = [];
  if (argv.only !== 'base') models.push(['tiny-marian-dates', marianDatesCacheDirs]);
  if (argv.only !== 'tiny') {
    const missing = Object.values(baseDirs).filter((d) => !fs.existsSync(path.join(d, 'encoder_model.onnx')));
    if (missing.length === 0) models.push(['marian-base-random', baseDirs]);
    else
      console.log(
        `${missing.join(', ')} missing: make the Marian-base-shaped exports with ` +
          '`/work/.venv-optimum/bin/python scripts/make-marian-base-onnx.py` (a venv with optimum-onnx; see the ' +
          "script's header), or run with --only tiny.",
      );
  }
  const all: string[][] = [];
  for (const [model, dirs] of models)
    for (const [layout, dir] of Object.entries(dirs)) all.push(...(await rows(`${model}-onnx-${layout}`, dir)));
  console.log(
    `\nnative, ${threads} threads, ${runs} runs interleaved, in-process; ms (wall) and CPU ms (process); load ` +
      `(1 / 5 / 15 min) ${load()} of ${os.cpus().length} cores`,
  );
  console.log(
    table(
      [
        'export',
        'graphs',
        'source / target',
        'teacher-forced ms',
        'ratio',
        'CPU ms',
        'ratio',
        'ms per cached step',
        'ratio',
        'CPU ms',
        'ratio',
      ],
      all,
    ),
  );

  const ref = JSON.parse(fs.readFileSync(path.join(marianDatesDir, 'reference_attention.json'), 'utf8')) as {
    source_ids: number[];
  };
  const V = 400; // tiny-marian-dates' vocabulary
  const long = Array.from({ length: sourceTokens - 1 }, (_, i) => 2 + ((i * 7919) % (V - 4))).concat(0);
  const sources: [string, number[]][] = [
    ['a date', ref.source_ids],
    [`${sourceTokens} tokens`, long],
  ];
  const beamTable: string[][] = [];
  const exports = {
    ...Object.fromEntries(Object.entries(marianDatesCacheDirs).map(([k, d]) => [`tiny-marian-dates-onnx-${k}`, d])),
    'tiny-marian-dates-onnx (no cache)': path.join(fixturesDir, 'models', 'tiny-marian-dates-onnx'),
  };
  for (const [name, dir] of Object.entries(exports)) beamTable.push(...(await beamRows(name, dir, sources)));
  console.log(`\nbeam search vs greedy, the worker's run of an import (at most ${targetTokens} target tokens)`);
  console.log(
    table(['export', 'run', 'source / target', 'steps', 'calls/step', 'run ms', 'ms per step', 'vs greedy'], beamTable),
  );
  console.log('\none cached step of 4 beams, raw onnxruntime (rows of one call, or one call per beam)');
  console.log(
    table(['graph', 'beams as', 'source / cached', 'ms', 'ratio'], await batchRows(marianDatesCacheDirs.past)),
  );
}

async function main(): Promise<void> {
  const load = () =>
    os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' / ');
  if (argv.only !== 'floor') await tables(load);
  console.log(
    `\nthe floor of a teacher-forced pass, tiny-marian-dates-onnx-past (${runs * 3} batches of 10 passes interleaved; ` +
      `ms per pass; ratios: of medians, and the median of per-batch ratios); load ${load()}`,
  );
  console.log(
    table(
      ['what runs', 'source / target', 'ms per pass', 'ratio', 'per batch', 'CPU ms', 'ratio', 'per batch'],
      await forcedFloor(marianDatesCacheDirs.past),
    ),
  );
  console.log(
    `\nthe floor of a cached step, tiny-marian-dates-onnx-past (${runs * 3} batches of steps interleaved; ms per step)`,
  );
  console.log(
    table(
      ['what runs', 'source / steps', 'ms per step', 'ratio', 'CPU ms', 'ratio'],
      await stepFloor(marianDatesCacheDirs.past),
    ),
  );
}

void main();
