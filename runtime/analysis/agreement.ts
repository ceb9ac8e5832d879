// Agreement between two importance score vectors over the same tokens (e.g. attention rollout vs. leave-one-out):
// rank correlations that handle ties the way scipy.stats does, and the overlap of their top-k tokens. Used to ask
// "does attention agree with other explanations?" without committing to one method as the truth.
//
// Conventions (checked against scipy.stats in test/fixtures/analysis/agreement.json):
//   kendallTau   τ-b = (C − D) / sqrt((n0 − n1)(n0 − n2)), as scipy.stats.kendalltau (variant 'b'); NaN when either
//                vector is constant (scipy returns nan too).
//   spearmanRho  Pearson correlation of average ranks (ties get the mean of the ranks they span), as
//                scipy.stats.spearmanr; NaN when either vector is constant.
//   topKOverlap  |topk(a) ∩ topk(b)| / k; ties in a score are broken by position (the earlier token ranks higher).

type Scores = ArrayLike<number>;

function checkPair(a: Scores, b: Scores): number {
  if (a.length !== b.length) throw new RangeError(`score vectors differ in length: ${a.length} vs ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) || Number.isNaN(b[i])) throw new RangeError(`score ${i} is NaN`);
  }
  return a.length;
}

/** Kendall's τ-b between two score vectors (ties handled); NaN if fewer than 2 values or either is constant. */
export function kendallTau(a: Scores, b: Scores): number {
  const n = checkPair(a, b);
  let concordant = 0;
  let discordant = 0;
  let tiedA = 0; // pairs tied in a (n1), including pairs tied in both
  let tiedB = 0; // pairs tied in b (n2)
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const da = Math.sign(a[i] - a[j]);
      const db = Math.sign(b[i] - b[j]);
      if (da === 0) tiedA++;
      if (db === 0) tiedB++;
      if (da !== 0 && db !== 0) {
        if (da === db) concordant++;
        else discordant++;
      }
    }
  }
  const n0 = (n * (n - 1)) / 2;
  const denominator = Math.sqrt((n0 - tiedA) * (n0 - tiedB));
  return denominator > 0 ? (concordant - discordant) / denominator : NaN;
}

/** Ranks 1..n with ties given the average of the ranks they span (scipy.stats.rankdata 'average'). */
export function averageRanks(x: Scores): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => x[i] - x[j] || i - j);
  const ranks = new Float64Array(n);
  for (let s = 0; s < n;) {
    let e = s;
    while (e + 1 < n && x[order[e + 1]] === x[order[s]]) e++;
    const rank = (s + e) / 2 + 1; // mean of ranks s+1 .. e+1
    for (let k = s; k <= e; k++) ranks[order[k]] = rank;
    s = e + 1;
  }
  return ranks;
}

/** Pearson correlation; NaN if either vector is constant. */
export function pearson(a: Scores, b: Scores): number {
  const n = checkPair(a, b);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/** Spearman's ρ: the Pearson correlation of average ranks. */
export function spearmanRho(a: Scores, b: Scores): number {
  checkPair(a, b);
  return pearson(averageRanks(a), averageRanks(b));
}

/** Indices of the k highest scores, highest first; equal scores rank by position (earlier first). */
export function topK(x: Scores, k: number): number[] {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  return Array.from({ length: x.length }, (_, i) => i)
    .sort((i, j) => x[j] - x[i] || i - j)
    .slice(0, k);
}

/** |topk(a) ∩ topk(b)| / k, with k clamped to the vector length. 1: same top-k set; 0: disjoint. */
export function topKOverlap(a: Scores, b: Scores, k: number): number {
  const n = checkPair(a, b);
  if (n === 0) throw new RangeError('empty score vectors');
  const kk = Math.min(k, n);
  const inA = new Set(topK(a, kk));
  let shared = 0;
  for (const i of topK(b, kk)) if (inA.has(i)) shared++;
  return shared / kk;
}
