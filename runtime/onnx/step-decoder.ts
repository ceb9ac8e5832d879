// The key/value-cached step of an imported encoder–decoder export (optimum's decoder_with_past_model.onnx, or the
// cache branch of decoder_model_merged.onnx, see merged-decoder.ts): greedy decoding runs the first decoder pass
// (decoder_model, or the merged file's no-cache branch) on the start token, keeps its present.* outputs as the
// cache, then runs this graph on one token per step, feeding past_key_values.* and taking back the self-attention
// cache's present.*.decoder.* (the cross-attention cache, past_key_values.N.encoder.*, is the first pass's for the
// whole translation: the encoder's keys and values do not change). Its Softmax taps are the new token's rows:
// decoder self-attention [heads, 1, t + 1] and cross-attention [heads, 1, source]. It runs as one session (one call
// per step, as onnxruntime without taps would), on one row. At load a probe on a made-up cache (2 and 3 past
// tokens, the encoder probe's 5 and 7 source tokens) tells each tap's kind by its keys, checked against the first
// pass's layers, and every past input must have the first pass's present output of the same name.
// A step is a fraction of a millisecond on a small model, so what it does beyond onnxruntime's own call counts
// (bench/seq2seq-onnx.ts): its taps come as one joined output (one fetch, split here by each layer's heads × keys),
// its feeds are built once per source and only the token, position and cache change, the present outputs are fed
// back as onnxruntime returned them, and a beam step fetches no attention at all.
import type { OutputTensor } from '../backend/ort';
import { cancelled, LensError } from '../errors';
import { checkAttentionFinite, checkOutputFinite, firstNonFinite } from '../finite';
import type { FeedTensor } from '../models/plan';
import type { AttentionKind, BackendName, LayerAttention } from '../types';
import { buildFeeds, oneRow, PAST_PREFIX, PRESENT_PREFIX } from './feeds';
import { ImportedPart, type PartProbe } from './imported-part';
import type { ReadGraph } from './prepare';

/** The key/value cache of one translation, by past input name: [1, heads, past, head size]. */
export type KvCache = Map<string, FeedTensor>;

/** One step: the new token's rows by decoder layer, and its logits [V]. */
export interface StepResult {
  /** Decoder self-attention rows, kind 'decoder', [heads, 1, t + 1]. */
  self: LayerAttention[];
  /** Cross-attention rows, kind 'cross', [heads, 1, source]. */
  cross: LayerAttention[];
  logits: Float32Array;
  ms: number[];
}

/** A first-pass layer, as the engine's probe classified it. */
export interface DecoderSlot {
  kind: AttentionKind;
  heads: number;
}

/** Past lengths of the two probe inputs (different from each other and from the encoder probe's lengths − 1). */
const PROBE_PAST: [number, number] = [2, 3];

/** The cross-attention cache: set by the first pass, never by a step. */
const isCrossCache = (name: string) => name.includes('.encoder.');

const pastOf = (present: string) => PAST_PREFIX + present.slice(PRESENT_PREFIX.length);

export interface StepOpenOptions {
  backend: BackendName;
  threads: number;
  planFeeds: boolean;
  /** The first decoder pass (its graph outputs name the cache it gives) and its layers' kinds in tap order. */
  first: ImportedPart;
  firstSlots: DecoderSlot[];
  /** The encoder's probe (its hidden states for the two probe inputs) and their lengths. */
  encoderProbe: PartProbe;
  encoderLengths: [number, number];
  vocabSize: number;
}

export class StepDecoder {
  /** The feeds that stay the same for one source (mask, encoder states...), by the encoder states they are for. */
  private fixedFeeds?: { encoderHidden: FeedTensor; feeds: Record<string, FeedTensor> };
  /** The past_key_values.* inputs, and the graph outputs a step fetches: logits, then the carried present.*. */
  private readonly pastInputs: string[];
  private readonly fetched: string[];
  /** The past input each of stepOutputs fills at the next step. */
  private readonly carriedTo: string[];

