// One registry of token-importance methods ("which input tokens matter for this position?"), so views, the CLI
// and the faithfulness/agreement checks can list and run them by id without knowing how each works. Attention
// methods (raw attention, rollout, flow), the perturbation methods (leave-one-out, occlusion: model passes behind
// ctx.evaluateBatch), the norm-based ones (value-vector norms from the model) and the uniform baseline are
// registered here, and the gradient methods (saliency, gradient × input, Integrated Gradients, attention × gradient:
// gradient-methods.ts) over gradients the engine computes with runtime/grad.
import type { LayerAttention, Token } from '../types';
import type { MethodKind } from './method-kind';
import { uniformRow } from './distance';
import { flowScores } from './flow';
import {
  attentionTimesGradientRow,
  completenessNote,
  conservationNote,
  CONTRAST_LOGIT,
  gradientTimesInput,
  integratedGradients,
  midpointAlphas,
  saliency,
} from './gradient-methods';
import { leaveOneOut, type EvaluateBatch } from './loo';
import { headNormRow, normAsAttention, normRow } from './norm';
import { occlusion } from './occlusion';
import { altiLayer, matrixRow, mixingRollout, type MixingLayer } from './mixing';
import { attentionRollout, checkSelfAttention, rolloutRow, rolloutScores, type HeadReduce } from './rollout';
import { reduceCross, seq2seqRollout, weightedRows, type Seq2SeqAttention } from './seq2seq-attention';

export type { MethodKind };

/** What a method reads from its context; the caller supplies these fields before compute() is called. */
export interface MethodNeeds {
  /** ctx.attention (every layer's post-softmax attention). */
  attention?: boolean;
  /** ctx.evaluateBatch or ctx.evaluate (model passes on inputs with tokens removed). */
  evaluate?: boolean;
  /** ctx.valueNorms. */
  valueNorms?: boolean;
  /** ctx.gradients. */
  gradients?: boolean;
  /** ctx.mixing (ALTI: the layers' mixing tensors). */
  mixing?: boolean;
  /** ctx.valueZeroing (model passes with value vectors zeroed). */
  valueZeroing?: boolean;
  /** ctx.gradientPath (Integrated Gradients). */
  gradientPath?: boolean;
  /** ctx.attentionGradients (attention × gradient). */
  attentionGradients?: boolean;
  /** ctx.relevance (AttnLRP's modified gradient). */
  relevance?: boolean;
  /** ctx.seq2seq (an encoder–decoder's attention by kind; the scores are over the source tokens). */
  seq2seq?: boolean;
}

/** Per-layer value-transformed vector norms ‖α·f(x_j)‖-style inputs (Kobayashi et al. 2020). */
export interface ValueNorms {
  layer: number;
  heads: number;
  /** [heads, key]: ‖W_O^h · v_j^h‖ for each key token j. */
  data: Float32Array;
  /** [key, heads, heads]: Gram matrices ⟨f_h(x_j), f_h'(x_j)⟩ (norm.ts), for the norm of the sum over heads. */
  gram?: Float32Array;
}

/** Gradient of the target w.r.t. the input embeddings, with the embeddings, for saliency / gradient×input. */
export interface InputGradients {
  hidden: number;
  /** [seq, hidden] ∂target/∂embedding. */
  gradient: Float32Array;
  /** [seq, hidden] the input embeddings. */
  embedding: Float32Array;
  /** The explained scalar f(x) at the input (the completeness check of Integrated Gradients). */
  value?: number;
}

/** Gradients at points baseline + α (x − baseline) (Integrated Gradients), one row per α; the last `valueOnly`
 * points give f alone (IG's α = 0: f(baseline)). */
export type GradientPath = (
  alphas: readonly number[],
  valueOnly?: number,
) => Promise<{
  /** [rows] f at each point. */
  target: number[];
  /** [rows − valueOnly, seq, hidden]. */
  grad: Float32Array;
  /** [seq, hidden]. */
  baseline: Float32Array;
  /** What the baseline is, in words ('zero embedding', 'pad token'). */
  label: string;
}>;

