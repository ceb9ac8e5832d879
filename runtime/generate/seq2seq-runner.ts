// Runs an encoder–decoder model (marian, bart, mbart, t5) with attention: the encoder once per source (its self-attention
// [heads, S, S] per layer, and every decoder layer's cross-attention keys/values of the source), then the decoder
// either teacher-forced over a whole target (decoder inputs = [decoder_start_token_id] + labels[:-1], as transformers
// does when given `labels`) or greedily one token at a time over a KV cache, each step giving its row of decoder
// self-attention [heads, 1, P+1] and cross-attention [heads, 1, S]. Both use the one decoder graph
// (seq2seq-graph.ts), so a step's rows equal the teacher-forced pass's rows. Node and browsers.
import { createSession, type Session } from '../backend/ort';
import { cancelled, LensError } from '../errors';
import { checkAttentionFinite, checkOutputFinite } from '../finite';
import type { FeedTensor } from '../models/plan';
import { buildSeq2SeqGraphs } from '../models/seq2seq-builders';
import { decoderFeeds, encoderFeeds } from '../models/seq2seq-feeds';
import {
  crossAttn,
  crossKey,
  crossValue,
  decAttn,
  encAttn,
  pastKey,
  pastValue,
  presentKey,
  presentValue,
} from '../models/seq2seq-graph';
import { checkGreedySettings, DEFAULT_GENERATION } from '../models/seq2seq-generation';
import type { Seq2SeqSource } from '../models/seq2seq-source';
import { greedyToken } from './logits-processors';
import { beamSearch, searchGeneration, type BeamResult, type BeamTranslateOptions } from './seq2seq-beam';
import type { BackendName, LayerAttention } from '../types';

export type { BeamTranslateOptions } from './seq2seq-beam';

export interface Seq2SeqRunnerOptions {
  backend: BackendName;
  threads: number;
  /** Return attention (default true); false builds the same graphs without attention outputs (the bench). */
  attention?: boolean;
}

/** A source after the encoder: its attention, and the cross-attention keys/values every decoder call reads. */
export interface EncodedSource {
  ids: number[];
  /** Per encoder layer, kind 'encoder', [heads, S, S] (empty without attention). */
  attention: LayerAttention[];
  /** Per decoder layer: key, value [1,H,S,D]. */
  cross: FeedTensor[];
}

/** A teacher-forced pass over decoder inputs of length T. */
export interface DecodedTarget {
  /** Per decoder layer, kind 'decoder', [heads, T, T] (causal). */
  self: LayerAttention[];
  /** Per decoder layer, kind 'cross', [heads, T, S]. */
  cross: LayerAttention[];
  /** [T, V]: row i predicts the target token after decoder input i. */
  logits: Float32Array;
}

/** One greedy step: the token chosen after the query at decoder position `index`, and that query's rows. */
export interface Seq2SeqStep {
  index: number;
  /** The chosen target token. */
  id: number;
  /** log p(id) under the model (log-softmax of the raw logits). */
  logprob: number;
  /** Per decoder layer [heads, index + 1]: the query's decoder self-attention row. */
  selfRows: Float32Array[];
  /** Per decoder layer [heads, S]: its cross-attention row. */
  crossRows: Float32Array[];
  /** Why decoding stops after this token (eos, or the maximum length). */
  end?: 'stop' | 'length';
}

export interface TranslateOptions {
  /** Most target tokens (≥ 1, eos included). */
  maxNew: number;
  /** Instead of the model's decoder_start_token_id (mBART: the target language's code). */
  decoderStart?: number;
  /** Instead of the generation_config's forced_bos_token_id (mBART-50: the target language's code). */
  forcedBos?: number;
  signal?: AbortSignal;
}

/** log-softmax of row `r` of logits [*, V] at `id`. */
export function logSoftmaxAt(logits: Float32Array, V: number, r: number, id: number): number {
  let max = -Infinity;
  for (let v = 0; v < V; v++) max = Math.max(max, logits[r * V + v]);
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(logits[r * V + v] - max);
  return logits[r * V + id] - max - Math.log(sum);
}

/** Teacher forcing's decoder inputs: [decoder_start_token_id] + labels[:-1]. */
export function shiftRight(labels: readonly number[], start: number): number[] {
  return [start, ...labels.slice(0, -1)];
}

/**
 * The decoder inputs transformers builds from given labels (teacher forcing): [decoder start] + labels[:-1], or for
 * mBART (`shiftsLastLabel`) [the last label] + labels[:-1] — its shift_tokens_right moves the last non-pad label, the
 * language code mBART's tokenizer ends a target with, to the front.
 */
