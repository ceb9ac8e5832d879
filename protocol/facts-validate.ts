// The optional attention facts a model may carry (per-layer sliding windows, a score scale other than 1/√d, a
// soft-cap): checked wherever facts cross a channel (host ⇄ panel, panel worker → host), since the neuron view
// recomputes scores with them. Pure: no DOM, no 'vscode'.

/** Why the optional attention facts of `f` are malformed, or undefined when they are fine (or absent). */
export function attentionFactsProblem(f: Record<string, unknown>): string | undefined {
  const w = f.slidingWindows;
  if (w !== undefined) {
    if (!Array.isArray(w) || w.length !== f.layers) return 'facts.slidingWindows must have one entry per layer';
    if (!w.every((x) => x === null || (typeof x === 'number' && Number.isInteger(x) && x > 0)))
      return 'facts.slidingWindows entries must be positive integers or null';
  }
  for (const k of ['attentionScale', 'attentionSoftcap'] as const) {
    const v = f[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0))
      return `facts.${k} must be a positive number`;
  }
  return undefined;
}