/** One layer's attention and the gradient of the target w.r.t. it (attention × gradient). */
export interface AttentionGradients {
  layer: number;
  heads: number;
  /** [heads, seq, seq]. */
  attention: Float32Array;
  /** [heads, seq, seq] d target / d attention. */
  gradient: Float32Array;
}

/** Everything a method may read. Only `seq` and `target` are always present; the rest per MethodNeeds. */
export interface ImportanceContext {
  /** Number of input tokens; every result has this length. */
  seq: number;
  /** Position whose prediction/representation is explained (e.g. the last token, or [CLS]). */
  target: number;
  /** [seq]: a pooled target (e.g. a mean-pooled sentence embedding): methods that read one query row read the
   * weighted mean of the rows instead (weights are normalised to sum 1); `target` is then ignored by them. */
  targetWeights?: readonly number[];
  /** Causal (decoder) attention: the uniform baseline spreads over keys ≤ target only. */
  causal?: boolean;
  /** [seq]: positions perturbation methods may remove (default all); the others score 0. */
  candidates?: readonly boolean[];
  /** occlusion: window size in candidate tokens (default 3) and stride (default 1). */
  window?: number;
  stride?: number;
  tokens?: readonly Token[];
  /** needs.attention: every layer, each [heads, seq, seq]. */
  attention?: readonly LayerAttention[];
  /** raw-attention: which layer (index into attention; default the last). */
  layer?: number;
  /** raw-attention: one head, or 'mean' / 'max' over heads (default 'mean'). */
  head?: number | HeadReduce;
  /** rollout / flow: how heads are combined (default 'mean') and the first layer used (default 0). */
  headReduce?: HeadReduce;
  startLayer?: number;
  /**
   * needs.evaluate (leave-one-out, occlusion; later): the model's target value with only the kept tokens, as in
   * faithfulness.ts. Leave-one-out scores token j as evaluate(all) − evaluate(all but j): seq + 1 passes.
   */
  evaluate?: (keepMask: boolean[]) => Promise<number>;
  /** Like evaluate, for many masks at once (one batched model pass where the backend allows); preferred. */
  evaluateBatch?: EvaluateBatch;
  /** needs.valueNorms (norm-based; later): one entry per layer. */
  valueNorms?: readonly ValueNorms[];
  /** needs.gradients (saliency, gradient × input, Integrated Gradients). */
  gradients?: InputGradients;
  /** needs.mixing: every layer's context-mixing tensors (analysis/mixing.ts), in layer order. */
  mixing?: readonly MixingLayer[];
  /** needs.valueZeroing: value zeroing's [seq, seq] matrix of each listed layer, from batched model passes. */
  valueZeroing?: (layers: readonly number[]) => Promise<Float64Array[]>;
  /** needs.gradientPath (Integrated Gradients) and its number of steps (default 32). */
  gradientPath?: GradientPath;
  steps?: number;
  /** needs.attentionGradients: every layer (attention × gradient). */
  attentionGradients?: readonly AttentionGradients[];
  /** needs.relevance (AttnLRP): the modified gradient of runtime/grad/attnlrp-rules.ts, so that embedding ⊙ it is
   * the relevance; `value` is the explained logit (or cosine). */
  relevance?: InputGradients & {
    measure: 'logit' | 'cosine';
    /** a contrast: the logit minus B's */ contrast?: boolean;
  };
  /** needs.seq2seq: an encoder–decoder run's attention by kind ([heads, S, S], [heads, T, T], [heads, T, S]) and
   * the weight of each target row in the target (target:POS: one row; the whole target: every row alike). `seq`
   * is then the source's length. */
  seq2seq?: Seq2SeqAttention & { rows: readonly number[] };
  /** Where a method says something the reader of its scores must know (IG's completeness check). */
  report?: (note: string) => void;
  signal?: AbortSignal;
}

