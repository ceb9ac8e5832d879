// Reference statistics for tests, written from their definitions (not the project's runtime/analysis code).

/** Kendall τ-b as Σ sign(Δa)·sign(Δb) / √(Σ|sign Δa| · Σ|sign Δb|) over every pair. */
export function tauB(a: readonly number[], b: readonly number[]): number {
  let num = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++)
    for (let j = 0; j < i; j++) {
      const sa = Math.sign(a[i] - a[j]);
      const sb = Math.sign(b[i] - b[j]);
      num += sa * sb;
      na += Math.abs(sa);
      nb += Math.abs(sb);
    }
  return na && nb ? num / Math.sqrt(na * nb) : NaN;
}

export const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
