// Attention rollout (runtime/analysis/rollout.ts) on a run kept for long inputs, for the rows asked for: rollout's
// R = Ã_L · … · Ã_s is a chain of n × n products (8k × 8k at 8,192 tokens, and no map is kept), but one row of R —
// what Explain shows for one target token — is a chain of vector–matrix products:
//
//   v ← e_t;  for l = L … s:  v ← v · Ã_l          Ã_l = rownorm((1 − r) · mean_h A_l[h] + r · I)
//
// and v · Ã_l needs only the rows i of Ã_l where v_i ≠ 0, each recomputed from the layer's kept q and k
// (ExactAttention.addRow, float64). For a causal model v is supported on the target and the tokens before it, so a
// layer costs heads × Σ_{i ≤ t} (i + 1) × headDim multiply-adds; for a bidirectional one, heads × n² × headDim. The
// cost is stated before it runs, and a row estimated above ROLLOUT_MAX_SECONDS is refused with what to do.
import { cancelled, LensError } from '../errors';
import type { ExactAttention } from './exact-attention';

/** Multiply-adds per second of q·k in float64 JS, measured on a shared 2-core machine at a load of 11 (bench/kept-rollout.ts: 144 M/s). */
export const ROLLOUT_RATE = 1.5e8;

/** The longest a rollout row may be estimated to take before it is refused. */
export const ROLLOUT_MAX_SECONDS = 60;

export interface RolloutCost {
  tokens: number;
  layers: number;
  /** q·k multiply-adds of the rows recomputed. */
  multiplyAdds: number;
  /** multiplyAdds / ROLLOUT_RATE. */
  seconds: number;
}

export interface KeptRolloutShape {
  layers: number;
  heads: number;
  headDim: number;
  causal: boolean;
}

/** The cost of rollout row `target` over `n` tokens (layers from startLayer up). */
export function keptRolloutCost(shape: KeptRolloutShape, n: number, target: number, startLayer = 0): RolloutCost {
  const layers = shape.layers - startLayer;
  // The top layer reads one row; each layer below it reads every row the vector reaches.
  const visible = shape.causal ? ((target + 1) * (target + 2)) / 2 : n * n;
  const top = shape.causal ? target + 1 : n;
  const perHead = shape.headDim * shape.heads;
  const multiplyAdds = perHead * (top + Math.max(0, layers - 1) * visible);
  return { tokens: n, layers, multiplyAdds, seconds: multiplyAdds / ROLLOUT_RATE };
}

/** The cost in words, for messages: "about 12 s (30 layers over 4,000 tokens)". */
export function rolloutCostText(cost: RolloutCost): string {
  const t = cost.seconds < 1 ? '< 1 s' : `about ${Math.round(cost.seconds)} s`;
  return `${t} (${cost.layers} layers over ${cost.tokens.toLocaleString('en-US')} tokens)`;
}

/** Refuses a rollout row estimated above ROLLOUT_MAX_SECONDS, saying what to do instead. */
export function checkRolloutCost(cost: RolloutCost, causal: boolean): void {
  if (cost.seconds <= ROLLOUT_MAX_SECONDS) return;
  throw new LensError(
    'TOO_LONG',
    `Rollout for this token would take ${rolloutCostText(cost)}, more than the ${ROLLOUT_MAX_SECONDS} s allowed; ` +
      (causal
        ? 'choose an earlier target token or select fewer tokens.'
        : 'select fewer tokens (the cost grows with their square).'),
  );
}

export interface KeptRolloutOptions {
  /** First layer included (default 0). */
  startLayer?: number;
  /** Weight of the identity (residual), as rollout.ts (default 0.5). */
  residual?: number;
  /** Called after each layer with the fraction done. */
  onLayer?: (fraction: number) => void;
  /** Read before each row is recomputed: true stops the rollout (it rejects as cancelled). A row costs at most
   *  heads × n × headDim multiply-adds (~30 ms at 8,192 tokens), so a Cancel is seen that soon. */
  shouldStop?: () => boolean;
}

/** Row `target` of the rollout of the kept layers [start..L−1]: [n], float64, sums to 1. */
export function keptRolloutRow(
  layers: readonly ExactAttention[],
  target: number,
  options: KeptRolloutOptions = {},
): Float64Array {
  if (!layers.length) throw new LensError('BAD_INPUT', 'Rollout needs at least one computed layer.');
  const n = layers[0].length;
  const start = options.startLayer ?? 0;
  const r = options.residual ?? 0.5;
  if (!Number.isInteger(start) || start < 0 || start >= layers.length)
    throw new LensError('BAD_INPUT', `The rollout's first layer ${start} is outside 0..${layers.length - 1}.`);
  if (!Number.isInteger(target) || target < 0 || target >= n)
    throw new LensError('BAD_INPUT', `Position ${target} is outside the ${n} positions of the run.`);
  let v = new Float64Array(n); // [n]: row target of Ã_L · … · Ã_{l+1}
  v[target] = 1;
  const row = new Float64Array(n); // [n]: row i of Ã_l before its normalisation
  const scratch = new Float64Array(n);
  for (let l = layers.length - 1; l >= start; l--) {
    const ex = layers[l];
    if (ex.length !== n)
      throw new LensError('INFERENCE_FAILED', `Layer ${l} has ${ex.length} positions; layer 0 has ${n}.`);
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (v[i] === 0) continue;
      if (options.shouldStop?.()) throw cancelled();
      row.fill(0);
      for (let h = 0; h < ex.heads; h++) ex.addRow(h, i, (1 - r) / ex.heads, row, scratch);
      row[i] += r;
      let sum = 0;
      for (let j = 0; j < n; j++) sum += row[j];
      const w = sum > 0 ? v[i] / sum : 0;
      for (let j = 0; j < n; j++) if (row[j] !== 0) next[j] += w * row[j];
    }
    v = next;
    options.onLayer?.((layers.length - l) / (layers.length - start));
  }
  return v;
}
