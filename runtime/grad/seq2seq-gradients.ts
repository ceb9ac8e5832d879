// Gradients of an encoder–decoder (marian, bart, t5) where the model lives: the gradient graph of
// seq2seq-gradient.ts run on onnxruntime, fed the token embeddings of the source and of the decoder inputs (or, for
// Integrated Gradients, points on the straight path from a source-side baseline to the source's embeddings, the
// decoder inputs kept as they are), the positions / T5 buckets and causal bias of seq2seq-feeds.ts, and the weights
// that pick the explained log-probabilities. The gradient methods (saliency, gradient × input, Integrated
// Gradients) are the causal ones of analysis/gradient-methods.ts applied to each side, so the scores have their
// shape ([S] per source token, [T] per decoder input token) and their meaning.
import { createSession, type Session } from '../backend/ort';
import { cancelled, LensError } from '../errors';
import { decoderFeeds, encoderFeeds } from '../models/seq2seq-feeds';
import type { Seq2SeqSource } from '../models/seq2seq-source';
import type { BackendName, FeedTensor } from '../types';
import {
  completenessNote,
  gradientTimesInput,
  integratedGradients,
  midpointAlphas,
  saliency,
} from '../analysis/gradient-methods';
import { checkGradientLength } from './gradients';
import { evenChunk, type GradientBaseline } from './gradient-service';
import {
  buildSeq2SeqGradientGraph,
  SOURCE_EMBEDS,
  TARGET_EMBEDS,
  type Seq2SeqGradientGraph,
  type Seq2SeqGradientSpec,
} from './seq2seq-gradient';

/** What is explained: log p(labels[position] | source, decoder inputs ≤ position), or with no position the log-
 * probability of the whole target, Σ_t log p(labels[t] | …). labels[t] is the token decoder row t predicts
 * (decoder inputs = [start] + labels[:-1]). */
export interface Seq2SeqGradientTarget {
  labels: readonly number[];
  position?: number;
}

export interface Seq2SeqGradientResult {
  /** [B] the explained scalar of each row. */
  target: Float64Array;
  /** [B,S,E] d(target_b)/d(source embeddings_b). */
  gradSource: Float32Array;
  /** [B,T,E] d(target_b)/d(decoder input embeddings_b). */
  gradTarget: Float32Array;
}

const rowsOf = (table: Seq2SeqGradientGraph['table'], ids: readonly number[], what: string): Float32Array => {
  const { data, width: E, rows } = table;
  const out = new Float32Array(ids.length * E); // [N,E]
  ids.forEach((id, s) => {
    if (!Number.isInteger(id) || id < 0 || id >= rows)
      throw new LensError('BAD_INPUT', `Token id ${id} of the ${what} is outside the vocabulary [0, ${rows}).`);
    out.set(data.subarray(id * E, (id + 1) * E), s * E);
  });
  return out;
};

export class Seq2SeqGradientRunner {
  private constructor(
    readonly graph: Omit<Seq2SeqGradientGraph, 'onnx'>,
    private readonly session: Session,
    private readonly source: Seq2SeqSource,
  ) {}

  static async create(
    source: Seq2SeqSource,
    spec: Seq2SeqGradientSpec,
    backend: BackendName = 'native',
    threads = 1,
  ): Promise<Seq2SeqGradientRunner> {
    checkGradientLength(spec.source + spec.target);
    const { onnx, ...graph } = buildSeq2SeqGradientGraph(source, spec);
    const session = await createSession(onnx, { backend, threads });
    return new Seq2SeqGradientRunner(graph, session, source);
  }

  /** The rows of the shared embedding table for ids, [N,E] (before Marian's √d scale). */
  embeddings(ids: readonly number[], what = 'source'): Float32Array {
    return rowsOf(this.graph.table, ids, what);
  }

