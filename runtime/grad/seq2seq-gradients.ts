// Gradients of an encoder–decoder (marian, bart, mbart, t5) where the model lives: the gradient graph of
// seq2seq-gradient.ts run on onnxruntime, fed the token embeddings of the source and of the decoder inputs (or, for
// Integrated Gradients, points on the straight path from a source-side baseline to the source's embeddings, the
// decoder inputs kept as they are), the positions / T5 buckets and causal bias of seq2seq-feeds.ts, and the weights
// that pick the explained log-probabilities. The gradient methods (saliency, gradient × input, Integrated
// Gradients) are the causal ones of analysis/gradient-methods.ts applied to each side, so the scores have their
// shape ([S] per source token, [T] per decoder input token) and their meaning. Attention × gradient reads a decoder
// layer's cross-attention A [H,T,S] and d(target)/dA from the same graph (built with attention outputs): source token
// j scores Σ_t mean_h A[h,t,j] · ∂target/∂A[h,t,j] (every target row through which j reaches the target). AttnLRP
// runs the graph with its rules (attnlrp-rules.ts) on the target's logit: relevance = embedding ⊙ the modified
// gradient on both sides, as gradient × input.
import { createSession, type Session } from '../backend/ort';
import { cancelled, LensError } from '../errors';
import { decoderFeeds, encoderFeeds } from '../models/seq2seq-feeds';
import type { Seq2SeqSource } from '../models/seq2seq-source';
import type { BackendName, FeedTensor } from '../types';
import {
  completenessNote,
  conservationNote,
  gradientTimesInput,
  integratedGradients,
  CONTRAST_LOGIT,
  midpointAlphas,
  saliency,
} from '../analysis/gradient-methods';
import { checkGradientLength, checkGradientOutputs } from './gradients';
import { evenChunk, gradientRows, type GradientBaseline } from './gradient-service';
import type { BackwardRules } from './family-gradient';
import {
  buildSeq2SeqGradientGraph,
  crossOut,
  gradCrossOut,
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
  /** With a position: explain log p(labels[position]) − log p(contrast) at that row (weight −1 on the contrast token:
   * the same graph, no extra pass). */
  contrast?: number;
}