  private constructor(
    private part: ImportedPart,
    /** Kind per tap, in tap order: 'decoder' or 'cross'. */
    private readonly kinds: ('decoder' | 'cross')[],
    private readonly heads: number[],
    /** The first pass's present.* outputs that start the cache. */
    readonly firstOutputs: string[],
    /** The step's present.* outputs that carry the self-attention cache on. */
    private readonly stepOutputs: string[],
    private readonly vocabSize: number,
    /** The export's ids input takes a batch (its first axis is not fixed to 1): beams run as rows of one call. */
    readonly batchable: boolean,
  ) {
    this.pastInputs = part.inputs.filter((p) => p.role === 'past').map((p) => p.name);
    this.fetched = ['logits', ...stepOutputs];
    this.carriedTo = stepOutputs.map(pastOf);
  }

  get label(): string {
    return this.part.label;
  }

  static async open(source: ReadGraph, o: StepOpenOptions): Promise<StepDecoder> {
    const declared = new Map((source.onnx.graph.input ?? []).map((v) => [v.name ?? '', v]));
    const firstPresent = o.first.outputs.filter((n) => n.startsWith(PRESENT_PREFIX));
    const probeFeeds = (inputs: Parameters<typeof buildFeeds>[0], i: 0 | 1) => {
      const probeHidden = i === 0 ? o.encoderProbe.hidden : o.encoderProbe.hiddenB; // [rows,S_enc,E], rows alike
      const encoderS = o.encoderLengths[i];
      const past: KvCache = new Map();
      for (const p of inputs.filter((q) => q.role === 'past')) {
        if (!firstPresent.includes(PRESENT_PREFIX + p.name.slice(PAST_PREFIX.length)))
          throw new LensError(
            'UNSUPPORTED_MODEL',
            `${source.label} takes ${p.name}, but ${o.first.label} has no output ` +
              `${PRESENT_PREFIX}${p.name.slice(PAST_PREFIX.length)} to fill it: the two decoders are not one export's; ` +
              're-export the model with optimum (--task text2text-generation-with-past).',
          );
        const dims = (declared.get(p.name)?.type?.tensorType?.shape?.dim ?? []).map((d) => Number(d.dimValue ?? 0));
        const [, heads, , size] = dims;
        if (dims.length !== 4 || !(heads > 0) || !(size > 0))
          throw new LensError(
            'UNSUPPORTED_MODEL',
            `${source.label}'s cache input ${p.name} does not declare [batch, heads, length, head size] with fixed ` +
              'heads and head size; re-export the model with optimum.',
          );
        const length = isCrossCache(p.name) ? encoderS : PROBE_PAST[i];
        const n = heads * length * size;
        const data = new Float32Array(n); // [1,H,P,Dh]
        for (let k = 0; k < n; k++) data[k] = Math.sin(k * 0.37 + i) * 0.5;
        past.set(p.name, { type: 'float32', dims: [1, heads, length, size], data });
      }
      const encoderHidden = probeHidden && {
        type: 'float32' as const,
        dims: [1, ...probeHidden.dims.slice(1)],
        data: probeHidden.data.subarray(0, probeHidden.data.length / probeHidden.dims[0]), // [1,S_enc,E]: row 0
      };
      const feeds = buildFeeds(inputs, oneRow([1]), { encoderHidden, past, causal: true }, source.label);
      for (const p of inputs.filter((q) => q.role === 'positions'))
        feeds[p.name] = { type: 'int64', dims: [1, 1], data: BigInt64Array.of(BigInt(PROBE_PAST[i])) }; // [1,1]
      return feeds;
    };
    const { part, probe } = await ImportedPart.open(source, {
      planFeeds: o.planFeeds,
      step: true,
      backend: o.backend,
      threads: o.threads,
      probeFeeds: (inputs, _vocab, i) => probeFeeds(inputs, i),
      lengths: { seq: [1, 1], encoderSeq: o.encoderLengths },
    });
    try {
      const kinds = probe.taps.map((t, k) => {
        const K = t.dims[t.dims.length - 1];
        const Q = t.dims[t.dims.length - 2];
        const KB = probe.tapsB[k].dims[probe.tapsB[k].dims.length - 1];
        if (Q === 1 && K === o.encoderLengths[0] && KB === o.encoderLengths[1]) return 'cross' as const;
        if (Q === 1 && K === PROBE_PAST[0] + 1 && KB === PROBE_PAST[1] + 1) return 'decoder' as const;
        throw new LensError(
          'UNSUPPORTED_MODEL',
          `${part.label}: an attention Softmax has shape [${t.dims.join(', ')}] for one new token after ` +
            `${PROBE_PAST[0]} cached ones and ${o.encoderLengths[0]} source tokens; it is neither self- nor cross-attention.`,
        );
      });
      const firstKinds = o.firstSlots.map((s) => (s.kind === 'cross' ? 'cross' : 'decoder'));
      if (kinds.join() !== firstKinds.join())
        throw new LensError(
          'UNSUPPORTED_MODEL',
          `${part.label}'s attention layers (${kinds.join(', ')}) are not ${o.first.label}'s (${firstKinds.join(', ')}); ` +
            'the two decoders are not one export’s: re-export the model with optimum.',
        );
      const heads = probe.taps.map((t) => (t.dims.length === 4 ? t.dims[1] : t.dims[0]));
      heads.forEach((h, k) => {
        if (h !== o.firstSlots[k].heads)
          throw new LensError(
            'UNSUPPORTED_MODEL',
            `${part.label}'s attention layer ${k} has ${h} heads, ${o.first.label}'s ${o.firstSlots[k].heads}.`,
          );
      });
      const pastInputs = part.inputs.filter((p) => p.role === 'past').map((p) => p.name);
      const stepOutputs = part.outputs.filter(
        (n) => n.startsWith(PRESENT_PREFIX) && !isCrossCache(n) && pastInputs.includes(pastOf(n)),
      );
      const selfPast = pastInputs.filter((n) => !isCrossCache(n));
      const carried = new Set(stepOutputs.map(pastOf));
      const missing = selfPast.find((n) => !carried.has(n));
      if (missing)
        throw new LensError(
          'UNSUPPORTED_MODEL',
          `${part.label} takes ${missing} but gives no ${PRESENT_PREFIX}${missing.slice(PAST_PREFIX.length)} to carry ` +
            'it to the next step; re-export the model with optimum.',
        );
      const firstOutputs = firstPresent.filter((n) => pastInputs.includes(pastOf(n)));
      if (!part.outputs.includes('logits'))
        throw new LensError('UNSUPPORTED_MODEL', `${part.label} has no logits output.`);
      const ids = part.inputs.find((p) => p.role === 'ids');
      const batchDim = ids && declared.get(ids.name)?.type?.tensorType?.shape?.dim?.[0];
      const batchable = Number(batchDim?.dimValue ?? 0) !== 1;
      return new StepDecoder(part, kinds, heads, firstOutputs, stepOutputs, o.vocabSize, batchable);
    } catch (e) {
      await part.release();
      throw e;
    }
  }

