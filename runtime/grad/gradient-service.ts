// Gradients for the explanation methods, where the model lives (the inference worker, the bench): the gradient at
// the input's token embeddings, or at points on the straight path from a baseline to them (Integrated Gradients),
// computed in batches of rows by the gradient graphs of family-gradient.ts. A graph is built per (rows, graph length,
// measure) and its session kept for the next request of the same shape (at most two at a time); an input runs padded
// to its graph length (graphLength: the next multiple of 8), so inputs of nearby lengths share a graph. The graph
// carries its own float32 copy of the weights: a gradient session costs about as much memory again as the model.
import type { ModelSource } from '../models/source';
import type { BackendName } from '../types';
import { cancelled } from '../errors';
import type { BackwardRules, GradientGraphSpec } from './family-gradient';
import {
  checkGradientLength,
  GRADIENT_MAX_TOKENS,
  GradientRunner,
  nonFiniteGradient,
  type GradientTarget,
} from './gradients';

export type GradientBaseline = 'zero' | 'pad';

export interface GradientRequest {
  ids: number[];
  target: GradientTarget;
  /** Points baseline + α (input − baseline), one row each (default [1]: the input itself). */
  alphas?: number[];
  /** How many of the last points are read for their target alone (Integrated Gradients' α = 0: f(baseline)): their
   * gradients are neither checked nor returned. At the zero embedding a deep model's gradient passes float32's range
   * (each RMSNorm multiplies it by its weight over √ε: SmolLM2's overflows), while f there is an ordinary number. */
  valueOnly?: number;
  baseline?: GradientBaseline;
  /** The token whose embedding is the 'pad' baseline. */
  padId?: number;
  /** Positions where the baseline keeps the input's embedding (special tokens: BOS, [CLS], [SEP]). */
  keep?: boolean[];
  /** Also every layer's attention and its gradient, for the first row. */
  attention?: boolean;
  /** 'attnlrp': AttnLRP's modified gradient (input ⊙ it is the relevance; target measure 'logit' or 'cosine'). */
  rules?: BackwardRules;
}

export interface GradientReply {
  hidden: number;
  /** [rows] the explained scalar at each point. */
  target: number[];
  /** [rows − valueOnly, S, E] its gradient w.r.t. the embeddings at each point whose gradient was asked for. */
  grad: Float32Array;
  /** [S, E] the input's token embeddings. */
  embedding: Float32Array;
  /** [S, E] the baseline (when alphas were given). */
  baseline?: Float32Array;
  /** Per layer [H, S, S], first row: attention and d(target)/d(attention). */
  attention?: Float32Array[];
  attentionGrad?: Float32Array[];
  ms: number;
}

/** Rows of one gradient batch are capped so that their attention maps stay under ~64 M floats (all layers). */
const ROW_BUDGET = 1 << 26;
/** And so that one batch's widest activation ([rows, S, max(hidden, intermediate)]: the feed-forward's, which GELU's
 * or SiLU's elementwise passes read and write forward and backward) stays within 4.5 MiB of floats, about the L2
 * caches of two cores: those passes are memory-bound, and a batch whose tensors spill to the shared L3 or to memory
 * pays for every pass, while each batch repeats every node's fixed cost and streams the weights again. Measured on
 * an idle 2-core machine (`bench/ig-ab.ts`, IG's 33 rows interleaved, CPU time): all-MiniLM-L6-v2 at 64 tokens 848
 * ms in 3 batches of 11 against 919 in 11 of 3 (the earlier 1.25 MiB rule), 945 in 6 a batch, 899 in one batch; at
 * 32 tokens 429–435 ms in 11–17 a batch against 494 in 6; stories260K one batch of 33 (wall 48 against 54 ms in two
 * of 17). At a load of 13–20 the 1.25 MiB rule's 3 rows a batch had measured best (755 against 830 ms for 11). */
const CACHE_FLOATS = 9 << 17;
/** And so that what a batch keeps for its backward pass stays bounded on deep models: its widest activation over
 * every layer (rows × layers × S × max(hidden, intermediate)) within 16 M floats. The backward keeps about eleven
 * such tensors' worth a row: IG on SmolLM2-135M at 64 tokens (`npx tsx bench/ig-memory.ts [--rows N]`, 2026-12-07)
 * peaked at 2.9 GB RSS in batches of 3, 3.1 GB in 5 and 3.9 GB in 11, taking 4.1, 4.2 and 3.8 s. This caps it near
 * 0.75 GB: SmolLM2 runs 5 rows a batch; MiniLM and stories260K keep their cache sizes. */