export function decoderInputOfLabels(
  labels: readonly number[],
  ed: { decoderStartTokenId: number; shiftsLastLabel?: boolean },
): number[] {
  return shiftRight(
    labels,
    ed.shiftsLastLabel && labels.length > 0 ? labels[labels.length - 1] : ed.decoderStartTokenId,
  );
}

export class Seq2SeqRunner {
  private constructor(
    readonly source: Seq2SeqSource,
    private readonly encoder: Session,
    private readonly decoder: Session,
    private readonly attention: boolean,
  ) {}

  static async create(source: Seq2SeqSource, options: Seq2SeqRunnerOptions): Promise<Seq2SeqRunner> {
    const attention = options.attention ?? true;
    const graphs = buildSeq2SeqGraphs(source, attention);
    const session = { backend: options.backend, threads: options.threads };
    const encoder = await createSession(graphs.encoder.onnx, session);
    try {
      const decoder = await createSession(graphs.decoder.onnx, session);
      return new Seq2SeqRunner(source, encoder, decoder, attention);
    } catch (e) {
      await encoder.release();
      throw e;
    }
  }

  get backend(): BackendName {
    return this.encoder.backend;
  }

  /** The encoder on `ids`; `maps` false: its attention is not fetched (a pass that reads only the logits). */
  async encode(ids: readonly number[], maps = this.attention): Promise<EncodedSource> {
    const c = this.source.config;
    const S = ids.length;
    const fetches: string[] = [];
    for (let l = 0; l < c.encoderLayers && maps; l++) fetches.push(encAttn(l));
    for (let l = 0; l < c.decoderLayers; l++) fetches.push(crossKey(l), crossValue(l));
    const out = await this.encoder.run(encoderFeeds(c, ids), fetches);
    const attention: LayerAttention[] = [];
    for (let l = 0; l < c.encoderLayers && maps; l++) {
      const a: LayerAttention = {
        layer: l,
        kind: 'encoder',
        heads: c.heads,
        queryLength: S,
        keyLength: S,
        data: out[encAttn(l)].data, // [H,S,S]
      };
      checkAttentionFinite(a);
      attention.push(a);
    }
    const cross: FeedTensor[] = [];
    for (let l = 0; l < c.decoderLayers; l++)
      for (const name of [crossKey(l), crossValue(l)]) {
        const t = out[name]; // [1,H,S,D]
        checkOutputFinite(`the encoder's ${name}`, t.data, c.headDim);
        cross.push({ type: 'float32', dims: t.dims, data: t.data });
      }
    return { ids: [...ids], attention, cross };
  }

  /** Runs decoder `ids` after `past` cached positions (caches per layer key, value [1,H,P,D]); `cache` false: the
   * present key/value are not fetched (a teacher-forced pass that nothing continues from). */
  private async decodeCall(
    enc: EncodedSource,
    ids: readonly number[],
    past: FeedTensor[],
    maps = this.attention,
    cache = true,
  ) {
    const c = this.source.config;
    const P = past.length > 0 ? past[0].dims[2] : 0;
    const feeds: Record<string, FeedTensor> = decoderFeeds(c, ids, P);
    const empty: FeedTensor = { type: 'float32', dims: [1, c.heads, 0, c.headDim], data: new Float32Array(0) };
    const fetches = ['logits'];
    for (let l = 0; l < c.decoderLayers; l++) {
      feeds[pastKey(l)] = past[2 * l] ?? empty;
      feeds[pastValue(l)] = past[2 * l + 1] ?? empty;
      feeds[crossKey(l)] = enc.cross[2 * l];
      feeds[crossValue(l)] = enc.cross[2 * l + 1];
      if (maps) fetches.push(decAttn(l), crossAttn(l));
      if (cache) fetches.push(presentKey(l), presentValue(l));
    }
    const out = await this.decoder.run(feeds, fetches);
    checkOutputFinite('logits', out.logits.data, c.vocabSize);
    const present: FeedTensor[] = [];
    for (let l = 0; l < c.decoderLayers && cache; l++)
      for (const name of [presentKey(l), presentValue(l)])
        present.push({ type: 'float32', dims: out[name].dims, data: out[name].data });
    const T = ids.length;
    const S = enc.ids.length;
    const self: LayerAttention[] = [];
    const cross: LayerAttention[] = [];
    for (let l = 0; l < c.decoderLayers && maps; l++) {
      const s: LayerAttention = {
        layer: l,
        kind: 'decoder',
        heads: c.heads,
        queryLength: T,
        keyLength: P + T,
        data: out[decAttn(l)].data, // [H,T,P+T]
      };
      const x: LayerAttention = {
        layer: l,
        kind: 'cross',
        heads: c.heads,
        queryLength: T,
        keyLength: S,
        data: out[crossAttn(l)].data, // [H,T,S]
      };
      checkAttentionFinite(s);
      checkAttentionFinite(x);
      self.push(s);
      cross.push(x);
    }
    return { logits: out.logits.data, present, self, cross };
  }