  /** The cache from the first pass's present.* outputs (those the step reads), by past input name. */
  startCache(outputs: Record<string, OutputTensor>): KvCache {
    const cache: KvCache = new Map();
    for (const name of this.firstOutputs) {
      const t = outputs[name];
      if (!t) throw new LensError('INFERENCE_FAILED', `The first decoder pass returned no ${name}.`);
      cache.set(pastOf(name), { type: 'float32', dims: t.dims, data: t.data });
    }
    return cache;
  }

  /** The feeds of a step on `encoderHidden` that do not change from step to step (built once per source). */
  private stepFeeds(encoderHidden: FeedTensor, cache: KvCache): Record<string, FeedTensor> {
    if (this.fixedFeeds?.encoderHidden !== encoderHidden) {
      const inputs = this.part.inputs.filter((p) => p.role !== 'past');
      const feeds = buildFeeds(inputs, oneRow([0]), { encoderHidden, causal: true }, this.part.label);
      for (const p of inputs) if (p.role === 'ids' || p.role === 'positions') delete feeds[p.name];
      this.fixedFeeds = { encoderHidden, feeds };
    }
    const feeds = { ...this.fixedFeeds.feeds };
    for (const name of this.pastInputs) {
      const t = cache.get(name); // [1,H,P,Dh]
      if (!t)
        throw new LensError(
          'UNSUPPORTED_MODEL',
          `${this.part.label} takes ${name}, which no output of the first decoder pass fills (it gives present.* outputs).`,
        );
      feeds[name] = t;
    }
    return feeds;
  }

