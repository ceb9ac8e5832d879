// `npx tsx bench/seq2seq-onnx.ts [--runs N] [--source N] [--target N]`: what tapping attention costs KV-cached
// decoding of an imported optimum export (issue 17's target: ≤ 1.15× raw onnxruntime on the same graphs). For
// tiny-marian-dates exported by optimum with a cache in both layouts (test/fixtures/models/tiny-marian-dates-onnx-past:
// decoder_model + decoder_with_past_model; -merged: decoder_model_merged), native, interleaved:
//   with attention: ImportEngine (the first decoder pass in per-layer stages, then its step decoder: one session
//     with every Softmax as an output; a merged decoder split into its two branches), every layer's rows taken;
//   raw onnxruntime: sessions on the export's own files, untouched, no taps (the merged file run as it is, switched
//     by use_cache_branch), fetching logits and present.* only.
// Both encode --source tokens, run the first decoder pass on the start token, then --target − 1 cached steps on
// fixed tokens (greedy's work without its argmax, which both would do alike). Prints median (min–max) of the whole
// decode and of ms per cached step, and the ratio with / without attention.
import { parseArgs } from 'node:util';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createSession, type OutputTensor, type PassTensor, type Session } from '../runtime/backend/ort';
import { defaultThreads } from '../runtime/inspector/load-model';
import type { FeedTensor } from '../runtime/models/plan';
import { ImportEngine } from '../runtime/onnx/import-engine';
import { findOnnxInFolder } from '../runtime/onnx/locate';
import { marianDatesCacheDirs } from '../test/helpers/fixtures';
import { fmt, summarize, table } from './stats';

const { values: argv } = parseArgs({
  options: { runs: { type: 'string' }, source: { type: 'string' }, target: { type: 'string' } },
});
const runs = Number(argv.runs ?? 7);
const sourceTokens = Number(argv.source ?? 64);
const targetTokens = Number(argv.target ?? 32);
const threads = defaultThreads();

interface Sample {
  totalMs: number;
  perStepMs: number;
}

type Decoder = (src: number[], tgt: number[]) => Promise<Sample>;

const int64 = (ids: number[]): FeedTensor => ({
  type: 'int64',
  dims: [1, ids.length],
  data: BigInt64Array.from(ids.map(BigInt)),
}); // [1,S]
const asFeed = (t: OutputTensor): FeedTensor => ({ type: 'float32', dims: t.dims, data: t.data });

/** The engine's KV-cached decode, every layer's attention taken. */
async function withAttention(dir: string): Promise<{ decode: Decoder; release: () => Promise<void> }> {
  const engine = await ImportEngine.create(findOnnxInFolder(dir)!, 'native', threads);
  const start = engine.facts.encoderDecoder!.decoderStartTokenId;
  return {
    release: () => engine.release(),
    decode: async (src, tgt) => {
      const t0 = performance.now();
      const enc = await engine.encode(src);
      const first = await engine.decode(enc, [start], undefined, true);
      let taken = first.self.length + first.cross.length;
      const t1 = performance.now();
      for (let t = 1; t < tgt.length; t++) {
        const step = await engine.step(enc, first.cache!, tgt[t - 1], t);
        taken += step.self.length + step.cross.length;
      }
      const t2 = performance.now();
      if (taken !== tgt.length * 4) throw new Error(`took ${taken} attention rows`);
      return { totalMs: t2 - t0, perStepMs: (t2 - t1) / Math.max(1, tgt.length - 1) };
    },
  };
}

