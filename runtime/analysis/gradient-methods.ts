// Gradient attributions, pure functions of gradients the model computed (runtime/grad): saliency (the L2 norm of
// d target / d embedding per token, Simonyan et al. 2014), gradient × input (Σ over the hidden axis of
// gradient ⊙ embedding, signed), Integrated Gradients (Sundararajan et al. 2017: (x − x') ⊙ the mean gradient
// on the straight path from a baseline x', midpoint rule, so Σ attributions ≈ f(x) − f(x')), and attention ×
// gradient per head (the attention map times d target / d attention, read at the target's query row).

/** ‖g_j‖₂ per token. grad [S,E] → [S] */
export function saliency(grad: ArrayLike<number>, seq: number, hidden: number): Float64Array {
  const out = new Float64Array(seq);
  for (let j = 0; j < seq; j++) {
    let s = 0;
    for (let e = 0; e < hidden; e++) s += grad[j * hidden + e] ** 2;
    out[j] = Math.sqrt(s);
  }
  return out;
}

/** Σ_e g_je · x_je per token (signed). grad, embedding [S,E] → [S] */
export function gradientTimesInput(
  grad: ArrayLike<number>,
  embedding: ArrayLike<number>,
  seq: number,
  hidden: number,
): Float64Array {
  const out = new Float64Array(seq);
  for (let j = 0; j < seq; j++) {
    let s = 0;
    for (let e = 0; e < hidden; e++) s += grad[j * hidden + e] * embedding[j * hidden + e];
    out[j] = s;
  }
  return out;
}

/** The midpoint rule's points α_k = (k + ½) / steps, k = 0 .. steps − 1. */
export function midpointAlphas(steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps ${steps} must be a positive integer`);
  return Array.from({ length: steps }, (_, k) => (k + 0.5) / steps);
}

/** IG_j = Σ_e (x − x')_je · mean_k g_k,je. grads [steps,S,E] at the midpoint alphas; x, baseline [S,E] → [S] */
export function integratedGradients(
  grads: ArrayLike<number>,
  steps: number,
  embedding: ArrayLike<number>,
  baseline: ArrayLike<number>,
  seq: number,
  hidden: number,
): Float64Array {
  const n = seq * hidden;
  if (grads.length < steps * n) throw new RangeError(`IG needs ${steps} gradients of [${seq}, ${hidden}]`);
  const out = new Float64Array(seq);
  for (let j = 0; j < seq; j++) {
    let s = 0;
    for (let e = 0; e < hidden; e++) {
      const i = j * hidden + e;
      let mean = 0;
      for (let k = 0; k < steps; k++) mean += grads[k * n + i];
      s += (embedding[i] - baseline[i]) * (mean / steps);
    }
    out[j] = s;
  }
  return out;
}

/** A[h, r, j] · dA[h, r, j] for one head, or the mean over heads. attention, gradient [H,S,S] → [S] */
export function attentionTimesGradientRow(
  attention: ArrayLike<number>,
  gradient: ArrayLike<number>,
  heads: number,
  seq: number,
  row: number,
  head: number | 'mean',
): Float64Array {
  const out = new Float64Array(seq);
  const hs = head === 'mean' ? Array.from({ length: heads }, (_, h) => h) : [head];
  for (const h of hs) {
    const o = (h * seq + row) * seq;
    for (let j = 0; j < seq; j++) out[j] += (attention[o + j] * gradient[o + j]) / hs.length;
  }
  return out;
}

/** What AttnLRP explains for a contrastive target (contrast:A|B): z_A − z_B, which equals log p(A) − log p(B). */
export const CONTRAST_LOGIT = 'the token’s logit minus the contrast token’s';

/** AttnLRP's conservation in words: Σ relevance against the explained logit (or cosine). The rules conserve
 * relevance except softmax's (the plain gradient, as the authors' LXT), the linear layers' biases and LayerNorm's β,
 * so the sum is near the target, not equal to it (LXT's own: stories260K 75 %, all-MiniLM-L6-v2 37 %). */
export function conservationNote(
  scores: ArrayLike<number>,
  target: number,
  measure: 'logit' | 'cosine',
  what = measure === 'logit' ? 'the token’s logit' : 'the cosine (norms held constant)',
): string {
  let sum = 0;
  for (let i = 0; i < scores.length; i++) sum += scores[i];
  const pct = Math.abs(target) > 1e-12 ? ` (${((100 * sum) / target).toFixed(1)} %)` : '';
  return `AttnLRP (Achtibat et al. 2024, LXT’s rules) explains ${what}: Σ relevance = ${sum.toPrecision(6)}, target = ${target.toPrecision(6)}${pct}; softmax, biases and LayerNorm’s β keep the rest.`;
}

/** The completeness check's words: Σ attributions against f(x) − f(baseline). */
export function completenessNote(sum: number, fx: number, fBaseline: number, steps: number, baseline: string): string {
  const delta = fx - fBaseline;
  const rel = Math.abs(sum - delta) / Math.max(Math.abs(delta), 1e-12);
  const head = `Integrated Gradients (${steps} steps, ${baseline} baseline): Σ attributions = ${sum.toPrecision(6)}, f(x) − f(baseline) = ${delta.toPrecision(6)} (relative gap ${(100 * rel).toFixed(2)} %`;
  // Near the zero embedding a norm layer divides by about √eps, so the path's gradient is concentrated there and the
  // midpoint rule needs many steps (stories260K: 71 % at 32 steps, 16 % at 512; the pad baseline: 0.7 % at 32).
  if (rel > 0.05 && baseline.includes('pad-token'))
    return `${head}: the attributions do not add up yet; raise the steps).`;
  if (rel > 0.05)
    return `${head}: the attributions do not add up yet; raise the steps, or use the pad baseline, whose path avoids the near-zero inputs where a norm layer divides by about √eps).`;
  return `${head}; more steps close it).`;
}
