// Runs a gradient graph (family-gradient.ts) on onnxruntime: one session per (batch, length, measure), fed the
// token embeddings (or any point between a baseline and them, for Integrated Gradients), the per-run side inputs of
// feeds.ts and the target's one-hot readout. Everything is float32 (quantised weights were dequantised at load), the
// gradients as onnxruntime computes them; non-finite values stop with a message saying where.
import { createSession, type Session, type SessionOptions } from '../backend/ort';
import { LensError } from '../errors';
import { computeFeeds } from '../models/feeds';
import type { ModelSource } from '../models/source';
import type { BackendName, FeedTensor } from '../types';
import {
  buildGradientGraph,
  EMBEDS,
  type GradientGraph,
  type GradientGraphSpec,
  type GradientMeasure,
} from './family-gradient';

/** Longest input a gradient method runs on: the backward graph keeps every layer's activations and [H,S,S] maps
 * (and their gradients) per batch row, so memory grows with B·L·H·S². */
export const GRADIENT_MAX_TOKENS = 512;

export interface GradientTarget {
  measure: GradientMeasure;
  /** log-prob / prob / logit: the position whose head row is read, and the token id. */
  readout?: number;
  token?: number;
  /** log-prob / logit: a second token id whose value at the readout is subtracted (weight −1 beside the token's +1):
   * log p(token) − log p(contrast), a contrastive target (the log-softmax's normaliser cancels: it equals the logits'
   * difference, which is what AttnLRP's logit measure explains). */
  contrast?: number;
  /** cosine: the reference vector [hidden]; the input is mean-pooled over every token. */
  reference?: ArrayLike<number>;
}

export interface GradientResult {
  /** [B] the explained scalar of each row. */
  target: Float64Array;
  /** [B,S,E] d(target_b)/d(inputs_embeds_b). */
  grad: Float32Array;
  /** attention: per layer [B,H,S,S] probabilities and their gradients. */
  attn?: Float32Array[];
  gradAttn?: Float32Array[];
}

/**
 * Stops on a non-finite value in a gradient graph's outputs, saying which and why it may be: a target of −∞ (a
 * probability of 0), or — the target finite — a gradient past float32's range (at the zero embedding, a deep model's
 * normalisation layers each multiply it by their weight over √ε: SmolLM2's 61 RMSNorms overflow). `read` gives, for
 * the embedding gradients, how many leading values are used; the rest belong to rows read for their target alone
 * and are not checked.
 */
export function checkGradientOutputs(
  out: Record<string, { data: Float32Array }>,
  fetches: readonly string[],
  read: Record<string, number>,
): void {
  const targets = out.target.data;
  const badTarget = targets.findIndex((v) => !Number.isFinite(v));
  if (badTarget >= 0)
    throw new LensError(
      'NON_FINITE',
      `The explained value is ${targets[badTarget]} at gradient row ${badTarget} (−∞ is the log of a probability ` +
        'of 0); choose another target.',
    );
  for (const name of fetches) {
    if (name === 'target') continue;
    const data = out[name].data;
    const end = Math.min(read[name] ?? data.length, data.length);
    for (let i = 0; i < end; i++) if (!Number.isFinite(data[i])) throw nonFiniteGradient(name, data[i], i);
  }
}

/** The NON_FINITE error of a gradient output's value at an index, the explained value being finite. */
export function nonFiniteGradient(name: string, value: number, index: number): LensError {
  return new LensError(
    'NON_FINITE',
    `The gradient output ${name} is ${value} at index ${index} while the explained value is finite: the ` +
      'gradient passes float32’s range there (near the zero embedding, each normalisation layer multiplies it by ' +
      'its weight over √ε); for Integrated Gradients, start the path at the pad token (CLI: --ig-baseline pad).',
  );
}

export function checkGradientLength(seq: number): void {
  if (seq > GRADIENT_MAX_TOKENS)
    throw new LensError(
      'TOO_LONG',
      `Gradient methods run on at most ${GRADIENT_MAX_TOKENS} tokens (memory grows with the square of the length); this input has ${seq}: select a shorter range, or use an attention or perturbation method.`,
    );
}

export class GradientRunner {
  private constructor(
    readonly graph: Omit<GradientGraph, 'onnx'>,
    private readonly session: Session,
    private readonly source: ModelSource,
  ) {}

  static async create(
    source: ModelSource,
    options: GradientGraphSpec,
    backend: BackendName = 'native',
    threads = 1,
    /** Benches only: onnxruntime's per-node profile, the optimized graph. */
    extras: Pick<SessionOptions, 'profilePrefix' | 'optimizedModelPath'> = {},
  ): Promise<GradientRunner> {
    checkGradientLength(options.seq);
    const { onnx, ...graph } = buildGradientGraph(source, options);
    // The serialized graph (the weights once more in float32) is dropped once onnxruntime has its session.
    const session = await createSession(onnx, {
      ...extras,
      backend,
      threads,
      denormalAsZero: !options.keepDenormals,
    });
    return new GradientRunner(graph, session, source);
  }