  /** One teacher-forced pass over decoder inputs (use shiftRight on labels); `maps` false: logits only. */
  async teacherForce(
    enc: EncodedSource,
    decoderInputIds: readonly number[],
    maps = this.attention,
  ): Promise<DecodedTarget> {
    const r = await this.decodeCall(enc, decoderInputIds, [], maps, false);
    return { self: r.self, cross: r.cross, logits: r.logits };
  }

  /** Greedy decoding from decoder_start_token_id (or options.decoderStart), one step per token, until eos or maxNew
   * tokens. */
  async *translate(enc: EncodedSource, options: TranslateOptions): AsyncGenerator<Seq2SeqStep> {
    const c = this.source.config;
    const V = c.vocabSize;
    if (!Number.isInteger(options.maxNew) || options.maxNew < 1 || options.maxNew > c.maxPositions)
      throw new LensError(
        'BAD_INPUT',
        `The most target tokens must be a whole number from 1 to ${c.maxPositions} (${c.modelType}'s positions), not ${options.maxNew}.`,
      );
    // The generation_config's processors (Marian's bans <pad>, its decoder start; BART and mBART force eos at the
    // limit; mBART-50 may force its target language first), as transformers' greedy generate() applies them.
    const generation = {
      ...(this.source.generation ?? DEFAULT_GENERATION),
      ...(options.forcedBos !== undefined ? { forcedBosTokenId: options.forcedBos } : {}),
    };
    checkGreedySettings(generation, `${c.modelType}'s generation_config.json`);
    const processors = {
      vocabSize: V,
      eosTokenId: c.eosTokenId,
      maxNew: options.maxNew,
      generation,
      encoderIds: enc.ids,
    };
    let past: FeedTensor[] = [];
    const tokens = [options.decoderStart ?? c.decoderStartTokenId];
    for (let index = 0; index < options.maxNew; index++) {
      if (options.signal?.aborted) throw cancelled();
      const r = await this.decodeCall(enc, [tokens[tokens.length - 1]], past);
      past = r.present;
      const id = greedyToken(r.logits, 0, tokens, processors);
      const step: Seq2SeqStep = {
        index,
        id,
        logprob: logSoftmaxAt(r.logits, V, 0, id),
        selfRows: r.self.map((a) => a.data), // [H,1,index+1]
        crossRows: r.cross.map((a) => a.data), // [H,1,S]
      };
      if (id === c.eosTokenId) step.end = 'stop';
      else if (index + 1 === options.maxNew) step.end = 'length';
      yield step;
      if (step.end) return;
      tokens.push(id);
    }
  }

  /** Beam search (seq2seq-beam.ts, as transformers' generate(num_beams)) with the model's generation_config: one
   * KV-cached decoder call per running hypothesis and step, without attention (the chosen hypothesis' maps come from
   * a teacher-forced pass on it, which equals what its steps would have given). */
  async beamSearch(enc: EncodedSource, options: BeamTranslateOptions): Promise<BeamResult> {
    const c = this.source.config;
    const generation = searchGeneration(this.source.generation, options, `${c.modelType}'s generation_config.json`);
    if (!Number.isInteger(options.maxNew) || options.maxNew < 1 || options.maxNew > c.maxPositions)
      throw new LensError(
        'BAD_INPUT',
        `The most target tokens must be a whole number from 1 to ${c.maxPositions} (${c.modelType}'s positions), not ${options.maxNew}.`,
      );
    return beamSearch<FeedTensor[]>(
      async (parents) => {
        const out = [];
        for (const p of parents) {
          const r = await this.decodeCall(enc, [p.tokens[p.tokens.length - 1]], p.state ?? [], false);
          out.push({ logits: r.logits, state: r.present }); // logits [1,1,V]
        }
        return out;
      },
      {
        beams: options.beams,
        maxNew: options.maxNew,
        decoderStartTokenId: options.decoderStart ?? c.decoderStartTokenId,
        eosTokenId: c.eosTokenId,
        vocabSize: c.vocabSize,
        generation,
        encoderIds: enc.ids,
        ...(options.isCancelled ? { isCancelled: options.isCancelled } : {}),
      },
    );
  }

  async release(): Promise<void> {
    await Promise.allSettled([this.encoder.release(), this.decoder.release()]);
  }
}