/** Raw onnxruntime on the export's own files: no taps, logits and present.* only. */
async function raw(dir: string): Promise<{ decode: Decoder; release: () => Promise<void> }> {
  const open = async (name: string) =>
    createSession(fs.readFileSync(path.join(dir, name)), { backend: 'native', threads });
  const encoder = await open('encoder_model.onnx');
  const merged = fs.existsSync(path.join(dir, 'decoder_model_merged.onnx'));
  const firstSession = await open(merged ? 'decoder_model_merged.onnx' : 'decoder_model.onnx');
  const stepSession: Session = merged ? firstSession : await open('decoder_with_past_model.onnx');
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as {
    decoder_start_token_id: number;
  };
  const presents = (s: Session) => s.outputNames.filter((n) => n.startsWith('present.'));
  const branch = (on: boolean): PassTensor => ({ type: 'bool', dims: [1], data: Uint8Array.of(on ? 1 : 0) });
  return {
    release: async () => {
      await Promise.all([encoder.release(), firstSession.release(), merged ? undefined : stepSession.release()]);
    },
    decode: async (src, tgt) => {
      const t0 = performance.now();
      const mask = int64(src.map(() => 1));
      const hidden = (await encoder.run({ input_ids: int64(src), attention_mask: mask }, ['last_hidden_state']))
        .last_hidden_state; // [1,S,E]
      const feeds: Record<string, FeedTensor | PassTensor> = {
        input_ids: int64([config.decoder_start_token_id]),
        encoder_attention_mask: mask,
        encoder_hidden_states: asFeed(hidden),
      };
      if (merged) {
        // The merged graph takes every cache input even on its no-cache branch: empty ones (4 heads of 32 here).
        for (const name of firstSession.inputNames.filter((n) => n.startsWith('past_key_values.')))
          feeds[name] = { type: 'float32', dims: [1, 4, 0, 32], data: new Float32Array(0) };
        feeds.use_cache_branch = branch(false);
      }
      const out = await firstSession.run(feeds, ['logits', ...presents(firstSession)]);
      const cache = new Map<string, FeedTensor>();
      for (const n of presents(firstSession)) cache.set(n.replace('present.', 'past_key_values.'), asFeed(out[n]));
      const t1 = performance.now();
      const stepPresents = presents(stepSession).filter((n) => !n.includes('.encoder.'));
      for (let t = 1; t < tgt.length; t++) {
        const f: Record<string, FeedTensor | PassTensor> = {
          input_ids: int64([tgt[t - 1]]),
          encoder_attention_mask: mask,
        };
        for (const name of stepSession.inputNames.filter((n) => n.startsWith('past_key_values.')))
          f[name] = cache.get(name)!;
        if (merged) {
          f.encoder_hidden_states = asFeed(hidden);
          f.use_cache_branch = branch(true);
        }
        const o = await stepSession.run(f, ['logits', ...stepPresents]);
        for (const n of stepPresents) cache.set(n.replace('present.', 'past_key_values.'), asFeed(o[n]));
      }
      const t2 = performance.now();
      return { totalMs: t2 - t0, perStepMs: (t2 - t1) / Math.max(1, tgt.length - 1) };
    },
  };
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
  const decoders = { 'raw onnxruntime': await raw(dir), 'with attention': await withAttention(dir) };
  const names = Object.keys(decoders) as (keyof typeof decoders)[];
  const samples: Record<string, Sample[]> = { 'raw onnxruntime': [], 'with attention': [] };
  for (const n of names) await decoders[n].decode(src.slice(0, 8), tgt.slice(0, 4)); // warm-up
  for (let i = 0; i < runs; i++)
    for (let j = 0; j < names.length; j++) {
      const n = names[(i + j) % names.length];
      samples[n].push(await decoders[n].decode(src, tgt));
    }
  for (const d of Object.values(decoders)) await d.release();
  const base = (k: keyof Sample) => summarize(samples['raw onnxruntime'].map((s) => s[k])).median;
  return names.map((n) => {
    const total = summarize(samples[n].map((s) => s.totalMs));
    const step = summarize(samples[n].map((s) => s.perStepMs));
    return [
      name,
      n,
      `${src.length} / ${tgt.length}`,
      fmt(total, 1),
      `${(total.median / base('totalMs')).toFixed(3)}×`,
      fmt(step, 3),
      `${(step.median / base('perStepMs')).toFixed(3)}×`,
    ];
  });
}

async function main(): Promise<void> {
  const all: string[][] = [];
  for (const [layout, dir] of Object.entries(marianDatesCacheDirs))
    all.push(...(await rows(`tiny-marian-dates-onnx-${layout}`, dir)));
  console.log(`\nnative, ${threads} threads, ${runs} runs interleaved, in-process`);
  console.log(
    table(['export', 'graphs', 'source / target', 'encode + decode ms', 'ratio', 'ms per cached step', 'ratio'], all),
  );
}

void main();