export interface ImportanceMethod {
  /** Stable id for settings, the CLI and saved results (e.g. 'rollout'). */
  id: string;
  /** Short human label. */
  label: string;
  kind: MethodKind;
  needs: MethodNeeds;
  /** What it costs beyond the unperturbed pass, in words (model passes, memory), for the CLI's and the panel's
   * method lists. */
  cost?: string;
  /** One score per input token: [seq]. Higher = more important. */
  compute(ctx: ImportanceContext): Promise<Float64Array>;
}

const methods = new Map<string, ImportanceMethod>();

/** Adds a method; an id can be registered once (pass replace: true to swap an implementation). */
export function registerMethod(method: ImportanceMethod, options: { replace?: boolean } = {}): void {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(method.id)) throw new RangeError(`bad method id "${method.id}"`);
  if (methods.has(method.id) && !options.replace) throw new Error(`importance method "${method.id}" already exists`);
  methods.set(method.id, method);
}

/** The method with this id, or undefined. */
export function getMethod(id: string): ImportanceMethod | undefined {
  return methods.get(id);
}

/** Registered methods in registration order, optionally of one kind. */
export function listMethods(kind?: MethodKind): ImportanceMethod[] {
  return [...methods.values()].filter((m) => kind === undefined || m.kind === kind);
}

/** Names of the context fields a method needs that ctx lacks (empty: it can run). */
export function missingNeeds(method: ImportanceMethod, ctx: ImportanceContext): string[] {
  const missing: string[] = [];
  if (method.needs.attention && !ctx.attention?.length) missing.push('attention');
  if (method.needs.evaluate && !ctx.evaluate && !ctx.evaluateBatch) missing.push('evaluate');
  if (method.needs.valueNorms && !ctx.valueNorms?.length) missing.push('valueNorms');
  if (method.needs.gradients && !ctx.gradients) missing.push('gradients');
  if (method.needs.mixing && !ctx.mixing?.length) missing.push('mixing');
  if (method.needs.valueZeroing && !ctx.valueZeroing) missing.push('valueZeroing');
  if (method.needs.gradientPath && !ctx.gradientPath) missing.push('gradientPath');
  if (method.needs.attentionGradients && !ctx.attentionGradients?.length) missing.push('attentionGradients');
  if (method.needs.relevance && !ctx.relevance) missing.push('relevance');
  if (method.needs.seq2seq && !ctx.seq2seq) missing.push('seq2seq');
  return missing;
}

/** Runs a registered method after checking its needs and the result's length. */
export async function computeImportance(id: string, ctx: ImportanceContext): Promise<Float64Array> {
  const method = methods.get(id);
  if (!method) throw new RangeError(`no importance method "${id}"; known: ${[...methods.keys()].join(', ')}`);
  const missing = missingNeeds(method, ctx);
  if (missing.length) throw new RangeError(`method "${id}" needs ${missing.join(', ')}`);
  ctx.signal?.throwIfAborted();
  const scores = await method.compute(ctx);
  if (scores.length !== ctx.seq) throw new RangeError(`method "${id}" returned ${scores.length} scores for ${ctx.seq}`);
  return scores;
}

function attentionOf(ctx: ImportanceContext): readonly LayerAttention[] {
  const layers = ctx.attention;
  if (!layers?.length) throw new RangeError('this method needs ctx.attention');
  if (checkSelfAttention(layers) !== ctx.seq) {
    throw new RangeError(`attention covers ${layers[0].queryLength} tokens; ctx.seq is ${ctx.seq}`);
  }
  return layers;
}

