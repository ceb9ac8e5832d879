// The model behind every perturbation method of one explanation: takes keep masks, turns them into rows
// (perturb.ts), runs them through the inspector as padded batches (one session call per stage per batch, not one
// per variant), and measures the target on each row. Identical masks are run once per explanation (a cache shared by
// leave-one-out, occlusion, faithfulness and the erasure curves). Batches are cut to a memory budget.
import type { Inspector } from '../inspector/api';
import { measureRow, type TargetMeasure } from '../analysis/targets';
import type { EvaluateBatch } from '../analysis/loo';
import { LensError } from '../errors';
import { perturbedRow, trimPadding, type Perturbation, type PerturbedRow } from './perturb';

/** Floats of intermediate tensors one batch may hold per layer (~256 MB as float32). */
export const BATCH_FLOAT_BUDGET = 64 * 2 ** 20;
/** Floats of the largest activation of one layer a batch should keep near the caches (8 MB as float32). */
export const BATCH_CACHE_FLOATS = 2 ** 21;
/** Rows per batch at most. */
export const BATCH_MAX_ROWS = 64;
/*
 * Why these budgets (CPU backends, bench/explain.ts): batching removes the per-call cost (one session call per stage,
 * one worker round trip), which dominates small models (stories260K at 17 tokens: 0.88 ms per row alone, 0.30 ms in
 * batches of 16). A model whose rows are compute-bound gains less, and loses once a batch's activations leave the
 * caches, so a batch is sized by its largest activation of a layer (the MLP's [rows, seq, 4·hidden] or the attention
 * scores' [rows, heads, seq, seq]). Measured on an idle 2-core machine (leave-one-out + occlusion, 122 or 250 rows,
 * variants interleaved, median wall; a throw-away sweep with the cap lifted, then `npx tsx bench/explain-batches.ts`):
 * all-MiniLM-L6-v2 at 64 tokens 854 ms in batches of 5 (a 2 MB cap), 822 in 8, 829 in 11, 788 in 16, 22 and 33, 815
 * in 64 (the bench: 869 in 5, 822 in 11, 823 in 21); at 128 tokens 3,741 ms in 2, 3,601 in 4, 3,616 in 8, 3,642 in
 * 16; stories260K at 64 tokens 117 ms in 16, 107 in 32, 106 in 64 (the bench: 120, 108, 108). The 8 MB cap gives 21,
 * 10 and 64 rows there.
 */

export interface EvaluatorTarget {
  measure: TargetMeasure;
  /** Token id for log-prob / prob / log-odds. */
  token?: number;
  /** log-odds: the contrast token's id. */
  contrast?: number;
  /** Reference embedding for cosine. */
  reference?: Float32Array;
  /** Readout position in the unperturbed input, or null for pooled targets. */
  readout: number | null;
  /** Encoder–decoders: rows are sources; the decoder is teacher-forced on decoderInput and the target is the sum of
   * log p at the picked (decoder row, token) pairs, or the first minus the second (a contrast). */
  seq2seq?: { decoderInput: readonly number[]; picks: readonly number[]; combine: 'sum' | 'difference' };
}

export interface EvaluatorOptions {
  mode: Perturbation;
  causal: boolean;
  padId: number;
  maskId?: number;
  /** false: one model call per row (for comparison); default true. */
  batched?: boolean;
  /** Upper bound on rows per batch (default: from the memory budget). */
  maxRows?: number;
  signal?: AbortSignal;
}

export interface EvaluatorStats {
  /** Rows run through the model. */
  rows: number;
  /** Forward calls (batches). */
  batches: number;
  /** Wall time inside forward calls, ms. */
  ms: number;
  /** Masks answered from the cache. */
  cached: number;
}

const key = (keep: readonly boolean[]) => keep.map((k) => (k ? '1' : '0')).join('');

/** Rows per batch for a model of these sizes at this length: within the cache, memory and row budgets. */
export function rowsPerBatch(
  facts: Pick<Inspector['facts'], 'hidden' | 'heads'>,
  seq: number,
  maxRows = BATCH_MAX_ROWS,
): number {
  const largest = seq * Math.max(4 * facts.hidden, facts.heads * seq); // floats of a row's largest activation
  const memory = facts.heads * seq * seq * 3 + seq * facts.hidden * 16; // scores/probs + hidden and 4E MLP buffers
  const rows = Math.min(Math.floor(BATCH_CACHE_FLOATS / largest), Math.floor(BATCH_FLOAT_BUDGET / memory), maxRows);
  return Math.max(1, rows);
}