export interface Seq2SeqGradientResult {
  /** [B] the explained scalar of each row. */
  target: Float64Array;
  /** [B,S,E] d(target_b)/d(source embeddings_b). */
  gradSource: Float32Array;
  /** [B,T,E] d(target_b)/d(decoder input embeddings_b). */
  gradTarget: Float32Array;
  /** Built with attention: per decoder layer the cross-attention [B,H,T,S] and d(target_b)/d(it). */
  cross?: Float32Array[];
  gradCross?: Float32Array[];
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
    gradRows = this.graph.spec.batch,
  ): Promise<Seq2SeqGradientResult> {
    const { batch: B, source: S, target: T } = this.graph.spec;
    const { hidden: E, vocab: V } = this.graph;
    if (sourceIds.length !== S) throw new RangeError(`gradient graph is built for ${S} source tokens`);
    if (decoderInputIds.length !== T) throw new RangeError(`gradient graph is built for ${T} decoder inputs`);
    if (sourceEmbeds.length !== B * S * E) throw new RangeError(`inputs_embeds must have ${B * S * E} values`);
    if (targetEmbeds.length !== B * T * E) throw new RangeError(`decoder_inputs_embeds must have ${B * T * E} values`);
    const { labels, position, contrast } = target;
    if (labels.length !== T)
      throw new RangeError(`the target has ${labels.length} tokens; the decoder inputs ${T} (one per target token)`);
    if (position !== undefined && (!Number.isInteger(position) || position < 0 || position >= T))
      throw new LensError('BAD_INPUT', `Target position ${position} is outside 0..${T - 1}.`);
    for (const id of contrast === undefined ? labels : [...labels, contrast])
      if (!Number.isInteger(id) || id < 0 || id >= V)
        throw new LensError('BAD_INPUT', `Target token id ${id} is outside the vocabulary [0, ${V}).`);
    if (contrast !== undefined && position === undefined)
      throw new LensError('BAD_INPUT', 'A contrast needs the target position it is read at.');
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
        if (position === undefined || t === position) {
          weights[(b * T + t) * V + labels[t]] = 1;
          if (contrast !== undefined) weights[(b * T + t) * V + contrast] -= 1;
        }
    feeds.target_weights = { type: 'float32', dims: [B, T, V], data: weights };
    const L = this.source.config.decoderLayers;
    const attention = this.graph.spec.attention === true;
    const fetches = ['target', 'grad_source', 'grad_target'];
    if (attention) for (let l = 0; l < L; l++) fetches.push(crossOut(l), gradCrossOut(l));
    const out = await this.session.run(feeds, fetches);
    checkGradientOutputs(out, fetches, { grad_source: gradRows * S * E, grad_target: gradRows * T * E });
    const result: Seq2SeqGradientResult = {
      target: Float64Array.from(out.target.data),
      gradSource: out.grad_source.data,
      gradTarget: out.grad_target.data,
    };
    if (attention) {
      result.cross = Array.from({ length: L }, (_, l) => out[crossOut(l)].data);
      result.gradCross = Array.from({ length: L }, (_, l) => out[gradCrossOut(l)].data);
    }
    return result;
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
  /** How many of the last points are read for their target alone (IG's f(baseline)): their gradients are neither
   * checked nor returned (gradient-service.ts says why). */
  valueOnly?: number;
  baseline?: GradientBaseline;
  /** The token whose embedding is the 'pad' baseline. */
  padId?: number;
  /** Source positions where the baseline keeps the input's embedding (the closing </s>). */
  keep?: boolean[];
  /** Also return every decoder layer's cross-attention and its gradient (attention × gradient; no alphas). */
  attention?: boolean;
  /** 'attnlrp': AttnLRP's modified gradient of the target's logit (embedding ⊙ it is the relevance; no alphas, no
   * attention); default 'gradient' (of log p). */
  rules?: BackwardRules;
}

export interface Seq2SeqGradientReply {
  hidden: number;
  /** [rows] the explained scalar at each point. */
  target: number[];
  /** [rows − valueOnly, S, E] and [rows − valueOnly, T, E]: its gradient w.r.t. the source and decoder input
   * embeddings at each point whose gradient was asked for. */
  gradSource: Float32Array;
  gradTarget: Float32Array;
  /** [S,E], [T,E]: the embeddings of the input. */
  sourceEmbedding: Float32Array;
  targetEmbedding: Float32Array;
  /** [S,E] the source-side baseline (when alphas were given). */
  baseline?: Float32Array;
  /** With attention: per decoder layer the cross-attention [H,Tg,S] and d(target)/d(it) [H,Tg,S] of the input,
   * over the first Tg = attentionRows decoder rows (a token target's graph stops at its row; later rows read 0). */
  cross?: Float32Array[];
  gradCross?: Float32Array[];
  attentionRows?: number;
  ms: number;
}

/** Rows of one batch: at most 8 (the bench: one IG batch of 33 rows runs slower per row than batches of 8 on a
 * small CPU cache), and fewer when their attention maps pass ~64 M floats. */
const ROW_BUDGET = 1 << 26;
const MAX_ROWS = 8;

/** A runner per (rows, S, T); the two most recently used are kept (one-row gradients and IG's batches alternate). */
const KEPT_RUNNERS = 2;

/** What computes the gradients: the service itself, or the inspector's worker that holds one
 * (Inspector.seq2seqGradients). */
export interface Seq2SeqGradientComputer {
  compute(req: Seq2SeqGradientRequest, isCancelled?: () => boolean): Promise<Seq2SeqGradientReply>;
}