/** The scores of a one-row method for ctx.target, or their weighted mean over ctx.targetWeights. [seq] */
export function pooledScores(ctx: ImportanceContext, row: (target: number) => Float64Array): Float64Array {
  const w = ctx.targetWeights;
  if (!w) return row(ctx.target);
  if (w.length !== ctx.seq) throw new RangeError(`targetWeights has ${w.length} entries; expected ${ctx.seq}`);
  let total = 0;
  for (const x of w) {
    if (!(x >= 0)) throw new RangeError(`target weight ${x} is not a non-negative number`);
    total += x;
  }
  if (!(total > 0)) throw new RangeError('targetWeights sum to 0');
  const out = new Float64Array(ctx.seq); // [seq]
  for (let i = 0; i < ctx.seq; i++) {
    if (w[i] === 0) continue;
    const r = row(i);
    for (let j = 0; j < ctx.seq; j++) out[j] += (w[i] / total) * r[j];
  }
  return out;
}

/** Raw attention: row `target` of one layer's attention, for one head or the mean/max over heads. [seq] */
export function rawAttentionScores(ctx: ImportanceContext): Float64Array {
  return pooledScores(ctx, (target) => rawAttentionRow(ctx, target));
}

function rawAttentionRow(ctx: ImportanceContext, target: number): Float64Array {
  const layers = attentionOf(ctx);
  const n = ctx.seq;
  const index = ctx.layer ?? layers.length - 1;
  if (!Number.isInteger(index) || index < 0 || index >= layers.length) {
    throw new RangeError(`layer ${index} is outside 0..${layers.length - 1}`);
  }
  if (!Number.isInteger(target) || target < 0 || target >= n) {
    throw new RangeError(`target ${target} is outside 0..${n - 1}`);
  }
  const { heads, data } = layers[index];
  const head = ctx.head ?? 'mean';
  const row = (h: number) => data.subarray((h * n + target) * n, (h * n + target + 1) * n); // [key] of [h, target, :]
  if (typeof head === 'number') {
    if (!Number.isInteger(head) || head < 0 || head >= heads)
      throw new RangeError(`head ${head} is outside 0..${heads - 1}`);
    return Float64Array.from(row(head));
  }
  const out = new Float64Array(n).fill(head === 'max' ? -Infinity : 0); // [seq]
  for (let h = 0; h < heads; h++) {
    const r = row(h);
    for (let j = 0; j < n; j++) out[j] = head === 'max' ? Math.max(out[j], r[j]) : out[j] + r[j] / heads;
  }
  return out;
}

registerMethod({
  id: 'raw-attention',
  label: 'Raw attention',
  kind: 'attention',
  needs: { attention: true },
  compute: async (ctx) => rawAttentionScores(ctx),
});

registerMethod({
  id: 'rollout',
  label: 'Attention rollout',
  kind: 'attention',
  needs: { attention: true },
  compute: async (ctx) => {
    const options = { heads: ctx.headReduce, startLayer: ctx.startLayer };
    if (!ctx.targetWeights) return rolloutScores(attentionOf(ctx), ctx.target, options);
    const r = attentionRollout(attentionOf(ctx), options); // [seq, seq], computed once for every row
    return pooledScores(ctx, (target) => rolloutRow(r, ctx.seq, target));
  },
});

registerMethod({
  id: 'flow',
  label: 'Attention flow',
  kind: 'attention',
  needs: { attention: true },
  // Renormalised per output node (the scores of one target sum to 1), as Abnar & Zuidema's compute_flows does
  // (flow_values[u] /= flow_values[u].sum()); flowScores gives the raw max-flow values.
  compute: async (ctx) =>
    pooledScores(ctx, (target) =>
      perOutputNode(flowScores(attentionOf(ctx), target, { heads: ctx.headReduce, startLayer: ctx.startLayer })),
    ),
});

/** Divides a flow row by its sum (a row with no flow stays 0). */
function perOutputNode(row: Float64Array): Float64Array {
  let total = 0;
  for (const x of row) total += x;
  if (total > 0) for (let j = 0; j < row.length; j++) row[j] /= total;
  return row;
}