  /** The token embeddings of ids, [S,E] (the rows of the table inputs_embeds replaces). */
  embeddings(ids: readonly number[]): Float32Array {
    const { data, width: E, rows } = this.graph.table;
    const out = new Float32Array(ids.length * E); // [S,E]
    ids.forEach((id, s) => {
      if (!Number.isInteger(id) || id < 0 || id >= rows)
        throw new RangeError(`token id ${id} is outside 0..${rows - 1}`);
      out.set(data.subarray(id * E, (id + 1) * E), s * E);
    });
    return out;
  }

  /**
   * Runs the graph on `embeds` [B,S,E] (B rows, each for the same ids). Only the first `gradRows` rows' gradients are
   * read (and checked): the later ones are there for their target alone (Integrated Gradients' f(baseline)).
   */
  async run(
    ids: readonly number[],
    embeds: Float32Array,
    target: GradientTarget,
    gradRows = this.graph.spec.batch,
    /** 1 for a real token, 0 for padding after them (default: every token real); with it, grad_embeds is not checked
     * (the caller checks the real tokens'). A graph built with its zero bias dropped (keepZeroBias off, an encoder)
     * sees no padding: give it none. */
    mask?: readonly number[],
  ): Promise<GradientResult> {
    const { batch: B, seq: S, measure, attention } = this.graph.spec;
    const E = this.graph.hidden;
    if (ids.length !== S) throw new RangeError(`gradient graph is built for ${S} tokens, got ${ids.length}`);
    if (mask && mask.length !== S) throw new RangeError(`the mask has ${mask.length} entries for ${S} tokens`);
    if (embeds.length !== B * S * E)
      throw new RangeError(`inputs_embeds has ${embeds.length} values, expected ${B * S * E}`);
    if (target.measure !== measure)
      throw new RangeError(`gradient graph is built for ${measure}, not ${target.measure}`);
    const batch = {
      ids: Array.from({ length: B }, () => [...ids]),
      mask: Array.from({ length: B }, () => (mask ? [...mask] : ids.map(() => 1))),
    };
    const computed = computeFeeds(batch, this.source.config);
    const all: Record<string, FeedTensor> = { ...computed.embed, ...computed.layer };
    const feeds: Record<string, FeedTensor> = { [EMBEDS]: { type: 'float32', dims: [B, S, E], data: embeds } };
    for (const name of this.graph.inputNames) if (all[name]) feeds[name] = all[name];
    if (measure === 'cosine') {
      if (!target.reference || target.reference.length !== E)
        throw new RangeError(`the reference must have ${E} values`);
      // The mean over the real tokens.
      const real = mask ? mask.reduce((n, m) => n + m, 0) : S;
      const pool = new Float32Array(B * S); // [B,1,S]
      for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) pool[b * S + s] = !mask || mask[s] ? 1 / real : 0;
      feeds.pool = { type: 'float32', dims: [B, 1, S], data: pool };
      feeds.reference = { type: 'float32', dims: [1, 1, E], data: Float32Array.from(target.reference) };
    } else {
      const r = target.readout;
      const t = target.token;
      const V = this.graph.vocab;
      if (r === undefined || !Number.isInteger(r) || r < 0 || r >= S)
        throw new RangeError(`readout ${r} is outside 0..${S - 1}`);
      if (t === undefined || !Number.isInteger(t) || t < 0 || t >= V)
        throw new RangeError(`token ${t} is outside 0..${V - 1}`);
      const c = target.contrast;
      if (c !== undefined) {
        if (!Number.isInteger(c) || c < 0 || c >= V || c === t)
          throw new RangeError(`contrast token ${c} is outside 0..${V - 1} or equals the token`);
        if (measure === 'prob') throw new RangeError('a contrast is a difference of log-probabilities or logits');
      }
      const select = new Float32Array(B * S);
      const onehot = new Float32Array(B * V); // +1 on the token, −1 on the contrast token
      for (let b = 0; b < B; b++) {
        select[b * S + r] = 1;
        onehot[b * V + t] = 1;
        if (c !== undefined) onehot[b * V + c] = -1;
      }
      feeds.select = { type: 'float32', dims: [B, 1, S], data: select };
      // The readout as an index too, where the last layer runs that row alone (its bias and cos/sin rows).
      if (this.graph.inputNames.includes('readout'))
        feeds.readout = { type: 'int64', dims: [1], data: BigInt64Array.of(BigInt(r)) };
      feeds.target_onehot = { type: 'float32', dims: [B, 1, V], data: onehot };
    }
    const L = this.graph.layers;
    const fetches = ['target', 'grad_embeds'];
    if (attention) for (let l = 0; l < L; l++) fetches.push(`attn_${l}`, `grad_attn_${l}`);
    const out = await this.session.run(feeds, fetches);
    // With padding, the caller checks the real tokens' gradients (the padding's are read by nobody).
    checkGradientOutputs(out, fetches, { grad_embeds: mask ? 0 : gradRows * S * E });
    const result: GradientResult = { target: Float64Array.from(out.target.data), grad: out.grad_embeds.data };
    if (attention) {
      result.attn = Array.from({ length: L }, (_, l) => out[`attn_${l}`].data);
      result.gradAttn = Array.from({ length: L }, (_, l) => out[`grad_attn_${l}`].data);
    }
    return result;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