  /** Runs the graph on source embeddings [B,S,E] and decoder input embeddings [B,T,E] (each row for the same ids). */
  async run(
    sourceIds: readonly number[],
    decoderInputIds: readonly number[],
    sourceEmbeds: Float32Array,
    targetEmbeds: Float32Array,
    target: Seq2SeqGradientTarget,
  ): Promise<Seq2SeqGradientResult> {
    const { batch: B, source: S, target: T } = this.graph.spec;
    const { hidden: E, vocab: V } = this.graph;
    if (sourceIds.length !== S) throw new RangeError(`gradient graph is built for ${S} source tokens`);
    if (decoderInputIds.length !== T) throw new RangeError(`gradient graph is built for ${T} decoder inputs`);
    if (sourceEmbeds.length !== B * S * E) throw new RangeError(`inputs_embeds must have ${B * S * E} values`);
    if (targetEmbeds.length !== B * T * E) throw new RangeError(`decoder_inputs_embeds must have ${B * T * E} values`);
    const { labels, position } = target;
    if (labels.length !== T)
      throw new RangeError(`the target has ${labels.length} tokens; the decoder inputs ${T} (one per target token)`);
    if (position !== undefined && (!Number.isInteger(position) || position < 0 || position >= T))
      throw new LensError('BAD_INPUT', `Target position ${position} is outside 0..${T - 1}.`);
    for (const id of labels)
      if (!Number.isInteger(id) || id < 0 || id >= V)
        throw new LensError('BAD_INPUT', `Target token id ${id} is outside the vocabulary [0, ${V}).`);
    const c = this.source.config;
    const all: Record<string, FeedTensor> = { ...encoderFeeds(c, sourceIds), ...decoderFeeds(c, decoderInputIds, 0) };
    const feeds: Record<string, FeedTensor> = {
      [SOURCE_EMBEDS]: { type: 'float32', dims: [B, S, E], data: sourceEmbeds },
      [TARGET_EMBEDS]: { type: 'float32', dims: [B, T, E], data: targetEmbeds },
    };
    for (const name of this.graph.inputNames) if (all[name]) feeds[name] = all[name];
    const weights = new Float32Array(B * T * V); // [B,T,V]
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++)
        if (position === undefined || t === position) weights[(b * T + t) * V + labels[t]] = 1;
    feeds.target_weights = { type: 'float32', dims: [B, T, V], data: weights };
    const fetches = ['target', 'grad_source', 'grad_target'];
    const out = await this.session.run(feeds, fetches);
    for (const name of fetches) {
      const bad = out[name].data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0)
        throw new LensError(
          'NON_FINITE',
          `The gradient output ${name} has a non-finite value at index ${bad}; the target may be −∞ (probability 0).`,
        );
    }
    return {
      target: Float64Array.from(out.target.data),
      gradSource: out.grad_source.data,
      gradTarget: out.grad_target.data,
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export interface Seq2SeqGradientRequest {
  sourceIds: number[];
  /** [start] + labels[:-1]. */
  decoderInputIds: number[];
  target: Seq2SeqGradientTarget;
  /** Points baseline + α (source − baseline) on the source side, one row each (default [1]: the input itself). */
  alphas?: number[];
  baseline?: GradientBaseline;
  /** The token whose embedding is the 'pad' baseline. */
  padId?: number;
  /** Source positions where the baseline keeps the input's embedding (the closing </s>). */
  keep?: boolean[];
}

export interface Seq2SeqGradientReply {
  hidden: number;
  /** [rows] the explained scalar at each point. */
  target: number[];
  /** [rows,S,E] and [rows,T,E]: its gradient w.r.t. the source and decoder input embeddings at each point. */
  gradSource: Float32Array;
  gradTarget: Float32Array;
  /** [S,E], [T,E]: the embeddings of the input. */
  sourceEmbedding: Float32Array;
  targetEmbedding: Float32Array;
  /** [S,E] the source-side baseline (when alphas were given). */
  baseline?: Float32Array;
  ms: number;
}

/** Rows of one batch: at most 8 (the bench: one IG batch of 33 rows runs slower per row than batches of 8 on a
 * small CPU cache), and fewer when their attention maps pass ~64 M floats. */
const ROW_BUDGET = 1 << 26;
const MAX_ROWS = 8;

/** A runner per (rows, S, T); the two most recently used are kept (one-row gradients and IG's batches alternate). */
const KEPT_RUNNERS = 2;

export class Seq2SeqGradientService {
  private readonly runners = new Map<string, Seq2SeqGradientRunner>();

  constructor(
    private readonly source: Seq2SeqSource,
    private readonly backend: BackendName = 'native',
    private readonly threads = 1,
    private readonly maxRows = MAX_ROWS,
  ) {}

  private async runner(spec: Seq2SeqGradientSpec): Promise<Seq2SeqGradientRunner> {
    const key = `${spec.batch}:${spec.source}:${spec.target}`;
    const kept = this.runners.get(key);
    if (kept) {
      this.runners.delete(key);
      this.runners.set(key, kept); // most recently used last
      return kept;
    }
    while (this.runners.size >= KEPT_RUNNERS) {
      const [oldest, r] = this.runners.entries().next().value as [string, Seq2SeqGradientRunner];
      this.runners.delete(oldest);
      await r.release();
    }
    const runner = await Seq2SeqGradientRunner.create(this.source, spec, this.backend, this.threads);
    this.runners.set(key, runner);
    return runner;
  }

  async compute(req: Seq2SeqGradientRequest, isCancelled: () => boolean = () => false): Promise<Seq2SeqGradientReply> {
    const t0 = performance.now();
    const S = req.sourceIds.length;
    const T = req.decoderInputIds.length;
    const c = this.source.config;
    const alphas = req.alphas ?? [1];
    const { labels, position } = req.target;
    if (position !== undefined && (!Number.isInteger(position) || position < 0 || position >= T))
      throw new LensError('BAD_INPUT', `Target position ${position} is outside 0..${T - 1}.`);
    // The decoder is causal: log p(labels[position]) reads decoder inputs 0 .. position only, so the graph stops
    // there (the later inputs' gradients are exactly 0).
    const Tg = position === undefined ? T : position + 1;
    const decIds = req.decoderInputIds.slice(0, Tg);
    const tgt = { labels: labels.slice(0, Tg), ...(position === undefined ? {} : { position }) };
    const perRow = c.heads * (c.encoderLayers * S * S + c.decoderLayers * (Tg * Tg + Tg * S));
    const chunk = evenChunk(alphas.length, Math.min(this.maxRows, Math.floor(ROW_BUDGET / perRow)));
    const runner = await this.runner({ batch: chunk, source: S, target: Tg });
    const x = runner.embeddings(req.sourceIds, 'source'); // [S,E]
    const y = runner.embeddings(req.decoderInputIds, 'decoder input'); // [T,E]
    const E = runner.graph.hidden;
    let base: Float32Array | undefined;
    if (req.alphas) {
      base =
        req.baseline === 'pad' ? runner.embeddings(req.sourceIds.map(() => req.padId ?? 0)) : new Float32Array(S * E);
      req.keep?.forEach((k, s) => k && base!.set(x.subarray(s * E, (s + 1) * E), s * E));
    }
    const ys = new Float32Array(chunk * Tg * E); // [chunk,Tg,E]
    for (let r = 0; r < chunk; r++) ys.set(y.subarray(0, Tg * E), r * Tg * E);
    const target: number[] = [];
    const gradSource = new Float32Array(alphas.length * S * E);
    const gradTarget = new Float32Array(alphas.length * T * E);
    for (let start = 0; start < alphas.length; start += chunk) {
      if (isCancelled()) throw cancelled();
      const points = new Float32Array(chunk * S * E); // [chunk,S,E]
      for (let r = 0; r < chunk; r++) {
        const a = alphas[Math.min(start + r, alphas.length - 1)]; // the last chunk repeats its last point
        for (let i = 0; i < S * E; i++) points[r * S * E + i] = base ? base[i] + a * (x[i] - base[i]) : x[i];
      }
      const out = await runner.run(req.sourceIds, decIds, points, ys, tgt);
      const n = Math.min(chunk, alphas.length - start);
      for (let r = 0; r < n; r++) {
        target.push(out.target[r]);
        gradTarget.set(out.gradTarget.subarray(r * Tg * E, (r + 1) * Tg * E), (start + r) * T * E); // rows ≥ Tg: 0
      }
      gradSource.set(out.gradSource.subarray(0, n * S * E), start * S * E);
    }
    const reply: Seq2SeqGradientReply = {
      hidden: E,
      target,
      gradSource,
      gradTarget,
      sourceEmbedding: x,
      targetEmbedding: y,
      ms: 0,
    };
    if (base) reply.baseline = base;
    reply.ms = performance.now() - t0;
    return reply;
  }

  async release(): Promise<void> {
    for (const r of this.runners.values()) await r.release();
    this.runners.clear();
  }
}

export type Seq2SeqGradientMethod = 'saliency' | 'grad-x-input' | 'integrated-gradients';

export interface Seq2SeqAttribution {
  /** [S] one score per source token. */
  source: Float64Array;
  /** [T] one score per decoder input token (Integrated Gradients: absent, its path is on the source side). */
  target?: Float64Array;
  /** f(x): the explained log-probability at the input. */
  value: number;
  /** Integrated Gradients: Σ attributions against f(x) − f(baseline), in words. */
  note?: string;
}

export interface Seq2SeqAttributionOptions {
  /** Integrated Gradients: points on the path (default 32) and its source-side baseline (default zero). */
  steps?: number;
  baseline?: GradientBaseline;
  padId?: number;
  /** Source positions the baseline keeps (the closing </s>). */
  keep?: boolean[];
  isCancelled?: () => boolean;
}

/** One gradient method's scores for an encoder–decoder's target (Explain's method list calls this). */
export async function seq2seqGradientAttribution(
  service: Seq2SeqGradientService,
  request: { sourceIds: number[]; decoderInputIds: number[]; target: Seq2SeqGradientTarget },
  method: Seq2SeqGradientMethod,
  options: Seq2SeqAttributionOptions = {},
): Promise<Seq2SeqAttribution> {
  const S = request.sourceIds.length;
  const T = request.decoderInputIds.length;
  if (method !== 'integrated-gradients') {
    const r = await service.compute(request, options.isCancelled);
    const E = r.hidden;
    const score =
      method === 'saliency'
        ? (g: Float32Array, _x: Float32Array, n: number) => saliency(g, n, E)
        : (g: Float32Array, x: Float32Array, n: number) => gradientTimesInput(g, x, n, E);
    return {
      source: score(r.gradSource, r.sourceEmbedding, S),
      target: score(r.gradTarget, r.targetEmbedding, T),
      value: r.target[0],
    };
  }
  const steps = options.steps ?? 32;
  const baseline = options.baseline ?? 'zero';
  // f(x) and f(baseline) (α = 1, 0) with the midpoint points, for the completeness check.
  const r = await service.compute(
    {
      ...request,
      alphas: [...midpointAlphas(steps), 1, 0],
      baseline,
      ...(options.padId !== undefined ? { padId: options.padId } : {}),
      ...(options.keep ? { keep: options.keep } : {}),
    },
    options.isCancelled,
  );
  const E = r.hidden;
  const source = integratedGradients(r.gradSource, steps, r.sourceEmbedding, r.baseline!, S, E);
  const fx = r.target[steps];
  const f0 = r.target[steps + 1];
  const label = baseline === 'pad' ? `pad-token (#${options.padId ?? 0})` : 'zero-embedding';
  const sum = source.reduce((a, v) => a + v, 0);
  return { source, value: fx, note: completenessNote(sum, fx, f0, steps, `source-side ${label}`) };
}