const ACTIVATION_FLOATS = 1 << 24;
const KEPT_RUNNERS = 2;
/** Inputs run padded to a multiple of this many tokens, so that one graph serves every length up to it. */
export const LENGTH_STEP = 8;

/** The length a gradient graph is built for, for an input of `seq` tokens: the next multiple of LENGTH_STEP, within
 * the model's positions and the gradient methods' limit. Building a graph and its session costs about as much as
 * several runs of it (all-MiniLM-L6-v2, 11 rows: ~270 ms to build and ~250 ms for the session), and a study's
 * sentences, or a user's successive selections, each have their own length: padded, at most seven more tokens
 * (masked out of attention, of the pooled mean and of the readout), they share graphs. */
export function graphLength(seq: number, maxPositions: number): number {
  return Math.max(seq, Math.min(Math.ceil(seq / LENGTH_STEP) * LENGTH_STEP, maxPositions, GRADIENT_MAX_TOKENS));
}

/** The rows of a path of `points` whose gradients are read: all but the last `valueOnly` (read for their target). */
export function gradientRows(points: number, valueOnly = 0): number {
  if (!Number.isInteger(valueOnly) || valueOnly < 0 || valueOnly > points)
    throw new RangeError(`valueOnly ${valueOnly} is outside 0..${points}`);
  return points - valueOnly;
}

/** Rows per batch for `rows` points and at most `max` per batch, spread evenly: 34 rows at most 8 a batch run as
 * 5 × 7 (one repeated row), not 5 × 8 (six). */
export function evenChunk(rows: number, max: number): number {
  const m = Math.max(1, Math.min(rows, Math.floor(max)));
  return Math.ceil(rows / Math.ceil(rows / m));
}

/** Rows per batch for `rows` points on `seq` tokens: under the attention budget and, unless `oneBatch`, the cache
 * and memory budgets of the widest activation, spread evenly (evenChunk). */
export function batchRows(
  rows: number,
  seq: number,
  c: Pick<ModelSource['config'], 'layers' | 'heads' | 'hidden' | 'intermediate'>,
  rowBudget = ROW_BUDGET,
  oneBatch = false,
): number {
  const maps = c.layers * c.heads * seq * seq; // attention floats of one row, all layers
  const widest = seq * Math.max(c.hidden, c.intermediate || 0); // floats of one row's widest activation
  const cached = oneBatch
    ? rows
    : Math.max(1, Math.floor(Math.min(CACHE_FLOATS / widest, ACTIVATION_FLOATS / (c.layers * widest))));
  return evenChunk(rows, Math.min(rowBudget / maps, cached));
}

/** Row 0's [H,S,S] of a batch's [B,H,P,P] maps (the real tokens' queries and keys of a graph padded to P). */
function firstRowMaps(a: Float32Array, H: number, P: number, S: number): Float32Array {
  const out = new Float32Array(H * S * S); // [H,S,S]
  for (let h = 0; h < H; h++)
    for (let q = 0; q < S; q++) out.set(a.subarray((h * P + q) * P, (h * P + q) * P + S), (h * S + q) * S);
  return out;
}

export class GradientService {
  private readonly runners = new Map<string, GradientRunner>();

  constructor(
    private readonly source: ModelSource,
    private readonly backend: BackendName,
    private readonly threads: number,
    /** Attention floats (all layers) one batch may hold; fewer rows per batch below it (tests set it small). */
    private readonly rowBudget = ROW_BUDGET,
    /** Graph and session choices every runner gets (the bench's before/after). */
    private readonly tuning: Pick<
      GradientGraphSpec,
      'keepDenormals' | 'plainRules' | 'fullLastLayer' | 'keepZeroBias' | 'plainRmsNorm' | 'plainSoftmax'
    > & {
      /** Every row in one batch, however wide (the bench's before/after of CACHE_FLOATS). */
      oneBatch?: boolean;
      /** At most this many rows a batch (the bench's sweep of batchRows). */
      maxRows?: number;
      /** A graph per exact length, no padding (the bench's and tests' before/after of graphLength). */
      exactLengths?: boolean;
    } = {},
  ) {}

  /** Gradient graphs built so far (with their sessions). */
  get graphsBuilt(): number {
    return this.built;
  }
  private built = 0;

