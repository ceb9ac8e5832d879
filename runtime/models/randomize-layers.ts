// The model-randomisation sanity check (Adebayo et al. 2018, "Sanity Checks for Saliency Maps"): an explanation
// that still ranks the tokens the same after the model's top layers are re-initialised does not explain the model.
// This wraps a model's weights so that every tensor of the top `layers` layers is replaced by seeded random values
// with the tensor's own mean and standard deviation (a norm's scale stays near its mean, a projection keeps its
// scale, so the activations stay in range), everything else as stored. runtime/explain compares the rankings.
// Encoder–decoders (randomizeTopSeq2SeqLayers): the top `layers` layers of BOTH stacks, the encoder's and the
// decoder's (its self- and cross-attention and feed-forward alike); embeddings, final norms and the head stay.
import { mulberry32 } from '../random';
import type { WeightStore } from '../formats/safetensors-bytes';
import type { ModelSource } from './source';
import type { Seq2SeqSource } from './seq2seq-source';

/** The layer index of a per-layer tensor name (layers.3., layer.3., h.3., blocks.3.), or undefined. */
export function tensorLayer(name: string): number | undefined {
  const m = /(?:^|\.)(?:layers|layer|h|blocks)\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** A tensor's values replaced by seeded normal values of the same mean and standard deviation. */
export function randomLike(data: Float32Array, seed: number): Float32Array {
  let mean = 0;
  for (const x of data) mean += x;
  mean /= Math.max(1, data.length);
  let v = 0;
  for (const x of data) v += (x - mean) ** 2;
  const sd = Math.sqrt(v / Math.max(1, data.length));
  const rand = mulberry32(seed);
  const out = new Float32Array(data.length);
  for (let i = 0; i < out.length; i += 2) {
    // Box–Muller: two normals from two uniforms.
    const r = Math.sqrt(-2 * Math.log(1 - rand()));
    const t = 2 * Math.PI * rand();
    out[i] = mean + sd * r * Math.cos(t);
    if (i + 1 < out.length) out[i + 1] = mean + sd * r * Math.sin(t);
  }
  return out;
}

/** The source with the top `layers` layers' tensors randomised (seeded per tensor from `seed` and its name). */
export function randomizeTopLayers(source: ModelSource, layers: number, seed: number): ModelSource {
  const L = source.config.layers;
  if (!Number.isInteger(layers) || layers < 1 || layers > L)
    throw new RangeError(`cannot randomise ${layers} of ${L} layers`);
  const first = L - layers;
  const weights = randomizedWhere(source.weights, seed, (n) => {
    const l = tensorLayer(n);
    return l !== undefined && l >= first;
  });
  return { ...source, weights };
}

/** `base` with the tensors `chosen` picks re-initialised, each from its own seeded stream (seed and name). Each is
 * drawn once (every graph built for the model — a study builds one per input length — reads it again) and handed
 * out as a copy, as WeightStore.get promises a fresh array. */
function randomizedWhere(base: WeightStore, seed: number, chosen: (name: string) => boolean): WeightStore {
  const hash = (s: string) => [...s].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, seed >>> 0);
  const drawn = new Map<string, Float32Array>();
  return {
    names: () => base.names(),
    has: (n) => base.has(n),
    shape: (n) => base.shape(n),
    get: (n) => {
      if (!chosen(n)) return base.get(n);
      let r = drawn.get(n);
      if (!r) drawn.set(n, (r = randomLike(base.get(n), hash(n))));
      return r.slice();
    },
  };
}

/** The stack and layer of an encoder–decoder tensor (model.encoder.layers.3., decoder.block.1.), or undefined. */
export function seq2seqTensorLayer(name: string): { stack: 'encoder' | 'decoder'; layer: number } | undefined {
  const m = /(?:^|\.)(encoder|decoder)\.(?:layers|block)\.(\d+)\./.exec(name);
  return m ? { stack: m[1] as 'encoder' | 'decoder', layer: Number(m[2]) } : undefined;
}

/** The encoder–decoder with the top `layers` layers of each stack randomised (seeded per tensor as above). */
export function randomizeTopSeq2SeqLayers(source: Seq2SeqSource, layers: number, seed: number): Seq2SeqSource {
  const { encoderLayers, decoderLayers } = source.config;
  const most = Math.min(encoderLayers, decoderLayers);
  if (!Number.isInteger(layers) || layers < 1 || layers > most)
    throw new RangeError(`cannot randomise ${layers} of ${encoderLayers} + ${decoderLayers} layers`);
  const first = { encoder: encoderLayers - layers, decoder: decoderLayers - layers };
  const weights = randomizedWhere(source.weights, seed, (n) => {
    const at = seq2seqTensorLayer(n);
    return at !== undefined && at.layer >= first[at.stack];
  });
  return { ...source, weights };
}