/** ctx.evaluateBatch, or ctx.evaluate called once per mask. */
function batchOf(ctx: ImportanceContext): EvaluateBatch {
  if (ctx.evaluateBatch) return ctx.evaluateBatch;
  const one = ctx.evaluate;
  if (!one) throw new RangeError('this method needs ctx.evaluateBatch or ctx.evaluate');
  return async (masks) => {
    const out: number[] = [];
    for (const m of masks) {
      ctx.signal?.throwIfAborted();
      out.push(await one(m));
    }
    return out;
  };
}

registerMethod({
  id: 'loo',
  label: 'Leave-one-out',
  kind: 'perturbation',
  needs: { evaluate: true },
  compute: async (ctx) =>
    (await leaveOneOut(batchOf(ctx), ctx.seq, { candidates: ctx.candidates, signal: ctx.signal })).scores,
});

registerMethod({
  id: 'occlusion',
  label: 'Occlusion',
  kind: 'perturbation',
  needs: { evaluate: true },
  compute: async (ctx) =>
    (
      await occlusion(batchOf(ctx), ctx.seq, {
        window: ctx.window,
        stride: ctx.stride,
        candidates: ctx.candidates,
        signal: ctx.signal,
      })
    ).scores,
});

/** The value norms of attention layer `index` (ctx.valueNorms entries are matched by their layer number). */
function gramOf(ctx: ImportanceContext, index: number): { layer: LayerAttention; gram: Float32Array } {
  const layers = attentionOf(ctx);
  if (!Number.isInteger(index) || index < 0 || index >= layers.length) {
    throw new RangeError(`layer ${index} is outside 0..${layers.length - 1}`);
  }
  const layer = layers[index];
  const norms = ctx.valueNorms?.find((v) => v.layer === layer.layer);
  if (!norms?.gram) throw new RangeError(`no value Gram matrices for layer ${layer.layer}`);
  return { layer, gram: norms.gram };
}

registerMethod({
  id: 'norm',
  label: 'Norm ‖αf(x)‖',
  kind: 'norm',
  needs: { attention: true, valueNorms: true },
  compute: async (ctx) => {
    const { layer, gram } = gramOf(ctx, ctx.layer ?? attentionOf(ctx).length - 1);
    const head = ctx.head;
    return pooledScores(ctx, (target) =>
      typeof head === 'number' ? headNormRow(layer, gram, head, target) : normRow(layer, gram, target),
    );
  },
});

registerMethod({
  id: 'norm-rollout',
  label: 'Norm rollout',
  kind: 'norm',
  needs: { attention: true, valueNorms: true },
  compute: async (ctx) => {
    const layers = attentionOf(ctx);
    const start = ctx.startLayer ?? 0;
    const maps = layers.slice(start).map((_, i) => {
      const { layer, gram } = gramOf(ctx, start + i);
      return normAsAttention(layer, gram); // one head, rows sum to 1
    });
    const r = attentionRollout(maps); // [seq, seq]
    return pooledScores(ctx, (target) => rolloutRow(r, ctx.seq, target));
  },
});

/** Every layer's ALTI matrix, or ALTI of the one layer asked for. */
function altiLayers(ctx: ImportanceContext): Float64Array[] {
  const layers = ctx.mixing;
  if (!layers?.length) throw new RangeError('this method needs ctx.mixing');
  for (const m of layers)
    if (m.seq !== ctx.seq) throw new RangeError(`mixing tensors cover ${m.seq} tokens; ctx.seq is ${ctx.seq}`);
  const start = ctx.startLayer ?? 0;
  if (!Number.isInteger(start) || start < 0 || start >= layers.length)
    throw new RangeError(`start layer ${start} is outside 0..${layers.length - 1}`);
  return layers.slice(start).map(altiLayer);
}

/** Scores that are not all finite stop with where (a number shown is right or not shown). */
function finiteScores(id: string, scores: Float64Array): Float64Array {
  const bad = scores.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new RangeError(`${id} gave a non-finite score at token ${bad}`);
  return scores;
}