  private async runner(
    rows: number,
    seq: number,
    target: GradientTarget,
    attention: boolean,
    rules: BackwardRules,
    padded: boolean,
  ): Promise<GradientRunner> {
    const key = `${rows}:${seq}:${target.measure}:${attention}:${rules}:${padded}`;
    const kept = this.runners.get(key);
    if (kept) {
      this.runners.delete(key);
      this.runners.set(key, kept); // most recently used last
      return kept;
    }
    while (this.runners.size >= KEPT_RUNNERS) {
      const [oldest, r] = this.runners.entries().next().value as [string, GradientRunner];
      this.runners.delete(oldest);
      await r.release();
    }
    const { oneBatch: _, maxRows: __, exactLengths: ___, ...tuning } = this.tuning;
    // Padding needs an encoder's padding bias, which an unpadded graph drops as all zero.
    const r = await GradientRunner.create(
      this.source,
      {
        ...tuning,
        ...(padded ? { keepZeroBias: true } : {}),
        batch: rows,
        seq,
        measure: target.measure,
        attention,
        rules,
      },
      this.backend,
      this.threads,
    );
    this.built++;
    this.runners.set(key, r);
    return r;
  }

  async compute(req: GradientRequest, isCancelled: () => boolean = () => false): Promise<GradientReply> {
    const t0 = performance.now();
    const S = req.ids.length;
    checkGradientLength(S);
    const alphas = req.alphas ?? [1];
    const attention = req.attention === true;
    const c = this.source.config;
    const readout = req.target.readout;
    if (readout !== undefined && (!Number.isInteger(readout) || readout < 0 || readout >= S))
      throw new RangeError(`readout ${readout} is outside 0..${S - 1}`);
    // The graph's length P ≥ S: the input's S tokens, then P − S of padding (id 0 and its embedding on every row,
    // mask 0). Not zero embeddings: at a zero vector each RMSNorm's gradient is its weight over √ε, past float32 in
    // a deep model (0 × ∞ in the padding's rows would be NaN).
    const P = this.tuning.exactLengths ? S : graphLength(S, c.maxPositions);
    const padded = P > S;
    const rows = batchRows(alphas.length, P, c, this.rowBudget, this.tuning.oneBatch === true);
    const chunk = this.tuning.maxRows ? evenChunk(alphas.length, this.tuning.maxRows) : rows;
    const runner = await this.runner(chunk, P, req.target, attention, req.rules ?? 'gradient', padded);
    const ids = padded ? [...req.ids, ...new Array<number>(P - S).fill(0)] : req.ids;
    const mask = padded ? ids.map((_, i) => (i < S ? 1 : 0)) : undefined;
    const x = runner.embeddings(req.ids); // [S,E]
    const padding = runner.embeddings(ids.slice(S)); // [P-S,E]
    const E = runner.graph.hidden;
    let base: Float32Array | undefined;
    if (req.alphas) {
      base = req.baseline === 'pad' ? runner.embeddings(req.ids.map(() => req.padId ?? 0)) : new Float32Array(S * E); // [S,E]
      req.keep?.forEach((k, s) => k && base!.set(x.subarray(s * E, (s + 1) * E), s * E));
    }
    const target: number[] = [];
    const gradRows = gradientRows(alphas.length, req.valueOnly);
    const grad = new Float32Array(gradRows * S * E); // [gradRows,S,E]
    const reply: GradientReply = { hidden: E, target, grad, embedding: x, ms: 0 };
    if (base) reply.baseline = base;
    for (let start = 0; start < alphas.length; start += chunk) {
      if (isCancelled()) throw cancelled();
      const points = new Float32Array(chunk * P * E); // [chunk,P,E]
      for (let r = 0; r < chunk; r++) {
        const a = alphas[Math.min(start + r, alphas.length - 1)]; // the last chunk repeats its last point
        for (let i = 0; i < S * E; i++) points[r * P * E + i] = base ? base[i] + a * (x[i] - base[i]) : x[i];
        points.set(padding, r * P * E + S * E);
      }
      const n = Math.min(chunk, alphas.length - start);
      const withGrad = Math.max(0, Math.min(n, gradRows - start)); // this batch's rows whose gradient is read
      const out = await runner.run(ids, points, req.target, withGrad, mask);
      for (let r = 0; r < n; r++) target.push(out.target[r]);
      for (let r = 0; r < withGrad; r++) grad.set(out.grad.subarray(r * P * E, r * P * E + S * E), (start + r) * S * E); // [S,E] of [P,E]
      if (padded)
        for (let i = start * S * E; i < (start + withGrad) * S * E; i++)
          if (!Number.isFinite(grad[i])) throw nonFiniteGradient('grad_embeds', grad[i], i);
      if (start === 0 && out.attn && out.gradAttn) {
        reply.attention = out.attn.map((a) => firstRowMaps(a, c.heads, P, S)); // [H,S,S] of row 0
        reply.attentionGrad = out.gradAttn.map((a) => firstRowMaps(a, c.heads, P, S));
      }
    }
    reply.ms = performance.now() - t0;
    return reply;
  }

  async release(): Promise<void> {
    for (const r of this.runners.values()) await r.release();
    this.runners.clear();
  }
}