export class BatchEvaluator {
  readonly stats: EvaluatorStats = { rows: 0, batches: 0, ms: 0, cached: 0 };
  private readonly cache = new Map<string, number>();

  constructor(
    private readonly inspector: Inspector,
    private readonly ids: readonly number[],
    private readonly target: EvaluatorTarget,
    private readonly options: EvaluatorOptions,
  ) {}

  /** Records a value already known (the unperturbed input's, from the main pass). */
  seed(keep: readonly boolean[], value: number): void {
    this.cache.set(key(keep), value);
  }

  /** The target on each keep mask, in order (an EvaluateBatch for the analysis functions). */
  readonly evaluate: EvaluateBatch = async (masks) => {
    const missing = new Map<string, boolean[]>();
    for (const m of masks) {
      if (m.length !== this.ids.length)
        throw new RangeError(`keep mask has ${m.length} flags; expected ${this.ids.length}`);
      const k = key(m);
      if (this.cache.has(k) || missing.has(k)) this.stats.cached++;
      else missing.set(k, m);
    }
    // Similar lengths share a batch, so 'remove' rows are trimmed to little padding.
    const kept = (m: boolean[]) => m.reduce((a, k) => a + (k ? 1 : 0), 0);
    const todo = [...missing.entries()].sort((a, b) => kept(b[1]) - kept(a[1]));
    const per =
      this.options.batched === false ? 1 : rowsPerBatch(this.inspector.facts, this.ids.length, this.options.maxRows);
    for (let start = 0; start < todo.length; start += per) {
      const chunk = todo.slice(start, start + per);
      const values = await this.run(chunk.map(([, m]) => m));
      chunk.forEach(([k], i) => this.cache.set(k, values[i]));
    }
    return masks.map((m) => this.cache.get(key(m))!);
  };

  private async run(masks: boolean[][]): Promise<number[]> {
    this.options.signal?.throwIfAborted();
    const { mode, causal, padId, maskId } = this.options;
    const rows: PerturbedRow[] = masks.map((keep) =>
      perturbedRow(this.ids, keep, { mode, readout: this.target.readout, causal, padId, maskId }),
    );
    for (const r of rows) {
      if (r.length === 0)
        throw new LensError('BAD_INPUT', 'A perturbation removed every token; nothing is left to run.');
      if (this.target.readout !== null && r.readout < 0)
        throw new LensError('BAD_INPUT', 'A perturbation removed the target position and every token before it.');
    }
    const batch = trimPadding(rows);
    const s2s = this.target.seq2seq;
    if (s2s) {
      const t0 = performance.now();
      const out = await this.inspector.forward(
        { batch, read: { kind: 'target-logprobs', decoderInput: s2s.decoderInput, picks: s2s.picks } },
        { signal: this.options.signal },
      );
      this.stats.ms += performance.now() - t0;
      this.stats.rows += rows.length;
      this.stats.batches++;
      return rows.map((_, r) => {
        const row = out.head.subarray(r * out.width, (r + 1) * out.width); // [picks]
        if (s2s.combine === 'difference') return row[0] - row[1];
        let sum = 0;
        for (const v of row) sum += v;
        return sum;
      });
    }
    const read =
      this.target.measure === 'cosine'
        ? ({ kind: 'mean-hidden' } as const)
        : ({ kind: 'logits', positions: rows.map((r) => r.readout) } as const);
    const t0 = performance.now();
    const out = await this.inspector.forward({ batch, read }, { signal: this.options.signal });
    this.stats.ms += performance.now() - t0;
    this.stats.rows += rows.length;
    this.stats.batches++;
    return rows.map((_, r) =>
      measureRow(out.head, r, out.width, this.target.measure, {
        token: this.target.token,
        contrast: this.target.contrast,
        reference: this.target.reference,
      }),
    );
  }
}