  /**
   * One step: token `id` at decoder position `position` (the number of tokens before it) after the cached ones;
   * the cache is carried on in place.
   */
  async run(
    cache: KvCache,
    id: number,
    position: number,
    encoderHidden: FeedTensor,
    hooks: { isCancelled?: () => boolean; onStage?: () => void },
  ): Promise<StepResult> {
    const feeds = this.stepFeeds(encoderHidden, cache);
    for (const p of this.part.inputs)
      if (p.role === 'ids' || p.role === 'positions')
        feeds[p.name] = {
          type: 'int64',
          dims: [1, 1],
          data: BigInt64Array.of(BigInt(p.role === 'ids' ? id : position)),
        }; // [1,1]
    if (hooks.isCancelled?.()) throw cancelled();
    const result = await this.part.runStep(feeds, this.fetched, true);
    hooks.onStage?.();
    if (hooks.isCancelled?.()) throw cancelled();
    const { self, cross } = this.split(result.joined, position, encoderHidden.dims[1]);
    const logits = result.outputs.logits; // [1,1,V]
    if (!logits || logits.data.length !== this.vocabSize)
      throw new LensError(
        'UNSUPPORTED_MODEL',
        `${this.part.label} returned logits of shape [${logits?.dims.join(', ') ?? ''}] for one token; the vocabulary has ${this.vocabSize} entries.`,
      );
    checkOutputFinite('logits', logits.data, this.vocabSize);
    for (let i = 0; i < this.stepOutputs.length; i++) {
      const t = result.outputs[this.stepOutputs[i]]; // [1,H,t+1,Dh]
      cache.set(this.carriedTo[i], { type: 'float32', dims: t.dims, data: t.data });
    }
    return { self, cross, logits: logits.data, ms: [result.ms] };
  }

  /** The joined taps [1, Σ heads × keys] as each layer's rows (own copies: a step's rows are posted on), checked. */
  private split(
    joined: OutputTensor | undefined,
    position: number,
    sourceLength: number,
  ): { self: LayerAttention[]; cross: LayerAttention[] } {
    const n = this.kinds.length;
    let total = 0;
    for (let tap = 0; tap < n; tap++)
      total += this.heads[tap] * (this.kinds[tap] === 'cross' ? sourceLength : position + 1);
    if (!joined || joined.data.length !== total)
      throw new LensError(
        'INFERENCE_FAILED',
        `${this.part.label} returned ${joined?.data.length ?? 0} attention weights at step ${position} (expected ` +
          `${total}: ${n} layers' heads × 1 × keys).`,
      );
    const finite = firstNonFinite(joined.data) < 0;
    const self: LayerAttention[] = [];
    const cross: LayerAttention[] = [];
    let at = 0;
    for (let tap = 0; tap < n; tap++) {
      const kind = this.kinds[tap];
      const heads = this.heads[tap];
      const keys = kind === 'cross' ? sourceLength : position + 1;
      const list = kind === 'cross' ? cross : self;
      const a: LayerAttention = {
        layer: list.length,
        stackLayer: list.length,
        kind,
        heads,
        queryLength: 1,
        keyLength: keys,
        data: joined.data.slice(at, at + heads * keys), // [heads, 1, key]
      };
      at += heads * keys;
      if (!finite) checkAttentionFinite(a); // names the layer, head and key of the first bad value
      list.push(a);
    }
    return { self, cross };
  }

