// The neuron view's arithmetic (DOM-free so that unit tests can check it): q·k, the score (q·k/√d, or the model's own
// scale and soft-cap) and the softmax.

/** How a model turns q·k into a score: the factor (1/√d unless the model says otherwise) and gemma2's soft-cap. */
export interface ScoreRule {
  scale?: number;
  softcap?: number;
}

/** The neuron view's numbers for one query token: q·k, the score (q·k/√d, or the model's scale and soft-cap) and
 * the softmax over keys (masked keys excluded). `lse`: the keys are a window of a longer row whose log-sum-exp of
 * scores is `lse` (a long run's, from the worker): the softmax is then exp(score − lse), the row's own weights. */
export function neuronScores(
  q: Float32Array,
  keys: Float32Array[],
  headDim: number,
  masked: (keyIndex: number) => boolean,
  rule: ScoreRule = {},
  lse?: number,
): { dot: number[]; scaled: number[]; softmax: number[] } {
  const dot = keys.map((k) => {
    let s = 0;
    for (let i = 0; i < headDim; i++) s += q[i] * k[i];
    return s;
  });
  const scale = rule.scale ?? 1 / Math.sqrt(headDim);
  const cap = rule.softcap;
  const scaled = dot.map((d) => (cap ? cap * Math.tanh((d * scale) / cap) : d * scale));
  if (lse !== undefined) return { dot, scaled, softmax: scaled.map((s, j) => (masked(j) ? 0 : Math.exp(s - lse))) };
  let m = -Infinity;
  scaled.forEach((s, j) => {
    if (!masked(j) && s > m) m = s;
  });
  const e = scaled.map((s, j) => (masked(j) ? 0 : Math.exp(s - m)));
  const z = e.reduce((a, b) => a + b, 0);
  return { dot, scaled, softmax: e.map((v) => (z > 0 ? v / z : 0)) };
}