registerMethod({
  id: 'alti',
  label: 'ALTI',
  kind: 'mixing',
  needs: { mixing: true },
  cost: 'no extra model pass: the unperturbed pass runs the mixing variant (per-head value vectors through W_O, [seq, heads, hidden] per layer); O(layers · seq² · heads · hidden) arithmetic',
  compute: async (ctx) => {
    const r = mixingRollout(altiLayers(ctx), ctx.seq); // [seq, seq]
    return finiteScores(
      'alti',
      pooledScores(ctx, (target) => matrixRow(r, ctx.seq, target)),
    );
  },
});

/** The layer raw-attention, norm and value-zeroing read: ctx.layer, default the last. */
function chosenLayer(ctx: ImportanceContext, layers: number): number {
  const l = ctx.layer ?? layers - 1;
  if (!Number.isInteger(l) || l < 0 || l >= layers) throw new RangeError(`layer ${l} is outside 0..${layers - 1}`);
  return l;
}

registerMethod({
  id: 'value-zeroing',
  label: 'Value zeroing',
  kind: 'mixing',
  needs: { mixing: true, valueZeroing: true },
  cost: '1 + seq rows through the model (batched): each zeroes one token’s value vectors in the chosen layer',
  compute: async (ctx) => {
    const l = chosenLayer(ctx, ctx.mixing!.length);
    const [c] = await ctx.valueZeroing!([l]); // [seq, seq]
    return finiteScores(
      'value-zeroing',
      pooledScores(ctx, (target) => matrixRow(c, ctx.seq, target)),
    );
  },
});

registerMethod({
  id: 'value-zeroing-rollout',
  label: 'Value zeroing rollout',
  kind: 'mixing',
  needs: { mixing: true, valueZeroing: true },
  cost: '1 + layers · seq rows through the model (batched): each zeroes one token’s value vectors in one layer',
  compute: async (ctx) => {
    const L = ctx.mixing!.length;
    const start = ctx.startLayer ?? 0;
    if (!Number.isInteger(start) || start < 0 || start >= L)
      throw new RangeError(`start layer ${start} is outside 0..${L - 1}`);
    const layers = Array.from({ length: L - start }, (_, i) => start + i);
    const r = mixingRollout(await ctx.valueZeroing!(layers), ctx.seq); // [seq, seq]
    return finiteScores(
      'value-zeroing-rollout',
      pooledScores(ctx, (target) => matrixRow(r, ctx.seq, target)),
    );
  },
});

registerMethod({
  id: 'uniform',
  label: 'Uniform attention (baseline)',
  kind: 'baseline',
  needs: {},
  compute: async (ctx) => pooledScores(ctx, (target) => uniformRow(ctx.seq, target, ctx.causal === true)),
});

function gradientsOf(ctx: ImportanceContext): InputGradients {
  const g = ctx.gradients;
  if (!g) throw new RangeError('this method needs ctx.gradients');
  if (g.gradient.length !== ctx.seq * g.hidden)
    throw new RangeError(`gradients cover ${g.gradient.length / g.hidden} tokens; ctx.seq is ${ctx.seq}`);
  return g;
}

registerMethod({
  id: 'saliency',
  label: 'Saliency ‖∇‖',
  kind: 'gradient',
  needs: { gradients: true },
  compute: async (ctx) => {
    const g = gradientsOf(ctx);
    return saliency(g.gradient, ctx.seq, g.hidden);
  },
});

registerMethod({
  id: 'grad-x-input',
  label: 'Gradient × input',
  kind: 'gradient',
  needs: { gradients: true },
  compute: async (ctx) => {
    const g = gradientsOf(ctx);
    return gradientTimesInput(g.gradient, g.embedding, ctx.seq, g.hidden);
  },
});