  /**
   * One step of several hypotheses of one length (beam search): token ids[b] after cache caches[b] (each tensor
   * [1, heads, past, head size]) at decoder position `position`. Batchable exports run them as the rows of one call
   * (the caches stacked to [B, ...], the encoder's hidden states repeated; bench/seq2seq-onnx.ts measured 4 rows in
   * one call at 0.4× the time of 4 one-row calls), others one call per row. Per row: its logits [V] and its cache
   * carried on in a new map (the parents' are not touched: several children continue from one parent). The rows'
   * attention is not read.
   */
  async runRows(
    caches: KvCache[],
    ids: number[],
    position: number,
    encoderHidden: FeedTensor,
    hooks: { isCancelled?: () => boolean; onStage?: () => void },
  ): Promise<{ logits: Float32Array; cache: KvCache }[]> {
    const B = ids.length;
    if (!this.batchable || B === 1) {
      const out: { logits: Float32Array; cache: KvCache }[] = [];
      for (const [b, id] of ids.entries()) {
        const cache: KvCache = new Map(caches[b]); // the step replaces entries; the parent's stay as they were
        out.push({ logits: (await this.run(cache, id, position, encoderHidden, hooks)).logits, cache });
      }
      return out;
    }
    const inputs = this.part.inputs;
    const past: KvCache = new Map();
    for (const p of inputs.filter((q) => q.role === 'past')) {
      const rows = caches.map((c) => c.get(p.name)!); // [1,H,P,Dh] each
      const n = rows[0].data.length;
      const data = new Float32Array(B * n); // [B,H,P,Dh]
      rows.forEach((t, b) => data.set(t.data as Float32Array, b * n));
      past.set(p.name, { type: 'float32', dims: [B, ...rows[0].dims.slice(1)], data });
    }
    const e = encoderHidden.data as Float32Array; // [1,S,E]
    const hidden = new Float32Array(B * e.length); // [B,S,E]
    for (let b = 0; b < B; b++) hidden.set(e, b * e.length);
    const batch = { ids: ids.map((id) => [id]), mask: ids.map(() => [1]) };
    const feeds = buildFeeds(
      inputs,
      batch,
      {
        encoderHidden: { type: 'float32', dims: [B, ...encoderHidden.dims.slice(1)], data: hidden },
        past,
        causal: true,
      },
      this.part.label,
    );
    for (const p of inputs.filter((q) => q.role === 'positions'))
      feeds[p.name] = { type: 'int64', dims: [B, 1], data: new BigInt64Array(B).fill(BigInt(position)) }; // [B,1]
    if (hooks.isCancelled?.()) throw cancelled();
    const result = await this.part.runStep(feeds, this.fetched, false); // a beam's rows are not read
    hooks.onStage?.();
    if (hooks.isCancelled?.()) throw cancelled();
    const V = this.vocabSize;
    const logits = result.outputs.logits; // [B,1,V]
    if (!logits || logits.data.length !== B * V)
      throw new LensError(
        'UNSUPPORTED_MODEL',
        `${this.part.label} returned logits of shape [${logits?.dims.join(', ') ?? ''}] for ${B} beams of one token; ` +
          `the vocabulary has ${V} entries.`,
      );
    checkOutputFinite('logits', logits.data, V);
    return ids.map((_, b) => {
      const cache: KvCache = new Map(caches[b]);
      for (const name of this.stepOutputs) {
        const t = result.outputs[name]; // [B,H,P+1,Dh]
        const n = t.data.length / B;
        cache.set(pastOf(name), {
          type: 'float32',
          dims: [1, ...t.dims.slice(1)],
          data: t.data.slice(b * n, (b + 1) * n), // [1,H,P+1,Dh]
        });
      }
      return { logits: logits.data.slice(b * V, (b + 1) * V), cache }; // [V]
    });
  }

  async release(): Promise<void> {
    const part = this.part;
    await part.release();
  }
}