export class Seq2SeqGradientService implements Seq2SeqGradientComputer {
  private readonly runners = new Map<string, Seq2SeqGradientRunner>();

  constructor(
    private readonly source: Seq2SeqSource,
    private readonly backend: BackendName = 'native',
    private readonly threads = 1,
    private readonly maxRows = MAX_ROWS,
  ) {}

  private async runner(spec: Seq2SeqGradientSpec): Promise<Seq2SeqGradientRunner> {
    if (spec.rules === 'attnlrp') return this.lrpRunner(spec);
    const key = `${spec.batch}:${spec.source}:${spec.target}:${spec.attention === true}`;
    // A runner built with attention outputs serves the same request without them too (the embeddings' gradients
    // are the same graph's), so attention × gradient beside gradient × input does not evict one for the other.
    const withAttention = `${spec.batch}:${spec.source}:${spec.target}:true`;
    const kept = this.runners.get(key) ?? this.runners.get(withAttention);
    if (kept && kept.graph.spec.attention) {
      this.runners.delete(withAttention);
      this.runners.set(withAttention, kept);
      return kept;
    }
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

  /** AttnLRP's graphs are kept like the others, under their own key (they never serve a gradient request). */
  private async lrpRunner(spec: Seq2SeqGradientSpec): Promise<Seq2SeqGradientRunner> {
    const key = `lrp:${spec.batch}:${spec.source}:${spec.target}`;
    const kept = this.runners.get(key);
    if (kept) {
      this.runners.delete(key);
      this.runners.set(key, kept);
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
    if (req.attention && req.alphas)
      throw new LensError(
        'BAD_INPUT',
        'Attention gradients are read at the input itself, not along a path (no alphas).',
      );
    const lrp = req.rules === 'attnlrp';
    if (lrp && (req.alphas || req.attention))
      throw new LensError('BAD_INPUT', 'AttnLRP is one backward pass at the input (no alphas, no attention outputs).');
    const { labels, position, contrast } = req.target;
    if (position !== undefined && (!Number.isInteger(position) || position < 0 || position >= T))
      throw new LensError('BAD_INPUT', `Target position ${position} is outside 0..${T - 1}.`);
    // The decoder is causal: log p(labels[position]) reads decoder inputs 0 .. position only, so the graph stops
    // there (the later inputs' gradients are exactly 0).
    const Tg = position === undefined ? T : position + 1;
    const decIds = req.decoderInputIds.slice(0, Tg);
    const tgt = {
      labels: labels.slice(0, Tg),
      ...(position === undefined ? {} : { position }),
      ...(contrast === undefined ? {} : { contrast }),
    };
    const perRow = c.heads * (c.encoderLayers * S * S + c.decoderLayers * (Tg * Tg + Tg * S));
    const chunk = evenChunk(alphas.length, Math.min(this.maxRows, Math.floor(ROW_BUDGET / perRow)));
    const runner = await this.runner({
      batch: chunk,
      source: S,
      target: Tg,
      ...(req.attention ? { attention: true } : {}),
      ...(lrp ? { rules: 'attnlrp' as const } : {}),
    });
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
    const gradRows = gradientRows(alphas.length, req.valueOnly);
    const gradSource = new Float32Array(gradRows * S * E);
    const gradTarget = new Float32Array(gradRows * T * E);
    let cross: Float32Array[] | undefined;
    let gradCross: Float32Array[] | undefined;
    for (let start = 0; start < alphas.length; start += chunk) {
      if (isCancelled()) throw cancelled();
      const points = new Float32Array(chunk * S * E); // [chunk,S,E]
      for (let r = 0; r < chunk; r++) {
        const a = alphas[Math.min(start + r, alphas.length - 1)]; // the last chunk repeats its last point
        for (let i = 0; i < S * E; i++) points[r * S * E + i] = base ? base[i] + a * (x[i] - base[i]) : x[i];
      }
      const n = Math.min(chunk, alphas.length - start);
      const withGrad = Math.max(0, Math.min(n, gradRows - start)); // this batch's rows whose gradients are read
      const out = await runner.run(req.sourceIds, decIds, points, ys, tgt, withGrad);
      for (let r = 0; r < n; r++) target.push(out.target[r]);
      // [Tg,E] a row; the decoder inputs past Tg keep their gradient of 0
      for (let r = 0; r < withGrad; r++)
        gradTarget.set(out.gradTarget.subarray(r * Tg * E, (r + 1) * Tg * E), (start + r) * T * E);
      if (withGrad > 0) gradSource.set(out.gradSource.subarray(0, withGrad * S * E), start * S * E);
      if (req.attention && out.cross && start === 0) {
        const per = c.heads * Tg * S; // row 0's [H,Tg,S]
        cross = out.cross.map((a) => a.slice(0, per));
        gradCross = out.gradCross!.map((a) => a.slice(0, per));
      }
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
    if (cross) Object.assign(reply, { cross, gradCross, attentionRows: Tg });
    reply.ms = performance.now() - t0;
    return reply;
  }

  async release(): Promise<void> {
    for (const r of this.runners.values()) await r.release();
    this.runners.clear();
  }
}

export type Seq2SeqGradientMethod = 'saliency' | 'grad-x-input' | 'integrated-gradients' | 'attn-x-grad' | 'attnlrp';

export interface Seq2SeqAttribution {
  /** [S] one score per source token. */
  source: Float64Array;
  /** [T] one score per decoder input token (Integrated Gradients: absent, its path is on the source side). */
  target?: Float64Array;
  /** f(x): the explained log-probability at the input (AttnLRP: the logit). */
  value: number;
  /** Integrated Gradients: Σ attributions against f(x) − f(baseline), in words; AttnLRP: Σ relevance (both sides)
   * against the logit. */
  note?: string;
}

export interface Seq2SeqAttributionOptions {
  /** Integrated Gradients: points on the path (default 32) and its source-side baseline (default zero). */
  steps?: number;
  baseline?: GradientBaseline;
  padId?: number;
  /** Source positions the baseline keeps (the closing </s>). */
  keep?: boolean[];
  /** Attention × gradient: the decoder layer (default the last) and one head or the mean over heads. */
  layer?: number;
  head?: number | 'mean';
  isCancelled?: () => boolean;
}

/** Attention × gradient over the source from one decoder layer's cross-attention A and G = d(target)/dA, both
 * [H,rows,S]: score_j = Σ_t mean_h A[h,t,j] · G[h,t,j] (or one head). [S] */
export function crossAttentionTimesGradient(
  attention: ArrayLike<number>,
  gradient: ArrayLike<number>,
  heads: number,
  rows: number,
  source: number,
  head: number | 'mean',
): Float64Array {
  if (attention.length !== heads * rows * source || gradient.length !== attention.length)
    throw new RangeError(`cross-attention and its gradient must have ${heads * rows * source} values`);
  if (head !== 'mean' && (!Number.isInteger(head) || head < 0 || head >= heads))
    throw new RangeError(`head ${head} is outside 0..${heads - 1}`);
  const hs = head === 'mean' ? Array.from({ length: heads }, (_, h) => h) : [head];
  const out = new Float64Array(source); // [S]
  for (const h of hs)
    for (let t = 0; t < rows; t++) {
      const o = (h * rows + t) * source; // [h, t, :]
      for (let j = 0; j < source; j++) out[j] += (attention[o + j] * gradient[o + j]) / hs.length;
    }
  return out;
}

/**
 * Integrated Gradients' request: the midpoint points, then the input itself (α = 1: f(x), and its gradient, which
 * is the plain request's — inputGradients reads it, so that saliency and gradient × input beside IG need no pass of
 * their own) and the baseline (α = 0, read for f(baseline) alone).
 */
export function integratedGradientsRequest(
  request: { sourceIds: number[]; decoderInputIds: number[]; target: Seq2SeqGradientTarget },
  options: Pick<Seq2SeqAttributionOptions, 'steps' | 'baseline' | 'padId' | 'keep'> = {},
): Seq2SeqGradientRequest {
  return {
    ...request,
    alphas: [...midpointAlphas(options.steps ?? 32), 1, 0],
    valueOnly: 1,
    baseline: options.baseline ?? 'zero',
    ...(options.padId !== undefined ? { padId: options.padId } : {}),
    ...(options.keep ? { keep: options.keep } : {}),
  };
}

/** The input's own gradients (the plain request's reply) from an integratedGradientsRequest's reply of `steps`. */
export function inputGradients(path: Seq2SeqGradientReply, steps: number): Seq2SeqGradientReply {
  const s = path.sourceEmbedding.length; // S·E a point
  const t = path.targetEmbedding.length; // T·E
  return {
    hidden: path.hidden,
    target: [path.target[steps]],
    gradSource: path.gradSource.subarray(steps * s, (steps + 1) * s),
    gradTarget: path.gradTarget.subarray(steps * t, (steps + 1) * t),
    sourceEmbedding: path.sourceEmbedding,
    targetEmbedding: path.targetEmbedding,
    ms: path.ms,
  };
}

/** One gradient method's scores for an encoder–decoder's target (Explain's method list calls this). */
export async function seq2seqGradientAttribution(
  service: Seq2SeqGradientComputer,
  request: { sourceIds: number[]; decoderInputIds: number[]; target: Seq2SeqGradientTarget },
  method: Seq2SeqGradientMethod,
  options: Seq2SeqAttributionOptions = {},
): Promise<Seq2SeqAttribution> {
  const S = request.sourceIds.length;
  const T = request.decoderInputIds.length;
  if (method === 'attn-x-grad') {
    const r = await service.compute({ ...request, attention: true }, options.isCancelled);
    const layers = r.cross!.length;
    const l = options.layer ?? layers - 1;
    if (!Number.isInteger(l) || l < 0 || l >= layers)
      throw new RangeError(`decoder layer ${l} is outside 0..${layers - 1}`);
    const rows = r.attentionRows!;
    const heads = r.cross![l].length / (rows * S);
    const source = crossAttentionTimesGradient(r.cross![l], r.gradCross![l], heads, rows, S, options.head ?? 'mean');
    return { source, value: r.target[0] };
  }
  if (method === 'attnlrp') {
    const r = await service.compute({ ...request, rules: 'attnlrp' }, options.isCancelled);
    const E = r.hidden;
    const source = gradientTimesInput(r.gradSource, r.sourceEmbedding, S, E);
    const target = gradientTimesInput(r.gradTarget, r.targetEmbedding, T, E);
    const both = Float64Array.from([...source, ...target]);
    const { position, contrast } = request.target;
    const what =
      position === undefined
        ? 'the sum of the target tokens’ logits'
        : contrast === undefined
          ? 'the token’s logit'
          : CONTRAST_LOGIT;
    const note = `${conservationNote(both, r.target[0], 'logit', what)} Source tokens: Σ ${source.reduce((a, v) => a + v, 0).toPrecision(6)}; the target prefix the rest.`;
    return { source, target, value: r.target[0], note };
  }
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
  const r = await service.compute(integratedGradientsRequest(request, options), options.isCancelled);
  const E = r.hidden;
  const source = integratedGradients(r.gradSource, steps, r.sourceEmbedding, r.baseline!, S, E);
  const fx = r.target[steps];
  const f0 = r.target[steps + 1];
  const label = baseline === 'pad' ? `pad-token (#${options.padId ?? 0})` : 'zero-embedding';
  const sum = source.reduce((a, v) => a + v, 0);
  return { source, value: fx, note: completenessNote(sum, fx, f0, steps, `source-side ${label}`) };
}