registerMethod({
  id: 'integrated-gradients',
  label: 'Integrated Gradients',
  kind: 'gradient',
  needs: { gradients: true, gradientPath: true },
  compute: async (ctx) => {
    const g = gradientsOf(ctx);
    const steps = ctx.steps ?? 32;
    // The midpoint points, then α = 0 for f(baseline) alone (its gradient is not used, and at the zero embedding a
    // deep model's passes float32's range): one batched pass (runtime/grad/gradient-service.ts).
    const path = await ctx.gradientPath!([...midpointAlphas(steps), 0], 1);
    const scores = integratedGradients(path.grad, steps, g.embedding, path.baseline, ctx.seq, g.hidden);
    if (g.value !== undefined) {
      const sum = scores.reduce((a, v) => a + v, 0);
      ctx.report?.(completenessNote(sum, g.value, path.target[steps], steps, path.label));
    }
    return scores;
  },
});

registerMethod({
  id: 'attn-x-grad',
  label: 'Attention × gradient',
  kind: 'gradient',
  needs: { attentionGradients: true },
  compute: async (ctx) => {
    const layers = ctx.attentionGradients!;
    const index = ctx.layer ?? layers.length - 1;
    if (!Number.isInteger(index) || index < 0 || index >= layers.length)
      throw new RangeError(`layer ${index} is outside 0..${layers.length - 1}`);
    const l = layers[index];
    const head = typeof ctx.head === 'number' ? ctx.head : 'mean';
    if (head !== 'mean' && (!Number.isInteger(head) || head < 0 || head >= l.heads))
      throw new RangeError(`head ${head} is outside 0..${l.heads - 1}`);
    return pooledScores(ctx, (row) => attentionTimesGradientRow(l.attention, l.gradient, l.heads, ctx.seq, row, head));
  },
});

registerMethod({
  id: 'attnlrp',
  label: 'AttnLRP',
  kind: 'gradient',
  needs: { relevance: true },
  cost: 'one backward pass with AttnLRP’s rules (as gradient × input), explaining the token’s logit',
  compute: async (ctx) => {
    const r = ctx.relevance!;
    if (r.gradient.length !== ctx.seq * r.hidden)
      throw new RangeError(`relevances cover ${r.gradient.length / r.hidden} tokens; ctx.seq is ${ctx.seq}`);
    const scores = gradientTimesInput(r.gradient, r.embedding, ctx.seq, r.hidden);
    const what = r.contrast ? CONTRAST_LOGIT : undefined;
    if (r.value !== undefined) ctx.report?.(conservationNote(scores, r.value, r.measure, what));
    return scores;
  },
});

/** ctx.seq2seq, its source length checked against ctx.seq. */
function seq2seqOf(ctx: ImportanceContext): NonNullable<ImportanceContext['seq2seq']> {
  const a = ctx.seq2seq;
  if (!a) throw new RangeError('this method needs ctx.seq2seq');
  if (a.encoder[0]?.queryLength !== ctx.seq)
    throw new RangeError(`the encoder's attention covers ${a.encoder[0]?.queryLength} tokens; ctx.seq is ${ctx.seq}`);
  return a;
}

registerMethod({
  id: 'cross-attention',
  label: 'Raw cross-attention',
  kind: 'attention',
  needs: { seq2seq: true },
  // ctx.layer: the decoder layer (default the last); ctx.head: one head, or 'mean' / 'max' (default 'mean').
  compute: async (ctx) => {
    const a = seq2seqOf(ctx);
    const l = ctx.layer ?? a.cross.length - 1;
    if (!Number.isInteger(l) || l < 0 || l >= a.cross.length)
      throw new RangeError(`decoder layer ${l} is outside 0..${a.cross.length - 1}`);
    const c = a.cross[l];
    return weightedRows(reduceCross(c, ctx.head ?? 'mean'), c.queryLength, ctx.seq, a.rows);
  },
});

registerMethod({
  id: 'cross-rollout',
  label: 'Encoder–decoder rollout',
  kind: 'attention',
  needs: { seq2seq: true },
  compute: async (ctx) => {
    const a = seq2seqOf(ctx);
    return weightedRows(seq2seqRollout(a, ctx.headReduce ?? 'mean'), a.cross[0].queryLength, ctx.seq, a.rows);
  },
});
